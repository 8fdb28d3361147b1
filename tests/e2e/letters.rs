//! Letters drawn in the Verifikasi preview in their special ways: a scan stored as JPEG
//! 2000 (pdf.js decodes it with its OpenJPEG WebAssembly, which the app bundles and its CSP
//! allows), a letter printed from a browser, all CID fonts, and a plain JPEG scan, whose
//! first page the shell decodes at the pane's size (`scan_picture`). The test reads the
//! preview's canvas: the page must carry ink where the letter has it, not the blank page a
//! missing decoder leaves.

use myintress_testkit::Registration;
use myintress_testkit::producers::{browser_printed, jpeg2000_scan};

use crate::flows::{go, sign_in, wait_synced};
use crate::harness::{App, wait_for};
use crate::world::{KPPN_PASSWORD, World};

/// How many pixels of the preview's canvas are clearly not white (the letter's ink; a
/// blank page has none).
fn ink(app: &App) -> u64 {
    let script = "const c = document.querySelector('.pdf canvas, canvas'); if (!c || !c.width) return 0; \
                  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; \
                  for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 600) n++; return n;";
    let value = app.session().call(reqwest::Method::POST, "/execute/sync", Some(serde_json::json!({"script": script, "args": []})));
    value.ok().and_then(|v| v.as_u64()).unwrap_or(0)
}

/// Waits until the preview shows at least `min` dark pixels.
fn drawn(app: &App, what: &str, min: u64) -> u64 {
    wait_for(&format!("{what} drawn in the preview"), std::time::Duration::from_secs(20), || Some(ink(app)).filter(|n| *n >= min))
}

#[test]
fn a_jpeg2000_scan_a_cid_font_letter_and_a_jpeg_scan_are_drawn() {
    let world = World::new("surat-khusus");
    let kppn = world.verifier("019");
    let operator = world.block_on(world.server.operator(&kppn, "019001", 42));
    let dir = myintress_testkit::scratch_dir().join(format!("myintress-e2e-produsen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // Registered oldest first: the scan, then the printed letter.
    let (nik, name) = myintress_testkit::resident(40);
    let plain = dir.join("asli.pdf");
    std::fs::write(&plain, myintress_testkit::letter(&nik, &name, "ST-0040/UJI/2026")).unwrap();
    let scan = std::fs::read(jpeg2000_scan(&dir, &plain, "pindaian-jp2")).unwrap();
    let scanned = world.register(&operator, &Registration::new(40, "019001").letter(scan));
    let (nik, name) = myintress_testkit::resident(41);
    let printed = std::fs::read(browser_printed(&dir, &nik, &name, "ST-0041/UJI/2026", "cetak-peramban")).unwrap();
    let cid = world.register(&operator, &Registration::new(41, "019001").letter(printed));
    let (nik, name) = myintress_testkit::resident(43);
    let plain = dir.join("asli-jpeg.pdf");
    std::fs::write(&plain, myintress_testkit::letter(&nik, &name, "ST-0043/UJI/2026")).unwrap();
    for (program, args) in [
        ("pdftoppm", vec!["-r", "150", "-gray", "-jpeg", "-singlefile", "asli-jpeg.pdf", "pindaian"]),
        ("img2pdf", vec!["pindaian.jpg", "-o", "pindaian-jpeg.pdf"]),
    ] {
        let status = std::process::Command::new(program).args(&args).current_dir(&dir).status().unwrap();
        assert!(status.success(), "{program} {args:?}");
    }
    let jpeg = world.register(&operator, &Registration::new(43, "019001").letter(std::fs::read(dir.join("pindaian-jpeg.pdf")).unwrap()));
    let _ = std::fs::remove_dir_all(&dir);

    let app = App::launch_with("surat-khusus", Some(&world.url()));
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    wait_synced(&app);
    go(&app, "verifikasi");

    // The JPEG 2000 scan: no text on it, so only the drawn image shows the letter (about
    // 3,000 inked pixels at the pane's width here; without pdf.js's decoder, none).
    app.wait_for_text("[data-testid=verifikasi-data] h3", &scanned.name);
    app.wait_for_text("[data-testid=halaman]", "Halaman 1 dari 1");
    let scan_ink = drawn(&app, "the JPEG 2000 scan", 1_500);
    app.screenshot("jpeg2000");

    // The browser-printed letter: its CID fonts drawn, and its text found by the marks.
    app.press("j");
    app.wait_for_text("[data-testid=verifikasi-data] h3", &cid.name);
    app.wait_count(".textLayer .sorot-nik", 1);
    let cid_ink = drawn(&app, "the CID-font letter", 1_000);
    app.screenshot("cid");

    // The plain JPEG scan: its page from the shell's picture (the viewer marks when it has
    // decoded one; pdf.js alone would not), with the letter's ink on it.
    app.press("j");
    app.wait_for_text("[data-testid=verifikasi-data] h3", &jpeg.name);
    app.wait_for_text("[data-testid=halaman]", "Halaman 1 dari 1");
    let jpeg_ink = drawn(&app, "the JPEG scan", 1_000);
    let decoded = app.session().call(
        reqwest::Method::POST,
        "/execute/sync",
        Some(serde_json::json!({"script": "return performance.getEntriesByName('surat:urai', 'mark').length;", "args": []})),
    );
    assert_eq!(decoded.ok().and_then(|v| v.as_u64()), Some(1), "the JPEG scan's page came from the shell's picture");
    app.screenshot("jpeg");
    eprintln!("dark pixels: JPEG 2000 scan {scan_ink}, CID-font letter {cid_ink}, JPEG scan {jpeg_ink}");
}

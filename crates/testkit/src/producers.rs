//! Letters as two more kinds of producer make them, with the real tools the test command
//! installs: a scanner that stores its pages as JPEG 2000, and a browser's "print to PDF"
//! (how e-office systems make letters), whose fonts are all CID fonts. Std only, so the
//! core's tests include it by path as they do `signed.rs`.

use std::path::{Path, PathBuf};

use crate::signed::run;

/// `letter` (a PDF) scanned at 100 dpi, the page stored as a JPEG 2000 image
/// (`opj_compress`, Debian `libopenjp2-tools`) in a PDF of its own (`img2pdf`, which keeps
/// the stream as it is: `/JPXDecode`). Written as `dir/<name>.pdf`.
pub fn jpeg2000_scan(dir: &Path, letter: &Path, name: &str) -> PathBuf {
    let letter = letter.to_str().expect("a UTF-8 path");
    run("pdftoppm", &["-r", "100", "-png", "-singlefile", letter, name], dir);
    let (png, jp2, pdf) = (format!("{name}.png"), format!("{name}.jp2"), format!("{name}.pdf"));
    run("opj_compress", &["-i", &png, "-o", &jp2, "-r", "20"], dir);
    run("img2pdf", &[&jp2, "-o", &pdf], dir);
    dir.join(pdf)
}

/// Headless Chromium's program: Debian's name, or Ubuntu's.
pub fn chromium() -> &'static str {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists()).unwrap_or("/usr/bin/chromium")
}

/// A letter naming the person, printed to PDF by headless Chromium: every font a
/// `Type0` CID TrueType font with `Identity-H`, the text readable through `ToUnicode`.
/// Written as `dir/<name>.pdf`.
pub fn browser_printed(dir: &Path, nik: &str, full_name: &str, number: &str, name: &str) -> PathBuf {
    let html = format!("{name}.html");
    std::fs::write(
        dir.join(&html),
        format!(
            "<!doctype html><meta charset=utf-8><body style=\"font-family: 'DejaVu Serif'\">\
             <h3>KEMENTERIAN KEUANGAN REPUBLIK INDONESIA</h3><p>SURAT TUGAS<br>Nomor: {number}</p>\
             <p>Kepala Satker menugaskan:<br>Nama : {full_name}<br>NIK : {nik}</p>\
             <p>sebagai pengguna MyIntress tipe Satker.</p>"
        ),
    )
    .expect("write the letter's HTML");
    let profile = format!("--user-data-dir={}", dir.join(format!("{name}-chromium")).display());
    let url = format!("file://{}", dir.join(&html).display());
    let print = format!("--print-to-pdf={name}.pdf");
    run(chromium(), &["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", &profile, &print, &url], dir);
    let _ = std::fs::remove_dir_all(dir.join(format!("{name}-chromium")));
    dir.join(format!("{name}.pdf"))
}

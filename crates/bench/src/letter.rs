//! Benchmark 9: a letter on screen. The release app, signed in as a KPPN verifier through
//! its own screens (WebDriver through tauri-driver), steps through the Antrean with `J`
//! and `K`, each request with its own 5 MB scanned letter. The app's performance measure
//! `surat` runs from choosing a request to its letter's first page drawn
//! (`ui/src/screens/Verifikasi.svelte`). Baseline: pdf.js alone, the same build the app
//! bundles, drawing the same file at the same size in a bare page of the empty Tauri
//! window (same WebKit, a page served over a custom protocol), its bytes already in memory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use myintress_testkit::webdriver::{Guarded, Session, free_port};
use serde_json::{Value, json};

use crate::Cli;
use crate::report::{Report, Spread, ratio};
use crate::world::{self, ServerProcess};

/// A little under the largest document the server takes (5 MiB).
const LETTER_BYTES: usize = 5_000_000;

pub fn run(cli: &Cli, runtime: &tokio::runtime::Runtime, report: &mut Report) -> Result<()> {
    let (Some(app_bin), Some(empty_bin), Some(pdfjs)) = (&cli.app_bin, &cli.empty_bin, &cli.pdfjs_dir) else {
        println!("benchmark 9 skipped: --app-bin, --empty-bin and --pdfjs-dir are needed");
        return Ok(());
    };
    let n = if cli.full() { 20 } else { 3 };
    let passes = if cli.full() { 3 } else { 1 };
    let dir = world::dir(cli.work.join("letter"))?;

    println!("making {n} scanned letters of 5 MB…");
    let letters: Vec<Vec<u8>> = (1..=n).map(|i| scanned_letter(&dir, i)).collect::<Result<_>>()?;

    // The server, with the letters registered for the verifier to decide.
    let server_dir = world::dir(dir.join("server"))?;
    world::server_dir(&server_dir, 1, 20, n + 1)?;
    let settings = world::settings(&server_dir, None, &cli.server_bin);
    let (server, nik, token) = runtime.block_on(world_with_operator(&cli.server_bin, &settings, n + 1))?;
    let numbered: Vec<(u32, Vec<u8>)> = (1..).zip(letters.iter().cloned()).collect();
    runtime.block_on(register_letters(&server, &token, &numbered))?;

    // The app: signed in through its screens, the first sync done, then the Antrean.
    let home = world::dir(dir.join("app"))?;
    let app = Driven::launch(app_bin, &home, &[("MYINTRESS_SERVER_URL", &server.base)])?;
    let page = &app.session;
    sign_in(page, &nik)?;
    page.find("[data-nav=verifikasi]").click();
    wait("the Antrean's requests", Duration::from_secs(60), || count(page, "[data-testid=antrean-butir]") >= n as usize)
        .with_context(|| format!("the screen shows: {}", screen_text(page)))?;

    // Down the list and back up; the first walk opens each letter for the first time
    // (fetched from the server, or from the cache if the background prefetch came first).
    let mut first_open = Vec::new();
    let (mut times, mut bytes, mut decoded) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = measure(page, None)?;
    first_open.push(last.ms);
    for pass in 0..=passes {
        let key = if pass % 2 == 0 { "j" } else { "k" };
        for _ in 1..n {
            press(page, key)?;
            last = measure(page, Some(&last.id))?;
            if pass == 0 {
                first_open.push(last.ms);
            } else {
                times.push(last.ms);
                bytes.extend(last.bytes_ms);
                decoded.extend(last.decoded_ms);
            }
        }
    }
    let canvas = page
        .call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "const c = document.querySelector('.pratinjau canvas'); return c ? c.width : 0;", "args": []})),
        )
        .map_err(anyhow::Error::msg)?
        .as_u64()
        .unwrap_or(0);
    ensure!(canvas > 0, "the letter's canvas has no width");
    drop(app);
    drop(server);

    // The baseline: the same files in the bare page, drawn at the canvas's width.
    let pages = world::dir(dir.join("bare"))?;
    for name in ["pdf.mjs", "pdf.worker.min.mjs"] {
        std::fs::copy(pdfjs.join(name), pages.join(name)).with_context(|| format!("copying {} from {}", name, pdfjs.display()))?;
    }
    for (i, letter) in letters.iter().enumerate() {
        std::fs::write(pages.join(format!("surat-{i}.pdf")), letter)?;
    }
    std::fs::write(pages.join("index.html"), BARE_PAGE)?;
    let home = world::dir(dir.join("empty"))?;
    let pages_str = pages.to_str().context("path")?;
    let empty = Driven::launch(empty_bin, &home, &[("MYINTRESS_EMPTY_PAGES", pages_str)])?;
    wait("the bare page", Duration::from_secs(30), || {
        let ready = empty.session.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "return typeof window.drawLetter === 'function';", "args": []})),
        );
        ready.ok() == Some(Value::Bool(true))
    })?;
    let mut bare = Vec::new();
    for pass in 0..=passes {
        for i in 0..n {
            let script = "const done = arguments[arguments.length - 1]; \
                          window.drawLetter(arguments[0], arguments[1]).then(done, (e) => done('gagal: ' + e));";
            let value = empty
                .session
                .call(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": [format!("surat-{i}.pdf"), canvas]})))
                .map_err(anyhow::Error::msg)?;
            let Some(ms) = value.as_f64() else { bail!("the bare page could not draw the letter: {value}") };
            // The first pass warms the page (pdf.js's worker started), as the app's first walk does.
            if pass > 0 {
                bare.push(ms);
            }
        }
    }
    drop(empty);

    let (app_ms, bare_ms, first_ms) = (percentiles(&times), percentiles(&bare), percentiles(&first_open));
    report.add(
        "9 letter on screen, 5 MB scan",
        format!(
            "choice to first page drawn: p95 {:.0} ms, median {:.0} ms (n = {}, {passes} walks over {n} requests; on the way, medians: bytes arrived {:.0} ms, scan's picture decoded {:.0} ms (n = {})); first open of each: median {:.0} ms",
            app_ms.1,
            app_ms.0,
            times.len(),
            percentiles(&bytes).0,
            percentiles(&decoded).0,
            decoded.len(),
            first_ms.0
        ),
        format!("pdf.js alone in a bare page, bytes in memory, {canvas} px wide: p95 {:.0} ms, median {:.0} ms", bare_ms.1, bare_ms.0),
        format!("{} the bare page's time (p95)", ratio(app_ms.1, bare_ms.1)),
        "p95 ≤ 300 ms",
        Some(app_ms.1 <= 300.0),
    );
    Ok(())
}

/// (median, p95) of `values`, milliseconds.
fn percentiles(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at =
        |p: f64| sorted.get(((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1).copied().unwrap_or(f64::NAN);
    (Spread::of(values.to_vec()).median, at(0.95))
}

/// A scanned *surat tugas* of about 5 MB: the letter rendered at 300 dpi (poppler), with a
/// scanner's grain (Pillow), stored as a JPEG page (`img2pdf`, the stream kept as it is).
fn scanned_letter(dir: &Path, i: u32) -> Result<Vec<u8>> {
    let (nik, name) = myintress_testkit::resident(i);
    let base = dir.join(format!("asli-{i}.pdf"));
    std::fs::write(&base, myintress_server::demo::assignment_letter(&nik, &name, &format!("ST-{i:04}/PINDAI/2026"), "Satker Uji"))?;
    let stem = dir.join(format!("pindaian-{i}"));
    tool(Command::new("pdftoppm").args(["-r", "300", "-gray", "-png", "-singlefile"]).arg(&base).arg(&stem))?;
    let (png, jpeg, pdf) = (stem.with_extension("png"), stem.with_extension("jpg"), stem.with_extension("pdf"));
    // Grain until the JPEG is about the size wanted (Pillow comes with img2pdf).
    // Debian's Python, which has the Pillow `img2pdf` depends on (another `python3` first on
    // PATH, such as pyenv's, may not).
    let python = if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
    tool(Command::new(python).args(["-c", GRAIN]).arg(&png).arg(&jpeg).arg(LETTER_BYTES.to_string()))?;
    tool(Command::new("img2pdf").arg(&jpeg).arg("-o").arg(&pdf))?;
    let bytes = std::fs::read(&pdf)?;
    ensure!(bytes.len() <= myintress_core::pdf::MAX_DOCUMENT_BYTES, "the scan is {} bytes, over the limit", bytes.len());
    for f in [&base, &png, &jpeg, &pdf] {
        let _ = std::fs::remove_file(f);
    }
    Ok(bytes)
}

/// Adds Gaussian grain to a page image and saves it as the largest JPEG of at most the
/// given size (quality searched downwards).
const GRAIN: &str = r#"
import io, sys
from PIL import Image
page = Image.open(sys.argv[1]).convert("L")
noise = Image.effect_noise(page.size, 64)
scan = Image.blend(page, noise, 0.24)
limit = int(sys.argv[3])
for quality in range(97, 40, -2):
    out = io.BytesIO()
    scan.save(out, "JPEG", quality=quality, dpi=(300, 300))
    if out.tell() <= limit:
        break
open(sys.argv[2], "wb").write(out.getvalue())
"#;

fn tool(command: &mut Command) -> Result<()> {
    let output = command.stdout(Stdio::null()).output().with_context(|| format!("starting {command:?}"))?;
    ensure!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    Ok(())
}

/// The release server with KPPN 0's verifier (whose NIK is returned) and an operator of
/// its first satker, registered by the verifier and signed in (whose token is returned):
/// what the operator registers waits in the verifier's Antrean.
pub async fn world_with_operator(
    bin: &Path,
    settings: &myintress_server::settings::Settings,
    operator: u32,
) -> Result<(ServerProcess, String, String)> {
    let state = world::open(settings).await?;
    let verifier = world::verifier(&state, 0).await?;
    let verifier_token = world::session(&state, &verifier).await?;
    let server = ServerProcess::start(bin, settings, &[]).await?;
    let registration = myintress_testkit::Registration::new(operator, &world::satker_code(0, 0));
    let (content_type, body) = registration.encoded("operator");
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/registrations"))
        .bearer_auth(&verifier_token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    ensure!(status == reqwest::StatusCode::CREATED, "the operator's registration: {status} {}", response.text().await?);
    let token = world::session(&state, &myintress_testkit::resident(operator).0).await?;
    Ok((server, verifier, token))
}

/// Registers resident `i` with each letter as the satker operator (another desk, through
/// the API): each waits for the verifier.
pub async fn register_letters(server: &ServerProcess, token: &str, letters: &[(u32, Vec<u8>)]) -> Result<()> {
    let http = reqwest::Client::new();
    for (i, letter) in letters {
        let registration = myintress_testkit::Registration::new(*i, &world::satker_code(0, 0)).letter(letter.clone());
        let (content_type, body) = registration.encoded(&format!("surat{i}"));
        let response = http
            .post(server.url("/api/v1/registrations"))
            .bearer_auth(token)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        ensure!(status == reqwest::StatusCode::CREATED, "registration {i}: {status} {}", response.text().await?);
    }
    Ok(())
}

/// *Masuk* through the app's screens: NIK, "Selanjutnya", password and captcha, "Masuk".
pub fn sign_in(page: &Session, nik: &str) -> Result<()> {
    page.find("#nik").type_text(nik);
    page.find("#selanjutnya").click();
    page.find("#password").type_text(world::PASSWORD);
    page.find("#captcha").type_text("apa saja");
    page.find("#masuk").click();
    page.find("[data-testid=pengguna]");
    Ok(())
}

/// Polls `done` every 50 ms until it holds, or fails naming `what` after `timeout`.
pub fn wait(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while !done() {
        ensure!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// What the page shows, as text (for an error that says where the app stood).
pub fn screen_text(page: &Session) -> String {
    let script = "return document.body.innerText;";
    page.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": []})))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Which row of the Antrean is chosen (0 when none is marked).
pub fn selected_index(page: &Session) -> Result<usize> {
    let script = "return [...document.querySelectorAll('[data-testid=antrean-butir]')].findIndex((e) => e.classList.contains('aktif'));";
    let value =
        page.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": []}))).map_err(anyhow::Error::msg)?;
    Ok(value.as_i64().unwrap_or(0).max(0) as usize)
}

/// One letter's way to the screen, as the Verifikasi screen marks it.
pub struct Measure {
    /// The request's id.
    pub id: String,
    /// From the request chosen to its letter's first page drawn, milliseconds.
    pub ms: f64,
    /// When the letter's bytes had arrived (after the choice), milliseconds.
    pub bytes_ms: Option<f64>,
    /// When the viewer had decoded a scan's picture, milliseconds; none when pdf.js drew it.
    pub decoded_ms: Option<f64>,
}

/// The page's latest `surat` measure once it is for another request than `previous`.
/// Waits in the page, so the polling costs the app nothing.
pub fn measure(page: &Session, previous: Option<&str>) -> Result<Measure> {
    let script = "const [previous, done] = [arguments[0], arguments[arguments.length - 1]]; \
                  const at = (name, start) => { const m = performance.getEntriesByName(name, 'mark')[0]; \
                  return m && m.startTime >= start ? m.startTime - start : null; }; \
                  const look = () => { const m = performance.getEntriesByName('surat', 'measure')[0]; \
                  if (m && m.detail !== previous) done([m.detail, m.duration, at('surat:bita', m.startTime), at('surat:urai', m.startTime)]); \
                  else setTimeout(look, 20); }; look();";
    let value = page
        .call(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": [previous]})))
        .map_err(anyhow::Error::msg)?;
    match (value[0].as_str(), value[1].as_f64()) {
        (Some(id), Some(ms)) => Ok(Measure { id: id.to_owned(), ms, bytes_ms: value[2].as_f64(), decoded_ms: value[3].as_f64() }),
        _ => bail!("no letter measure: {value}"),
    }
}

/// One key pressed on the page, as a person does (the Antrean's shortcuts).
pub fn press(page: &Session, key: &str) -> Result<()> {
    let actions = json!({"actions": [{"type": "key", "id": "papan-ketik", "actions": [
        {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
    ]}]});
    page.call(reqwest::Method::POST, "/actions", Some(actions)).map_err(anyhow::Error::msg)?;
    Ok(())
}

pub fn count(page: &Session, css: &str) -> usize {
    let script = "return document.querySelectorAll(arguments[0]).length;";
    page.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": [css]})))
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as usize
}

/// A Tauri program under tauri-driver with data folders of its own in `home`, on the
/// display and session bus the runner has (`cargo xtask bench` provides both).
pub struct Driven {
    pub session: Session,
    _driver: Guarded,
}

impl Driven {
    pub fn launch(program: &Path, home: &Path, env: &[(&str, &str)]) -> Result<Driven> {
        let driver = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let (port, native_port) = (free_port(), free_port());
        let mut command = Command::new(&driver);
        command
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let driver = Guarded::spawn("tauri-driver", &mut command);
        let program: PathBuf = program.to_path_buf();
        let session = Session::open(
            &format!("http://127.0.0.1:{port}"),
            json!({ "browserName": "wry", "tauri:options": { "application": program.to_str().context("path")? } }),
        );
        Ok(Driven { session, _driver: driver })
    }

    /// The pid of `program` among the driver's descendants (tauri-driver starts
    /// WebKitWebDriver, which starts the program).
    pub fn program_pid(&self, program: &Path) -> Option<u32> {
        let wanted = std::fs::canonicalize(program).ok()?;
        crate::desktop::descendants(self._driver.child.id())
            .into_iter()
            .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_deref() == Some(wanted.as_path()))
    }
}

/// The baseline's page: pdf.js (the app's build) and a function drawing page 1 of a file
/// at a width, timed from the bytes in memory to the page on the canvas. Like the app, it
/// keeps one pdf.js worker for every letter.
const BARE_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>pdf.js</title>
<canvas id="c"></canvas>
<script type="module">
import * as pdfjs from "./pdf.mjs";
pdfjs.GlobalWorkerOptions.workerSrc = new URL("pdf.worker.min.mjs", document.baseURI).href;
const canvas = document.getElementById("c");
const worker = new pdfjs.PDFWorker();
window.drawLetter = async (name, width) => {
  const data = new Uint8Array(await (await fetch(name)).arrayBuffer());
  const started = performance.now();
  const task = pdfjs.getDocument({ data, worker, isEvalSupported: false, enableXfa: false, stopAtErrors: false });
  const doc = await task.promise;
  const page = await doc.getPage(1);
  const viewport = page.getViewport({ scale: width / page.getViewport({ scale: 1 }).width });
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  await page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport }).promise;
  const took = performance.now() - started;
  await doc.destroy();
  return took;
};
</script>
"#;

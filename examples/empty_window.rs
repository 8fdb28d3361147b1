//! The baseline of benchmark 8: an empty Tauri window, built like the app (same Tauri,
//! WebKit, config and profile) but with nothing in it: a one-line page served over a
//! custom protocol, as the app's own page is. With `MYINTRESS_EMPTY_PAGES` set it serves
//! that folder's files instead (benchmark 9's bare pdf.js page). `cargo xtask bench`
//! builds it with `cargo build --release --features custom-protocol --example empty_window`.

fn main() {
    myintress_satker::webview_defaults();
    let mut context = tauri::generate_context!("tauri.conf.json");
    // The app's window would load the app; this one loads the empty page instead.
    context.config_mut().app.windows.clear();
    tauri::Builder::default()
        .register_uri_scheme_protocol("kosong", |_ctx, request| {
            // Benchmark 9's baseline serves a bare pdf.js page and its letters from a folder.
            let (kind, body) = match std::env::var_os("MYINTRESS_EMPTY_PAGES") {
                Some(dir) => page_from(std::path::Path::new(&dir), request.uri().path()),
                None => ("text/html", b"<!doctype html><title>Kosong</title>".to_vec()),
            };
            tauri::http::Response::builder().header("Content-Type", kind).body(body).expect("a response")
        })
        .on_page_load(myintress_satker::report_ready)
        .setup(|app| {
            let page = "kosong://localhost/".parse().expect("a URL");
            let window = tauri::WebviewWindowBuilder::new(app, "main", tauri::WebviewUrl::CustomProtocol(page))
                .title("Kosong")
                .inner_size(1280.0, 800.0)
                .build()?;
            myintress_satker::small_webview_caches(&window);
            Ok(())
        })
        .run(context)
        .expect("empty window");
}

/// A file of the folder by its path (`/` is `index.html`), with its content type; a path
/// leaving the folder or naming nothing there is an empty page.
fn page_from(dir: &std::path::Path, path: &str) -> (&'static str, Vec<u8>) {
    let name = match path.trim_start_matches('/') {
        "" => "index.html",
        name => name,
    };
    if name.split('/').any(|part| part == ".." || part.is_empty()) {
        return ("text/plain", Vec::new());
    }
    let kind = match name.rsplit('.').next() {
        Some("html") => "text/html",
        Some("mjs" | "js") => "text/javascript",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    };
    (kind, std::fs::read(dir.join(name)).unwrap_or_default())
}

//! The baseline of benchmark 8: an empty Tauri window, built like the app (same Tauri,
//! WebKit, config and profile) but with nothing in it: a one-line page served over a
//! custom protocol, as the app's own page is. `cargo xtask bench` builds it with
//! `cargo build --release --features custom-protocol --example empty_window`.

fn main() {
    myintress_satker::webview_defaults();
    let mut context = tauri::generate_context!("tauri.conf.json");
    // The app's window would load the app; this one loads the empty page instead.
    context.config_mut().app.windows.clear();
    tauri::Builder::default()
        .register_uri_scheme_protocol("kosong", |_ctx, _request| {
            tauri::http::Response::builder()
                .header("Content-Type", "text/html")
                .body(b"<!doctype html><title>Kosong</title>".to_vec())
                .expect("a response")
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

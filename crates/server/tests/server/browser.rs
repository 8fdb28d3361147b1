//! The activation page in a real browser: headless Chromium (Debian `chromium` and
//! `chromium-driver`, installed by the test command) opens the e-mailed link, sets the
//! password and sees the success page; a second visit sees the "no longer valid" page.

use reqwest::StatusCode;

use crate::support::{Backend, Registration, TestServer};
use myintress_testkit::webdriver::Chromium;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_page_in_a_real_browser() {
    let server = TestServer::start(&Backend::Sqlite).await;
    let kppn = server.verifier("019").await;
    kppn.registered(&Registration::new(500, "019001").email("aktivasi@contoh.go.id")).await;
    let link = server.activation_link("aktivasi@contoh.go.id").await.expect("activation e-mail");
    let artifacts = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts/server");
    std::fs::create_dir_all(&artifacts).unwrap();

    let browse = {
        let link = link.clone();
        let artifacts = artifacts.clone();
        tokio::task::spawn_blocking(move || {
            let chromium = Chromium::start();
            let session = &chromium.session;
            session.navigate(&link);
            session.wait_for_text("h1", "Aktivasi akun MyIntress");
            session.find("#password").type_text("Kata#Sandi#Baru2026");
            session.find("#password_confirmation").type_text("Kata#Sandi#Baru2026");
            std::fs::write(artifacts.join("activation-form.png"), session.screenshot_png()).unwrap();
            session.find("button[type=submit]").click();
            session.wait_for_text("h1", "Kata sandi berhasil dibuat");
            std::fs::write(artifacts.join("activation-done.png"), session.screenshot_png()).unwrap();

            session.navigate(&link);
            let text = session.wait_for_text("main", "sudah pernah digunakan");
            std::fs::write(artifacts.join("activation-used.png"), session.screenshot_png()).unwrap();
            text
        })
    };
    let used_page = browse.await.unwrap();
    assert!(used_page.contains("Tautan aktivasi tidak berlaku"), "{used_page}");
    let again = server.http.get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::GONE, "the used link answers 410");
    assert!(
        server.login(&crate::support::resident(500).0, "Kata#Sandi#Baru2026").await.is_ok(),
        "the password set in the browser signs in"
    );
}

//! Sessions seen from the desktop: the refresh token in the real OS keychain (Secret
//! Service in the D-Bus session the test command starts), token expiry while offline,
//! rotation, reuse detection, and opening the app offline on cached data.

use myintress_core::ErrorCode;

use myintress_client::ListFilter;
use myintress_client::events::Connection;
use myintress_client::keychain::Keychain;
use myintress_client::outbox::Action;

use crate::round_trips::input;
use crate::support::{Desk, KPPN_PASSWORD, OPERATOR_PASSWORD, World};
use myintress_testkit::proxy::Mode;

fn refresh_token(desk: &Desk, nik: &str) -> Option<String> {
    Keychain::new(&desk.service).load(&desk.client.config().server_url, nik).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_lives_in_the_keychain_only() {
    let world = World::new().await;
    let desk = world.kppn_desk().await;
    let token = refresh_token(&desk, &world.kppn_nik).expect("stored in the OS keychain");
    assert_eq!(token.len(), 43, "256 bits, URL-safe base64");

    // Seen from outside this process: the Secret Service holds the item.
    let found = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", &desk.service])
        .output()
        .expect("secret-tool (libsecret-tools) is installed by the test command");
    let listing = String::from_utf8_lossy(&found.stdout) + String::from_utf8_lossy(&found.stderr);
    assert!(listing.contains(&world.kppn_nik), "the Secret Service lists the entry: {listing}");

    // Not in the database or any file of the data dir.
    for entry in myintress_testkit::files_under(&desk.dir) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "refresh token found in {}", entry.display());
    }

    desk.client.sign_out(false).await.unwrap();
    assert_eq!(refresh_token(&desk, &world.kppn_nik), None, "sign-out removes it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_expires_while_offline() {
    let world = World::new().await;
    let operator = world.operator_desk().await;
    let (pending, pdf) = input(60, "019001");
    operator.client.register(pending, pdf).await.unwrap();
    operator.client.sync_once().await.unwrap();
    let desk = world.kppn_desk().await;
    let before = refresh_token(&desk, &world.kppn_nik).unwrap();

    world.proxy.set_mode(Mode::Refuse);
    // Both sides see the access token expire: the server forgets it, the client knows
    // its time is up (as after a night with the laptop closed).
    world.server.expire_access_tokens().await;
    desk.client.forget_access_token().await;
    let id = desk.client.queue().await.unwrap()[0].membership.id;
    desk.client.act(id, Action::Approve).await.unwrap();
    assert!(desk.client.sync_once().await.is_err());

    world.proxy.set_mode(Mode::Pass);
    desk.client.sync_once().await.expect("the expired access token is refreshed, then the action goes");
    assert_eq!(desk.client.subscribe().borrow().outbox, 0);
    let after = refresh_token(&desk, &world.kppn_nik).unwrap();
    assert_ne!(before, after, "the refresh rotated the token in the keychain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_reuse_detection_seen_from_the_client() {
    let world = World::new().await;
    let desk = world.kppn_desk().await;
    let first = refresh_token(&desk, &world.kppn_nik).unwrap();
    desk.client.access_token(true).await.unwrap();
    let second = refresh_token(&desk, &world.kppn_nik).unwrap();
    assert_ne!(first, second, "rotated on use");

    // Someone replays the old token (a stolen copy): the server ends the whole family.
    let replay = desk.client.api().refresh(&first).await.unwrap_err();
    assert_eq!(replay.code(), ErrorCode::RefreshTokenReused);

    // The desk finds out at its next refresh: sign in again; local data stays.
    let (input, pdf) = input(61, "019001");
    desk.client.register(input, pdf).await.unwrap();
    desk.client.forget_access_token().await;
    assert!(desk.client.sync_once().await.is_err());
    assert!(matches!(desk.client.subscribe().borrow().connection, Connection::SignInNeeded { .. }));
    assert_eq!(refresh_token(&desk, &world.kppn_nik), None, "the dead token is forgotten");
    assert_eq!(desk.client.subscribe().borrow().outbox, 1, "the queued action waits for the new session");

    desk.sign_in(&world.kppn_nik, KPPN_PASSWORD).await;
    desk.client.sync_once().await.unwrap();
    assert_eq!(desk.client.subscribe().borrow().outbox, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_offline_works_on_cached_data() {
    let world = World::new().await;
    let (dir, service) = {
        let desk = world.kppn_desk().await;
        let (input, pdf) = input(62, "019001");
        desk.client.register(input, pdf).await.unwrap();
        desk.client.sync_once().await.unwrap();
        let kept = (desk.dir.clone(), desk.service.clone());
        std::mem::forget(desk);
        kept
    };
    world.proxy.set_mode(Mode::Refuse);
    let desk = Desk::open_at(dir, service, &world.proxy.url()).await;
    let account = desk.client.account().await.unwrap().expect("still signed in, offline");
    assert_eq!(account.nik, world.kppn_nik);
    let rows = desk.client.list(&ListFilter { limit: 50, ..Default::default() }).await.unwrap();
    let row = rows.rows.iter().find(|r| r.membership.name == myintress_testkit::resident(62).1).expect("cached row");
    desk.client.act(row.membership.id, Action::Deactivate { reason: "Mutasi".into() }).await.unwrap();
    assert_eq!(desk.client.subscribe().borrow().outbox, 1, "queued until the network is back");
    world.proxy.set_mode(Mode::Pass);
    desk.client.sync_once().await.unwrap();
    assert_eq!(desk.client.subscribe().borrow().outbox, 0);
    // This desk cleans up the keychain entry it inherited.
    desk.sign_in(&world.kppn_nik, KPPN_PASSWORD).await;
}

/// Pengaturan's password change keeps this desk signed in and ends the other one; "keluar
/// dari semua perangkat" ends both, and waits while actions are queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_and_sign_out_everywhere_from_the_desk() {
    let world = World::new().await;
    let here = world.operator_desk().await;
    let there = world.operator_desk().await;

    let wrong = here.client.change_password("salah-sekali", "Ganti#Sandi2026").await.unwrap_err();
    assert_eq!(wrong.code(), ErrorCode::CredentialsInvalid);
    here.client.change_password(OPERATOR_PASSWORD, "Ganti#Sandi2026").await.unwrap();
    here.client.sync_once().await.expect("this desk stays signed in");
    there.client.forget_access_token().await;
    let ended = there.client.sync_once().await.unwrap_err();
    assert_eq!(ended.code(), ErrorCode::Unauthorized, "the other desk's session ended: {ended:?}");

    // With an action waiting, signing out everywhere is refused (it would strand it).
    let (pending, pdf) = input(86, "019001");
    world.proxy.set_mode(Mode::Refuse);
    here.client.register(pending, pdf).await.unwrap();
    assert_eq!(here.client.sign_out_everywhere().await.unwrap_err().code(), ErrorCode::PendingActions);
    world.proxy.set_mode(Mode::Pass);
    here.client.sync_once().await.unwrap();
    here.client.sign_out_everywhere().await.unwrap();
    assert!(here.client.account().await.unwrap().is_none(), "signed out here too");
}

/// A KPPN verifier corrects a person's contact from the desk (online), sees it in the view
/// at once, and sends a new activation link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_corrects_a_contact_from_the_desk() {
    let world = World::new().await;
    let operator = world.operator_desk().await;
    let (pending, pdf) = input(93, "019001");
    operator.client.register(pending, pdf).await.unwrap();
    operator.client.sync_once().await.unwrap();
    let desk = world.kppn_desk().await;
    let id = desk.client.queue().await.unwrap()[0].membership.id;

    let bad = desk.client.correct_contact(id, None, Some("bukan-email".into())).await.unwrap_err();
    assert_eq!(bad.code(), ErrorCode::EmailInvalid, "checked on the desk first");
    let m = desk.client.correct_contact(id, Some("0812 9876 5432".into()), Some("benar93@contoh.go.id".into())).await.unwrap();
    assert_eq!(m.email, "benar93@contoh.go.id");
    let (view, _) = desk.client.view(id).await.unwrap().unwrap();
    assert_eq!((view.phone.as_str(), view.email.as_str()), ("+6281298765432", "benar93@contoh.go.id"));
    desk.client.resend_activation(id).await.unwrap();
    assert!(world.server.activation_link("benar93@contoh.go.id").await.is_some(), "the new link went to the corrected address");
}

/// A session that ends by the idle limit while an action waits offline: the action stays
/// queued, goes after the next sign-in, and reaches the server exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_keeps_the_outbox_until_the_next_sign_in() {
    let world = World::new().await;
    let operator = world.operator_desk().await;
    let (pending, pdf) = input(95, "019001");
    operator.client.register(pending, pdf).await.unwrap();
    operator.client.sync_once().await.unwrap();
    let desk = world.kppn_desk().await;
    let id = desk.client.queue().await.unwrap()[0].membership.id;

    world.proxy.set_mode(Mode::Refuse);
    desk.client.act(id, Action::Approve).await.unwrap();
    world.server.idle_sessions(13).await;
    desk.client.forget_access_token().await;
    world.proxy.set_mode(Mode::Pass);
    assert!(desk.client.sync_once().await.is_err(), "the session ended");
    assert_eq!(desk.client.outbox().await.unwrap().len(), 1, "the approval still waits");

    desk.sign_in(&world.kppn_nik, KPPN_PASSWORD).await;
    desk.client.sync_once().await.unwrap();
    assert!(desk.client.outbox().await.unwrap().is_empty());
    let http = world.server.login(&world.kppn_nik, KPPN_PASSWORD).await.unwrap();
    let detail: myintress_core::api::MembershipDetail = http.get_json(&format!("/api/v1/memberships/{id}")).await;
    assert_eq!(detail.membership.status, myintress_core::Status::Active);
    let approvals = detail.history.iter().filter(|h| h.event == myintress_core::Event::Approve).count();
    assert_eq!(approvals, 1, "approved exactly once");
}

/// A person active in two satkers sees both by name, chooses one, switches, and finds the
/// choice again after the app restarts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_working_satker_is_chosen_by_name_and_kept_across_a_restart() {
    let world = World::new().await;
    let kppn = world.server.login(&world.kppn_nik, KPPN_PASSWORD).await.unwrap();
    // The operator (resident 1, active in 019001) is registered in 019002 too, by the KPPN.
    let response = kppn.register(&myintress_testkit::Registration::new(1, "019002").email("operator1@satker.go.id")).await;
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);

    let desk = world.operator_desk().await;
    let account = desk.client.account().await.unwrap().unwrap();
    let mut codes: Vec<&str> = account.satkers.iter().map(|s| s.code.as_str()).collect();
    codes.sort();
    assert_eq!(codes, ["019001", "019002"]);
    assert!(account.satkers.iter().all(|s| !s.name.is_empty()), "shown by name: {:?}", account.satkers);
    assert_eq!(desk.client.working_satker().await.unwrap(), None, "two satkers: the person chooses");
    assert_eq!(desk.client.choose_satker("019003").await.unwrap_err().code(), ErrorCode::SatkerOutOfScope);
    desk.client.choose_satker("019002").await.unwrap();
    desk.client.choose_satker("019001").await.unwrap();

    // The app restarts: the same data folder, a new client.
    let restarted = Desk::open_at(desk.dir.clone(), desk.service.clone(), &world.proxy.url()).await;
    assert_eq!(restarted.client.working_satker().await.unwrap().as_deref(), Some("019001"));
}

/// A central operator's desk: administration online, checked first with core's rules; no
/// membership data kept or fetched, and a verifier's desk gets no administration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_desk_manages_verifiers_and_holds_no_membership_data() {
    let world = World::new().await;
    let admin = world.server.admin().await;
    let desk = Desk::open(&world.proxy.url()).await;
    desk.sign_in(&admin.nik, myintress_testkit::ADMIN_PASSWORD).await;
    desk.client.sync_once().await.expect("an administrator's sync only asks whether the server answers");
    assert_eq!(desk.client.subscribe().borrow().connection, Connection::Online);
    assert_eq!(desk.client.list(&ListFilter::default()).await.unwrap().total, 0);

    let wrong = myintress_core::api::NewVerifier { nik: "123".into(), ..Default::default() };
    let refused = desk.client.create_verifier(&wrong).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NikInvalid, "checked on the desk first");
    let new = myintress_core::api::NewVerifier {
        nik: "3171014101900004".into(),
        name: "Dewi Lestari".into(),
        email: "dewi.lestari@kemenkeu.go.id".into(),
        kppn_code: "019".into(),
        supervisor: false,
    };
    desk.client.create_verifier(&new).await.unwrap();
    let kppns: Vec<_> = desk.client.kppns().await.unwrap().into_iter().map(|k| k.code).collect();
    assert_eq!(kppns, ["019", "020"]);
    let moved = desk
        .client
        .change_verifier(
            &new.nik,
            &myintress_client::VerifierChange::Move(myintress_core::api::VerifierMove { kppn_code: "020".into(), supervisor: Some(true) }),
        )
        .await
        .unwrap();
    assert_eq!((moved.kppn_code.as_str(), moved.supervisor), ("020", true));
    let disabled = desk.client.change_verifier(&world.kppn_nik, &myintress_client::VerifierChange::Disable).await.unwrap();
    assert!(disabled.disabled_at.is_some());
    let loaded = desk.client.upload_reference(None, Some(b"kode,nama,kode_kppn\n020002,Satker Baru,020\n")).await.unwrap();
    assert_eq!(loaded.changed, 1);
    assert_eq!(desk.client.verifiers().await.unwrap().len(), 2);

    let operator = Desk::open(&world.proxy.url()).await;
    operator.sign_in(&world.operator_nik, OPERATOR_PASSWORD).await;
    assert_eq!(operator.client.verifiers().await.unwrap_err().code(), ErrorCode::Forbidden);
}

/// The central server behind HTTPS with a certificate of the test run's private CA, which
/// the machine trusts (`SSL_CERT_FILE`, as `cargo xtask test` installs it): the desk signs
/// in and syncs. A plain `http://` address to another computer is refused outright.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_machines_trust_store_and_no_plain_http_across_the_network() {
    let world = World::new().await;
    let Some(front) = myintress_testkit::tls::TlsFront::start(world.server.addr()).await else {
        eprintln!("skipped: no test CA (run through cargo xtask test)");
        return;
    };
    let desk = Desk::open(&front.url()).await;
    desk.sign_in(&world.kppn_nik, KPPN_PASSWORD).await;
    desk.client.sync_once().await.expect("a sync over HTTPS");
    assert_eq!(desk.client.subscribe().borrow().connection, Connection::Online);

    let config = myintress_client::ClientConfig {
        data_dir: std::env::temp_dir().join(format!("myintress-desk-{}", uuid::Uuid::new_v4())),
        server_url: "http://myintress.kemenkeu.go.id".into(),
        keychain_service: "myintress-test-http".into(),
        cache_limit_bytes: 1024,
    };
    let refused = myintress_client::Client::open(config).await.err().expect("plain http to another computer");
    assert_eq!(refused.code(), ErrorCode::ServerUrlInvalid);
}

/// The data folder (the local store, the cached letters) is this OS account's alone.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_is_the_accounts_alone() {
    use std::os::unix::fs::PermissionsExt;
    let world = World::new().await;
    let desk = world.kppn_desk().await;
    let mode = std::fs::metadata(&desk.dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{mode:o}");
}

//! Offline: the server unreachable, an approval waits in the outbox and goes up when the
//! network is back. Conflict: two verifiers decide the same request; the one who was
//! offline sees the server's answer beside the action.

use myintress_core::api::MembershipDetail;
use myintress_testkit::Registration;

use crate::flows::{go, sign_in};
use crate::harness::App;
use crate::world::{KPPN_PASSWORD, World};

#[test]
fn approve_offline_then_sync() {
    let world = World::new("offline");
    let kppn = world.verifier("019");
    let operator = world.block_on(world.server.operator(&kppn, "019001", 1));
    let pending = world.register(&operator, &Registration::new(2, "019001"));

    let app = App::launch_with("offline", Some(&world.url()));
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    go(&app, "verifikasi");
    app.wait_for_text("[data-testid=tanda-nik]", "NIK ditemukan");

    world.offline();
    app.click("#setujui");
    go(&app, "sinkronisasi");
    app.click("#sinkron-sekarang");
    app.wait_for_text("[data-testid=status-sinkron]", "Luring");
    app.wait_for_text("[data-testid=kirim-pending]", "Menunggu sinkronisasi");
    app.screenshot("menunggu");

    world.online();
    app.click("#sinkron-sekarang");
    app.wait_for_text("[data-testid=antrean-kirim-kosong]", "Semua tindakan sudah terkirim");
    app.wait_for_text("[data-testid=status-sinkron]", "Daring");
    app.screenshot("terkirim");
    let detail: MembershipDetail = world.block_on(kppn.get_json(&format!("/api/v1/memberships/{}", pending.id)));
    assert_eq!(detail.membership.status.code(), 2, "the approval reached the server");
}

#[test]
fn two_verifiers_decide_the_same_request() {
    let world = World::new("conflict");
    let kppn = world.verifier("019");
    let other = world.verifier("019");
    let operator = world.block_on(world.server.operator(&kppn, "019001", 1));
    let pending = world.register(&operator, &Registration::new(3, "019001"));

    let app = App::launch_with("conflict", Some(&world.url()));
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    go(&app, "verifikasi");
    app.wait_for_text("[data-testid=tanda-nik]", "NIK ditemukan");
    world.offline();
    app.click("#setujui");

    // The other verifier rejects first, on the server.
    let response = world.block_on(other.act(pending.id, "reject", Some("Surat tugas kedaluwarsa")));
    assert_eq!(response.status().as_u16(), 200);

    world.online();
    go(&app, "sinkronisasi");
    app.click("#sinkron-sekarang");
    app.wait_for_text("[data-testid=kirim-conflict]", "Jawaban server");
    let answer = app.find("[data-testid=jawaban-server]").text();
    assert!(answer.contains("diubah oleh pihak lain"), "{answer}");
    app.wait_for_text("[data-testid=kirim-conflict]", "5 Pendaftaran Ditolak");
    app.screenshot("konflik");
    app.click("[data-testid=kirim-conflict] button.tombol");
    app.wait_for_text("[data-testid=antrean-kirim-kosong]", "Semua tindakan sudah terkirim");
}

/// Beranda counts the overdue requests (the server's flags, synced) and opens the Antrean
/// filtered to them; each request shows its age in working days and its flag.
#[test]
fn overdue_requests_are_counted_on_beranda_and_flagged_in_the_antrean() {
    let world = World::new("antrean");
    let kppn = world.verifier("019");
    let operator = world.block_on(world.server.operator(&kppn, "019001", 1));
    world.register(&operator, &Registration::new(4, "019001"));
    // A week on, the request is overdue and escalated: the round sends its flags.
    let week_on = chrono::Utc::now() + chrono::Duration::days(7);
    world.block_on(myintress_server::queue::refresh_flags(world.server.state(), week_on)).unwrap();
    world.register(&operator, &Registration::new(5, "019001"));

    let app = App::launch_with("antrean", Some(&world.url()));
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    app.wait_for_text("[data-testid=jumlah-terlambat]", "1 terlambat, 1 eskalasi ke supervisor");
    app.screenshot("beranda-terlambat");
    app.click("[data-testid=jumlah-terlambat]");
    app.wait_for_text("[data-testid=antrean-eskalasi]", "Eskalasi");
    assert_eq!(app.count("[data-testid=antrean-butir]"), 1, "only the overdue one");
    app.wait_for_text("[data-testid=antrean-butir]", "hari kerja");
    app.screenshot("antrean-terlambat");
    app.click("[data-testid=antrean-semua]");
    app.wait_count("[data-testid=antrean-butir]", 2);
}

/// A key-press approval (A) waits a few seconds before it is queued: "Batalkan" takes it
/// back and nothing is sent; left alone, it is queued and reaches the server.
#[test]
fn a_key_press_approval_can_be_taken_back() {
    let world = World::new("batalkan");
    let kppn = world.verifier("019");
    let operator = world.block_on(world.server.operator(&kppn, "019001", 1));
    let first = world.register(&operator, &Registration::new(6, "019001"));
    world.register(&operator, &Registration::new(7, "019001"));

    let app = App::launch_with("batalkan", Some(&world.url()));
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    go(&app, "verifikasi");
    app.wait_count("[data-testid=antrean-butir]", 2);
    app.wait_for_text("[data-testid=verifikasi-data] h3", &first.name);
    app.press("a");
    app.wait_for_text("[data-testid=batal-setujui]", "akan disetujui");
    // Taken back at once: a screenshot here can take seconds on a busy machine, longer
    // than the countdown (the countdown's picture is taken below, where nothing waits).
    app.click("#batalkan");
    assert_eq!(app.count("[data-testid=batal-setujui]"), 0);
    std::thread::sleep(std::time::Duration::from_secs(6));
    assert_eq!(app.count("[data-testid=antrean-butir]"), 2, "taken back: both still wait");
    let detail: MembershipDetail = world.block_on(kppn.get_json(&format!("/api/v1/memberships/{}", first.id)));
    assert_eq!(detail.membership.status.code(), 1, "nothing reached the server");

    // Left alone, it is queued after the countdown and sent.
    app.click("[data-testid=antrean-butir]");
    app.press("a");
    app.wait_for_text("[data-testid=batal-setujui]", "akan disetujui");
    app.screenshot("batalkan");
    myintress_testkit::webdriver::wait_for("the countdown to run out", std::time::Duration::from_secs(15), || {
        (app.count("[data-testid=antrean-butir]") == 1).then_some(())
    });
    crate::flows::wait_synced(&app);
    let detail: MembershipDetail = world.block_on(kppn.get_json(&format!("/api/v1/memberships/{}", first.id)));
    assert_eq!(detail.membership.status.code(), 2, "approved once the countdown ran out");
}

/// A verifier clears an Antrean of 20 with one bulk approval after opening every letter
/// (J through the list); meanwhile, while the desk is offline, another verifier rejects
/// one of them. Each request ends on its own: 19 approved, the one decided first shown
/// refused by the server, with its answer in Sinkronisasi.
#[test]
fn an_antrean_of_twenty_is_cleared_with_one_bulk_approval() {
    let world = World::new("sekaligus");
    let kppn = world.verifier("019");
    let other = world.verifier("019");
    let operator = world.block_on(world.server.operator(&kppn, "019001", 1));
    let requests: Vec<_> = (40..60).map(|n| world.register(&operator, &Registration::new(n, "019001"))).collect();

    let app = App::launch_with("sekaligus", Some(&world.url()));
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    go(&app, "verifikasi");
    app.wait_count("[data-testid=antrean-butir]", 20);
    assert_eq!(app.count("[data-testid=antrean-pilih]:enabled"), 0, "no letter opened yet: nothing may be selected");
    for (i, request) in requests.iter().enumerate() {
        app.wait_for_text("[data-testid=verifikasi-data] h3", &request.name);
        app.wait_for_text("[data-testid=tanda-nik]", "NIK ditemukan");
        app.wait_count("[data-testid=antrean-pilih]:enabled", i + 1);
        app.press("j");
    }
    app.screenshot("sekaligus-dilihat");

    world.offline();
    let response = world.block_on(other.act(requests[7].id, "reject", Some("Surat tugas kedaluwarsa")));
    assert_eq!(response.status().as_u16(), 200);
    app.click("[data-testid=pilih-dilihat]");
    app.wait_for_text("[data-testid=jumlah-terpilih]", "20 dipilih");
    app.screenshot("sekaligus-terpilih");
    app.click("#setujui-terpilih");
    app.wait_for_text("[data-testid=hasil-sekaligus]", "20 diantrekan");
    app.wait_for_text("[data-testid=antrean-kosong]", "Tidak ada pendaftaran");

    world.online();
    go(&app, "sinkronisasi");
    app.click("#sinkron-sekarang");
    app.wait_for_text("[data-testid=kirim-conflict]", "Jawaban server");
    go(&app, "verifikasi");
    app.wait_for_text("[data-testid=hasil-selesai]", "19 dari 20 selesai di server");
    let refused = app.find("[data-testid=hasil-butir][data-state=refused]").text();
    assert!(refused.contains(&requests[7].name) && refused.contains("ditolak server"), "{refused}");
    app.screenshot("sekaligus-hasil");
    for (i, request) in requests.iter().enumerate() {
        let detail: MembershipDetail = world.block_on(kppn.get_json(&format!("/api/v1/memberships/{}", request.id)));
        assert_eq!(detail.membership.status.code(), if i == 7 { 5 } else { 2 }, "request {i}");
    }
}

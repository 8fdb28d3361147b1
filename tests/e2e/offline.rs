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

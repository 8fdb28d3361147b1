//! The sender killed with SIGKILL at random points: a child process (this test binary,
//! re-run in child mode) opens the same local store and pushes the outbox; the parent
//! kills it after a random delay, over and over. Afterwards every action is on the server
//! exactly once and the local store matches the server. Run against one server and
//! through two replicas behind a balancer.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;

use crate::faults::assert_exactly_once;
use crate::on_both_worlds;
use crate::round_trips::input;
use crate::support::{Desk, World};

/// How many times the sender is started and killed.
const TRIALS: usize = 200;

const CHILD_ENV: &str = "MYINTRESS_CHILD_SENDER";

/// Child mode: push until the outbox is empty, then exit. Does nothing in a normal run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_sender() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
    let desk =
        Desk::open_at(spec["dir"].as_str().unwrap().into(), spec["service"].as_str().unwrap().to_owned(), spec["server"].as_str().unwrap())
            .await;
    // The parent hands over its access token: the child never rotates the refresh token,
    // so a kill cannot leave the keychain behind the server.
    desk.client.seed_access_token(spec["token"].as_str().unwrap(), Duration::from_secs(600)).await;
    loop {
        match desk.client.push().await {
            Ok(_) => break,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    // Keep the files: they belong to the parent.
    std::mem::forget(desk);
}

on_both_worlds!(sender_killed_at_random_points_loses_and_duplicates_nothing);

async fn sender_killed_at_random_points_loses_and_duplicates_nothing(world: World) {
    let desk = world.kppn_desk().await;
    let token = desk.client.access_token(false).await.unwrap();
    let spec = serde_json::json!({
        "dir": desk.dir.to_str().unwrap(),
        "service": desk.service,
        "server": world.proxy.url(),
        "token": token,
    })
    .to_string();
    let exe = std::env::current_exe().unwrap();

    let mut niks = Vec::new();
    let mut killed = 0usize;
    let mut finished = 0usize;
    let started = Instant::now();
    let mut rng = rand::rng();
    for trial in 0..TRIALS {
        // One new action per trial, queued by the parent (the app) while no sender runs.
        let (input, pdf) = input(100 + trial as u32, if trial % 3 == 0 { "019002" } else { "019001" });
        niks.push(input.nik.clone());
        desk.client.register(input, pdf).await.unwrap();

        let mut child = Command::new(&exe)
            .args(["--exact", "kill::child_sender", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &spec)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = Duration::from_millis(rng.random_range(0..90));
        tokio::time::sleep(delay).await;
        match child.try_wait().unwrap() {
            Some(_) => finished += 1,
            None => {
                child.kill().unwrap(); // SIGKILL
                killed += 1;
            }
        }
        child.wait().unwrap();
    }
    // The last run is not killed.
    let status = Command::new(&exe)
        .args(["--exact", "kill::child_sender", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &spec)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    desk.client.sync_once().await.unwrap();
    println!(
        "SIGKILL trials: {TRIALS} runs of the sender, {killed} killed mid-way, {finished} finished on their own, \
         {} actions, {:.1} s",
        niks.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(killed >= TRIALS / 4, "too few kills to mean anything: {killed}");
    assert_eq!(desk.client.subscribe().borrow().outbox, 0);
    assert_exactly_once(&world, &desk, &niks).await;
    println!("SIGKILL trials: every action on the server exactly once; the local store matches the server");
}

//! Benchmark 10: a verifier's working day, for memory. The release app, signed in as a KPPN
//! verifier through its screens (WebDriver), stays open for the day: it syncs every 30 s
//! by itself (its background runner), a satker registers someone every two minutes
//! (another desk, through the API), and the verifier opens 300 letters in the Antrean,
//! evenly over the day, each drawn before the next. The memory (PSS of the app and its
//! WebKit processes) at the end of the day is compared with the end of the first hour.
//! Eight hours at the full size; `--day-minutes` shortens the day (the tiny size: one
//! minute), keeping the 30 s sync.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use rand::SeedableRng;

use crate::Cli;
use crate::desktop::{descendants, smaps_field};
use crate::letter::{Driven, count, measure, press, register_letters, sign_in};
use crate::report::{Report, ratio};
use crate::world;

pub fn run(cli: &Cli, runtime: &tokio::runtime::Runtime, report: &mut Report) -> Result<()> {
    let Some(app_bin) = &cli.app_bin else {
        println!("benchmark 10 skipped: --app-bin is needed");
        return Ok(());
    };
    let day = Duration::from_secs_f64(60.0 * cli.day_minutes.unwrap_or(if cli.full() { 480.0 } else { 1.0 }));
    let hour = day / 8;
    let opens: u32 = if cli.full() { 300 } else { 16 };
    let arrive_every = Duration::from_secs(120).min(day / 8);
    let arrivals = (day.as_secs_f64() / arrive_every.as_secs_f64()).ceil() as u32;
    let waiting: u32 = 40;
    let dir = world::dir(cli.work.join("day"))?;

    let mut rng = rand::rngs::StdRng::seed_from_u64(10);
    let letter = |i: u32, rng: &mut rand::rngs::StdRng| {
        let (nik, name) = myintress_testkit::resident(i);
        world::letter_of_size(&nik, &name, &format!("ST-{i:04}/HARI/2026"), 1024 * 1024, rng)
    };
    let server_dir = world::dir(dir.join("server"))?;
    let operator = waiting + arrivals + 2;
    world::server_dir(&server_dir, 1, 20, operator)?;
    let settings = world::settings(&server_dir, None, &cli.server_bin);
    let (server, nik, token) = runtime.block_on(crate::letter::world_with_operator(&cli.server_bin, &settings, operator))?;
    let first: Vec<(u32, Vec<u8>)> = (1..=waiting).map(|i| (i, letter(i, &mut rng))).collect();
    runtime.block_on(register_letters(&server, &token, &first))?;

    let home = world::dir(dir.join("app"))?;
    let app = Driven::launch(app_bin, &home, &[("MYINTRESS_SERVER_URL", &server.base)])?;
    let page = &app.session;
    sign_in(page, &nik)?;
    page.find("[data-nav=verifikasi]").click();
    let started = Instant::now();
    crate::letter::wait("the Antrean's requests", Duration::from_secs(60), || {
        count(page, "[data-testid=antrean-butir]") >= waiting as usize
    })
    .with_context(|| format!("the screen shows: {}", crate::letter::screen_text(page)))?;
    let app_pid = app.program_pid(app_bin).context("the app's process under tauri-driver")?;
    // PSS per process kind (the app, WebKit's web and network processes), so a growth
    // says which one grows.
    let split = || {
        let mut kinds: Vec<(String, u64)> = Vec::new();
        for pid in descendants(app_pid) {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string();
            let name = if pid == app_pid { "app".to_string() } else { name };
            let pss = smaps_field(pid, "Pss:");
            match kinds.iter_mut().find(|(k, _)| *k == name) {
                Some((_, sum)) => *sum += pss,
                None => kinds.push((name, pss)),
            }
        }
        kinds
    };
    let describe = |kinds: &[(String, u64)]| kinds.iter().map(|(k, p)| format!("{k} {}", world::mib(*p))).collect::<Vec<_>>().join(", ");

    // The day: events in time order, each at its planned moment.
    let open_every = day / opens;
    let sample_every = hour / 6;
    let (mut next_open, mut next_arrival, mut next_sample) = (open_every, arrive_every, sample_every);
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    let mut splits: Vec<(Duration, Vec<(String, u64)>)> = Vec::new();
    let mut sample = |samples: &mut Vec<(Duration, u64)>, now: Duration| {
        let kinds = split();
        let total = kinds.iter().map(|(_, p)| p).sum();
        println!("benchmark 10 at {:.1} min: PSS {} ({})", now.as_secs_f64() / 60.0, world::mib(total), describe(&kinds));
        samples.push((now, total));
        splits.push((now, kinds));
    };
    let mut opened = 0;
    let mut arrived = 0;
    let mut last = measure(page, None)?;
    let mut forward = true;
    let mut draw_ms = Vec::new();
    while started.elapsed() < day {
        let next = next_open.min(next_arrival).min(next_sample).min(day);
        if let Some(wait) = next.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let now = started.elapsed();
        if now >= next_sample {
            sample(&mut samples, now);
            next_sample += sample_every;
        }
        if now >= next_arrival {
            arrived += 1;
            let i = waiting + arrived;
            runtime.block_on(register_letters(&server, &token, &[(i, letter(i, &mut rng))]))?;
            next_arrival += arrive_every;
        }
        if now >= next_open && opened < opens {
            // Down the Antrean and back up, as far as it goes.
            let rows = count(page, "[data-testid=antrean-butir]");
            let at = crate::letter::selected_index(page)?;
            if (forward && at + 1 >= rows) || (!forward && at == 0) {
                forward = !forward;
            }
            press(page, if forward { "j" } else { "k" })?;
            last = measure(page, Some(&last.id))?;
            draw_ms.push(last.ms);
            opened += 1;
            next_open += open_every;
        }
    }
    sample(&mut samples, started.elapsed());
    drop(app);
    drop(server);
    ensure!(opened == opens, "opened {opened} of {opens} letters");

    // The end of the first hour and of the day: the median of the samples in the last half
    // of each (three at six samples an hour).
    let window = |end: Duration| {
        let mut v: Vec<u64> =
            samples.iter().filter(|(t, _)| *t > end - hour / 2 && *t <= end + sample_every / 2).map(|(_, p)| *p).collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    let (first_hour, end_of_day) = (window(hour), window(day));
    // Which process holds the difference: the split at the sample nearest each end.
    let nearest = |end: Duration| splits.iter().min_by_key(|(t, _)| t.abs_diff(end)).map(|(_, kinds)| describe(kinds)).unwrap_or_default();
    let (split_first, split_end) = (nearest(hour), nearest(day));
    let peak = samples.iter().map(|(_, p)| *p).max().unwrap_or(0);
    draw_ms.sort_by(f64::total_cmp);
    let p95 = draw_ms.get(((draw_ms.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)).copied().unwrap_or(f64::NAN);
    let minutes = day.as_secs_f64() / 60.0;
    report.add(
        "10 a working day, memory",
        format!(
            "PSS {} after {minutes:.0} min ({split_end}; {opened} letters opened, {arrived} registrations arrived, sync every 30 s); peak {}; letters drawn p95 {p95:.0} ms",
            world::mib(end_of_day),
            world::mib(peak)
        ),
        format!("PSS {} after the first eighth of the day ({split_first})", world::mib(first_hour)),
        ratio(end_of_day as f64, first_hour as f64),
        "≤ 1.15× the first hour (8 hours)",
        // A shortened day says its figure; only the whole day is held to the target.
        (minutes >= 480.0).then_some(end_of_day as f64 <= 1.15 * first_hour as f64),
    );
    let _ = std::fs::remove_dir_all(Path::new(&dir));
    Ok(())
}

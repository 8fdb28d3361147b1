//! The benchmarks at `--size tiny`, as a smoke check that each still runs end to end
//! (real server processes, PostgreSQL, the keychain, wrk, the app under Xvfb). Nothing
//! here looks at a time: the figures are `cargo xtask bench`'s business.

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/`, where cargo put the binaries this test needs.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps").to_path_buf()
}

#[test]
fn every_benchmark_runs_at_a_tiny_size() {
    let dir = profile_dir();
    let bin = |name: &str| {
        let p = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        assert!(p.exists(), "{} is missing: run `cargo test --workspace` (it builds every binary and example)", p.display());
        p
    };
    let runner = PathBuf::from(env!("CARGO_BIN_EXE_myintress-bench"));
    let scratch = std::env::temp_dir().join(format!("myintress-bench-smoke-{}", std::process::id()));
    let required = std::env::var_os("MYINTRESS_TEST_TOOLS_REQUIRED").is_some();
    let postgres = std::env::var("MYINTRESS_BENCH_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    assert!(postgres.is_some() || !required, "the test command must pass MYINTRESS_BENCH_POSTGRES_URL");

    let mut args: Vec<String> = vec![
        "--size".into(),
        "tiny".into(),
        "--work".into(),
        scratch.join("work").display().to_string(),
        "--out".into(),
        scratch.join("out").display().to_string(),
        "--server-bin".into(),
        bin("myintress-server").display().to_string(),
    ];
    let has_display = std::env::var_os("DISPLAY").is_some();
    let xvfb = Command::new("xvfb-run").arg("--help").output().is_ok();
    if has_display || xvfb {
        args.extend(["--app-bin".into(), bin("myintress-satker").display().to_string()]);
        args.extend(["--empty-bin".into(), dir.join("examples").join("empty_window").display().to_string()]);
        let pdfjs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/node_modules/pdfjs-dist/legacy/build");
        assert!(pdfjs.join("pdf.mjs").exists() || !required, "benchmark 9 needs the UI's packages (npm ci in ui/)");
        args.extend(["--pdfjs-dir".into(), pdfjs.display().to_string()]);
    } else {
        assert!(!required, "benchmark 8 needs a display or xvfb-run");
    }
    let mut command = if !has_display && xvfb {
        let mut c = Command::new("xvfb-run");
        c.arg("-a").arg(&runner);
        c
    } else {
        Command::new(&runner)
    };
    if let Some(url) = &postgres {
        command.env("MYINTRESS_BENCH_POSTGRES_URL", url);
    }
    let output = command.args(&args).output().expect("the bench runner starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "bench runner failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let results: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(scratch.join("out/results.json")).expect("results.json")).expect("JSON");
    let mut expected = vec!["1 ", "2 ", "3 ", "4 ", "5 ", "6 "];
    if postgres.is_some() {
        expected.push("7 ");
    }
    if has_display || xvfb {
        expected.extend(["8 ", "9 "]);
    }
    for prefix in expected {
        assert!(
            results.iter().any(|r| r["id"].as_str().is_some_and(|id| id.starts_with(prefix))),
            "benchmark {prefix}gave no figure:\n{stdout}"
        );
    }
    // The growth table and plot from this run's points (one size; xtask passes three).
    let growth = Command::new(env!("CARGO_BIN_EXE_myintress-bench-growth"))
        .arg("--out")
        .arg(scratch.join("growth"))
        .arg(scratch.join("out"))
        .output()
        .expect("the growth tool starts");
    assert!(growth.status.success(), "growth tool failed: {}", String::from_utf8_lossy(&growth.stderr));
    let table = std::fs::read_to_string(scratch.join("growth/growth.md")).expect("growth.md");
    for series in ["1 initial sync", "3 search (name / NIK), p99", "4 list page (SQLite)"] {
        assert!(table.contains(&format!("| {series} |")), "{series} missing from the growth table:\n{table}");
    }
    assert!(table.contains("| 2,000 |"), "the size is a column:\n{table}");
    let svg = std::fs::read_to_string(scratch.join("growth/growth.svg")).expect("growth.svg");
    assert!(svg.starts_with("<svg") && svg.contains("1 initial sync"), "the plot names its series");
    let _ = std::fs::remove_dir_all(&scratch);
}

//! Tidy checks on the repository itself, run by `cargo test` like any other test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
}

/// The rows of ARCHITECTURE.md's code map, by the path in their first cell.
fn code_map() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let start = text.find("## Code map").expect("a code map section");
    let section = &text[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    section[..end]
        .lines()
        .filter_map(|line| {
            let mut cells = line.strip_prefix('|')?.splitn(2, '|');
            let path = cells.next()?.trim().trim_matches('`').to_owned();
            Some((path, cells.next()?.to_owned()))
        })
        .collect()
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// Every crate and every top-level module of a crate has its line in the code map: a row
/// whose path is the crate's folder (or lies inside it) and names the module. A new crate
/// or module without one fails here, so the map cannot drift behind the code.
#[test]
fn every_crate_and_module_is_in_the_code_map() {
    let map = code_map();
    let root = root();
    let mut crates: Vec<(String, PathBuf)> = vec![("src-tauri/".into(), root.join("src-tauri")), ("xtask/".into(), root.join("xtask/src"))];
    for entry in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join("Cargo.toml").exists() {
            crates.push((format!("crates/{name}/"), entry.path().join("src")));
        }
    }
    let mut missing = Vec::new();
    for (prefix, src) in &crates {
        let rows: Vec<&(String, String)> = map.iter().filter(|(path, _)| path.starts_with(prefix.as_str())).collect();
        if rows.is_empty() {
            missing.push(format!("{prefix} (no row)"));
            continue;
        }
        let mut named = BTreeSet::new();
        for (path, text) in &rows {
            named.extend(words(path));
            named.extend(words(text));
        }
        for entry in std::fs::read_dir(src).unwrap().flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            let module = match file.strip_suffix(".rs") {
                Some(m) => m.to_owned(),
                None if entry.path().is_dir() => file,
                None => continue,
            };
            if matches!(module.as_str(), "lib" | "main" | "build") {
                continue;
            }
            if !named.contains(&module) {
                missing.push(format!("{prefix}: module `{module}`"));
            }
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md's code map does not name: {missing:#?}");
}

/// `name → version` of every package in Cargo.lock (the first one when a name repeats).
fn locked_crates() -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("Cargo.lock")).expect("Cargo.lock");
    let mut out = std::collections::BTreeMap::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            out.entry(n).or_insert_with(|| v.trim_matches('"').to_owned());
        }
    }
    out
}

fn major_minor(version: &str) -> &str {
    version.match_indices('.').nth(1).map_or(version, |(i, _)| &version[..i])
}

/// The Tauri CLI refuses to bundle when the `tauri` crate and `@tauri-apps/api` (or a
/// plugin's crate and its npm package) differ in major.minor, so the two lock files are
/// kept in step: an update on one side only fails here, not at release time. The CLI
/// itself moves with them, and the app's version is one number in all three manifests.
#[test]
fn tauri_crates_and_npm_packages_are_in_step() {
    let crates = locked_crates();
    let lock: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root().join("ui/package-lock.json")).unwrap()).unwrap();
    let npm: std::collections::BTreeMap<String, String> = lock["packages"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(path, pkg)| Some((path.strip_prefix("node_modules/")?.to_owned(), pkg["version"].as_str()?.to_owned())))
        .collect();
    let mut pairs = vec![("tauri".to_owned(), "@tauri-apps/api".to_owned()), ("tauri".to_owned(), "@tauri-apps/cli".to_owned())];
    for name in npm.keys() {
        if let Some(plugin) = name.strip_prefix("@tauri-apps/plugin-") {
            pairs.push((format!("tauri-plugin-{plugin}"), name.clone()));
        }
    }
    let mut apart = Vec::new();
    for (krate, package) in &pairs {
        let (Some(c), Some(n)) = (crates.get(krate), npm.get(package)) else {
            apart.push(format!("{krate} / {package}: one side is missing"));
            continue;
        };
        if major_minor(c) != major_minor(n) {
            apart.push(format!("{krate} {c} / {package} {n}"));
        }
    }
    assert!(apart.is_empty(), "Tauri crates and npm packages out of step (major.minor): {apart:#?}");

    let conf: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root().join("tauri.conf.json")).unwrap()).unwrap();
    let ui: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root().join("ui/package.json")).unwrap()).unwrap();
    let app = crates.get("myintress-satker").expect("the app in Cargo.lock");
    assert_eq!(conf["version"].as_str(), Some(app.as_str()), "tauri.conf.json's version");
    assert_eq!(ui["version"].as_str(), Some(app.as_str()), "ui/package.json's version");
}

/// deploy/'s systemd unit is one systemd accepts without a warning (an unknown or
/// misspelt hardening key is ignored by systemd, so it would silently not harden).
#[test]
fn the_systemd_unit_is_valid() {
    let analyze = std::path::Path::new("/usr/bin/systemd-analyze");
    if !analyze.exists() {
        assert!(std::env::var_os("MYINTRESS_TEST_TOOLS_REQUIRED").is_none(), "systemd-analyze is missing (Debian package systemd)");
        eprintln!("skipped: no systemd-analyze on this machine");
        return;
    }
    let unit = std::fs::read_to_string(root().join("deploy/myintress-server.service")).unwrap();
    // verify wants ExecStart's program to exist; any program that does stands in.
    let unit = unit.replace("/usr/local/bin/myintress-server", "/bin/true");
    let dir = std::env::temp_dir().join(format!("myintress-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("myintress-server.service");
    std::fs::write(&file, unit).unwrap();
    let out = std::process::Command::new(analyze).arg("verify").arg(&file).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let said = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
}

/// WiX's languages as tauri-bundler 2 knows them (`src/bundle/windows/msi/languages.json`):
/// the bundler stops with "Language … not found" for any other. None is Indonesian: WiX
/// ships no Indonesian dialogs, so the MSI speaks English and the NSIS installer is the
/// Indonesian one.
const WIX_LANGUAGES: &[&str] = &[
    "ar-SA",
    "ca-ES",
    "zh-TW",
    "zh-CN",
    "cs-CZ",
    "da-DK",
    "de-DE",
    "el-GR",
    "en-US",
    "es-ES",
    "et-EE",
    "fi-FI",
    "fr-FR",
    "he-IL",
    "hu-HU",
    "it-IT",
    "ja-JP",
    "ko-KR",
    "lt-LT",
    "lv-LV",
    "nl-NL",
    "nb-NO",
    "pl-PL",
    "pt-BR",
    "pt-PT",
    "ro-RO",
    "ru-RU",
    "hr-HR",
    "sk-SK",
    "sv-SE",
    "th-TH",
    "tr-TR",
    "sl-SI",
    "vi-VN",
    "eu-ES",
    "bg-BG",
    "uk-UA",
    "sr-Latn-CS",
];

/// The installers' settings are ones the bundler accepts, checked here on Linux because
/// the Windows and macOS installers are built only there (the whole file is checked
/// against the CLI's schema by the CLI itself when the test command bundles the `.deb`):
/// the MSI language against WiX's list, the NSIS
/// language file against every message of the bundler's own English one (read from the
/// CLI), WebView2 installed without the internet, per-machine, and the icons each target
/// needs.
#[test]
fn installer_settings_are_ones_the_bundler_knows() {
    let root = root();
    let read_json = |p: &str| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(root.join(p)).unwrap()).unwrap() };
    let conf = read_json("tauri.conf.json");
    let windows = &conf["bundle"]["windows"];
    let wix = windows["wix"]["language"].as_str().expect("one MSI language");
    assert!(WIX_LANGUAGES.contains(&wix), "MSI language {wix} is not one WiX/tauri-bundler knows");
    // Offline: a KPPN office may not reach Microsoft's download servers.
    let webview = windows["webviewInstallMode"]["type"].as_str().unwrap();
    assert!(matches!(webview, "offlineInstaller" | "fixedRuntime"), "WebView2 install mode {webview} needs the internet");
    assert_eq!(windows["nsis"]["installMode"], "perMachine");

    // The English messages of the bundler's NSIS template, as the installed CLI has them.
    let cli_dir = root.join("ui/node_modules/@tauri-apps");
    let binary = std::fs::read_dir(&cli_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("cli-"))
        .flat_map(|e| std::fs::read_dir(e.path()).unwrap().flatten())
        .find(|e| e.path().extension().is_some_and(|x| x == "node"))
        .expect("the CLI's native module")
        .path();
    let bytes = std::fs::read(binary).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let english: BTreeSet<String> = text
        .split('\n')
        .filter_map(|l| l.strip_prefix("LangString ")?.strip_suffix('"')?.split_once(" ${LANG_ENGLISH} ").map(|(k, _)| k.to_owned()))
        .collect();
    assert!(english.len() >= 20, "the CLI's English NSIS messages were not found ({english:?})");
    for language in windows["nsis"]["languages"].as_array().unwrap() {
        let language = language.as_str().unwrap();
        if text.contains(&format!("${{LANG_{}}}", language.to_uppercase())) {
            continue;
        }
        let file = windows["nsis"]["customLanguageFiles"][language].as_str().unwrap_or_else(|| panic!("no messages for {language}"));
        let ours = std::fs::read_to_string(root.join(file)).unwrap();
        let tag = format!(" ${{LANG_{}}} ", language.to_uppercase());
        let keys: BTreeSet<String> =
            ours.lines().filter_map(|l| l.strip_prefix("LangString ")?.split_once(tag.as_str()).map(|(k, _)| k.to_owned())).collect();
        let missing: Vec<&String> = english.difference(&keys).collect();
        assert!(missing.is_empty(), "{file} lacks {missing:?}");
    }

    let icons: Vec<&str> = conf["bundle"]["icon"].as_array().unwrap().iter().map(|i| i.as_str().unwrap()).collect();
    for needed in [".ico", ".icns", "32x32.png", "128x128.png", "128x128@2x.png"] {
        let icon = icons.iter().find(|i| i.ends_with(needed)).unwrap_or_else(|| panic!("no {needed} icon"));
        assert!(root.join(icon).exists(), "{icon}");
    }
}

/// Every file of the repository with one of `extensions`, outside build output, installed
/// packages and test artifacts.
fn repository_files(extensions: &[&str]) -> Vec<PathBuf> {
    const SKIP: &[&str] = &["target", "node_modules", "dist", "test-artifacts", ".git", "gen"];
    let mut files = Vec::new();
    let mut dirs = vec![root()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !SKIP.contains(&name.as_str()) {
                    dirs.push(path);
                }
            } else if extensions.iter().any(|e| name.ends_with(e)) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The user guide's pictures are the screenshots the end-to-end tests take, copied by
/// `cargo xtask screenshots` under the names in `GUIDE_SCREENSHOTS`: every picture the
/// guide shows is in that list and in `docs/gambar/`, no other picture lies there, and each
/// listed screenshot is one a test takes (`App::launch…("<app>")` + `screenshot("<label>")`).
#[test]
fn the_user_guide_shows_the_screenshots_the_tests_take() {
    let root = root();
    let guide = std::fs::read_to_string(root.join("docs/panduan-pengguna.md")).unwrap();
    let shown: BTreeSet<String> =
        guide.split("](gambar/").skip(1).filter_map(|rest| rest.split_once(')').map(|(name, _)| name.to_owned())).collect();
    let listed: BTreeSet<String> = crate::GUIDE_SCREENSHOTS.iter().map(|(_, named)| (*named).to_owned()).collect();
    assert_eq!(shown, listed, "docs/panduan-pengguna.md shows exactly the pictures of xtask's GUIDE_SCREENSHOTS");
    let present: BTreeSet<String> =
        std::fs::read_dir(root.join("docs/gambar")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(present, listed, "docs/gambar/ holds exactly the guide's pictures: run `cargo xtask screenshots`");

    let mut tests = String::new();
    for file in std::fs::read_dir(root.join("tests/e2e")).unwrap().flatten() {
        tests += &std::fs::read_to_string(file.path()).unwrap();
    }
    for (taken, _) in crate::GUIDE_SCREENSHOTS {
        let stem = taken.strip_suffix(".png").unwrap();
        let taken_by_a_test = (1..stem.len()).filter(|&i| stem.as_bytes()[i] == b'-').any(|i| {
            let (app, label) = (&stem[..i], &stem[i + 1..]);
            tests.contains(&format!("\"{app}\"")) && tests.contains(&format!("screenshot(\"{label}\")"))
        });
        assert!(taken_by_a_test, "{taken}: no end-to-end test takes this screenshot");
    }
}

/// Documents point only inside the repository: every relative link of every Markdown file
/// leads to a file here, and nothing names the design documents the project was built from
/// (they are not part of it). Applied migrations are left as they are: their checksums are
/// part of every database already migrated.
#[test]
fn documents_point_only_inside_the_repository() {
    let root = root();
    for file in repository_files(&[".md"]) {
        let text = std::fs::read_to_string(&file).unwrap();
        for link in text.split("](").skip(1).filter_map(|rest| rest.split(')').next()) {
            let target = link.split('#').next().unwrap_or_default().trim();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = file.parent().unwrap().join(target);
            let inside = resolved.canonicalize().is_ok_and(|p| p.starts_with(&root));
            assert!(inside, "{}: the link {link} leads to nothing in the repository", file.display());
        }
    }
    let outside = ["SPEC.md", "API.md", "ENGINEERING.md", "SPEC §", "../shared"];
    for file in repository_files(&[".md", ".rs", ".ts", ".svelte", ".toml", ".json", ".sql", ".yml"]) {
        if file.ends_with("xtask/src/tidy.rs") || file.components().any(|c| c.as_os_str() == "migrations") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for name in outside {
            assert!(!text.contains(name), "{} names {name}, which is not part of the repository", file.display());
        }
    }
}

/// The operator guide describes every setting of the server.
#[test]
fn the_operator_guide_lists_every_server_setting() {
    let root = root();
    let settings = std::fs::read_to_string(root.join("crates/server/src/settings.rs")).unwrap();
    let guide = std::fs::read_to_string(root.join("docs/operator.md")).unwrap();
    let names: Vec<&str> =
        settings.split("env = \"").skip(1).filter_map(|rest| rest.split('"').next()).filter(|n| n.starts_with("MYINTRESS_")).collect();
    assert!(names.len() > 20, "settings found: {names:?}");
    for name in names {
        assert!(guide.contains(&format!("`{name}`")), "docs/operator.md does not describe {name}");
    }
}

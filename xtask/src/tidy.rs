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

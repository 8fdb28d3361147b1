//! The API reference in `docs/api/`: the OpenAPI document the server serves, committed as
//! `openapi.json`, and `README.md` rendered from it (every operation with its parameters,
//! body and answers, then every schema). Both must be what this build serves, so a change
//! to a handler or a wire type that is not in the docs fails here.
//! `UPDATE_DOCS=1` rewrites them.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

use crate::support::{Backend, TestServer};

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/api")
}

/// `#/components/schemas/X` as a link to X's section; inline schemas by their type.
fn type_of(schema: &Value) -> String {
    if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) {
        return format!("[`{name}`](#{})", name.to_lowercase());
    }
    if let Some(items) = schema.get("items") {
        return format!("array of {}", type_of(items));
    }
    if let Some(any) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
        return any.iter().map(type_of).collect::<Vec<_>>().join(" or ");
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(|v| format!("`{}`", v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
            .collect::<Vec<_>>()
            .join(", ");
    }
    match schema.get("type") {
        Some(Value::String(t)) => match schema.get("format").and_then(Value::as_str) {
            Some(f) => format!("{t} ({f})"),
            None => t.clone(),
        },
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        _ => "any".into(),
    }
}

/// One line of a table cell: no line breaks or pipes.
fn cell(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

fn render(doc: &Value) -> String {
    let mut out = String::new();
    let info = &doc["info"];
    let _ = writeln!(out, "# {} {}\n", info["title"].as_str().unwrap_or_default(), info["version"].as_str().unwrap_or_default());
    let _ = writeln!(
        out,
        "<!-- Generated from the server's /openapi.json by crates/server/tests/server/reference.rs (UPDATE_DOCS=1). Do not edit. -->\n"
    );
    let _ = writeln!(out, "{}\n", info["description"].as_str().unwrap_or_default());
    let _ =
        writeln!(out, "The machine-readable document is [`openapi.json`](openapi.json), the one the server serves at `/openapi.json`.\n");

    // Operations grouped by their first tag, in path order.
    let mut groups: std::collections::BTreeMap<String, Vec<(String, String, &Value)>> = Default::default();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = item.get(method) {
                let tag = op["tags"].get(0).and_then(Value::as_str).unwrap_or("other").to_owned();
                groups.entry(tag).or_default().push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    let _ = writeln!(out, "## Operations\n");
    for (tag, ops) in &groups {
        let _ = writeln!(out, "### {tag}\n");
        for (method, path, op) in ops {
            let _ = writeln!(out, "#### `{method} {path}`\n");
            // Summaries read "`METHOD path`: what it does"; the heading already says the first part.
            if let Some((_, summary)) = op["summary"].as_str().and_then(|s| s.split_once("`: ")) {
                let _ = writeln!(out, "{summary}\n");
            }
            if let Some(description) = op["description"].as_str() {
                let _ = writeln!(out, "{description}\n");
            }
            let secured = op.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
            let _ = writeln!(out, "{}\n", if secured { "Needs `Authorization: Bearer <access token>`." } else { "No sign-in needed." });
            if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                let _ = writeln!(out, "| Parameter | In | Required | Type | Meaning |\n|---|---|---|---|---|");
                for p in params {
                    let _ = writeln!(
                        out,
                        "| `{}` | {} | {} | {} | {} |",
                        p["name"].as_str().unwrap_or_default(),
                        p["in"].as_str().unwrap_or_default(),
                        if p["required"].as_bool() == Some(true) { "yes" } else { "no" },
                        type_of(&p["schema"]),
                        cell(p["description"].as_str().unwrap_or_default())
                    );
                }
                out.push('\n');
            }
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for (media, body) in content {
                    let _ = writeln!(out, "Body (`{media}`): {}\n", type_of(&body["schema"]));
                }
            }
            let _ = writeln!(out, "| Answer | Meaning | Body |\n|---|---|---|");
            for (status, answer) in op["responses"].as_object().into_iter().flatten() {
                let body = answer["content"]
                    .as_object()
                    .map(|c| c.iter().map(|(m, b)| format!("{} (`{m}`)", type_of(&b["schema"]))).collect::<Vec<_>>().join("; "))
                    .unwrap_or_default();
                let _ = writeln!(out, "| {status} | {} | {body} |", cell(answer["description"].as_str().unwrap_or_default()));
            }
            out.push('\n');
        }
    }

    let _ = writeln!(out, "## Schemas\n");
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        let _ = writeln!(out, "### {name}\n");
        if let Some(description) = schema["description"].as_str() {
            let _ = writeln!(out, "{description}\n");
        }
        let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        match schema["properties"].as_object() {
            Some(properties) => {
                let _ = writeln!(out, "| Field | Type | Required | Meaning |\n|---|---|---|---|");
                for (field, property) in properties {
                    let _ = writeln!(
                        out,
                        "| `{field}` | {} | {} | {} |",
                        type_of(property),
                        if required.contains(&field.as_str()) { "yes" } else { "no" },
                        cell(property["description"].as_str().unwrap_or_default())
                    );
                }
                out.push('\n');
            }
            None => {
                let _ = writeln!(out, "{}\n", type_of(schema));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_api_reference_is_what_the_server_serves() {
    let server = TestServer::start(&Backend::Sqlite).await;
    let served: Value = reqwest::get(server.url("/openapi.json")).await.unwrap().json().await.unwrap();
    let json = serde_json::to_string_pretty(&served).unwrap() + "\n";
    let markdown = render(&served);
    let dir = docs();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("openapi.json"), &json).unwrap();
        std::fs::write(dir.join("README.md"), &markdown).unwrap();
        return;
    }
    let stale = "is not what this build serves: run `UPDATE_DOCS=1 cargo test --workspace --test server -- reference` and commit docs/api";
    assert!(std::fs::read_to_string(dir.join("openapi.json")).unwrap_or_default() == json, "docs/api/openapi.json {stale}");
    assert!(std::fs::read_to_string(dir.join("README.md")).unwrap_or_default() == markdown, "docs/api/README.md {stale}");
}

//! Integration tests of the central server, one test binary: a real server on
//! 127.0.0.1:0 with a fresh database per test, driven over HTTP, on SQLite and on the
//! PostgreSQL cluster the test command starts.

/// The shared harness, under the name the scenarios use.
mod support {
    pub use myintress_testkit::*;
}

mod accounts;
mod admin;
mod authz;
mod bad_input;
mod browser;
mod deletions;
mod demo;
mod dukcapil_http;
mod hardening;
mod integrity;
mod migrations;
mod operations;
mod pdf_child;
mod queue;
mod reference;
mod reliability;
mod replicas;
mod schema;
mod signed_letters;
mod story;

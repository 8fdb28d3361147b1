//! Tests of the desktop client, headless, against the real server from
//! `myintress_testkit` on 127.0.0.1, with a fault proxy in between. The keychain
//! tests use the real Secret Service of the D-Bus session the test command starts.

mod checkpoints;
mod encrypted;
mod faults;
mod first_sync;
mod kill;
mod outage;
mod round_trips;
mod scope;
mod session;
mod support;
mod upgrade;

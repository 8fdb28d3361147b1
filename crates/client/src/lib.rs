//! The desktop client without the window: the offline store (SQLite), the outbox of the
//! user's actions, the sync engine and the typed API client. It knows no Tauri, so all of
//! it is tested headless against a real server.
//!
//! Built in issue P3; until then the desktop shell calls `myintress-core` directly.

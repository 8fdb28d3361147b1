//! The data folder copied off a laptop reads as noise: the local store is SQLCipher under
//! a key that only the OS keychain holds, and each cached letter is sealed under a key
//! derived from it. A store or letter cache of a version before encryption is encrypted
//! on open, nothing lost; a store the keychain's key cannot open is set aside, not deleted.

use std::path::Path;

use myintress_client::{ListFilter, testing};
use sqlx::ConnectOptions;

use crate::round_trips::input;
use crate::support::{Desk, World};

async fn people(desk: &Desk) -> Vec<String> {
    let filter = ListFilter { limit: 500, ..Default::default() };
    desk.client.list(&filter).await.unwrap().rows.into_iter().map(|r| r.membership.nik).collect()
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_keychain_the_data_folder_reads_nothing() {
    let world = World::new().await;
    let operator = world.operator_desk().await;
    let (person, pdf) = input(571, "019001");
    operator.client.register(person.clone(), pdf).await.unwrap();
    operator.client.sync_once().await.unwrap();
    let desk = world.kppn_desk().await;
    assert!(people(&desk).await.contains(&person.nik));

    // Bytes on disk: no NIK, no name, no SQLite header, no PDF — in the store, its log and
    // the cached letters alike.
    let on_disk = files(&desk.dir);
    assert!(on_disk.iter().any(|(p, _)| p.extension().is_some_and(|e| e == "pdf")), "the pending letter was prefetched");
    for (path, bytes) in &on_disk {
        for needle in [person.nik.as_bytes(), person.name.as_bytes(), b"SQLite format 3", b"%PDF", world.operator_nik.as_bytes()] {
            assert!(!contains(bytes, needle), "{} holds {:?} in the clear", path.display(), String::from_utf8_lossy(needle));
        }
    }

    // The database file opened as plain SQLite (no key) reads nothing.
    let plain = sqlx::sqlite::SqliteConnectOptions::new().filename(desk.dir.join("myintress.db")).read_only(true);
    match plain.connect().await {
        Err(_) => {}
        Ok(mut conn) => {
            let read: Result<i64, _> = sqlx::query_scalar("SELECT count(*) FROM memberships").fetch_one(&mut conn).await;
            assert!(read.is_err(), "a keyless connection read the store: {read:?}");
            let tables: Result<i64, _> = sqlx::query_scalar("SELECT count(*) FROM sqlite_master").fetch_one(&mut conn).await;
            assert!(tables.is_err(), "a keyless connection read the schema: {tables:?}");
        }
    }

    // With the keychain the same folder opens as before (the app restarted).
    let (dir, service) = (desk.dir.clone(), desk.service.clone());
    desk.client.close().await;
    std::mem::forget(desk);
    let again = Desk::open_at(dir, service, &world.proxy.url()).await;
    assert!(people(&again).await.contains(&person.nik), "the restarted app reads its store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_and_letters_of_an_older_version_are_encrypted_on_open_nothing_lost() {
    let world = World::new().await;
    let operator = world.operator_desk().await;
    let (person, pdf) = input(572, "019001");
    // Not yet sent: the registration waits in the outbox with its letter.
    operator.client.register(person.clone(), pdf.clone()).await.unwrap();
    let waiting = operator.client.outbox().await.unwrap().len();
    assert_eq!(waiting, 1);

    // What an older version left: the same store unencrypted, the letter in the clear.
    let old_store = operator.dir.join("lama.db");
    testing::plaintext_copy(&operator.client, &old_store).await.unwrap();
    let sha = sha256(&pdf);
    let (dir, service) = (operator.dir.clone(), operator.service.clone());
    operator.client.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", dir.join("myintress.db").display()));
    }
    std::fs::rename(&old_store, dir.join("myintress.db")).unwrap();
    std::fs::write(dir.join("dokumen").join(format!("{sha}.pdf")), &pdf).unwrap();
    assert!(std::fs::read(dir.join("myintress.db")).unwrap().starts_with(b"SQLite format 3"));
    std::mem::forget(operator);

    let reopened = Desk::open_at(dir.clone(), service, &world.proxy.url()).await;
    assert!(!std::fs::read(dir.join("myintress.db")).unwrap().starts_with(b"SQLite format 3"), "the store is encrypted now");
    assert!(!contains(&std::fs::read(dir.join("dokumen").join(format!("{sha}.pdf"))).unwrap(), b"%PDF"), "and the letter");
    assert_eq!(reopened.client.documents().read(&sha).await.unwrap(), pdf, "the letter reads back whole");
    assert_eq!(reopened.client.outbox().await.unwrap().len(), 1, "the waiting registration is still there");
    reopened.client.sync_once().await.unwrap();
    assert!(reopened.client.outbox().await.unwrap().is_empty(), "and it lands");
    let kppn = world.kppn_desk().await;
    assert!(people(&kppn).await.contains(&person.nik));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_the_keychain_key_cannot_open_is_set_aside_not_deleted() {
    let world = World::new().await;
    let desk = world.kppn_desk().await;
    let (dir, service) = (desk.dir.clone(), desk.service.clone());
    desk.client.close().await;
    std::mem::forget(desk);
    let before = std::fs::read(dir.join("myintress.db")).unwrap();

    // Another keychain (its key lost, a reinstalled OS account): a new key is made.
    let other = format!("{service}-lain");
    let fresh = Desk::open_at(dir.clone(), other, &world.proxy.url()).await;
    assert!(people(&fresh).await.is_empty(), "an empty store in its place");
    let aside: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("tidak-terbaca"))
        .map(|e| e.path())
        .collect();
    let main = aside.iter().find(|p| !p.to_string_lossy().ends_with("-wal") && !p.to_string_lossy().ends_with("-shm"));
    assert_eq!(std::fs::read(main.expect("the old store is kept")).unwrap(), before, "kept byte for byte");
    drop(fresh);
    let _ = std::fs::remove_dir_all(&dir);
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

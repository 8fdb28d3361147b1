//! The two backends' migrations describe one schema: the same tables with the same
//! columns, so the SQL written once in `store/sql.rs` means the same on both.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::support::{Backend, TestServer};

type Tables = BTreeMap<String, Vec<String>>;

async fn sqlite_tables(url: &str) -> Tables {
    let pool = sqlx::SqlitePool::connect(url).await.expect("open the SQLite database");
    let rows = sqlx::query(
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' \
         AND m.name NOT LIKE '%\\_fts%' ESCAPE '\\' ORDER BY m.name, p.name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    collect(rows.iter().map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c"))))
}

async fn postgres_tables(url: &str) -> Tables {
    let pool = sqlx::PgPool::connect(url).await.expect("open the PostgreSQL database");
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY 1, 2",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    collect(rows.iter().map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c"))))
}

fn collect(pairs: impl Iterator<Item = (String, String)>) -> Tables {
    let mut tables = Tables::new();
    for (table, column) in pairs {
        tables.entry(table).or_default().push(column);
    }
    tables
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgresql_migrations_give_the_same_tables_and_columns() {
    let Some(postgres) = Backend::postgres() else { return };
    let lite = TestServer::start(&Backend::Sqlite).await;
    let pg = TestServer::start(&postgres).await;
    let (lite_tables, pg_tables) =
        (sqlite_tables(&lite.settings().database_url()).await, postgres_tables(&pg.settings().database_url()).await);
    assert!(lite_tables.contains_key("memberships") && lite_tables.len() > 10, "read the schema: {lite_tables:?}");
    assert_eq!(lite_tables, pg_tables, "SQLite (left) and PostgreSQL (right) differ");
}

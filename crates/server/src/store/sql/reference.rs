//! SQL of the store: KPPNs and satkers (the reference lists). Instantiated for each backend inside `sql_backend!`.

macro_rules! reference_sql {
    ($db:ty) => {
        pub(super) async fn upsert_kppn(c: &mut <$db as sqlx::Database>::Connection, row: &KppnRow) -> StoreResult<bool> {
            let done = sqlx::query(
                "INSERT INTO kppns (code, name) VALUES ($1, $2) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name WHERE kppns.name <> excluded.name",
            )
            .bind(&row.code)
            .bind(&row.name)
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected() > 0)
        }

        pub(super) async fn upsert_satker(
            c: &mut <$db as sqlx::Database>::Connection,
            code: &str,
            name: &str,
            kppn_code: &str,
        ) -> StoreResult<bool> {
            let done = sqlx::query(
                "INSERT INTO satkers (code, name, kppn_code) VALUES ($1, $2, $3) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, kppn_code = excluded.kppn_code \
                 WHERE satkers.name <> excluded.name OR satkers.kppn_code <> excluded.kppn_code",
            )
            .bind(code)
            .bind(name)
            .bind(kppn_code)
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected() > 0)
        }

        pub(super) async fn kppn(c: &mut <$db as sqlx::Database>::Connection, code: &str) -> StoreResult<Option<KppnRow>> {
            let row = sqlx::query("SELECT code, name FROM kppns WHERE code = $1").bind(code).fetch_optional(&mut *c).await?;
            row.map(|r| Ok(KppnRow { code: r.try_get("code")?, name: r.try_get("name")? })).transpose()
        }

        pub(super) async fn kppns(c: &mut <$db as sqlx::Database>::Connection) -> StoreResult<Vec<KppnRow>> {
            let rows = sqlx::query("SELECT code, name FROM kppns ORDER BY code").fetch_all(&mut *c).await?;
            rows.into_iter().map(|r| Ok(KppnRow { code: r.try_get("code")?, name: r.try_get("name")? })).collect()
        }

        pub(super) async fn satker(c: &mut <$db as sqlx::Database>::Connection, code: &str) -> StoreResult<Option<SatkerRow>> {
            let sql = format!("SELECT {SATKER_COLUMNS} FROM satkers s JOIN kppns k ON k.code = s.kppn_code WHERE s.code = $1");
            sqlx::query(&sql).bind(code).fetch_optional(&mut *c).await?.map(satker_row).transpose()
        }

        pub(super) async fn satkers_in_scope(
            c: &mut <$db as sqlx::Database>::Connection,
            scope: &ScopeFilter,
        ) -> StoreResult<Vec<SatkerRow>> {
            let mut qb = sqlx::QueryBuilder::<$db>::new(format!(
                "SELECT {SATKER_COLUMNS} FROM satkers s JOIN kppns k ON k.code = s.kppn_code WHERE"
            ));
            push_scope(&mut qb, scope, "s.code");
            qb.push(" ORDER BY s.code");
            qb.build().fetch_all(&mut *c).await?.into_iter().map(satker_row).collect()
        }
    };
}

pub(crate) use reference_sql;

//! SQL of the store: The change feed: appending, reading, re-scoping after a satker moves, compaction. Instantiated for each backend inside `sql_backend!`.

macro_rules! feed_sql {
    ($db:ty) => {
        pub(super) async fn append_changes(
            c: &mut <$db as sqlx::Database>::Connection,
            changes: &[NewChange],
            at: DateTime<Utc>,
        ) -> StoreResult<()> {
            if changes.is_empty() {
                return Ok(());
            }
            // The counter row is locked from here to commit (PostgreSQL) or the
            // single writer holds the database (SQLite): seq order is commit order.
            let row = sqlx::query("UPDATE counters SET value = value + $1 WHERE name = 'change_seq' RETURNING value")
                .bind(changes.len() as i64)
                .fetch_one(&mut *c)
                .await?;
            let last: i64 = row.try_get("value")?;
            let first = last - changes.len() as i64 + 1;
            for (offset, change) in changes.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO changes (seq, kind, entity_id, satker_code, kppn_code, entity, at) \
                     VALUES ($1, $2, $3, $4, COALESCE($5, (SELECT kppn_code FROM satkers WHERE code = $4)), $6, $7)",
                )
                .bind(first + offset as i64)
                .bind(change.kind.as_str())
                .bind(&change.entity_id)
                .bind(&change.satker_code)
                .bind(&change.addressed_to)
                .bind(change.entity.to_string())
                .bind(micros(at))
                .execute(&mut *c)
                .await?;
            }
            Ok(())
        }

        pub(super) async fn changes(
            c: &mut <$db as sqlx::Database>::Connection,
            scope: &ScopeFilter,
            after: i64,
            limit: i64,
        ) -> StoreResult<Vec<ChangeRow>> {
            // Scope follows the reference data as it is now: `kppn_code` is the
            // satker's current KPPN (kept so by append_changes and rescope_changes),
            // except on a `satker_removed`, which names the KPPN the satker left.
            let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT seq, kind, entity FROM changes");
            push_feed_filter(&mut qb, scope, after);
            qb.push(" ORDER BY seq LIMIT ").push_bind(limit);
            let rows = qb.build().fetch_all(&mut *c).await?;
            rows.into_iter()
                .map(|r| {
                    Ok(ChangeRow { seq: r.try_get("seq")?, kind: decode::change_kind(r.try_get("kind")?)?, entity: r.try_get("entity")? })
                })
                .collect()
        }

        /// The feed's WHERE clause: after `after`, in scope.
        fn push_feed_filter(qb: &mut sqlx::QueryBuilder<'_, $db>, scope: &ScopeFilter, after: i64) {
            qb.push(" WHERE seq > ").push_bind(after);
            match scope {
                ScopeFilter::Kppn(kppn) => {
                    qb.push(" AND kppn_code = ").push_bind(kppn.clone());
                }
                ScopeFilter::ActiveIn(_) => {
                    qb.push(" AND kind <> 'satker_removed' AND");
                    push_scope(qb, scope, "satker_code");
                }
            }
        }

        pub(super) async fn count_changes(
            c: &mut <$db as sqlx::Database>::Connection,
            scope: &ScopeFilter,
            after: i64,
        ) -> StoreResult<i64> {
            let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM changes");
            push_feed_filter(&mut qb, scope, after);
            Ok(qb.build().fetch_one(&mut *c).await?.try_get(0)?)
        }

        pub(super) async fn rescope_changes(c: &mut <$db as sqlx::Database>::Connection, satker: &str) -> StoreResult<u64> {
            let done = sqlx::query(
                "UPDATE changes SET kppn_code = (SELECT kppn_code FROM satkers WHERE code = $1) \
                 WHERE satker_code = $1 AND kind <> 'satker_removed'",
            )
            .bind(satker)
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected())
        }

        pub(super) async fn compact_changes(c: &mut <$db as sqlx::Database>::Connection, limit: i64) -> StoreResult<u64> {
            // An entry goes when a later entry of the same entity (membership and its
            // removal are one entity; a satker; a removal addressed to one KPPN)
            // exists: only entries with a committed successor, so a reader following
            // the feed never misses an entity's latest state.
            let done = sqlx::query(
                "DELETE FROM changes WHERE seq IN (SELECT c.seq FROM changes c WHERE EXISTS ( \
                 SELECT 1 FROM changes d WHERE d.entity_id = c.entity_id AND d.seq > c.seq AND ( \
                 (c.kind IN ('membership', 'membership_removed') AND d.kind IN ('membership', 'membership_removed')) \
                 OR (c.kind = 'satker' AND d.kind = 'satker') \
                 OR (c.kind = 'queue_flags' AND d.kind IN ('queue_flags', 'membership_removed')) \
                 OR (c.kind = 'satker_removed' AND d.kind = 'satker_removed' AND d.kppn_code = c.kppn_code))) \
                 ORDER BY c.seq LIMIT $1)",
            )
            .bind(limit)
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected())
        }
    };
}

pub(crate) use feed_sql;

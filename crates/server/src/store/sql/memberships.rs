//! SQL of the store: Memberships, their history and the audit trail, the registration order and the dormancy rule. Instantiated for each backend inside `sql_backend!`.

macro_rules! memberships_sql {
    ($db:ty) => {
        pub(super) async fn membership(c: &mut <$db as sqlx::Database>::Connection, id: Uuid) -> StoreResult<Option<MembershipRow>> {
            let sql = format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE id = $1 AND deleted_at IS NULL");
            sqlx::query(&sql).bind(id.to_string()).fetch_optional(&mut *c).await?.map(membership_row).transpose()
        }

        pub(super) async fn memberships_of_person_in_satker(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            satker: &str,
        ) -> StoreResult<Vec<MembershipRow>> {
            let sql = format!(
                "SELECT {MEMBERSHIP_COLUMNS} FROM memberships \
                 WHERE nik = $1 AND satker_code = $2 AND deleted_at IS NULL ORDER BY registered_seq"
            );
            sqlx::query(&sql).bind(nik).bind(satker).fetch_all(&mut *c).await?.into_iter().map(membership_row).collect()
        }

        pub(super) async fn memberships_of_person(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
        ) -> StoreResult<Vec<MembershipRow>> {
            let sql = format!(
                "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE nik = $1 AND deleted_at IS NULL ORDER BY satker_code, registered_seq"
            );
            sqlx::query(&sql).bind(nik).fetch_all(&mut *c).await?.into_iter().map(membership_row).collect()
        }

        pub(super) async fn list_memberships(
            c: &mut <$db as sqlx::Database>::Connection,
            scope: &ScopeFilter,
            filter: &ListFilter,
        ) -> StoreResult<Vec<MembershipRow>> {
            let mut qb = sqlx::QueryBuilder::<$db>::new(format!(
                "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE deleted_at IS NULL AND listed = "
            ));
            qb.push_bind(true);
            qb.push(" AND");
            push_scope(&mut qb, scope, "satker_code");
            if let Some(satker) = &filter.satker_code {
                qb.push(" AND satker_code = ").push_bind(satker.clone());
            }
            if let Some(status) = filter.status {
                qb.push(" AND status = ").push_bind(status);
            }
            if let Some(q) = &filter.query {
                let pattern = like_pattern(q);
                qb.push(" AND (LOWER(name) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
                qb.push(" OR nik LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
            }
            if let Some((name, nik, seq)) = &filter.after {
                qb.push(" AND (name, nik, registered_seq) > (").push_bind(name.clone());
                qb.push(", ").push_bind(nik.clone());
                qb.push(", ").push_bind(*seq).push(")");
            }
            qb.push(" ORDER BY name, nik, registered_seq LIMIT ").push_bind(filter.limit);
            qb.build().fetch_all(&mut *c).await?.into_iter().map(membership_row).collect()
        }

        pub(super) async fn insert_membership(c: &mut <$db as sqlx::Database>::Connection, m: &MembershipRow) -> StoreResult<()> {
            let sql = format!(
                "INSERT INTO memberships ({CHANGEABLE_COLUMNS}, id, nik, satker_code, created_at, registered_seq) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
            );
            bind_changeable(sqlx::query(&sql), m)
                .bind(m.id.to_string())
                .bind(&m.nik)
                .bind(&m.satker_code)
                .bind(micros(m.created_at))
                .bind(m.registered_seq)
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        pub(super) async fn update_membership(
            c: &mut <$db as sqlx::Database>::Connection,
            m: &MembershipRow,
            expected_version: i64,
        ) -> StoreResult<bool> {
            // The version guard: on PostgreSQL a concurrent writer of the row holds
            // its lock until commit, after which this statement re-reads the row and
            // finds the version moved on (zero rows). id, nik, satker, created_at and
            // registered_seq never change.
            let done = bind_changeable(sqlx::query(UPDATE_MEMBERSHIP.as_str()), m)
                .bind(m.id.to_string())
                .bind(expected_version)
                .execute(&mut *c)
                .await?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn memberships_of_satker(
            c: &mut <$db as sqlx::Database>::Connection,
            satker: &str,
        ) -> StoreResult<Vec<MembershipRow>> {
            let sql = format!(
                "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE satker_code = $1 AND deleted_at IS NULL ORDER BY registered_seq"
            );
            sqlx::query(&sql).bind(satker).fetch_all(&mut *c).await?.into_iter().map(membership_row).collect()
        }

        pub(super) async fn next_registration_seq(c: &mut <$db as sqlx::Database>::Connection) -> StoreResult<i64> {
            let row = sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'registration_seq' RETURNING value")
                .fetch_one(&mut *c)
                .await?;
            Ok(row.try_get("value")?)
        }

        pub(super) async fn dormancy_candidates(
            c: &mut <$db as sqlx::Database>::Connection,
            cutoff: DateTime<Utc>,
        ) -> StoreResult<Vec<String>> {
            let sql = format!("SELECT a.nik FROM accounts a WHERE {}", dormancy_due());
            let rows = sqlx::query(&sql).bind(micros(cutoff)).fetch_all(&mut *c).await?;
            rows.into_iter().map(|r| Ok(r.try_get("nik")?)).collect()
        }

        pub(super) async fn is_dormancy_due(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            cutoff: DateTime<Utc>,
        ) -> StoreResult<bool> {
            let sql = format!("SELECT a.nik FROM accounts a WHERE {} AND a.nik = $2", dormancy_due());
            Ok(sqlx::query(&sql).bind(micros(cutoff)).bind(nik).fetch_optional(&mut *c).await?.is_some())
        }

        pub(super) async fn insert_history(c: &mut <$db as sqlx::Database>::Connection, h: &HistoryRow) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO history (membership_id, version, at, event, from_status, to_status, actor_nik, \
                 actor_name, reason, letter_number, document_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(h.membership_id.to_string())
            .bind(h.version)
            .bind(micros(h.at))
            .bind(h.event.as_str())
            .bind(h.from_status.map(|s| i64::from(s.code())))
            .bind(h.to_status.map(|s| i64::from(s.code())))
            .bind(&h.actor_nik)
            .bind(&h.actor_name)
            .bind(&h.reason)
            .bind(&h.letter_number)
            .bind(h.document_id.map(|d| d.to_string()))
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        pub(super) async fn history(c: &mut <$db as sqlx::Database>::Connection, membership_id: Uuid) -> StoreResult<Vec<HistoryRow>> {
            sqlx::query(
                "SELECT membership_id, version, at, event, from_status, to_status, actor_nik, actor_name, reason, \
                 letter_number, document_id FROM history WHERE membership_id = $1 ORDER BY id",
            )
            .bind(membership_id.to_string())
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .map(history_row)
            .collect()
        }

        pub(super) async fn insert_audit(c: &mut <$db as sqlx::Database>::Connection, a: &AuditRow) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO audit (at, actor_nik, actor_name, event, membership_id, nik, satker_code, kppn_code, \
                 from_status, to_status, reason, request_id, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(micros(a.at))
            .bind(&a.actor_nik)
            .bind(&a.actor_name)
            .bind(a.event.as_str())
            .bind(a.membership_id.to_string())
            .bind(&a.nik)
            .bind(&a.satker_code)
            .bind(&a.kppn_code)
            .bind(a.from_status.map(|s| i64::from(s.code())))
            .bind(a.to_status.map(|s| i64::from(s.code())))
            .bind(&a.reason)
            .bind(&a.request_id)
            .bind(&a.detail)
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        pub(super) async fn audit_of_person(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            kppn_code: &str,
        ) -> StoreResult<Vec<AuditRow>> {
            sqlx::query(
                "SELECT id, at, actor_nik, actor_name, event, membership_id, nik, satker_code, kppn_code, \
                 from_status, to_status, reason, request_id, detail FROM audit \
                 WHERE nik = $1 AND satker_code IN (SELECT code FROM satkers WHERE kppn_code = $2) ORDER BY id",
            )
            .bind(nik)
            .bind(kppn_code)
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .map(audit_row)
            .collect()
        }
    };
}

pub(crate) use memberships_sql;

//! SQL of the store: the satkers' deletion requests (one open request per membership, by a
//! partial unique index), listed in scope, closed when declined or when the membership is
//! deleted. Instantiated for each backend inside `sql_backend!`.

macro_rules! deletions_sql {
    ($db:ty) => {
        const DELETION_COLUMNS: &str = "d.id, d.membership_id, d.satker_code, d.reason, d.letter_number, d.letter_document_id, \
            d.requested_by_nik, d.requested_by_name, d.created_at, d.state, d.decided_at, d.decided_by, d.decline_reason, d.version, \
            m.nik, m.name";

        fn deletion_row(row: DbRow) -> StoreResult<DeletionRequestRow> {
            let state: String = row.try_get("state")?;
            Ok(DeletionRequestRow {
                id: uuid(row.try_get("id")?)?,
                membership_id: uuid(row.try_get("membership_id")?)?,
                satker_code: row.try_get("satker_code")?,
                nik: row.try_get("nik")?,
                name: row.try_get("name")?,
                reason: row.try_get("reason")?,
                letter_number: row.try_get("letter_number")?,
                letter_document_id: uuid(row.try_get("letter_document_id")?)?,
                requested_by_nik: row.try_get("requested_by_nik")?,
                requested_by_name: row.try_get("requested_by_name")?,
                created_at: from_micros(row.try_get("created_at")?),
                state: DeletionRequestState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("deletion request state {state}")))?,
                decided_at: opt_time(row.try_get("decided_at")?),
                decided_by: row.try_get("decided_by")?,
                decline_reason: row.try_get("decline_reason")?,
                version: row.try_get("version")?,
            })
        }

        pub(super) async fn deletion_request(c: &mut <$db as sqlx::Database>::Connection, id: Uuid) -> StoreResult<Option<DeletionRequestRow>> {
            let sql = format!("SELECT {DELETION_COLUMNS} FROM deletion_requests d JOIN memberships m ON m.id = d.membership_id WHERE d.id = $1");
            sqlx::query(&sql).bind(id.to_string()).fetch_optional(&mut *c).await?.map(deletion_row).transpose()
        }

        pub(super) async fn open_deletion_request(
            c: &mut <$db as sqlx::Database>::Connection,
            membership_id: Uuid,
        ) -> StoreResult<Option<DeletionRequestRow>> {
            let sql = format!(
                "SELECT {DELETION_COLUMNS} FROM deletion_requests d JOIN memberships m ON m.id = d.membership_id \
                 WHERE d.membership_id = $1 AND d.state = $2"
            );
            sqlx::query(&sql)
                .bind(membership_id.to_string())
                .bind(DeletionRequestState::Open.as_str())
                .fetch_optional(&mut *c)
                .await?
                .map(deletion_row)
                .transpose()
        }

        pub(super) async fn deletion_requests(
            c: &mut <$db as sqlx::Database>::Connection,
            scope: Option<&ScopeFilter>,
            state: Option<DeletionRequestState>,
        ) -> StoreResult<Vec<DeletionRequestRow>> {
            let mut qb = sqlx::QueryBuilder::<$db>::new(format!(
                "SELECT {DELETION_COLUMNS} FROM deletion_requests d JOIN memberships m ON m.id = d.membership_id WHERE 1 = 1"
            ));
            if let Some(scope) = scope {
                qb.push(" AND");
                push_scope(&mut qb, scope, "d.satker_code");
            }
            if let Some(state) = state {
                qb.push(" AND d.state = ").push_bind(state.as_str());
            }
            qb.push(" ORDER BY d.created_at, d.id");
            qb.build().fetch_all(&mut *c).await?.into_iter().map(deletion_row).collect()
        }

        pub(super) async fn insert_deletion_request(c: &mut <$db as sqlx::Database>::Connection, row: &DeletionRequestRow) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO deletion_requests (id, membership_id, satker_code, reason, letter_number, letter_document_id, \
                 requested_by_nik, requested_by_name, created_at, state, decided_at, decided_by, decline_reason, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(row.id.to_string())
            .bind(row.membership_id.to_string())
            .bind(&row.satker_code)
            .bind(&row.reason)
            .bind(&row.letter_number)
            .bind(row.letter_document_id.to_string())
            .bind(&row.requested_by_nik)
            .bind(&row.requested_by_name)
            .bind(micros(row.created_at))
            .bind(row.state.as_str())
            .bind(opt_micros(row.decided_at))
            .bind(&row.decided_by)
            .bind(&row.decline_reason)
            .bind(row.version)
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        /// Closes an open request (declined or done) if it is still open; `false` otherwise.
        pub(super) async fn close_deletion_request(c: &mut <$db as sqlx::Database>::Connection, row: &DeletionRequestRow) -> StoreResult<bool> {
            let done = sqlx::query(
                "UPDATE deletion_requests SET state = $1, decided_at = $2, decided_by = $3, decline_reason = $4, version = $5 \
                 WHERE id = $6 AND state = $7",
            )
            .bind(row.state.as_str())
            .bind(opt_micros(row.decided_at))
            .bind(&row.decided_by)
            .bind(&row.decline_reason)
            .bind(row.version)
            .bind(row.id.to_string())
            .bind(DeletionRequestState::Open.as_str())
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected() == 1)
        }
    };
}

pub(crate) use deletions_sql;

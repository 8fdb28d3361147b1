//! SQL of the store: the mail outbox and the password-reset requests. Instantiated for each backend inside `sql_backend!`.

macro_rules! mail_sql {
    ($db:ty) => {
        fn mail_row(r: DbRow) -> StoreResult<MailRow> {
            Ok(MailRow {
                id: uuid(r.try_get("id")?)?,
                kind: decode::mail_kind(r.try_get("kind")?)?,
                to_name: r.try_get("to_name")?,
                to_email: r.try_get("to_email")?,
                subject: r.try_get("subject")?,
                body: r.try_get("body")?,
                created_at: from_micros(r.try_get("created_at")?),
                attempts: r.try_get("attempts")?,
            })
        }

        pub(super) async fn queue_mail(c: &mut <$db as sqlx::Database>::Connection, m: &MailRow) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO mail_outbox (id, kind, to_name, to_email, subject, body, created_at, attempts, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)",
            )
            .bind(m.id.to_string())
            .bind(m.kind.as_str())
            .bind(&m.to_name)
            .bind(&m.to_email)
            .bind(&m.subject)
            .bind(&m.body)
            .bind(micros(m.created_at))
            .bind(m.attempts)
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        pub(super) async fn due_mail(
            c: &mut <$db as sqlx::Database>::Connection,
            now: DateTime<Utc>,
            limit: i64,
        ) -> StoreResult<Vec<MailRow>> {
            sqlx::query(
                "SELECT id, kind, to_name, to_email, subject, body, created_at, attempts FROM mail_outbox \
                 WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, created_at LIMIT $2",
            )
            .bind(micros(now))
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .map(mail_row)
            .collect()
        }

        pub(super) async fn unsent_mail(c: &mut <$db as sqlx::Database>::Connection) -> StoreResult<i64> {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL").fetch_one(&mut *c).await?)
        }

        pub(super) async fn claim_mail(
            c: &mut <$db as sqlx::Database>::Connection,
            id: Uuid,
            now: DateTime<Utc>,
            lease_until: DateTime<Utc>,
        ) -> StoreResult<bool> {
            let done = sqlx::query(
                "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $1 \
                 WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3",
            )
            .bind(micros(lease_until))
            .bind(id.to_string())
            .bind(micros(now))
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn mail_sent(c: &mut <$db as sqlx::Database>::Connection, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
            sqlx::query("UPDATE mail_outbox SET sent_at = $1, body = '', last_error = NULL WHERE id = $2")
                .bind(micros(at))
                .bind(id.to_string())
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        pub(super) async fn mail_failed(
            c: &mut <$db as sqlx::Database>::Connection,
            id: Uuid,
            error: &str,
            retry_at: DateTime<Utc>,
        ) -> StoreResult<()> {
            sqlx::query("UPDATE mail_outbox SET last_error = $1, next_attempt_at = $2 WHERE id = $3 AND sent_at IS NULL")
                .bind(error)
                .bind(micros(retry_at))
                .bind(id.to_string())
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        pub(super) async fn insert_reset_request(
            c: &mut <$db as sqlx::Database>::Connection,
            id: Uuid,
            nik: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<()> {
            sqlx::query("INSERT INTO reset_requests (id, nik, created_at) VALUES ($1, $2, $3)")
                .bind(id.to_string())
                .bind(nik)
                .bind(micros(at))
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        pub(super) async fn reset_requests(c: &mut <$db as sqlx::Database>::Connection, limit: i64) -> StoreResult<Vec<(Uuid, String)>> {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT id, nik FROM reset_requests ORDER BY created_at LIMIT $1").bind(limit).fetch_all(&mut *c).await?;
            rows.into_iter().map(|(id, nik)| Ok((uuid(id)?, nik))).collect()
        }

        pub(super) async fn take_reset_request(c: &mut <$db as sqlx::Database>::Connection, id: Uuid) -> StoreResult<bool> {
            let done = sqlx::query("DELETE FROM reset_requests WHERE id = $1").bind(id.to_string()).execute(&mut *c).await?;
            Ok(done.rows_affected() == 1)
        }
    };
}

pub(crate) use mail_sql;

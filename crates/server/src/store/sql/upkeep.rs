//! SQL of the store: `Idempotency-Key` records, the purge of expired rows, and the claims of background rounds. Instantiated for each backend inside `sql_backend!`.

macro_rules! upkeep_sql {
    ($db:ty) => {
        pub(super) async fn idempotency(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            key: &str,
        ) -> StoreResult<Option<IdempotencyRow>> {
            let row = sqlx::query("SELECT fingerprint, status, body FROM idempotency WHERE nik = $1 AND key = $2")
                .bind(nik)
                .bind(key)
                .fetch_optional(&mut *c)
                .await?;
            row.map(|r| {
                Ok(IdempotencyRow { fingerprint: r.try_get("fingerprint")?, status: r.try_get("status")?, body: r.try_get("body")? })
            })
            .transpose()
        }

        pub(super) async fn save_idempotency(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            key: &str,
            row: &IdempotencyRow,
            at: DateTime<Utc>,
        ) -> StoreResult<()> {
            sqlx::query("INSERT INTO idempotency (nik, key, fingerprint, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(nik)
                .bind(key)
                .bind(&row.fingerprint)
                .bind(row.status)
                .bind(&row.body)
                .bind(micros(at))
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        pub(super) async fn purge_expired(c: &mut <$db as sqlx::Database>::Connection, now: DateTime<Utc>) -> StoreResult<()> {
            let now_us = micros(now);
            let days = |n: i64| now_us - n * 24 * 3600 * 1_000_000;
            // Idempotency keys are kept 30 days (a desktop may come back after a long
            // weekend and a holiday; the contract promises at least that).
            sqlx::query("DELETE FROM captcha_spent WHERE expires_at <= $1").bind(now_us).execute(&mut *c).await?;
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_us).execute(&mut *c).await?;
            sqlx::query("DELETE FROM idempotency WHERE created_at <= $1").bind(days(IDEMPOTENCY_DAYS)).execute(&mut *c).await?;
            // A refresh token is needed until its family expires (a used one detects reuse);
            // a revoked one a day longer, so its desktop is still told why.
            sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= $1 OR revoked_at <= $2")
                .bind(now_us)
                .bind(days(1))
                .execute(&mut *c)
                .await?;
            // Links: expired, or used (or replaced) a day ago; either way the page says 410.
            sqlx::query("DELETE FROM activation_tokens WHERE expires_at <= $1 OR used_at <= $2")
                .bind(now_us)
                .bind(days(1))
                .execute(&mut *c)
                .await?;
            // Failed sign-ins: no lock running and the counting window long over.
            sqlx::query("DELETE FROM login_attempts WHERE (locked_until IS NULL OR locked_until <= $1) AND first_failure_at <= $2")
                .bind(now_us)
                .bind(days(1))
                .execute(&mut *c)
                .await?;
            // Sent e-mails (their bodies were emptied when sent): a month of delivery record.
            sqlx::query("DELETE FROM mail_outbox WHERE sent_at <= $1").bind(days(30)).execute(&mut *c).await?;
            Ok(())
        }

        pub(super) async fn claim_job(
            c: &mut <$db as sqlx::Database>::Connection,
            job: &str,
            now: DateTime<Utc>,
            due_before: DateTime<Utc>,
        ) -> StoreResult<bool> {
            let done = sqlx::query(
                "INSERT INTO job_runs (name, started_at, finished_at) VALUES ($1, $2, NULL) \
                 ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, finished_at = NULL \
                 WHERE job_runs.started_at <= $3",
            )
            .bind(job)
            .bind(micros(now))
            .bind(micros(due_before))
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn finish_job(c: &mut <$db as sqlx::Database>::Connection, job: &str, now: DateTime<Utc>) -> StoreResult<()> {
            sqlx::query("UPDATE job_runs SET finished_at = $1 WHERE name = $2").bind(micros(now)).bind(job).execute(&mut *c).await?;
            Ok(())
        }
    };
}

pub(crate) use upkeep_sql;

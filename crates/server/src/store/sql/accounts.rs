//! SQL of the store: Accounts, failed sign-ins, captchas, sessions, refresh tokens and activation links. Instantiated for each backend inside `sql_backend!`.

macro_rules! accounts_sql {
    ($db:ty) => {
        pub(super) async fn account(c: &mut <$db as sqlx::Database>::Connection, nik: &str) -> StoreResult<Option<AccountRow>> {
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE nik = $1");
            sqlx::query(&sql).bind(nik).fetch_optional(&mut *c).await?.map(account_row).transpose()
        }

        pub(super) async fn verifiers(c: &mut <$db as sqlx::Database>::Connection) -> StoreResult<Vec<AccountRow>> {
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE role = $1 ORDER BY kppn_code, name, nik");
            sqlx::query(&sql).bind(Role::Kppn.as_str()).fetch_all(&mut *c).await?.into_iter().map(account_row).collect()
        }

        pub(super) async fn set_verifier_kppn(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            kppn_code: &str,
            supervisor: bool,
        ) -> StoreResult<bool> {
            let done = sqlx::query("UPDATE accounts SET kppn_code = $1, supervisor = $2 WHERE nik = $3 AND role = $4")
                .bind(kppn_code)
                .bind(supervisor)
                .bind(nik)
                .bind(Role::Kppn.as_str())
                .execute(&mut *c)
                .await?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn record_account_audit(c: &mut <$db as sqlx::Database>::Connection, row: &AccountAuditRow) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO account_audit (id, at, actor_nik, actor_name, action, nik, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(row.id.to_string())
            .bind(micros(row.at))
            .bind(&row.actor_nik)
            .bind(&row.actor_name)
            .bind(row.action.as_str())
            .bind(&row.nik)
            .bind(&row.detail)
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        pub(super) async fn account_audit(c: &mut <$db as sqlx::Database>::Connection, nik: &str) -> StoreResult<Vec<AccountAuditRow>> {
            let rows = sqlx::query(
                "SELECT id, at, actor_nik, actor_name, action, nik, detail FROM account_audit WHERE nik = $1 ORDER BY at, id",
            )
            .bind(nik)
            .fetch_all(&mut *c)
            .await?;
            rows.into_iter()
                .map(|r| {
                    Ok(AccountAuditRow {
                        id: uuid(r.try_get("id")?)?,
                        at: from_micros(r.try_get("at")?),
                        actor_nik: r.try_get("actor_nik")?,
                        actor_name: r.try_get("actor_name")?,
                        action: decode::account_action(r.try_get("action")?)?,
                        nik: r.try_get("nik")?,
                        detail: r.try_get("detail")?,
                    })
                })
                .collect()
        }

        pub(super) async fn insert_account(c: &mut <$db as sqlx::Database>::Connection, row: &AccountRow) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO accounts (nik, name, email, nip, password_hash, role, kppn_code, created_at, last_sign_in_at, disabled_at, supervisor) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&row.nik)
            .bind(&row.name)
            .bind(&row.email)
            .bind(&row.nip)
            .bind(&row.password_hash)
            .bind(row.role.as_str())
            .bind(&row.kppn_code)
            .bind(micros(row.created_at))
            .bind(opt_micros(row.last_sign_in_at))
            .bind(opt_micros(row.disabled_at))
            .bind(row.supervisor)
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        pub(super) async fn idle_verifiers(c: &mut <$db as sqlx::Database>::Connection, cutoff: DateTime<Utc>) -> StoreResult<Vec<String>> {
            let sql = format!("SELECT nik FROM accounts WHERE {}", verifier_idle());
            Ok(sqlx::query_scalar(&sql).bind(micros(cutoff)).fetch_all(&mut *c).await?)
        }

        pub(super) async fn is_verifier_idle(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            cutoff: DateTime<Utc>,
        ) -> StoreResult<bool> {
            let sql = format!("SELECT nik FROM accounts WHERE {} AND nik = $2", verifier_idle());
            Ok(sqlx::query_scalar::<_, String>(&sql).bind(micros(cutoff)).bind(nik).fetch_optional(&mut *c).await?.is_some())
        }

        pub(super) async fn set_disabled(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            at: Option<DateTime<Utc>>,
        ) -> StoreResult<bool> {
            let done =
                sqlx::query("UPDATE accounts SET disabled_at = $1 WHERE nik = $2").bind(opt_micros(at)).bind(nik).execute(&mut *c).await?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn set_password(c: &mut <$db as sqlx::Database>::Connection, nik: &str, hash: &str) -> StoreResult<()> {
            sqlx::query("UPDATE accounts SET password_hash = $1 WHERE nik = $2").bind(hash).bind(nik).execute(&mut *c).await?;
            Ok(())
        }

        pub(super) async fn set_last_sign_in(c: &mut <$db as sqlx::Database>::Connection, nik: &str, at: DateTime<Utc>) -> StoreResult<()> {
            sqlx::query("UPDATE accounts SET last_sign_in_at = $1 WHERE nik = $2").bind(micros(at)).bind(nik).execute(&mut *c).await?;
            Ok(())
        }

        pub(super) async fn login_attempts(c: &mut <$db as sqlx::Database>::Connection, nik: &str) -> StoreResult<Option<LoginAttemptRow>> {
            let row = sqlx::query("SELECT failures, first_failure_at, locked_until FROM login_attempts WHERE nik = $1")
                .bind(nik)
                .fetch_optional(&mut *c)
                .await?;
            row.map(|r| {
                Ok(LoginAttemptRow {
                    failures: r.try_get("failures")?,
                    first_failure_at: from_micros(r.try_get("first_failure_at")?),
                    locked_until: opt_time(r.try_get("locked_until")?),
                })
            })
            .transpose()
        }

        pub(super) async fn record_login_failure(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            f: &LoginFailure,
        ) -> StoreResult<LoginAttemptRow> {
            // One statement: the row lock (PostgreSQL) or the single writer (SQLite)
            // makes parallel failures count one by one. `locked` is a lock still
            // running; `continuing` a count that goes on (locked, or inside the window).
            const LOCKED: &str = "(login_attempts.locked_until IS NOT NULL AND login_attempts.locked_until > $2)";
            let continuing = format!("({LOCKED} OR (login_attempts.locked_until IS NULL AND login_attempts.first_failure_at > $3))");
            let sql = format!(
                "INSERT INTO login_attempts (nik, failures, first_failure_at, locked_until) VALUES ($1, 1, $2, NULL) \
                 ON CONFLICT (nik) DO UPDATE SET \
                 failures = CASE WHEN {continuing} THEN login_attempts.failures + 1 ELSE 1 END, \
                 first_failure_at = CASE WHEN {continuing} THEN login_attempts.first_failure_at ELSE $2 END, \
                 locked_until = CASE WHEN {LOCKED} THEN login_attempts.locked_until \
                     WHEN {continuing} AND login_attempts.failures + 1 >= $4 THEN $5 ELSE NULL END \
                 RETURNING failures, first_failure_at, locked_until"
            );
            let r = sqlx::query(&sql)
                .bind(nik)
                .bind(micros(f.at))
                .bind(micros(f.window_start))
                .bind(f.max_failures)
                .bind(micros(f.lock_until))
                .fetch_one(&mut *c)
                .await?;
            Ok(LoginAttemptRow {
                failures: r.try_get("failures")?,
                first_failure_at: from_micros(r.try_get("first_failure_at")?),
                locked_until: opt_time(r.try_get("locked_until")?),
            })
        }

        pub(super) async fn clear_login_attempts(c: &mut <$db as sqlx::Database>::Connection, nik: &str) -> StoreResult<()> {
            sqlx::query("DELETE FROM login_attempts WHERE nik = $1").bind(nik).execute(&mut *c).await?;
            Ok(())
        }

        pub(super) async fn server_key(c: &mut <$db as sqlx::Database>::Connection, name: &str, fresh: &str) -> StoreResult<String> {
            // The first replica's key wins; every other one reads it.
            sqlx::query("INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(fresh)
                .execute(&mut *c)
                .await?;
            Ok(sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1").bind(name).fetch_one(&mut *c).await?)
        }

        pub(super) async fn record_digit_lookup(
            c: &mut <$db as sqlx::Database>::Connection,
            actor_nik: &str,
            nik: &str,
            found: bool,
            at: DateTime<Utc>,
        ) -> StoreResult<()> {
            sqlx::query("INSERT INTO digit_lookups (id, at, actor_nik, nik, found) VALUES ($1, $2, $3, $4, $5)")
                .bind(Uuid::new_v4().to_string())
                .bind(micros(at))
                .bind(actor_nik)
                .bind(nik)
                .bind(found)
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        pub(super) async fn digit_lookups_by(c: &mut <$db as sqlx::Database>::Connection, actor_nik: &str) -> StoreResult<i64> {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM digit_lookups WHERE actor_nik = $1").bind(actor_nik).fetch_one(&mut *c).await?)
        }

        pub(super) async fn spend_captcha(
            c: &mut <$db as sqlx::Database>::Connection,
            nonce: &str,
            expires_at: DateTime<Utc>,
        ) -> StoreResult<bool> {
            let done = sqlx::query("INSERT INTO captcha_spent (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING")
                .bind(nonce)
                .bind(micros(expires_at))
                .execute(&mut *c)
                .await?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn insert_session(
            c: &mut <$db as sqlx::Database>::Connection,
            token_hash: &str,
            row: &SessionRow,
        ) -> StoreResult<()> {
            sqlx::query("INSERT INTO sessions (token_hash, nik, family_id, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(token_hash)
                .bind(&row.nik)
                .bind(&row.family_id)
                .bind(micros(row.expires_at))
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        pub(super) async fn session(c: &mut <$db as sqlx::Database>::Connection, token_hash: &str) -> StoreResult<Option<SessionRow>> {
            let row = sqlx::query("SELECT nik, family_id, expires_at FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&mut *c)
                .await?;
            row.map(|r| {
                Ok(SessionRow {
                    nik: r.try_get("nik")?,
                    family_id: r.try_get("family_id")?,
                    expires_at: from_micros(r.try_get("expires_at")?),
                })
            })
            .transpose()
        }

        pub(super) async fn insert_refresh(
            c: &mut <$db as sqlx::Database>::Connection,
            token_hash: &str,
            row: &RefreshRow,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, family_id, nik, expires_at, used_at, revoked_at, issued_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(token_hash)
            .bind(&row.family_id)
            .bind(&row.nik)
            .bind(micros(row.expires_at))
            .bind(opt_micros(row.used_at))
            .bind(opt_micros(row.revoked_at))
            .bind(opt_micros(row.issued_at))
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        pub(super) async fn refresh(c: &mut <$db as sqlx::Database>::Connection, token_hash: &str) -> StoreResult<Option<RefreshRow>> {
            let row =
                sqlx::query("SELECT family_id, nik, expires_at, used_at, revoked_at, issued_at FROM refresh_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&mut *c)
                    .await?;
            row.map(|r| {
                Ok(RefreshRow {
                    family_id: r.try_get("family_id")?,
                    nik: r.try_get("nik")?,
                    expires_at: from_micros(r.try_get("expires_at")?),
                    used_at: opt_time(r.try_get("used_at")?),
                    revoked_at: opt_time(r.try_get("revoked_at")?),
                    issued_at: opt_time(r.try_get("issued_at")?),
                })
            })
            .transpose()
        }

        pub(super) async fn mark_refresh_used(
            c: &mut <$db as sqlx::Database>::Connection,
            token_hash: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<bool> {
            let done =
                sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL")
                    .bind(micros(at))
                    .bind(token_hash)
                    .execute(&mut *c)
                    .await?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn revoke_family(
            c: &mut <$db as sqlx::Database>::Connection,
            family_id: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<()> {
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
                .bind(micros(at))
                .bind(family_id)
                .execute(&mut *c)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE family_id = $1").bind(family_id).execute(&mut *c).await?;
            Ok(())
        }

        pub(super) async fn revoke_all_sessions_of(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<()> {
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE nik = $2 AND revoked_at IS NULL")
                .bind(micros(at))
                .bind(nik)
                .execute(&mut *c)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE nik = $1").bind(nik).execute(&mut *c).await?;
            Ok(())
        }

        pub(super) async fn insert_activation(
            c: &mut <$db as sqlx::Database>::Connection,
            token_hash: &str,
            row: &ActivationRow,
        ) -> StoreResult<()> {
            sqlx::query("INSERT INTO activation_tokens (token_hash, nik, expires_at, used_at, purpose) VALUES ($1, $2, $3, $4, $5)")
                .bind(token_hash)
                .bind(&row.nik)
                .bind(micros(row.expires_at))
                .bind(opt_micros(row.used_at))
                .bind(row.purpose.as_str())
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        pub(super) async fn activation(
            c: &mut <$db as sqlx::Database>::Connection,
            token_hash: &str,
        ) -> StoreResult<Option<ActivationRow>> {
            let row = sqlx::query("SELECT nik, expires_at, used_at, purpose FROM activation_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&mut *c)
                .await?;
            row.map(|r| {
                Ok(ActivationRow {
                    nik: r.try_get("nik")?,
                    expires_at: from_micros(r.try_get("expires_at")?),
                    used_at: opt_time(r.try_get("used_at")?),
                    purpose: decode::token_purpose(r.try_get("purpose")?)?,
                })
            })
            .transpose()
        }

        pub(super) async fn set_account_email(c: &mut <$db as sqlx::Database>::Connection, nik: &str, email: &str) -> StoreResult<()> {
            sqlx::query("UPDATE accounts SET email = $1 WHERE nik = $2").bind(email).bind(nik).execute(&mut *c).await?;
            Ok(())
        }

        pub(super) async fn revoke_other_sessions(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            keep_family: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<()> {
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE nik = $2 AND family_id <> $3 AND revoked_at IS NULL")
                .bind(micros(at))
                .bind(nik)
                .bind(keep_family)
                .execute(&mut *c)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE nik = $1 AND family_id <> $2").bind(nik).bind(keep_family).execute(&mut *c).await?;
            Ok(())
        }

        pub(super) async fn void_tokens(
            c: &mut <$db as sqlx::Database>::Connection,
            nik: &str,
            purpose: TokenPurpose,
            at: DateTime<Utc>,
        ) -> StoreResult<u64> {
            let done = sqlx::query("UPDATE activation_tokens SET used_at = $1 WHERE nik = $2 AND purpose = $3 AND used_at IS NULL")
                .bind(micros(at))
                .bind(nik)
                .bind(purpose.as_str())
                .execute(&mut *c)
                .await?;
            Ok(done.rows_affected())
        }

        pub(super) async fn use_activation(
            c: &mut <$db as sqlx::Database>::Connection,
            token_hash: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<bool> {
            let done =
                sqlx::query("UPDATE activation_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1")
                    .bind(micros(at))
                    .bind(token_hash)
                    .execute(&mut *c)
                    .await?;
            Ok(done.rows_affected() == 1)
        }
    };
}

pub(crate) use accounts_sql;

//! SQL of the store: the Antrean — public holidays, pending registrations oldest first, the
//! flags last sent to the desktops, and the daily reminders claimed. Instantiated for each backend inside `sql_backend!`.

macro_rules! queue_sql {
    ($db:ty) => {
        pub(super) async fn holidays(c: &mut <$db as sqlx::Database>::Connection) -> StoreResult<BTreeSet<NaiveDate>> {
            let days: Vec<String> = sqlx::query_scalar("SELECT day FROM holidays").fetch_all(&mut *c).await?;
            days.iter().map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("holiday {d}")))).collect()
        }

        pub(super) async fn replace_holidays(c: &mut <$db as sqlx::Database>::Connection, days: &[NaiveDate]) -> StoreResult<()> {
            sqlx::query("DELETE FROM holidays").execute(&mut *c).await?;
            for day in days {
                sqlx::query("INSERT INTO holidays (day) VALUES ($1) ON CONFLICT (day) DO NOTHING")
                    .bind(day.format("%Y-%m-%d").to_string())
                    .execute(&mut *c)
                    .await?;
            }
            Ok(())
        }

        pub(super) async fn pending_registrations(
            c: &mut <$db as sqlx::Database>::Connection,
            scope: Option<&ScopeFilter>,
        ) -> StoreResult<Vec<MembershipRow>> {
            let mut qb = sqlx::QueryBuilder::<$db>::new(format!(
                "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE deleted_at IS NULL AND status = {}",
                status_sql(Status::Registered)
            ));
            if let Some(scope) = scope {
                qb.push(" AND");
                push_scope(&mut qb, scope, "satker_code");
            }
            qb.push(" ORDER BY created_at, registered_seq");
            qb.build().fetch_all(&mut *c).await?.into_iter().map(membership_row).collect()
        }

        pub(super) async fn queue_flags(c: &mut <$db as sqlx::Database>::Connection) -> StoreResult<HashMap<String, QueueFlags>> {
            let rows =
                sqlx::query("SELECT membership_id, working_days_pending, overdue, escalated FROM queue_flags").fetch_all(&mut *c).await?;
            rows.into_iter()
                .map(|r| {
                    let days: i64 = r.try_get("working_days_pending")?;
                    let flags = QueueFlags {
                        working_days_pending: u32::try_from(days).map_err(|_| StoreError::Corrupt(format!("working days {days}")))?,
                        overdue: r.try_get("overdue")?,
                        escalated: r.try_get("escalated")?,
                    };
                    Ok((r.try_get::<String, _>("membership_id")?, flags))
                })
                .collect()
        }

        pub(super) async fn set_queue_flags(c: &mut <$db as sqlx::Database>::Connection, id: &str, flags: QueueFlags) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO queue_flags (membership_id, working_days_pending, overdue, escalated) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (membership_id) DO UPDATE SET working_days_pending = excluded.working_days_pending, \
                 overdue = excluded.overdue, escalated = excluded.escalated",
            )
            .bind(id)
            .bind(i64::from(flags.working_days_pending))
            .bind(flags.overdue)
            .bind(flags.escalated)
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        pub(super) async fn backdate_membership(
            c: &mut <$db as sqlx::Database>::Connection,
            id: Uuid,
            created_at: DateTime<Utc>,
        ) -> StoreResult<()> {
            sqlx::query("UPDATE memberships SET created_at = $1 WHERE id = $2")
                .bind(micros(created_at))
                .bind(id.to_string())
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        pub(super) async fn claim_reminder(
            c: &mut <$db as sqlx::Database>::Connection,
            kppn: &str,
            day: &str,
            kind: &str,
        ) -> StoreResult<bool> {
            let done = sqlx::query(
                "INSERT INTO queue_reminders (kppn_code, day, kind) VALUES ($1, $2, $3) ON CONFLICT (kppn_code, day, kind) DO NOTHING",
            )
            .bind(kppn)
            .bind(day)
            .bind(kind)
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn forget_queue_flags(c: &mut <$db as sqlx::Database>::Connection, id: &str) -> StoreResult<()> {
            sqlx::query("DELETE FROM queue_flags WHERE membership_id = $1").bind(id).execute(&mut *c).await?;
            Ok(())
        }
    };
}

pub(crate) use queue_sql;

//! Reads for the screens, all from the local store: *Daftar Pengguna* (filtered, searched,
//! paged), the verification queue, counts for Beranda. The outbox's own reads are in
//! [`crate::outbox`].

use myintress_core::api::{DeletionRequest, Membership};
use myintress_core::status::Status;
use myintress_core::workday::QueueFlags;
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

/// What *Daftar Pengguna* asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ListFilter {
    pub satker_code: Option<String>,
    pub status: Option<Status>,
    /// Name or NIK, any part of it.
    pub search: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

/// One row of the list: the membership as the user sees it, and how many of the user's
/// actions on it wait for the server ("menunggu sinkronisasi").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ListRow {
    pub membership: Membership,
    pub pending: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ListPage {
    pub rows: Vec<ListRow>,
    /// All rows matching the filter, for the scrollbar.
    pub total: i64,
}

/// Up to this many matches, a search page is built from the matches (sorted); above it,
/// by walking the name-ordered index until the page is full (matches are then dense).
const DRIVE_BY_MATCHES: i64 = 5000;

/// FTS5 trigram needs three characters; shorter searches fall back to `LIKE`, as do all
/// while the search index is not built (`fts` false: a first sync's bulk load).
fn phrase(filter: &ListFilter, fts: bool) -> Option<String> {
    if !fts {
        return None;
    }
    let search = filter.search.as_deref().map(str::trim).filter(|s| s.chars().count() >= 3)?;
    // A phrase query: the text as typed, quotes doubled.
    Some(format!("\"{}\"", search.replace('"', "\"\"")))
}

/// The WHERE clause of the list on table alias `m`.
fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, filter: &ListFilter, fts: bool) {
    qb.push(" WHERE m.listed = 1");
    if let Some(s) = &filter.satker_code {
        qb.push(" AND m.satker_code = ").push_bind(s.clone());
    }
    if let Some(status) = filter.status {
        qb.push(" AND m.status = ").push_bind(i64::from(status.code()));
    }
    if let Some(phrase) = phrase(filter, fts) {
        qb.push(" AND m.rowid IN (SELECT rowid FROM memberships_search WHERE memberships_search MATCH ").push_bind(phrase).push(")");
    } else if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", search.to_lowercase());
        qb.push(" AND (lower(m.name) LIKE ").push_bind(like.clone()).push(" OR m.nik LIKE ").push_bind(like).push(")");
    }
}

pub async fn list(conn: &mut SqliteConnection, filter: &ListFilter) -> sqlx::Result<ListPage> {
    let fts = !crate::store::deferred_missing(&mut *conn).await?;
    // The search index holds listed rows only: it counts a search's matches by itself.
    let matches: Option<i64> = match phrase(filter, fts) {
        Some(p) => Some(
            sqlx::query_scalar("SELECT COUNT(*) FROM memberships_search WHERE memberships_search MATCH $1")
                .bind(p)
                .fetch_one(&mut *conn)
                .await?,
        ),
        None => None,
    };
    let total: i64 = match matches {
        Some(n) if filter.satker_code.is_none() && filter.status.is_none() => n,
        _ => {
            let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) AS n FROM memberships m");
            push_filter(&mut count, filter, fts);
            count.build().fetch_one(&mut *conn).await?.try_get("n")?
        }
    };

    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {}, m.pending FROM ", crate::store::M_VIEW));
    match (matches, phrase(filter, fts)) {
        // Few matches: start from them (CROSS JOIN keeps that order of the loops) and sort.
        (Some(n), Some(p)) if n <= DRIVE_BY_MATCHES => {
            qb.push("memberships_search s CROSS JOIN memberships m ON m.rowid = s.rowid");
            push_filter(&mut qb, &ListFilter { search: None, ..filter.clone() }, fts);
            qb.push(" AND s.memberships_search MATCH ").push_bind(p);
        }
        _ => {
            qb.push("memberships m");
            push_filter(&mut qb, filter, fts);
        }
    }
    qb.push(" ORDER BY m.name, m.nik, m.created_at, m.id LIMIT ").push_bind(filter.limit.clamp(1, 1000));
    qb.push(" OFFSET ").push_bind(filter.offset.max(0));
    let rows = qb.build().fetch_all(&mut *conn).await?;
    Ok(ListPage { rows: rows.into_iter().map(decode_row).collect::<sqlx::Result<_>>()?, total })
}

fn decode_row(r: sqlx::sqlite::SqliteRow) -> sqlx::Result<ListRow> {
    let json: String = r.try_get("view_json")?;
    Ok(ListRow { membership: serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?, pending: r.try_get("pending")? })
}

/// One request of the Antrean: the row, and its age and flags as the server last sent
/// them (zero and unflagged until it has).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueueRow {
    pub membership: Membership,
    pub pending: i64,
    pub flags: QueueFlags,
    /// Its current letter was opened in this app: it may join a bulk decision.
    pub letter_seen: bool,
    /// For a satker's deletion request (the membership is the user to delete): the request.
    pub deletion_request: Option<DeletionRequest>,
}

/// The Antrean: pending registrations and open deletion requests, oldest first, with their
/// flags.
pub async fn queue(conn: &mut SqliteConnection) -> sqlx::Result<Vec<QueueRow>> {
    let mut rows = registrations_waiting(&mut *conn).await?;
    for open in crate::deletions::open(&mut *conn).await? {
        let request = open.request;
        let Some((membership, pending)) = crate::store::view(&mut *conn, request.membership_id).await? else { continue };
        let flags = flags_of(&mut *conn, request.membership_id).await?;
        rows.push(QueueRow { membership, pending: pending + open.pending, flags, letter_seen: false, deletion_request: Some(request) });
    }
    rows.sort_by_key(|r| r.deletion_request.as_ref().map_or(r.membership.created_at, |d| d.requested_at));
    Ok(rows)
}

/// The flags the server last sent for a membership (none yet: zero, unflagged).
async fn flags_of(conn: &mut SqliteConnection, id: uuid::Uuid) -> sqlx::Result<QueueFlags> {
    let row: Option<(i64, bool, bool)> =
        sqlx::query_as("SELECT working_days_pending, overdue, escalated FROM queue_flags WHERE membership_id = $1")
            .bind(id.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(row.map_or_else(QueueFlags::default, |(days, overdue, escalated)| QueueFlags {
        working_days_pending: u32::try_from(days).unwrap_or(0),
        overdue,
        escalated,
    }))
}

/// Pending registrations, oldest first, with their flags.
async fn registrations_waiting(conn: &mut SqliteConnection) -> sqlx::Result<Vec<QueueRow>> {
    // The status is written into the text, not bound: only then may SQLite read the
    // Antrean's partial index (pending rows only).
    let rows = sqlx::query(&format!(
        "SELECT {view}, m.pending, q.working_days_pending, q.overdue, q.escalated, s.seen_at IS NOT NULL AS letter_seen \
         FROM memberships m LEFT JOIN queue_flags q ON q.membership_id = m.id \
         LEFT JOIN letters_seen s ON s.membership_id = m.id AND s.document_id = json_extract({view_json}, '$.letter_document_id') \
         WHERE m.status = {pending} ORDER BY m.created_at, m.id",
        view = crate::store::M_VIEW,
        view_json = crate::store::M_VIEW_JSON,
        pending = myintress_core::Status::Registered.code(),
    ))
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let days: Option<i64> = r.try_get("working_days_pending")?;
            let flags = QueueFlags {
                working_days_pending: days.and_then(|d| u32::try_from(d).ok()).unwrap_or(0),
                overdue: r.try_get::<Option<bool>, _>("overdue")?.unwrap_or(false),
                escalated: r.try_get::<Option<bool>, _>("escalated")?.unwrap_or(false),
            };
            let letter_seen = r.try_get("letter_seen")?;
            let row = decode_row(r)?;
            Ok(QueueRow { membership: row.membership, pending: row.pending, flags, letter_seen, deletion_request: None })
        })
        .collect()
}

/// Pending registrations, and of those the overdue and the escalated (read after every
/// action, for the status line and Beranda).
pub async fn pending_counts(conn: &mut SqliteConnection) -> sqlx::Result<(i64, i64, i64)> {
    // Kept by the store's triggers in each writing transaction (migration 0007): one row,
    // where a recount after every action cost tens of milliseconds at 100,000 rows.
    sqlx::query_as("SELECT pending, overdue, escalated FROM queue_counts WHERE id = 1").fetch_one(conn).await
}

/// What the status line shows, in one statement: outbox entries waiting and refused,
/// then the Antrean's pending, overdue and escalated counts ([`pending_counts`]).
pub async fn status_counts(conn: &mut SqliteConnection) -> sqlx::Result<(i64, i64, i64, i64, i64)> {
    sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM outbox WHERE state = $1), (SELECT COUNT(*) FROM outbox WHERE state = $2), \
         pending, overdue, escalated FROM queue_counts WHERE id = 1",
    )
    .bind(crate::outbox::OutboxState::Pending.as_str())
    .bind(crate::outbox::OutboxState::Conflict.as_str())
    .fetch_one(conn)
    .await
}

/// [`pending_counts`] counted again from the rows: what the triggers must keep it equal to.
pub async fn pending_counts_recounted(conn: &mut SqliteConnection) -> sqlx::Result<(i64, i64, i64)> {
    let row = sqlx::query(&format!(
        "SELECT COUNT(*) AS pending, COALESCE(SUM(q.overdue), 0) AS overdue, COALESCE(SUM(q.escalated), 0) AS escalated \
         FROM memberships m LEFT JOIN queue_flags q ON q.membership_id = m.id WHERE m.status = {}",
        myintress_core::Status::Registered.code()
    ))
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("pending")?, row.try_get("overdue")?, row.try_get("escalated")?))
}

/// Counts of listed rows by status, for Beranda.
pub async fn counts(conn: &mut SqliteConnection) -> sqlx::Result<Vec<(Status, i64)>> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM memberships WHERE listed = 1 GROUP BY status ORDER BY status")
        .fetch_all(conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            let code: i64 = r.try_get("status")?;
            let status = u8::try_from(code).ok().and_then(Status::from_code);
            Ok((status.ok_or_else(|| sqlx::Error::Decode(format!("status {code}").into()))?, r.try_get("n")?))
        })
        .collect()
}

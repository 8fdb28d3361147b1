-- A first sync writes 100,000 rows: each row's bytes and every index it touches are the
-- sync's cost. Two changes, measured in BENCHMARKS.md ("Round two, the first sync"):
--
-- 1. The view is stored only where it differs from the server's state (pending actions,
--    a local visibility change): `view_json` NULL means "the server's row as it came",
--    and every read takes COALESCE(view_json, server_json). Most rows so hold one JSON
--    copy instead of two. A NOT NULL column cannot be relaxed in place: the table is
--    copied (rowids kept, so the search index's rowids stay valid).
-- 2. The Antrean's index holds pending rows only (partial), cheap to keep during a bulk
--    load. The list indexes, the person index and the search index are defined in the
--    code (`store::DEFERRED`): built at open when missing, dropped for a first sync's bulk
--    load and built once after it. This migration leaves them to the next open.
CREATE TABLE memberships_new (
    id TEXT PRIMARY KEY,
    server_json TEXT,
    server_version INTEGER,
    nik TEXT NOT NULL,
    name TEXT NOT NULL,
    satker_code TEXT NOT NULL,
    status INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    listed INTEGER NOT NULL,
    pending INTEGER NOT NULL DEFAULT 0,
    view_json TEXT,
    CHECK (view_json IS NOT NULL OR server_json IS NOT NULL)
);
INSERT INTO memberships_new (rowid, id, server_json, server_version, nik, name, satker_code, status, created_at, listed, pending, view_json)
    SELECT rowid, id, server_json, server_version, nik, name, satker_code, status, created_at, listed, pending,
        CASE WHEN view_json IS server_json THEN NULL ELSE view_json END
    FROM memberships;
-- Drops the table's indexes and triggers with it. The flags' triggers name the table
-- too: a rename refuses while a trigger names a table that is not there.
DROP TRIGGER queue_counts_flags_insert;
DROP TRIGGER queue_counts_flags_update;
DROP TRIGGER queue_counts_flags_delete;
DROP TABLE memberships;
ALTER TABLE memberships_new RENAME TO memberships;

CREATE INDEX memberships_pending ON memberships (created_at, id) WHERE status = 1;

-- The status line's counts, kept by triggers as in 0007 (dropped with the old table).
CREATE TRIGGER queue_counts_membership_insert AFTER INSERT ON memberships WHEN new.status = 1 BEGIN
    UPDATE queue_counts SET pending = pending + 1,
        overdue = overdue + COALESCE((SELECT overdue FROM queue_flags WHERE membership_id = new.id), 0),
        escalated = escalated + COALESCE((SELECT escalated FROM queue_flags WHERE membership_id = new.id), 0);
END;

CREATE TRIGGER queue_counts_membership_delete AFTER DELETE ON memberships WHEN old.status = 1 BEGIN
    UPDATE queue_counts SET pending = pending - 1,
        overdue = overdue - COALESCE((SELECT overdue FROM queue_flags WHERE membership_id = old.id), 0),
        escalated = escalated - COALESCE((SELECT escalated FROM queue_flags WHERE membership_id = old.id), 0);
END;

CREATE TRIGGER queue_counts_membership_status AFTER UPDATE OF status ON memberships
WHEN (old.status = 1) <> (new.status = 1) BEGIN
    UPDATE queue_counts SET pending = pending + (CASE WHEN new.status = 1 THEN 1 ELSE -1 END),
        overdue = overdue + (CASE WHEN new.status = 1 THEN 1 ELSE -1 END)
            * COALESCE((SELECT overdue FROM queue_flags WHERE membership_id = new.id), 0),
        escalated = escalated + (CASE WHEN new.status = 1 THEN 1 ELSE -1 END)
            * COALESCE((SELECT escalated FROM queue_flags WHERE membership_id = new.id), 0);
END;

CREATE TRIGGER queue_counts_flags_insert AFTER INSERT ON queue_flags
WHEN EXISTS (SELECT 1 FROM memberships WHERE id = new.membership_id AND status = 1) BEGIN
    UPDATE queue_counts SET overdue = overdue + new.overdue, escalated = escalated + new.escalated;
END;

CREATE TRIGGER queue_counts_flags_update AFTER UPDATE ON queue_flags
WHEN EXISTS (SELECT 1 FROM memberships WHERE id = new.membership_id AND status = 1) BEGIN
    UPDATE queue_counts SET overdue = overdue + new.overdue - old.overdue, escalated = escalated + new.escalated - old.escalated;
END;

CREATE TRIGGER queue_counts_flags_delete AFTER DELETE ON queue_flags
WHEN EXISTS (SELECT 1 FROM memberships WHERE id = old.membership_id AND status = 1) BEGIN
    UPDATE queue_counts SET overdue = overdue - old.overdue, escalated = escalated - old.escalated;
END;

-- The search index is filled again with the deferred indexes.
INSERT INTO memberships_search (memberships_search) VALUES ('delete-all');
INSERT INTO meta (key, value) VALUES ('deferred_indexes', 'missing')
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- The search index is touched only when what it holds changes: the view's upsert names
-- `name` and `nik` on every action, and SQLite fires an `UPDATE OF` trigger for a column
-- named in SET even when its value stays. Each approval so rewrote the person's trigram
-- entry, a new FTS5 segment per transaction, and every few commits FTS5 merged segments
-- inside the user's commit: benchmark 2's p99 was 27.6 ms before this and 3.5 ms after.
DROP TRIGGER memberships_search_update;
CREATE TRIGGER memberships_search_update AFTER UPDATE OF name, nik, listed ON memberships
WHEN old.name IS NOT new.name OR old.nik IS NOT new.nik OR old.listed IS NOT new.listed BEGIN
    INSERT INTO memberships_search (memberships_search, rowid, name, nik) SELECT 'delete', old.rowid, old.name, old.nik WHERE old.listed = 1;
    INSERT INTO memberships_search (rowid, name, nik) SELECT new.rowid, new.name, new.nik WHERE new.listed = 1;
END;

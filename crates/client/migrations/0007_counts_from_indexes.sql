-- The status line's counts (pending, overdue, escalated) kept as they change, instead of
-- recounted after every action. A recount read each pending row's `id` from the table:
-- thousands of pages scattered over a large table, decrypted again after every write (a
-- write resets the other connections' page caches), so one approval took about 150 ms at
-- 100,000 memberships. Now the triggers below keep one row up to date in the writing
-- transaction, and reading it is one page.

-- `id` in the Antrean's index, so a recount (the triggers' check in the tests, the
-- Antrean's own order) reads the index alone; the flags one b-tree without a rowid.
DROP INDEX memberships_queue;
CREATE INDEX memberships_queue ON memberships (status, created_at, id);

CREATE TABLE queue_flags_new (
    membership_id TEXT PRIMARY KEY,
    working_days_pending INTEGER NOT NULL,
    overdue INTEGER NOT NULL,
    escalated INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO queue_flags_new (membership_id, working_days_pending, overdue, escalated)
    SELECT membership_id, working_days_pending, overdue, escalated FROM queue_flags;
DROP TABLE queue_flags;
ALTER TABLE queue_flags_new RENAME TO queue_flags;

-- Pending (status 1 as this desk shows it) and, of those, overdue and escalated.
CREATE TABLE queue_counts (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pending INTEGER NOT NULL,
    overdue INTEGER NOT NULL,
    escalated INTEGER NOT NULL
);
INSERT INTO queue_counts (id, pending, overdue, escalated)
    SELECT 1, COUNT(*), COALESCE(SUM(q.overdue), 0), COALESCE(SUM(q.escalated), 0)
    FROM memberships m LEFT JOIN queue_flags q ON q.membership_id = m.id WHERE m.status = 1;

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

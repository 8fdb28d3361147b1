-- The verifier's Antrean (SPEC §8): public holidays from the reference data (`libur.csv`),
-- which working days leave out; each pending request's flags as last sent to the
-- desktops (a `queue_flags` change is written when they change); and the daily reminder
-- and escalation e-mails claimed per KPPN and day, so each goes once. Keep in step with
-- the other dialect.
CREATE TABLE holidays (
    day TEXT PRIMARY KEY
);

CREATE TABLE queue_flags (
    membership_id TEXT PRIMARY KEY,
    working_days_pending BIGINT NOT NULL,
    overdue BOOLEAN NOT NULL,
    escalated BOOLEAN NOT NULL
);

CREATE TABLE queue_reminders (
    kppn_code TEXT NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (kppn_code, day, kind)
);

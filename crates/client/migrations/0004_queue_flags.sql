-- The Antrean's flags as the server sent them (`queue_flags` changes): a pending
-- request's age in working days, overdue and escalated. Kept beside the memberships, not
-- in their JSON, so a flag changing daily never touches a membership's version.
CREATE TABLE queue_flags (
    membership_id TEXT PRIMARY KEY,
    working_days_pending INTEGER NOT NULL,
    overdue INTEGER NOT NULL,
    escalated INTEGER NOT NULL
);

-- Bulk decisions: the entries of one decision on several requests share a batch id (the
-- push sends them together to /memberships/bulk), and a request may join one only when
-- its letter was opened in this app (the letter it has now, not an earlier one).
ALTER TABLE outbox ADD COLUMN batch_id TEXT;
CREATE INDEX outbox_by_batch ON outbox (batch_id, seq) WHERE batch_id IS NOT NULL;

CREATE TABLE letters_seen (
    membership_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (membership_id, document_id)
);

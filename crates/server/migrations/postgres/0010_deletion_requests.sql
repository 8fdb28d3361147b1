-- Deletion requests (SPEC §8, replacing the juknis' helpdesk ticket): a satker operator
-- asks the KPPN to delete a membership in status 0 or 5, with the request letter. At most
-- one open request per membership (the partial unique index is what two parallel requests
-- meet); deleting the membership closes it (`done`), the KPPN may decline it with a reason.
-- Times are microseconds since the epoch, as in `memberships`. Keep in step with the other
-- dialect.
CREATE TABLE deletion_requests (
    id TEXT PRIMARY KEY,
    membership_id TEXT NOT NULL REFERENCES memberships (id),
    satker_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    letter_number TEXT NOT NULL,
    letter_document_id TEXT NOT NULL REFERENCES documents (id),
    requested_by_nik TEXT NOT NULL,
    requested_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'declined', 'done')),
    decided_at BIGINT,
    decided_by TEXT,
    decline_reason TEXT,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX deletion_requests_one_open ON deletion_requests (membership_id) WHERE state = 'open';
CREATE INDEX deletion_requests_by_satker ON deletion_requests (satker_code, state, created_at);

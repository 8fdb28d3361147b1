-- The satkers' deletion requests in scope, as memberships are kept: the server's last word
-- (server_json, never older than server_version) and the view (server state with this
-- desk's pending request or decline applied). A request only this desk knows has no
-- server_json until the server accepts it under its own id.
CREATE TABLE deletion_requests (
    id TEXT PRIMARY KEY,
    membership_id TEXT NOT NULL,
    server_json TEXT,
    server_version INTEGER,
    state TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    pending INTEGER NOT NULL DEFAULT 0,
    view_json TEXT NOT NULL
);
CREATE INDEX deletion_requests_by_membership ON deletion_requests (membership_id, state);
CREATE INDEX deletion_requests_open ON deletion_requests (state, requested_at);

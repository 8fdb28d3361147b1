-- The desktop's local store: what the signed-in account may see, the sync cursor and the
-- outbox of the user's actions. PDFs live as files beside it, never in here.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE satkers (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kppn_code TEXT NOT NULL,
    kppn_name TEXT NOT NULL
);

-- One row per membership: the server's last word (server_json, never older than
-- server_version) and the view the user sees (server state with pending actions applied).
CREATE TABLE memberships (
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
    view_json TEXT NOT NULL
);
CREATE INDEX memberships_list ON memberships (listed, satker_code, status, name, id);
CREATE INDEX memberships_by_status ON memberships (listed, status, name, id);
CREATE INDEX memberships_queue ON memberships (status, created_at);
CREATE INDEX memberships_person ON memberships (nik, satker_code);

-- Substring search over name and NIK (trigram: "0001" finds a NIK by its last digits).
CREATE VIRTUAL TABLE memberships_search USING fts5 (
    name, nik, content = 'memberships', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER memberships_search_insert AFTER INSERT ON memberships BEGIN
    INSERT INTO memberships_search (rowid, name, nik) VALUES (new.rowid, new.name, new.nik);
END;
CREATE TRIGGER memberships_search_delete AFTER DELETE ON memberships BEGIN
    INSERT INTO memberships_search (memberships_search, rowid, name, nik) VALUES ('delete', old.rowid, old.name, old.nik);
END;
CREATE TRIGGER memberships_search_update AFTER UPDATE OF name, nik ON memberships BEGIN
    INSERT INTO memberships_search (memberships_search, rowid, name, nik) VALUES ('delete', old.rowid, old.name, old.nik);
    INSERT INTO memberships_search (rowid, name, nik) VALUES (new.rowid, new.name, new.nik);
END;

-- History and audit of one membership as last fetched, for the detail screen offline.
CREATE TABLE details (
    membership_id TEXT PRIMARY KEY,
    json TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);

-- The user's actions, in order. An entry leaves only when the server accepted it
-- (or the user dismissed its conflict).
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    base_version INTEGER,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'conflict')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    answer TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX outbox_by_membership ON outbox (membership_id, seq);

-- Cached PDFs (files named by SHA-256 in the cache folder).
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    membership_id TEXT,
    fetched_at TEXT NOT NULL,
    used_at TEXT NOT NULL
);

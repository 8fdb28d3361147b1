-- MyIntress central store, PostgreSQL dialect. Times are microseconds since the Unix epoch;
-- ids are UUID text. Keep in step with ../sqlite/0001_initial.sql: the queries are shared.

CREATE TABLE kppns (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE satkers (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kppn_code TEXT NOT NULL REFERENCES kppns (code)
);
CREATE INDEX satkers_by_kppn ON satkers (kppn_code);

CREATE TABLE accounts (
    nik TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    nip TEXT,
    password_hash TEXT,
    role TEXT NOT NULL CHECK (role IN ('kppn', 'satker')),
    kppn_code TEXT REFERENCES kppns (code),
    created_at BIGINT NOT NULL,
    last_sign_in_at BIGINT
);

CREATE TABLE login_attempts (
    nik TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    first_failure_at BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE captchas (
    id TEXT PRIMARY KEY,
    answer TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    nik TEXT NOT NULL,
    family_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_family ON sessions (family_id);
CREATE INDEX sessions_by_nik ON sessions (nik);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    nik TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_by_nik ON refresh_tokens (nik);

CREATE TABLE activation_tokens (
    token_hash TEXT PRIMARY KEY,
    nik TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    pages BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('letter', 'decree')),
    satker_code TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    id TEXT PRIMARY KEY,
    nik TEXT NOT NULL,
    satker_code TEXT NOT NULL REFERENCES satkers (code),
    name TEXT NOT NULL,
    nip TEXT,
    phone TEXT NOT NULL,
    email TEXT NOT NULL,
    status BIGINT NOT NULL CHECK (status IN (0, 1, 2, 3, 5)),
    letter_number TEXT NOT NULL,
    letter_document_id TEXT NOT NULL,
    rejection_reason TEXT,
    route TEXT NOT NULL CHECK (route IN ('kppn', 'satker')),
    ticket_number TEXT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT,
    ever_active BOOLEAN NOT NULL,
    listed BOOLEAN NOT NULL,
    activated_at BIGINT,
    deleted_at BIGINT,
    registered_seq BIGINT NOT NULL
);
CREATE INDEX memberships_by_person ON memberships (nik, satker_code);
CREATE INDEX memberships_by_satker ON memberships (satker_code, status);
CREATE INDEX memberships_list_order ON memberships (name, nik, registered_seq);

CREATE TABLE history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    membership_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    from_status BIGINT,
    to_status BIGINT,
    actor_nik TEXT,
    actor_name TEXT NOT NULL,
    reason TEXT,
    letter_number TEXT,
    document_id TEXT
);
CREATE INDEX history_by_membership ON history (membership_id, id);

-- Append-only: the triggers refuse changes to written rows.
CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_nik TEXT,
    actor_name TEXT NOT NULL,
    event TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    nik TEXT NOT NULL,
    satker_code TEXT NOT NULL,
    kppn_code TEXT NOT NULL,
    from_status BIGINT,
    to_status BIGINT,
    reason TEXT,
    request_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_by_person ON audit (nik, kppn_code, id);
CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit is append-only';
END;
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();

CREATE TABLE changes (
    seq BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    satker_code TEXT NOT NULL,
    kppn_code TEXT NOT NULL,
    entity TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX changes_by_kppn ON changes (kppn_code, seq);
CREATE INDEX changes_by_satker ON changes (satker_code, seq);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('change_seq', 0), ('registration_seq', 0);

CREATE TABLE idempotency (
    nik TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (nik, key)
);

-- Central operators (`admin`) manage verifier accounts; a verifier may be a supervisor
-- (receives the KPPN's escalations). Keep in step with the other dialect.

-- SQLite cannot change a CHECK constraint in place: the table is rebuilt (nothing
-- references accounts by foreign key, so it can be dropped and renamed).
CREATE TABLE accounts_new (
    nik TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    nip TEXT,
    password_hash TEXT,
    role TEXT NOT NULL CHECK (role IN ('kppn', 'satker', 'admin')),
    kppn_code TEXT REFERENCES kppns (code),
    created_at BIGINT NOT NULL,
    last_sign_in_at BIGINT,
    disabled_at BIGINT,
    supervisor BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO accounts_new (nik, name, email, nip, password_hash, role, kppn_code, created_at, last_sign_in_at, disabled_at)
    SELECT nik, name, email, nip, password_hash, role, kppn_code, created_at, last_sign_in_at, disabled_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
CREATE INDEX accounts_by_role ON accounts (role, kppn_code);

-- What administrators (and the server host's commands, and the dormancy job) did to
-- accounts and reference lists: who, when, to whom, what.
CREATE TABLE account_audit (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_nik TEXT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('verifier_created', 'disabled', 'enabled', 'moved', 'sessions_revoked', 'reference_uploaded')),
    nik TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX account_audit_by_nik ON account_audit (nik, at);

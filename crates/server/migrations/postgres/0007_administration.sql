-- Central operators (`admin`) manage verifier accounts; a verifier may be a supervisor
-- (receives the KPPN's escalations). Keep in step with the other dialect.

ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check CHECK (role IN ('kppn', 'satker', 'admin'));
ALTER TABLE accounts ADD COLUMN supervisor BOOLEAN NOT NULL DEFAULT FALSE;
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

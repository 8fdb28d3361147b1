-- Integrity under concurrency and several replicas. Keep in step with the other dialect.

-- At most one live membership (1 Terdaftar, 2 Aktif, 3 Dormant) of a person in a satker:
-- the registry serialises a person's changes with a lock, and this index makes a second
-- live row impossible even for a writer that forgot to.
CREATE UNIQUE INDEX memberships_one_live ON memberships (nik, satker_code)
    WHERE status IN (1, 2, 3) AND deleted_at IS NULL;

-- Compaction of the change feed looks for a later change of the same entity.
CREATE INDEX changes_by_entity ON changes (entity_id, seq);

-- Background jobs: when each last started, so that several replicas run one round per
-- interval between them (claimed with a conditional update under an advisory lock).
CREATE TABLE job_runs (
    name TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);

-- The garbage collector of documents asks whether any row references a file.
CREATE INDEX documents_by_sha256 ON documents (sha256);

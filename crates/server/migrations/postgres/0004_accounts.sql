-- Accounts that belong to their people, and mail that is never lost. Keep in step with
-- the other dialect.

-- Every e-mail (activation, password reset, notices) is a row written in the transaction
-- that caused it, sent by a job that retries with backoff and marks it sent. A sent
-- mail's body (which may hold a single-use link) is emptied.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    to_name TEXT NOT NULL,
    to_email TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;

-- A single-use link sets a password either to activate an account or to reset it.
ALTER TABLE activation_tokens ADD COLUMN purpose TEXT NOT NULL DEFAULT 'activation' CHECK (purpose IN ('activation', 'reset'));
CREATE INDEX activation_tokens_by_nik ON activation_tokens (nik);

-- A password reset asked for by NIK: the request writes only this row, whether or not the
-- NIK has an account, so the answer cannot tell the two apart; the mail job resolves it.
CREATE TABLE reset_requests (
    id TEXT PRIMARY KEY,
    nik TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- An account can be disabled (a verifier who left, by the server host's
-- `disable-account`): its sessions end at once and it cannot sign in until enabled again.
-- Keep in step with the other dialect.
ALTER TABLE accounts ADD COLUMN disabled_at BIGINT;

-- A refresh-token family expires after --session-idle-hours without use: each token
-- records when it was issued (rows issued before this migration have none and are judged
-- by their family's absolute limit only). Keep in step with the other dialect.
ALTER TABLE refresh_tokens ADD COLUMN issued_at BIGINT;

-- A captcha costs no write when it is asked for: its id carries its expiry and a nonce,
-- signed with a key every replica shares (`server_keys`); its answer is derived from the
-- nonce with that key. Only answering writes: the nonce is spent once
-- (`captcha_spent`), so a challenge is answerable once. Keep in step with the other
-- dialect.
DROP TABLE captchas;

CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE captcha_spent (
    nonce TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- Who looked up whose DIGIT account ("Cari" on Tambah Pengguna): an account's name,
-- NIP and e-mail are personal data, so every lookup is recorded.
CREATE TABLE digit_lookups (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_nik TEXT NOT NULL,
    nik TEXT NOT NULL,
    found BOOLEAN NOT NULL
);
CREATE INDEX digit_lookups_by_actor ON digit_lookups (actor_nik, at);

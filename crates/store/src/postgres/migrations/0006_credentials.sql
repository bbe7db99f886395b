-- Issue #14, item 3: credentials and sender edits are chained (store::audit::credentials).
-- API keys are revoked, never deleted, so the chained changes can prove the live set.
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;

-- Every API key issued or revoked, SMPP password and CMPP secret set: hashes and digests
-- only, never a secret; append-only and chained.
CREATE TABLE credential_changes (
    id            BIGSERIAL PRIMARY KEY,
    what          TEXT   NOT NULL,          -- api_key | smpp | cmpp
    action        TEXT   NOT NULL,          -- issued | revoked | adopted
    subject       TEXT   NOT NULL,          -- key hash | system_id | Source_Addr
    role          TEXT,
    sender_id     BIGINT,
    secret_digest TEXT,
    at            BIGINT NOT NULL
);

-- Edits of a sender's name and signature, chained; the current ones are the latest edit's.
CREATE TABLE sender_edits (
    id        BIGSERIAL PRIMARY KEY,
    sender_id BIGINT NOT NULL,
    name      TEXT   NOT NULL,
    signature TEXT   NOT NULL,
    actor     TEXT   NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX sender_edits_sender ON sender_edits (sender_id, id);

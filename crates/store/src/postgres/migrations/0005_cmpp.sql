-- CMPP accounts of senders (merchants' CMPP software connects with source_addr and secret).
-- The secret is kept as issued: CONNECT's MD5 authenticator can only be checked by computing
-- it from the secret (see store::CmppRegistry).
CREATE TABLE cmpp_accounts (
    source_addr TEXT   PRIMARY KEY,
    sender_id   BIGINT NOT NULL UNIQUE,
    secret      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

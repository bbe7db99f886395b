-- consentry embedded schema. Times are microseconds since the Unix epoch (UTC).

-- Clustered by phone: a phone's whole history is one b-tree range (one seek, not one per
-- event), which is what adjudication, point-in-time queries and the start-up fold read.
-- seq is the ledger's global commit order, assigned by the writer.
CREATE TABLE IF NOT EXISTS consent_events (
    phone        INTEGER NOT NULL,          -- E.164 digits
    seq          INTEGER NOT NULL,
    scope        TEXT    NOT NULL,          -- sender | platform
    sender_id    INTEGER,                   -- NULL for platform scope
    action       TEXT    NOT NULL,          -- opt_in | opt_out
    source       TEXT    NOT NULL,
    evidence     TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    at           INTEGER NOT NULL,          -- when the consumer acted
    recorded_at  INTEGER NOT NULL,          -- when the gateway committed it
    PRIMARY KEY (phone, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS consent_events_seq ON consent_events (seq);

CREATE TABLE IF NOT EXISTS senders (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    signature     TEXT    NOT NULL,
    source_number TEXT    NOT NULL UNIQUE,
    suspended     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Keys are revoked, never deleted, so the chained credential changes can prove the live set.
CREATE TABLE IF NOT EXISTS api_keys (
    hash       TEXT PRIMARY KEY,            -- SHA-256 of the key, hex
    role       TEXT    NOT NULL,            -- admin | carrier | sender
    sender_id  INTEGER,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER                      -- NULL while the key works
);

-- Every API key issued or revoked, SMPP password and CMPP secret set, append-only and chained
-- (store::audit::credentials): hashes and digests only, never a secret. `audit verify` checks
-- api_keys, smpp_credentials and cmpp_accounts against what these rows leave.
CREATE TABLE IF NOT EXISTS credential_changes (
    id            INTEGER PRIMARY KEY,
    what          TEXT    NOT NULL,         -- api_key | smpp | cmpp
    action        TEXT    NOT NULL,         -- issued | revoked | adopted
    subject       TEXT    NOT NULL,         -- key hash | system_id | Source_Addr
    role          TEXT,                     -- an API key's role
    sender_id     INTEGER,
    secret_digest TEXT,                     -- SHA-256 of the password hash or secret, hex
    at            INTEGER NOT NULL
);

-- Edits of a sender's name and signature, chained; a sender's current name and signature are
-- its latest edit's (the senders row keeps the chained registration).
CREATE TABLE IF NOT EXISTS sender_edits (
    id        INTEGER PRIMARY KEY,
    sender_id INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    signature TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sender_edits_sender ON sender_edits (sender_id, id);

CREATE TABLE IF NOT EXISTS messages (
    id           INTEGER PRIMARY KEY,
    sender_id    INTEGER NOT NULL,
    recipient    TEXT    NOT NULL,          -- as given
    phone        INTEGER,                   -- E.164 digits; NULL when invalid
    text         TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    status       TEXT    NOT NULL,          -- accepted | deferred | rejected
    reasons      TEXT    NOT NULL,          -- JSON array of {code, detail}
    submitted_at INTEGER NOT NULL,
    decided_at   INTEGER NOT NULL,
    release_at   INTEGER,
    delivery     TEXT    NOT NULL,          -- pending | submitted | delivered | failed | not_sent
    delivery_at  INTEGER,
    text_hash    INTEGER NOT NULL,
    -- The first decision above is evidence and never changes (it is chained in audit_blocks);
    -- a later decision (release of a deferred message, cancellation) is kept here and in
    -- redecisions.
    current_status      TEXT,
    current_reasons     TEXT,
    current_decided_at  INTEGER,
    current_release_at  INTEGER,
    -- The content classifier's reading of the text, JSON {category, scores: {label: p}};
    -- NULL when the classifier is off. Part of the decision's digest when present.
    content_scores      TEXT
);
CREATE INDEX IF NOT EXISTS messages_pending ON messages (delivery) WHERE delivery = 'pending';
CREATE INDEX IF NOT EXISTS messages_decided ON messages (decided_at);

-- Every decision after the first (deferred messages decided again at release, cancellations).
-- `id` is the row's key in the audit chain: an INTEGER PRIMARY KEY keeps it through VACUUM,
-- which may renumber a plain rowid.
CREATE TABLE IF NOT EXISTS redecisions (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    reasons    TEXT    NOT NULL
);

-- SMPP bind credentials of senders (password as an argon2 PHC string, never in clear).
CREATE TABLE IF NOT EXISTS smpp_credentials (
    system_id     TEXT PRIMARY KEY,
    sender_id     INTEGER NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- CMPP accounts of senders. The secret is kept as issued: CONNECT's MD5 authenticator can only
-- be checked by computing it from the secret (see store::CmppRegistry).
CREATE TABLE IF NOT EXISTS cmpp_accounts (
    source_addr TEXT PRIMARY KEY,
    sender_id   INTEGER NOT NULL UNIQUE,
    secret      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Which message id a carrier gave each message we submitted, so its delivery receipts (which
-- name only the carrier's id) find our message after a restart too.
CREATE TABLE IF NOT EXISTS carrier_ids (
    carrier    TEXT    NOT NULL,
    carrier_id TEXT    NOT NULL,           -- lower-cased as the carrier wrote it
    message_id INTEGER NOT NULL,
    PRIMARY KEY (carrier, carrier_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS carrier_ids_message ON carrier_ids (message_id);

-- Inbound replies (mobile-originated), kept for audit and so a replayed request gets the same
-- answer without acting twice. replay_key is NULL when the carrier gave no receive time.
CREATE TABLE IF NOT EXISTS inbound_replies (
    id          INTEGER PRIMARY KEY,
    replay_key  TEXT UNIQUE,
    phone       INTEGER NOT NULL,
    to_number   TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    intent      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,           -- the JSON answer given to the carrier
    recorded_at INTEGER NOT NULL
);

-- Opt-out confirmations and help answers sent, at most one per (phone, target, kind) per local
-- day; target is a sender id, 0 for the platform.
CREATE TABLE IF NOT EXISTS reply_notices (
    phone  INTEGER NOT NULL,
    target INTEGER NOT NULL,
    kind   TEXT    NOT NULL,
    day    INTEGER NOT NULL,
    PRIMARY KEY (phone, target, kind, day)
) WITHOUT ROWID;

-- One-click unsubscribe links: only the SHA-256 of each token is kept.
CREATE TABLE IF NOT EXISTS unsubscribe_links (
    token_hash TEXT PRIMARY KEY,
    phone      INTEGER NOT NULL,
    sender_id  INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- The tamper-evident audit chain: one block per transaction of evidence records (see
-- store::audit). digests holds each record's SHA-256 in row order (32 bytes each).
CREATE TABLE IF NOT EXISTS audit_blocks (
    seq       INTEGER PRIMARY KEY,
    kind      TEXT    NOT NULL,
    first_ref INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    digests   BLOB    NOT NULL,
    prev      BLOB    NOT NULL,
    hash      BLOB    NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_blocks_ref ON audit_blocks (kind, first_ref);

-- Complaints with the verdict and evidence computed when they were filed (JSON, kept as
-- computed). dedup_key makes a second complaint by one phone about one message a duplicate.
CREATE TABLE IF NOT EXISTS complaints (
    id            INTEGER PRIMARY KEY,
    phone         INTEGER NOT NULL,
    sender_id     INTEGER,                 -- the matched message's sender, else the one named
    message_id    INTEGER,                 -- the matched message
    source_number TEXT,
    text          TEXT,
    received_at   INTEGER NOT NULL,
    kind          TEXT    NOT NULL,        -- unwanted_marketing | after_optout | fraud | other
    note          TEXT,
    filed_by      TEXT    NOT NULL,
    filed_at      INTEGER NOT NULL,
    dedup_key     TEXT    NOT NULL UNIQUE,
    verdict       TEXT    NOT NULL,        -- violation | no_violation | unverified
    matched       TEXT    NOT NULL,        -- JSON: how the message was found
    adjudication  TEXT    NOT NULL         -- JSON: findings, events, decision, scores
);
CREATE INDEX IF NOT EXISTS complaints_sender ON complaints (sender_id, filed_at);
CREATE INDEX IF NOT EXISTS complaints_phone ON complaints (phone, filed_at);
CREATE INDEX IF NOT EXISTS complaints_filed ON complaints (filed_at);
-- The complaints queue (store::complaint_list): an index for each filter and order it offers,
-- so a page reads only its rows. No sender reads as 0 when sorting by sender. A merchant's
-- queue leaves out the unverified complaints: partial indexes hold only what it shows.
CREATE INDEX IF NOT EXISTS complaints_sender_id ON complaints (sender_id, id);
CREATE INDEX IF NOT EXISTS complaints_verdict_id ON complaints (verdict, id);
CREATE INDEX IF NOT EXISTS complaints_sender_verdict_id ON complaints (sender_id, verdict, id);
CREATE INDEX IF NOT EXISTS complaints_any_sender_id ON complaints ((coalesce(sender_id, 0)), id);
CREATE INDEX IF NOT EXISTS complaints_verdict_any_sender_id
    ON complaints (verdict, (coalesce(sender_id, 0)), id);
CREATE INDEX IF NOT EXISTS complaints_visible_sender_id ON complaints (sender_id, id)
    WHERE verdict <> 'unverified';
CREATE INDEX IF NOT EXISTS complaints_visible_sender_verdict_id ON complaints (sender_id, verdict, id)
    WHERE verdict <> 'unverified';

-- Every change to a sender's suspension, with its reason: automatic (actor 'enforcement',
-- with the complaint and the figures that triggered it) or by an admin.
CREATE TABLE IF NOT EXISTS suspension_changes (
    id           INTEGER PRIMARY KEY,
    sender_id    INTEGER NOT NULL,
    action       TEXT    NOT NULL,         -- suspend | lift | confirm
    reason       TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    complaint_id INTEGER,
    activity     TEXT                      -- JSON: the sender's figures at the time
);
CREATE INDEX IF NOT EXISTS suspension_changes_sender ON suspension_changes (sender_id, id);
-- A sender's marketing in the reputation window, counted on every complaint.
CREATE INDEX IF NOT EXISTS messages_sender ON messages (sender_id, decided_at);

-- The web console (store::console): accounts with argon2id password hashes, sessions by the
-- SHA-256 of their cookie token, and recent failed sign-ins for the attempt limits.
CREATE TABLE IF NOT EXISTS console_accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,          -- operator | auditor | merchant
    sender_id     INTEGER UNIQUE,            -- merchants: one account per sender
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 -- by an operator: no sign-in, no sessions
);
CREATE TABLE IF NOT EXISTS console_sessions (
    token_hash TEXT    PRIMARY KEY,
    account_id INTEGER NOT NULL,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS console_signin_failures (
    subject TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS console_signin_failures_subject ON console_signin_failures (subject, at);
-- The console's message search pages by id within a phone or a sender.
CREATE INDEX IF NOT EXISTS messages_phone_id ON messages (phone, id);
CREATE INDEX IF NOT EXISTS messages_sender_id ON messages (sender_id, id);
-- The console's sortable, filterable lists (#12): every sort column has an index ending in id
-- (the tie-break; the status one is made in `migrate`, after the columns it reads exist), and
-- the category-by-day search an index on the first decision's time.
CREATE INDEX IF NOT EXISTS messages_category_decided ON messages (category, decided_at);
-- A merchant's consent summary and its recent changes read its own events (PostgreSQL has
-- had the same index since its first migration).
CREATE INDEX IF NOT EXISTS consent_events_sender ON consent_events (sender_id, recorded_at);


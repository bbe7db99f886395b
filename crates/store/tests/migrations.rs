//! Data directories written by earlier versions open with the current one.

use store::{Durability, Store};

/// The ids a search for the reason `no_consent` finds.
fn no_consent_ids(s: &Store) -> Vec<u64> {
    use store::{ConsoleAccounts, MessageQuery};
    s.search_messages(&MessageQuery {
        reason: Some(policy::ReasonCode::NoConsent),
        limit: 10,
        ..MessageQuery::default()
    })
    .expect("search")
    .iter()
    .map(|m| m.id)
    .collect()
}

/// Early stores keyed redecisions by their implicit rowid, which `VACUUM` may renumber (and the
/// audit chain names them by number). Opening such a store gives them an explicit key with
/// the same numbers, which `VACUUM` then keeps.
#[test]
fn redecisions_get_a_stable_key_with_the_same_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let conn = rusqlite::Connection::open(dir.path().join("consentry.db")).expect("db");
        conn.execute_batch(
            "CREATE TABLE redecisions (
                 message_id INTEGER NOT NULL,
                 at         INTEGER NOT NULL,
                 status     TEXT    NOT NULL,
                 reasons    TEXT    NOT NULL
             );
             INSERT INTO redecisions VALUES (10, 1, 'rejected', '[]');
             INSERT INTO redecisions VALUES (11, 2, 'deferred', '[]');
             INSERT INTO redecisions VALUES (12, 3, 'accepted', '[]');
             DELETE FROM redecisions WHERE message_id = 11;",
        )
        .expect("old layout");
    }
    let store = Store::open_sqlite(dir.path(), Durability::Normal).expect("opens and migrates");
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("consentry.db")).expect("db");
    let rows = |conn: &rusqlite::Connection| -> Vec<(i64, i64)> {
        let mut stmt = conn
            .prepare("SELECT id, message_id FROM redecisions ORDER BY id")
            .expect("id column");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    };
    assert_eq!(rows(&conn), [(1, 10), (3, 12)]);
    conn.execute_batch("VACUUM").expect("vacuum");
    assert_eq!(rows(&conn), [(1, 10), (3, 12)]);
    // Opening again changes nothing.
    drop(conn);
    drop(Store::open_sqlite(dir.path(), Durability::Normal).expect("reopens"));
}

/// A store from before credentials were chained: `api_keys` without `revoked_at`, keys and
/// SMPP and CMPP accounts in the live tables and nothing in the chain about them. It opens,
/// adopts them once as chained `adopted` changes, verifies intact, and its keys still work;
/// opening it again adopts nothing more.
#[test]
fn keys_and_accounts_from_before_credentials_were_chained_are_adopted_and_verify() {
    use store::{AuditLog, KeyRing, KeyRole};
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let conn = rusqlite::Connection::open(dir.path().join("consentry.db")).expect("db");
        conn.execute_batch(
            "CREATE TABLE api_keys (
                 hash       TEXT PRIMARY KEY,
                 role       TEXT    NOT NULL,
                 sender_id  INTEGER,
                 created_at INTEGER NOT NULL
             );
             INSERT INTO api_keys VALUES ('h-admin', 'admin', NULL, 1);
             INSERT INTO api_keys VALUES ('h-shop', 'sender', 1, 2);
             CREATE TABLE smpp_credentials (
                 system_id     TEXT PRIMARY KEY,
                 sender_id     INTEGER NOT NULL UNIQUE,
                 password_hash TEXT    NOT NULL,
                 created_at    INTEGER NOT NULL
             );
             INSERT INTO smpp_credentials VALUES ('cs1', 1, '$argon2id$x', 3);",
        )
        .expect("old layout");
    }
    let adopted = |dir: &std::path::Path| -> i64 {
        rusqlite::Connection::open(dir.join("consentry.db"))
            .expect("db")
            .query_row(
                "SELECT count(*) FROM credential_changes WHERE action = 'adopted'",
                [],
                |r| r.get(0),
            )
            .expect("count")
    };
    let store = Store::open_sqlite(dir.path(), Durability::Normal).expect("opens and migrates");
    let report = store.verify_audit().expect("verify");
    assert!(report.broken.is_none(), "{:?}", report.broken);
    assert_eq!(
        report.records, 3,
        "two keys and one SMPP credential adopted"
    );
    let mut keys = store.keys().expect("keys");
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(keys[0], ("h-admin".to_string(), KeyRole::Admin));
    drop(store);
    assert_eq!(adopted(dir.path()), 3);
    let store = Store::open_sqlite(dir.path(), Durability::Normal).expect("reopens");
    assert!(store.verify_audit().expect("verify").broken.is_none());
    drop(store);
    assert_eq!(adopted(dir.path()), 3, "adopted once");
}

/// A store from before `message_reasons` (the reason search's index) gets it filled from the
/// messages it holds when opened, so its searches by reason find what they found before.
#[test]
fn the_reason_index_is_filled_from_an_older_stores_messages() {
    use domain::{Category, Msisdn, Region, SenderId};
    use policy::{Reason, ReasonCode, Verdict};
    use store::{MessageLog, NewMessage};
    let dir = tempfile::tempdir().expect("tempdir");
    let phone = Msisdn::parse("13800138000", Region::CN).expect("phone");
    let reasons = [Reason::new(ReasonCode::NoConsent, "none")];
    let ids = {
        let s = Store::open_sqlite(dir.path(), Durability::Normal).expect("opens");
        let msg = |verdict, reasons| NewMessage {
            sender: SenderId(1),
            to: "13800138000",
            phone: Some(phone),
            text: "【A】hi",
            category: Category::Marketing,
            verdict,
            reasons,
            decided_at: "2026-11-11T09:00:00Z".parse().expect("time"),
            release_at: None,
            text_hash: 1,
            content_scores: None,
        };
        s.insert_messages(&[
            msg(Verdict::Rejected, &reasons),
            msg(Verdict::Accepted, &[]),
        ])
        .expect("messages")
    };
    // As an older version left it: no table.
    rusqlite::Connection::open(dir.path().join("consentry.db"))
        .expect("db")
        .execute_batch("DROP TABLE message_reasons")
        .expect("drop");
    let s = Store::open_sqlite(dir.path(), Durability::Normal).expect("opens and migrates");
    let found = no_consent_ids(&s);
    assert_eq!(found, [ids[0]]);
}

/// PostgreSQL: migration 0009 fills `message_reasons` from the messages a store holds (run
/// again here on a store as 0008 left it).
#[test]
fn migration_0009_fills_the_reason_index_on_postgres() {
    use domain::{Category, Msisdn, Region, SenderId};
    use policy::{Reason, ReasonCode, Verdict};
    use store::{MessageLog, NewMessage};
    let Some(schema) = store::testing::fresh_schema("migration_0009") else {
        return;
    };
    let phone = Msisdn::parse("13800138000", Region::CN).expect("phone");
    let reasons = [Reason::new(ReasonCode::NoConsent, "none")];
    let ids = {
        let s = Store::open_postgres(&schema.opts).expect("opens");
        s.insert_messages(&[NewMessage {
            sender: SenderId(1),
            to: "13800138000",
            phone: Some(phone),
            text: "【A】hi",
            category: Category::Marketing,
            verdict: Verdict::Rejected,
            reasons: &reasons,
            decided_at: "2026-11-11T09:00:00Z".parse().expect("time"),
            release_at: None,
            text_hash: 1,
            content_scores: None,
        }])
        .expect("messages")
    };
    store::postgres::PgStore::connect(&schema.opts)
        .expect("connects")
        .execute_batch(
            // The later migrations go too: a store as 0008 left it had none of them.
            "DROP TABLE message_reasons; DELETE FROM schema_migrations WHERE version >= 9;",
        )
        .expect("as 0008 left it");
    let s = Store::open_postgres(&schema.opts).expect("opens and migrates");
    let found = no_consent_ids(&s);
    assert_eq!(found, ids);
}

/// The (phone, delivery_at) index an older store made is dropped when it is opened: a phone's
/// messages are read through (phone, id), and every send no longer pays for the other.
#[test]
fn the_phone_and_delivery_time_index_of_an_older_store_is_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(Store::open_sqlite(dir.path(), Durability::Normal).expect("opens"));
    let db = dir.path().join("consentry.db");
    let count = || -> i64 {
        rusqlite::Connection::open(&db)
            .expect("db")
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'messages_phone'",
                [],
                |r| r.get(0),
            )
            .expect("count")
    };
    // As an older version left it.
    rusqlite::Connection::open(&db)
        .expect("db")
        .execute_batch("CREATE INDEX messages_phone ON messages (phone, delivery_at)")
        .expect("index");
    assert_eq!(count(), 1);
    drop(Store::open_sqlite(dir.path(), Durability::Normal).expect("opens and migrates"));
    assert_eq!(count(), 0);
}

/// PostgreSQL: migration 0010 drops the same index (run again on a schema as 0009 left it).
#[test]
fn migration_0010_drops_the_phone_and_delivery_time_index_on_postgres() {
    let Some(schema) = store::testing::fresh_schema("migration_0010") else {
        return;
    };
    let absent = "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_indexes
                   WHERE schemaname = current_schema() AND indexname = 'messages_phone')
                   THEN RAISE EXCEPTION 'messages_phone is still there'; END IF; END $$;";
    drop(Store::open_postgres(&schema.opts).expect("opens"));
    let pg = store::postgres::PgStore::connect(&schema.opts).expect("connects");
    pg.execute_batch(absent)
        .expect("a new schema has no such index");
    pg.execute_batch(
        "CREATE INDEX messages_phone ON messages (phone, delivery_at);
         DELETE FROM schema_migrations WHERE version >= 10;",
    )
    .expect("as 0009 left it");
    assert!(
        pg.execute_batch(absent).is_err(),
        "the check sees the index"
    );
    drop(Store::open_postgres(&schema.opts).expect("opens and migrates"));
    pg.execute_batch(absent).expect("0010 dropped it");
}

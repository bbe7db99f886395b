//! Credentials and sender edits in the audit chain, on both backends: every way consentry
//! changes them verifies, and the same change made in SQL is named by `verify_audit`
//! (issue #14, item 3).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use domain::SenderId;
use store::{
    AuditLog, CmppRegistry, ConsoleAccounts, KeyRing, KeyRole, NewSender, SenderRegistry,
    SmppRegistry, Store,
};

fn shop(s: &Store, name: &str) -> SenderId {
    s.create_sender(&NewSender {
        name: name.into(),
        signature: format!("【{name}】"),
        number_prefix: "1069000012".into(),
        extension_digits: 2,
        api_key_hash: format!("hash-{name}"),
    })
    .unwrap()
    .id
}

/// Issues, rotates and edits through the store, checks the chain is intact and the live set
/// is what was issued; returns the sender.
fn issue_everything(s: &Store) -> SenderId {
    s.put_key("hash-admin", KeyRole::Admin).unwrap();
    let a = shop(s, "A");
    s.put_smpp_credential("csold", a, "$argon2id$old").unwrap();
    s.put_smpp_credential("csnew", a, "$argon2id$new").unwrap();
    s.put_cmpp_account("000001", a, "secret-one").unwrap();
    s.put_cmpp_account("000001", a, "secret-two").unwrap();
    s.replace_sender_key(a, "hash-A2").unwrap();
    let edited = s
        .edit_sender(a, "A2", "【A2】", "operator")
        .unwrap()
        .unwrap();
    assert_eq!(
        (edited.name.as_str(), edited.signature.as_str()),
        ("A2", "【A2】")
    );
    assert_eq!(s.senders().unwrap()[0].name, "A2");
    assert!(
        s.edit_sender(SenderId(99), "x", "", "operator")
            .unwrap()
            .is_none()
    );
    let mut keys = s.keys().unwrap();
    keys.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        keys,
        vec![
            ("hash-A2".to_string(), KeyRole::Sender(a)),
            ("hash-admin".to_string(), KeyRole::Admin)
        ],
        "the rotated-out key is revoked, not live"
    );
    assert!(s.smpp_credential("csold").unwrap().is_none());
    assert_eq!(s.smpp_system_id(a).unwrap().as_deref(), Some("csnew"));
    let report = s.verify_audit().unwrap();
    assert!(report.broken.is_none(), "{:?}", report.broken);
    a
}

fn broken(s: &Store) -> String {
    s.verify_audit()
        .unwrap()
        .broken
        .map(|b| b.to_string())
        .unwrap_or_default()
}

#[test]
fn sqlite_credentials_and_edits_verify_and_sql_changes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open_sqlite(dir.path(), store::Durability::Normal).unwrap();
    issue_everything(&s);
    let store::Store::Sqlite(sq) = &s else {
        unreachable!()
    };
    let sql = |q: &str| sq.with_writer(|c| Ok(c.execute_batch(q)?)).unwrap();

    sql("UPDATE api_keys SET role = 'admin', sender_id = NULL WHERE hash = 'hash-A2'");
    let b = broken(&s);
    assert!(
        b.contains("api_keys row") && b.contains("admin key hash-A2"),
        "{b}"
    );
    sql("UPDATE api_keys SET role = 'sender', sender_id = 1 WHERE hash = 'hash-A2'");
    assert_eq!(broken(&s), "");

    sql("UPDATE api_keys SET revoked_at = NULL WHERE hash = 'hash-A'");
    let b = broken(&s);
    assert!(b.contains("no chained credential change issued it"), "{b}");
    sql("UPDATE api_keys SET revoked_at = 1 WHERE hash = 'hash-A'");

    sql("UPDATE cmpp_accounts SET secret = 'secret-one'");
    let b = broken(&s);
    assert!(
        b.contains("cmpp_accounts") && b.contains("CMPP Source_Addr 000001"),
        "{b}"
    );
    sql("UPDATE cmpp_accounts SET secret = 'secret-two'");

    sql("UPDATE sender_edits SET name = 'Forged'");
    let b = broken(&s);
    assert!(b.contains("sender_edits row 1"), "{b}");
}

#[test]
fn postgres_credentials_and_edits_verify_and_sql_changes_are_named() {
    let Some(schema) = store::testing::fresh_schema("credentials") else {
        return;
    };
    let s = Store::open_postgres(&schema.opts).unwrap();
    issue_everything(&s);
    let store::Store::Postgres(pg) = &s else {
        unreachable!()
    };
    pg.execute_batch("UPDATE api_keys SET role = 'admin', sender_id = NULL WHERE hash = 'hash-A2'")
        .unwrap();
    let b = broken(&s);
    assert!(b.contains("admin key hash-A2"), "{b}");
    pg.execute_batch("UPDATE api_keys SET role = 'sender', sender_id = 1 WHERE hash = 'hash-A2'")
        .unwrap();
    assert_eq!(broken(&s), "");

    pg.execute_batch("UPDATE smpp_credentials SET password_hash = '$argon2id$old'")
        .unwrap();
    let b = broken(&s);
    assert!(
        b.contains("smpp_credentials") && b.contains("SMPP system_id csnew"),
        "{b}"
    );
    pg.execute_batch("UPDATE smpp_credentials SET password_hash = '$argon2id$new'")
        .unwrap();

    pg.execute_batch("UPDATE sender_edits SET signature = '【Forged】'")
        .unwrap();
    let b = broken(&s);
    assert!(b.contains("sender_edits row"), "{b}");
}

/// A store whose keys and accounts were written before credentials were chained adopts them
/// once at open and verifies; a change made after that does not.
#[test]
fn credentials_from_before_the_chain_are_adopted_once() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open_sqlite(dir.path(), store::Durability::Normal).unwrap();
        shop(&s, "A");
        let store::Store::Sqlite(sq) = &s else {
            unreachable!()
        };
        // As an old store: credentials in the live tables, none chained.
        sq.with_writer(|c| {
            Ok(c.execute_batch(
                "DELETE FROM audit_blocks WHERE kind = 'credential';
                 DELETE FROM credential_changes;
                 INSERT INTO smpp_credentials VALUES ('csold', 1, '$argon2id$x', 0);",
            )?)
        })
        .unwrap();
    }
    // The deleted block was the chain's last: what remains is an intact shorter chain.
    let s = Store::open_sqlite(dir.path(), store::Durability::Normal).unwrap();
    assert_eq!(broken(&s), "");
    let store::Store::Sqlite(sq) = &s else {
        unreachable!()
    };
    let adopted: i64 = sq
        .with_reader(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM credential_changes WHERE action = 'adopted'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(adopted, 2, "the sender's key and its SMPP credential");
    sq.with_writer(|c| Ok(c.execute_batch("UPDATE smpp_credentials SET sender_id = 2")?))
        .unwrap();
    drop(s);
    let s = Store::open_sqlite(dir.path(), store::Durability::Normal).unwrap();
    let b = broken(&s);
    assert!(b.contains("SMPP system_id csold of sender 2"), "{b}");
}

//! Data directories written by earlier versions open with the current one.

use store::{Durability, Store};

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

//! The per-phone queries read the phone's own key (`messages_phone_id`), whatever other index
//! shares one of their columns: without statistics (the store never runs `ANALYZE`) SQLite
//! could as well pick the (category, decided_at) index and read a third of the table.

#![allow(clippy::unwrap_used)]

/// SQLite's plan for `sql` with `params` on `store`: one line per step.
pub(super) fn plan_of(
    store: &super::SqliteStore,
    sql: &str,
    params: Vec<rusqlite::types::Value>,
) -> String {
    let conn = store.reader.lock();
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
}

/// SQLite's plan for `sql` on a fresh store, every parameter 0.
fn plan(sql: &str) -> String {
    let store = super::SqliteStore::open_in_memory().unwrap();
    let n = store.reader.lock().prepare(sql).unwrap().parameter_count();
    plan_of(&store, sql, vec![rusqlite::types::Value::Integer(0); n])
}

#[test]
fn a_phones_messages_are_read_through_its_key() {
    let queries = [
        format!(
            "SELECT id FROM messages WHERE {}",
            super::messages::INBOX_WHERE
        ),
        format!(
            "SELECT id FROM messages WHERE {}",
            super::complaints::SENT_TO_WHERE
        ),
        super::complaints::MARKETING_SENT_TO.to_string(),
        super::replies::MARKETING_SENDERS.to_string(),
    ];
    for sql in &queries {
        let p = plan(sql);
        assert!(
            p.starts_with("SEARCH messages USING INDEX messages_phone_id (phone=?)"),
            "{sql}\n=> {p}"
        );
    }
}

#[test]
fn the_old_phone_and_delivery_time_index_is_gone() {
    let store = super::SqliteStore::open_in_memory().unwrap();
    let conn = store.reader.lock();
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'messages_phone'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
}

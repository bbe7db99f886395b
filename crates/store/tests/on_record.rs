//! A verdict rests on the decision the audit chain holds, not on the cache beside it.

use domain::{Category, Msisdn, Region, SenderId};
use policy::{Decision, Reason, ReasonCode, Verdict};
use store::{Durability, MessageLog, NewMessage, Store};

#[test]
fn the_decision_on_record_ignores_an_edited_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_sqlite(dir.path(), Durability::Normal).expect("store");
    let phone = Msisdn::parse("13800138000", Region::CN).expect("phone");
    let t = |s: &str| s.parse::<jiff::Timestamp>().expect("time");
    let id = store
        .insert_messages(&[NewMessage {
            sender: SenderId(1),
            to: "13800138000",
            phone: Some(phone),
            text: "【店】双11全场5折，回T退订",
            category: Category::Marketing,
            verdict: Verdict::Deferred,
            reasons: &[],
            decided_at: t("2026-11-11T13:00:00Z"),
            release_at: Some(t("2026-11-12T00:00:00Z")),
            text_hash: 1,
            content_scores: None,
        }])
        .expect("insert")[0];
    let refused = Decision::from_reasons(
        vec![Reason::new(ReasonCode::OptedOut, "withdrawn")],
        None,
        false,
        Category::Marketing,
    );
    store
        .redecide(id, &refused, t("2026-11-12T00:00:00Z"))
        .expect("redecide");
    // Someone with the database file rewrites the cached current decision.
    let conn = rusqlite::Connection::open(dir.path().join("consentry.db")).expect("db");
    conn.execute(
        "UPDATE messages SET current_status = 'accepted', current_reasons = '[]',
                current_decided_at = 0, decided_at = 0 WHERE id = ?1",
        [i64::try_from(id).expect("id")],
    )
    .expect("edit");
    let cached = store.message(id).expect("read").expect("row");
    assert_eq!(cached.status, Verdict::Accepted, "the cache was edited");
    let on_record = store.message_on_record(id).expect("read").expect("row");
    assert_eq!(on_record.status, Verdict::Rejected);
    assert_eq!(on_record.reasons[0].code, ReasonCode::OptedOut);
    assert_eq!(on_record.decided_at, t("2026-11-12T00:00:00Z"));
    assert_eq!(on_record.submitted_at, t("2026-11-11T13:00:00Z"));
}

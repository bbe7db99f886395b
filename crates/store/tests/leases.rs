//! What only a shared database has to get right: two handles writing one phone, partition
//! leases, and the fence that refuses a stale owner's writes. PostgreSQL only (SKIPPED without
//! a server; failed under `CONSENTRY_REQUIRE_SERVICES=1`).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use domain::{ConsentAction, ConsentSource, Msisdn, Region, Scope, SenderId, Timestamp};
use store::postgres::{Fence, PgStore};
use store::{AuditLog, ConsentLog, NewConsent, Store, StoreError};

fn opt(phone: Msisdn, action: ConsentAction, n: u32) -> NewConsent {
    NewConsent {
        phone,
        scope: Scope::Sender,
        sender: Some(SenderId(1 + n % 3)),
        action,
        source: ConsentSource::Reply,
        evidence: format!("reply {n}"),
        actor: "carrier".into(),
        at: Timestamp::now(),
    }
}

#[test]
fn two_handles_writing_one_phone_lose_nothing_and_keep_one_chain() {
    let Some(schema) = store::testing::fresh_schema("two_handles") else {
        return;
    };
    let a = Arc::new(Store::open_postgres(&schema.opts).unwrap());
    let b = Arc::new(Store::open_postgres(&schema.opts).unwrap());
    let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
    let writers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .enumerate()
        .map(|(w, s)| {
            std::thread::spawn(move || {
                let mut seqs = Vec::new();
                for n in 0..150u32 {
                    let action = if (n + w as u32).is_multiple_of(2) {
                        ConsentAction::OptOut
                    } else {
                        ConsentAction::OptIn
                    };
                    let ev = s.append_consents(&[opt(phone, action, n)]).unwrap();
                    seqs.push(ev[0].seq);
                }
                seqs
            })
        })
        .collect();
    let mut all: Vec<u64> = writers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 300, "every acknowledged event has its own seq");
    let history = a.consent_history(phone).unwrap();
    let seqs: Vec<u64> = history.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs, all,
        "both handles read the same, complete history in seq order"
    );
    let report = b.verify_audit().unwrap();
    assert_eq!(report.broken, None, "one chain across both handles");
    assert_eq!(report.records, 300);
    assert_eq!(a.audit_head().unwrap().hash, report.head);
}

#[derive(Debug)]
struct Holds {
    node: String,
    epochs: parking_lot::Mutex<std::collections::HashMap<i32, i64>>,
}

impl Fence for Holds {
    fn node(&self) -> &str {
        &self.node
    }
    fn partition(&self, phone: i64) -> i32 {
        i32::try_from(phone % 4).unwrap()
    }
    fn epoch(&self, part: i32) -> Option<i64> {
        self.epochs.lock().get(&part).copied()
    }
}

#[test]
fn a_stale_epoch_write_is_refused_and_leases_change_hands_only_when_free() {
    let Some(schema) = store::testing::fresh_schema("fence") else {
        return;
    };
    let a = PgStore::open(&schema.opts).unwrap();
    let b = PgStore::open(&schema.opts).unwrap();
    a.init_partitions(4).unwrap();
    b.init_partitions(4).unwrap();
    assert!(
        matches!(b.init_partitions(8), Err(StoreError::Config(_))),
        "a second count is refused"
    );
    let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
    let part = i32::try_from(phone.as_u64() % 4).unwrap();
    let short = Duration::from_millis(300);

    let holds_a = Arc::new(Holds {
        node: "a".into(),
        epochs: Default::default(),
    });
    a.set_fence(holds_a.clone());
    // Without the lease, a write is refused before anything is written.
    assert!(matches!(
        a.append_consents(&[opt(phone, ConsentAction::OptOut, 0)]),
        Err(StoreError::Fenced { .. })
    ));
    let e1 = a
        .claim(part, "a", short)
        .unwrap()
        .expect("a free partition is claimed");
    holds_a.epochs.lock().insert(part, e1);
    assert_eq!(b.claim(part, "b", short).unwrap(), None, "held: not taken");
    a.append_consents(&[opt(phone, ConsentAction::OptOut, 1)])
        .unwrap();
    assert_eq!(a.renew("a", &[(part, e1)], short).unwrap(), vec![part]);

    // a pauses past its lease; b takes over with a higher epoch.
    std::thread::sleep(short + Duration::from_millis(200));
    let e2 = b
        .claim(part, "b", Duration::from_secs(30))
        .unwrap()
        .expect("expired: taken");
    assert!(e2 > e1);
    // a resumes believing it still owns the partition: its write is refused, and so is its
    // renewal.
    assert!(matches!(
        a.append_consents(&[opt(phone, ConsentAction::OptIn, 2)]),
        Err(StoreError::Fenced { epoch, .. }) if epoch == e1
    ));
    assert!(a.renew("a", &[(part, e1)], short).unwrap().is_empty());
    assert_eq!(
        a.consent_history(phone).unwrap().len(),
        1,
        "nothing of a's was written"
    );
    let leases = b.leases().unwrap();
    assert_eq!(
        leases[usize::try_from(part).unwrap()].owner.as_deref(),
        Some("b")
    );

    // Node names are unique among live nodes.
    a.register_node("n1", "i-1", Duration::from_secs(10))
        .unwrap();
    assert!(matches!(
        b.register_node("n1", "i-2", Duration::from_secs(10)),
        Err(StoreError::Conflict(_))
    ));
    a.register_node("n1", "i-1", Duration::from_secs(10))
        .unwrap();
    assert_eq!(
        a.live_nodes(Duration::from_secs(10)).unwrap(),
        vec!["n1".to_string()]
    );
}

/// #10: a deferred message released, or a stale one decided again, by a node that lost the
/// phone's partition (paused past its lease, then woken) must not overwrite what the new owner
/// decided: the re-decision carries the epoch it was made under and is refused.
#[test]
fn a_stale_owners_redecision_is_refused_and_the_new_owners_decision_stands() {
    use domain::Category;
    use policy::{Decision, Reason, ReasonCode, Verdict};
    use store::{MessageLog, NewMessage};

    let Some(schema) = store::testing::fresh_schema("fence_redecide") else {
        return;
    };
    let a = PgStore::open(&schema.opts).unwrap();
    let b = PgStore::open(&schema.opts).unwrap();
    a.init_partitions(4).unwrap();
    let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
    let part = i32::try_from(phone.as_u64() % 4).unwrap();
    let upart = u32::try_from(part).unwrap();
    let short = Duration::from_millis(300);
    let holds_a = Arc::new(Holds {
        node: "a".into(),
        epochs: Default::default(),
    });
    a.set_fence(holds_a.clone());
    let e1 = a.claim(part, "a", short).unwrap().expect("claimed");
    holds_a.epochs.lock().insert(part, e1);
    let now = Timestamp::now();
    let id = a
        .insert_messages_pinned(
            &[NewMessage {
                sender: SenderId(1),
                to: "13800138000",
                phone: Some(phone),
                text: "【店】双11全场5折，回T退订",
                category: Category::Marketing,
                verdict: Verdict::Deferred,
                reasons: &[],
                decided_at: now,
                release_at: Some(now),
                text_hash: 1,
                content_scores: None,
            }],
            &[(upart, e1)],
        )
        .unwrap()[0];

    // a pauses past its lease; b takes the partition and refuses the message (an opt-out).
    std::thread::sleep(short + Duration::from_millis(200));
    let holds_b = Arc::new(Holds {
        node: "b".into(),
        epochs: Default::default(),
    });
    b.set_fence(holds_b.clone());
    let e2 = b
        .claim(part, "b", Duration::from_secs(30))
        .unwrap()
        .expect("expired: taken");
    holds_b.epochs.lock().insert(part, e2);
    let refused = Decision::from_reasons(
        vec![Reason::new(
            ReasonCode::OptedOut,
            "withdrawn while deferred",
        )],
        None,
        false,
        Category::Marketing,
    );
    b.redecide_pinned(id, phone, &refused, Timestamp::now(), &[(upart, e2)])
        .unwrap();

    // a wakes and releases its copy of the held message under its old epoch: refused.
    let released = Decision::from_reasons(Vec::new(), None, false, Category::Marketing);
    assert_eq!(released.verdict, Verdict::Accepted);
    assert!(matches!(
        a.redecide_pinned(id, phone, &released, Timestamp::now(), &[(upart, e1)]),
        Err(StoreError::Fenced { epoch, .. }) if epoch == e1
    ));
    // Nor may it write under no epoch at all once its fence names none.
    holds_a.epochs.lock().clear();
    assert!(matches!(
        a.redecide_pinned(id, phone, &released, Timestamp::now(), &[]),
        Err(StoreError::Fenced { .. })
    ));
    let m = b.message(id).unwrap().unwrap();
    assert_eq!(
        m.status,
        Verdict::Rejected,
        "the new owner's decision stands"
    );
    assert!(b.verify_audit().unwrap().broken.is_none());
}

/// The send path's statements are prepared once per connection; a generic plan of the
/// delivery update (`FROM unnest($1)`) cannot see how many ids it gets and read `messages`
/// whole on every hand-off. Every pooled connection plans each execution with its values.
#[test]
fn every_connection_plans_prepared_statements_with_their_values() {
    let Some(schema) = store::testing::fresh_schema("custom_plans") else {
        return;
    };
    let s = PgStore::open(&schema.opts).unwrap();
    for _ in 0..3 {
        assert_eq!(
            s.count(
                "SELECT (current_setting('plan_cache_mode') = 'force_custom_plan')::int::bigint"
            )
            .unwrap(),
            1
        );
    }
}

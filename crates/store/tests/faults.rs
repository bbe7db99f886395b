//! Injected commit faults (`store::faults`), as the simulation uses them: a write failure
//! leaves nothing behind, an fsync failure leaves the write in the file but is reported as a
//! failure, and the audit chain stays whole either way.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::Arc;

use domain::{ConsentAction, ConsentSource, Msisdn, Region, Scope, Timestamp};
use parking_lot::Mutex;
use store::faults::{CommitFault, CommitFaults};
use store::{AuditLog, ConsentLog, Durability, NewConsent, Store, StoreError};

#[derive(Debug, Default)]
struct Script(Mutex<Vec<CommitFault>>);

impl CommitFaults for Script {
    fn next_commit(&self) -> CommitFault {
        self.0.lock().pop().unwrap_or(CommitFault::None)
    }
}

fn opt_out(phone: Msisdn) -> NewConsent {
    NewConsent {
        phone,
        scope: Scope::Platform,
        sender: None,
        action: ConsentAction::OptOut,
        source: ConsentSource::Reply,
        evidence: "T".into(),
        actor: "reply".into(),
        at: "2026-11-11T02:00:00Z".parse::<Timestamp>().unwrap(),
    }
}

#[test]
fn a_failed_commit_writes_nothing_and_an_unsynced_one_is_reported_failed_but_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_sqlite(dir.path(), Durability::Full).unwrap();
    let script = Arc::new(Script::default());
    let Store::Sqlite(s) = &mut store else {
        unreachable!("open_sqlite opens SQLite")
    };
    s.inject_faults(Arc::clone(&script) as Arc<dyn CommitFaults>);
    let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
    let now = "2026-11-11T02:00:01Z".parse::<Timestamp>().unwrap();

    script.0.lock().push(CommitFault::Fail);
    let err = store
        .append_consents_at(&[opt_out(phone)], now)
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    assert_eq!(store.consent_count().unwrap(), 0);

    store.append_consents_at(&[opt_out(phone)], now).unwrap();
    assert_eq!(store.consent_count().unwrap(), 1);

    script.0.lock().push(CommitFault::Unsynced);
    let err = store
        .append_consents_at(&[opt_out(phone)], now)
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    assert_eq!(
        store.consent_count().unwrap(),
        2,
        "the write reached the file"
    );
    drop(store);

    // Reopened, as after the crash that follows: the chain verifies over what is there.
    let store = Store::open_sqlite(dir.path(), Durability::Full).unwrap();
    assert_eq!(store.consent_count().unwrap(), 2);
    let report = store.verify_audit().unwrap();
    assert!(report.broken.is_none(), "{report:?}");
    assert_eq!(report.records, 2);
}

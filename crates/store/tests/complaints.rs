//! Conformance for the complaint log: every backend must pass (same `backends()` as
//! `conformance.rs`).
#![allow(clippy::unwrap_used)]

use complaints::{
    Activity, Case, ComplaintKind, ComplaintVerdict, Limits, MatchOutcome, SentMessage,
    SuspensionAction, adjudicate,
};
use domain::{Category, ConsentAction, ConsentSource, Msisdn, Region, Scope, SenderId, Timestamp};
use policy::{Reason, ReasonCode, Verdict};
use store::{
    ComplaintColumn, ComplaintLog, ComplaintQuery, ComplaintSort, ConsentLog, Delivery, Durability,
    MessageLog, NewComplaint, NewConsent, NewMessage, NewSender, NewSuspension, SenderRegistry,
    Store, StoreError,
};

type Guard = Option<Box<dyn std::any::Any>>;

fn backends() -> Vec<(&'static str, Store, Guard)> {
    let dir = tempfile::tempdir().unwrap();
    let file = Store::open_sqlite(dir.path(), Durability::Normal).unwrap();
    let mut out: Vec<(&'static str, Store, Guard)> = vec![
        ("sqlite-memory", Store::open_in_memory().unwrap(), None),
        ("sqlite-file", file, Some(Box::new(dir))),
    ];
    if let Some(schema) = store::testing::fresh_schema("complaints") {
        let s = Store::open_postgres(&schema.opts).unwrap();
        out.push(("postgres", s, Some(Box::new(schema))));
    }
    out
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn phone() -> Msisdn {
    Msisdn::parse("13800138000", Region::CN).unwrap()
}

fn complaint(key: &str, sender: Option<SenderId>, message: Option<&SentMessage>) -> NewComplaint {
    let adjudication = adjudicate(&Case {
        kind: ComplaintKind::UnwantedMarketing,
        message,
        history: &[],
        content: None,
        facts: None,
        limits: Limits::default(),
    });
    NewComplaint {
        phone: phone(),
        sender,
        message_id: message.map(|m| m.message_id),
        source_number: Some("10690000123450001".into()),
        text: Some("双11全场5折".into()),
        received_at: t("2026-11-11T03:00:00Z"),
        kind: ComplaintKind::UnwantedMarketing,
        note: Some("never agreed".into()),
        filed_by: "admin".into(),
        filed_at: t("2026-11-11T04:00:00Z"),
        dedup_key: key.into(),
        matched: message.map_or(MatchOutcome::NoCandidate, |m| MatchOutcome::Matched {
            message_id: m.message_id,
            by: complaints::MatchedBy::MessageId,
            similarity: None,
        }),
        adjudication,
    }
}

fn setup(s: &Store) -> (SenderId, SentMessage) {
    let shop = s
        .create_sender(&NewSender {
            name: "Shop".into(),
            signature: "【Shop】".into(),
            number_prefix: "1069000012345".into(),
            extension_digits: 4,
            api_key_hash: "h1".into(),
        })
        .unwrap()
        .id;
    let reasons = [Reason::new(ReasonCode::NoConsent, "none")];
    let ids = s
        .insert_messages(&[
            NewMessage {
                sender: shop,
                to: "13800138000",
                phone: Some(phone()),
                text: "【Shop】双11全场5折，回T退订",
                category: Category::Marketing,
                verdict: Verdict::Accepted,
                reasons: &[],
                decided_at: t("2026-11-11T02:00:00Z"),
                release_at: None,
                text_hash: 1,
                content_scores: None,
            },
            NewMessage {
                sender: shop,
                to: "13800138000",
                phone: Some(phone()),
                text: "【Shop】again",
                category: Category::Marketing,
                verdict: Verdict::Rejected,
                reasons: &reasons,
                decided_at: t("2026-11-11T02:30:00Z"),
                release_at: None,
                text_hash: 2,
                content_scores: None,
            },
        ])
        .unwrap();
    s.set_delivery(&[(ids[0], Delivery::Delivered, t("2026-11-11T02:00:01Z"))])
        .unwrap();
    s.append_consents(&[NewConsent {
        phone: phone(),
        scope: Scope::Sender,
        sender: Some(shop),
        action: ConsentAction::OptOut,
        source: ConsentSource::Reply,
        evidence: "T".into(),
        actor: "reply".into(),
        at: t("2026-11-11T03:00:00Z"),
    }])
    .unwrap();
    let m = SentMessage {
        message_id: ids[0],
        sender: shop,
        text: "【Shop】双11全场5折，回T退订".into(),
        category: Category::Marketing,
        status: Verdict::Accepted,
        reasons: Vec::new(),
        decided_at: t("2026-11-11T02:00:00Z"),
        sent_at: Some(t("2026-11-11T02:00:01Z")),
    };
    (shop, m)
}

#[test]
fn complaints_read_back_exactly_and_duplicates_conflict() {
    for (name, s, _dir) in backends() {
        let (shop, m) = setup(&s);
        let c = complaint("m:1", Some(shop), Some(&m));
        let (id, none) = s.insert_complaint(&c, None).unwrap();
        assert_eq!(none, None, "{name}");
        let back = s.complaint(id).unwrap().unwrap();
        assert_eq!(back.adjudication, c.adjudication, "{name}");
        assert_eq!(back.verdict(), ComplaintVerdict::Violation, "{name}");
        assert_eq!(back.note.as_deref(), Some("never agreed"), "{name}");
        assert_eq!(back.matched, c.matched, "{name}");
        assert_eq!(s.complaint_by_key("m:1").unwrap(), Some(id), "{name}");
        assert!(
            matches!(s.insert_complaint(&c, None), Err(StoreError::Conflict(_))),
            "{name}"
        );
        let all = ComplaintQuery {
            limit: 10,
            ..ComplaintQuery::default()
        };
        assert_eq!(s.complaints(&all).unwrap().len(), 1, "{name}");
        let other = ComplaintQuery {
            sender: Some(SenderId(99)),
            ..all
        };
        assert_eq!(s.complaints(&other).unwrap().len(), 0, "{name}");
        assert_eq!(
            s.complaints_from_phone_since(phone(), t("2026-11-11T00:00:00Z"))
                .unwrap(),
            1,
            "{name}"
        );
        assert_eq!(s.complaint(id + 1).unwrap(), None, "{name}");

        // An adjudication reads the events bearing on the sender: its own and platform-wide.
        let other = |sender: Option<SenderId>, scope| NewConsent {
            phone: phone(),
            scope,
            sender,
            action: ConsentAction::OptIn,
            source: ConsentSource::Web,
            evidence: String::new(),
            actor: "admin".into(),
            at: t("2026-11-12T00:00:00Z"),
        };
        s.append_consents(&[
            other(Some(SenderId(99)), Scope::Sender),
            other(None, Scope::Platform),
        ])
        .unwrap();
        let all = s.consent_history(phone()).unwrap();
        let mine = s.consent_events_for(phone(), shop).unwrap();
        assert_eq!(all.len(), 3, "{name}");
        let want: Vec<_> = all.into_iter().filter(|e| e.applies_to(shop)).collect();
        assert_eq!(mine, want, "{name}");
    }
}

#[test]
fn a_suspension_is_recorded_with_its_complaint_and_sets_the_flag() {
    for (name, s, _dir) in backends() {
        let (shop, m) = setup(&s);
        let susp = NewSuspension {
            sender: shop,
            action: SuspensionAction::Suspend,
            reason: "automatic: 3 violations".into(),
            actor: "enforcement".into(),
            at: t("2026-11-11T04:00:00Z"),
            complaint_id: None,
            activity: Some(Activity {
                marketing_sent: 1,
                opt_outs: 0,
                complaints: 1,
                violations: 1,
                upheld_phones: 1,
            }),
        };
        let (id, sid) = s
            .insert_complaint(&complaint("m:1", Some(shop), Some(&m)), Some(&susp))
            .unwrap();
        assert!(sid.is_some(), "{name}");
        assert!(s.senders().unwrap()[0].suspended, "{name}");
        let lift = NewSuspension {
            action: SuspensionAction::Lift,
            reason: "reviewed: consents re-collected".into(),
            actor: "admin".into(),
            complaint_id: None,
            activity: None,
            ..susp.clone()
        };
        assert!(s.record_suspension(&lift).unwrap().is_some(), "{name}");
        assert!(!s.senders().unwrap()[0].suspended, "{name}");
        let unknown = NewSuspension {
            sender: SenderId(404),
            ..lift.clone()
        };
        assert_eq!(s.record_suspension(&unknown).unwrap(), None, "{name}");
        let history = s.suspensions(shop).unwrap();
        assert_eq!(history.len(), 2, "{name}");
        assert_eq!(history[0].complaint_id, Some(id), "{name}");
        assert_eq!(history[0].activity, susp.activity, "{name}");
        assert_eq!(history[1].action, SuspensionAction::Lift, "{name}");
    }
}

#[test]
fn activity_and_period_figures_count_what_happened() {
    for (name, s, _dir) in backends() {
        let (shop, m) = setup(&s);
        // Only handed-off messages decided in the window are candidates.
        let sent = s
            .sent_to(
                phone(),
                t("2026-11-11T01:00:00Z"),
                t("2026-11-11T03:00:00Z"),
            )
            .unwrap();
        assert_eq!(
            sent.iter().map(|x| x.id).collect::<Vec<_>>(),
            [m.message_id],
            "{name}"
        );
        let day = s
            .marketing_sent_to(
                phone(),
                t("2026-11-11T01:00:00Z"),
                t("2026-11-11T03:00:00Z"),
            )
            .unwrap();
        assert_eq!(
            day,
            [(m.message_id, shop, t("2026-11-11T02:00:00Z"))],
            "{name}"
        );
        assert!(
            s.sent_to(
                phone(),
                t("2026-11-11T02:00:00.000001Z"),
                t("2026-11-11T03:00:00Z")
            )
            .unwrap()
            .is_empty(),
            "{name}"
        );
        s.insert_complaint(&complaint("m:1", Some(shop), Some(&m)), None)
            .unwrap();
        // An unverified complaint naming the shop is recorded but not counted against it.
        s.insert_complaint(&complaint("p:x", Some(shop), None), None)
            .unwrap();
        let since = t("2026-11-01T00:00:00Z");
        let a = s.sender_activity(shop, since).unwrap();
        assert_eq!(
            (
                a.marketing_sent,
                a.complaints,
                a.violations,
                a.upheld_phones
            ),
            (1, 1, 1, 1),
            "{name}"
        );
        // The rate counts phones with upheld complaints: the same consumer again, and a
        // complaint the ledger showed unfounded, add nothing to it.
        s.insert_complaint(&complaint("m:1 again", Some(shop), Some(&m)), None)
            .unwrap();
        let mut unfounded = complaint("m:1 unfounded", Some(shop), Some(&m));
        unfounded.adjudication.verdict = complaints::ComplaintVerdict::NoViolation;
        s.insert_complaint(&unfounded, None).unwrap();
        let a = s.sender_activity(shop, since).unwrap();
        assert_eq!(
            (a.complaints, a.violations, a.upheld_phones),
            (3, 2, 1),
            "{name}"
        );
        assert_eq!(a.complaint_rate_per_10k(), Some(10_000.0), "{name}");
        assert_eq!(
            s.opt_outs_since(shop, t("2000-01-01T00:00:00Z")).unwrap(),
            1,
            "{name}"
        );
        let (rows, platform) = s.period_figures(since, t("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!(platform.unverified_complaints, 1, "{name}");
        let r = &rows[0];
        assert_eq!((r.sent, r.marketing_sent, r.blocked), (1, 1, 1), "{name}");
        assert_eq!(r.blocked_by_reason.get("no_consent"), Some(&1), "{name}");
        assert_eq!((r.complaints, r.violations), (3, 2), "{name}");
        // The report's rate counts what enforcement counts: one phone, however often.
        assert_eq!(r.upheld_phones, 1, "{name}");
        let (empty, _) = s
            .period_figures(t("2026-12-01T00:00:00Z"), t("2026-12-02T00:00:00Z"))
            .unwrap();
        assert_eq!(empty[0].sent + empty[0].complaints, 0, "{name}");
    }
}

#[test]
fn complaints_and_suspensions_are_chained_and_a_changed_verdict_is_named() {
    for (_name, s, _guard) in backends() {
        chained_case(&s);
    }
}

fn chained_case(s: &Store) {
    use store::{AuditKind, AuditLog};
    let (shop, m) = setup(s);
    let before = s.audit_head().unwrap();
    let susp = NewSuspension {
        sender: shop,
        action: SuspensionAction::Suspend,
        reason: "automatic: 3 violations".into(),
        actor: "enforcement".into(),
        at: t("2026-11-11T04:00:00Z"),
        complaint_id: None,
        activity: None,
    };
    let (id, sid) = s
        .insert_complaint(&complaint("m:1", Some(shop), Some(&m)), Some(&susp))
        .unwrap();
    let lift = NewSuspension {
        action: SuspensionAction::Lift,
        reason: "reviewed".into(),
        actor: "admin".into(),
        ..susp
    };
    s.record_suspension(&lift).unwrap();
    let head = s.audit_head().unwrap();
    assert_eq!(
        head.records,
        before.records + 3,
        "complaint, suspension, lift"
    );
    let report = s.verify_audit().unwrap();
    assert_eq!(report.broken, None);
    assert_eq!(report.head, head.hash);
    let proof = s
        .audit_proof(AuditKind::Complaint, i64::try_from(id).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(proof.count, 1);
    assert!(
        s.audit_proof(
            AuditKind::SuspensionChange,
            i64::try_from(sid.unwrap()).unwrap()
        )
        .unwrap()
        .is_some()
    );

    // Someone with the database file turns the violation into a clearance.
    let sql = format!("UPDATE complaints SET verdict = 'no_violation' WHERE id = {id}");
    match s {
        Store::Sqlite(sq) => sq.with_writer(|c| Ok(c.execute_batch(&sql)?)).unwrap(),
        Store::Postgres(pg) => pg.execute_batch(&sql).unwrap(),
        _ => unreachable!(),
    }
    let broken = s.verify_audit().unwrap().broken.unwrap();
    assert_eq!(broken.table, Some("complaints"), "{broken}");
    assert_eq!(broken.row, Some(i64::try_from(id).unwrap()), "{broken}");
}

/// The queue's every filter and order, paged by offset (and newest first also by `before`),
/// reads back what the same filter and order over all the complaints say: the same on every
/// backend, with complaints naming no sender first in ascending sender order.
#[test]
fn the_queue_filters_sorts_and_pages_in_the_store() {
    for (name, s, _dir) in backends() {
        let (a, _) = setup(&s);
        let b = s
            .create_sender(&NewSender {
                name: "Other".into(),
                signature: "【Other】".into(),
                number_prefix: "1069000054321".into(),
                extension_digits: 4,
                api_key_hash: "h2".into(),
            })
            .unwrap()
            .id;
        let verdicts = [
            ComplaintVerdict::Violation,
            ComplaintVerdict::NoViolation,
            ComplaintVerdict::Unverified,
            ComplaintVerdict::Violation,
            ComplaintVerdict::Unverified,
        ];
        let senders = [Some(b), None, Some(a), Some(a), Some(b), None, Some(a)];
        let mut all = Vec::new();
        for i in 0..17 {
            let sender = senders[i % senders.len()];
            let verdict = verdicts[i % verdicts.len()];
            let mut c = complaint(&format!("q:{i}"), sender, None);
            c.adjudication.verdict = verdict;
            let (id, _) = s.insert_complaint(&c, None).unwrap();
            all.push((id, sender.map_or(0, |s| s.0), verdict.as_str()));
        }
        for sender in [None, Some(a)] {
            for verdict in [None, Some(ComplaintVerdict::Violation)] {
                for hide_unverified in [false, true] {
                    for column in ComplaintColumn::ALL {
                        for descending in [true, false] {
                            let mut want: Vec<_> = all
                                .iter()
                                .filter(|(_, s, v)| {
                                    sender.is_none_or(|x| x.0 == *s)
                                        && verdict.is_none_or(|x| x.as_str() == *v)
                                        && !(hide_unverified && *v == "unverified")
                                })
                                .copied()
                                .collect();
                            want.sort_by(|x, y| {
                                let by = match column {
                                    ComplaintColumn::Filed => x.0.cmp(&y.0),
                                    ComplaintColumn::Sender => (x.1, x.0).cmp(&(y.1, y.0)),
                                    ComplaintColumn::Verdict => (x.2, x.0).cmp(&(y.2, y.0)),
                                };
                                if descending { by.reverse() } else { by }
                            });
                            let want: Vec<u64> = want.into_iter().map(|w| w.0).collect();
                            let mut q = ComplaintQuery {
                                sender,
                                verdict,
                                hide_unverified,
                                sort: ComplaintSort { column, descending },
                                limit: 4,
                                ..ComplaintQuery::default()
                            };
                            let mut got = Vec::new();
                            loop {
                                let page = s.complaints(&q).unwrap();
                                got.extend(page.iter().map(|c| c.id));
                                if page.len() < 4 {
                                    break;
                                }
                                q.offset += 4;
                            }
                            assert_eq!(got, want, "{name} {q:?}");
                            if q.sort == ComplaintSort::default() {
                                q.offset = 0;
                                let mut got = Vec::new();
                                loop {
                                    let page = s.complaints(&q).unwrap();
                                    got.extend(page.iter().map(|c| c.id));
                                    match page.last() {
                                        Some(last) if page.len() == 4 => q.before = Some(last.id),
                                        _ => break,
                                    }
                                }
                                assert_eq!(got, want, "{name} by id {q:?}");
                            }
                        }
                    }
                }
            }
        }
    }
}

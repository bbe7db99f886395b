//! The conformance suite every backend must pass. Each check takes a fresh `Store`; add a
//! backend by adding a constructor to `backends()`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use domain::{Category, ConsentAction, ConsentSource, Msisdn, Region, Scope, SenderId, Timestamp};
use policy::{Decision, Reason, ReasonCode, Verdict};
use store::{
    ConsentLog, Delivery, Durability, KeyRing, KeyRole, MessageLog, NewConsent, NewMessage,
    NewSender, SenderRegistry, Store,
};

/// What keeps a backend's data alive for one test: a temporary directory or a PostgreSQL
/// schema (dropped after the store, which is declared before it).
type Guard = Option<Box<dyn std::any::Any>>;

fn backends() -> Vec<(&'static str, Store, Guard)> {
    backends_named("conformance")
}

fn backends_named(label: &str) -> Vec<(&'static str, Store, Guard)> {
    let dir = tempfile::tempdir().unwrap();
    let file = Store::open_sqlite(dir.path(), Durability::Normal).unwrap();
    let mut out: Vec<(&'static str, Store, Guard)> = vec![
        ("sqlite-memory", Store::open_in_memory().unwrap(), None),
        ("sqlite-file", file, Some(Box::new(dir))),
    ];
    if let Some(schema) = store::testing::fresh_schema(label) {
        let s = Store::open_postgres(&schema.opts).unwrap();
        out.push(("postgres", s, Some(Box::new(schema))));
    }
    out
}

/// Changes the database behind the store's back, as someone with its file or a SQL console
/// could.
fn tamper(s: &Store, sql: &str) {
    match s {
        Store::Sqlite(sq) => sq.with_writer(|c| Ok(c.execute_batch(sql)?)).unwrap(),
        Store::Postgres(pg) => pg.execute_batch(sql).unwrap(),
        _ => unreachable!("a backend this suite does not know"),
    }
}

fn phone(n: &str) -> Msisdn {
    Msisdn::parse(n, Region::CN).unwrap()
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn consent(p: Msisdn, sender: Option<u32>, action: ConsentAction, at: &str) -> NewConsent {
    NewConsent {
        phone: p,
        scope: if sender.is_some() {
            Scope::Sender
        } else {
            Scope::Platform
        },
        sender: sender.map(SenderId),
        action,
        source: ConsentSource::Web,
        evidence: "form 17".into(),
        actor: "admin".into(),
        at: t(at),
    }
}

#[test]
fn consent_log_appends_in_order_and_reads_back_exactly() {
    for (name, s, _dir) in backends() {
        let a = phone("13800138000");
        let b = phone("13900139000");
        let ev = s
            .append_consents(&[
                consent(
                    a,
                    Some(1),
                    ConsentAction::OptIn,
                    "2026-11-01T00:00:00.123456Z",
                ),
                consent(b, None, ConsentAction::OptOut, "2026-11-02T00:00:00Z"),
                consent(a, None, ConsentAction::OptOut, "2026-11-03T00:00:00Z"),
            ])
            .unwrap();
        assert!(ev[0].seq < ev[1].seq && ev[1].seq < ev[2].seq, "{name}");
        let hist = s.consent_history(a).unwrap();
        assert_eq!(hist.len(), 2, "{name}");
        assert_eq!(
            hist[0], ev[0],
            "{name}: round trip keeps microseconds and evidence"
        );
        assert_eq!(hist[1].scope, Scope::Platform);
        let mut seen = Vec::new();
        let n = s
            .scan_consents(&mut |p, sender, action, _, _| seen.push((p, sender, action)))
            .unwrap();
        assert_eq!(n, 3);
        // Each phone's events come in commit order; phones may come one after another.
        let of = |who| {
            seen.iter()
                .filter(|e| e.0 == who)
                .map(|e| (e.1, e.2))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            of(a),
            vec![
                (Some(SenderId(1)), ConsentAction::OptIn),
                (None, ConsentAction::OptOut)
            ],
            "{name}"
        );
        assert_eq!(of(b), vec![(None, ConsentAction::OptOut)], "{name}");
        assert_eq!(s.consent_count().unwrap(), 3);
    }
}

#[test]
fn senders_and_keys() {
    for (name, s, _dir) in backends() {
        let new = |n: &str| NewSender {
            name: n.into(),
            signature: format!("【{n}】"),
            number_prefix: "1069000012".into(),
            extension_digits: 1,
            api_key_hash: format!("hash-{n}"),
        };
        let a = s.create_sender(&new("A")).unwrap();
        let b = s.create_sender(&new("B")).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(
            (a.source_number.as_str(), b.source_number.as_str()),
            ("10690000121", "10690000122"),
            "{name}: the number is the prefix and the id"
        );
        // One digit holds senders 1-9: the tenth is refused and leaves nothing behind.
        for n in 3..=9 {
            s.create_sender(&new(&format!("S{n}"))).unwrap();
        }
        assert!(
            matches!(
                s.create_sender(&new("Z")),
                Err(store::StoreError::SenderNumbersFull { max: 9 })
            ),
            "{name}"
        );
        assert_eq!(s.senders().unwrap().len(), 9, "{name}");
        let keys = s.keys().unwrap();
        assert!(!keys.iter().any(|(h, _)| h == "hash-Z"), "{name}");
        // Suspension is derived from the chained changes (issue #14, item 3).
        use store::ComplaintLog;
        let change = |action| store::NewSuspension {
            sender: b.id,
            action,
            reason: "review".into(),
            actor: "admin".into(),
            at: t("2026-11-11T04:00:00Z"),
            complaint_id: None,
            activity: None,
        };
        s.record_suspension(&change(complaints::SuspensionAction::Suspend))
            .unwrap();
        let all = s.senders().unwrap();
        assert!(all[1].suspended && !all[0].suspended, "{name}");
        // The column is a cache: editing it changes nothing, and verify names the sender.
        tamper(
            &s,
            &format!("UPDATE senders SET suspended = FALSE WHERE id = {}", b.id),
        );
        assert!(s.senders().unwrap()[1].suspended, "{name}");
        let broken = store::AuditLog::verify_audit(&s).unwrap().broken.unwrap();
        assert_eq!(
            (broken.table, broken.row),
            (Some("senders"), Some(i64::from(b.id.0))),
            "{name}: {broken}"
        );
        tamper(
            &s,
            &format!("UPDATE senders SET suspended = TRUE WHERE id = {}", b.id),
        );
        assert_eq!(
            store::AuditLog::verify_audit(&s).unwrap().broken,
            None,
            "{name}"
        );
        s.record_suspension(&change(complaints::SuspensionAction::Lift))
            .unwrap();
        assert!(!s.senders().unwrap()[1].suspended, "{name}");
        s.put_key("hash-admin", KeyRole::Admin).unwrap();
        let keys = s.keys().unwrap();
        assert!(keys.contains(&("hash-A".into(), KeyRole::Sender(a.id))));
        assert!(keys.contains(&("hash-admin".into(), KeyRole::Admin)));
    }
}

#[test]
fn messages_decisions_delivery_and_inbox() {
    for (name, s, _dir) in backends() {
        let p = phone("13800138000");
        let reasons = [Reason::new(ReasonCode::QuietHours, "night")];
        let m = |verdict, reasons: &'static [Reason]| NewMessage {
            sender: SenderId(1),
            to: "13800138000",
            phone: Some(p),
            text: "【A】hi",
            category: Category::Marketing,
            verdict,
            reasons,
            decided_at: t("2026-11-11T03:00:00Z"),
            release_at: None,
            text_hash: u64::MAX - 1,
            content_scores: None,
        };
        let ids = s
            .insert_messages(&[m(Verdict::Accepted, &[]), m(Verdict::Rejected, &[])])
            .unwrap();
        let mut deferred = m(Verdict::Deferred, &[]);
        deferred.reasons = &reasons;
        deferred.release_at = Some(t("2026-11-12T00:00:00Z"));
        let d = s.insert_messages(&[deferred]).unwrap()[0];
        assert_eq!(
            s.message(ids[1]).unwrap().unwrap().delivery,
            Delivery::NotSent,
            "{name}"
        );
        let rec = s.message(d).unwrap().unwrap();
        assert_eq!(rec.reasons, reasons);
        assert_eq!(rec.content_scores, None, "{name}");
        let mut scored = m(Verdict::Rejected, &[]);
        scored.content_scores = Some(r#"{"category":"marketing","scores":{"marketing":0.97}}"#);
        let sc = s.insert_messages(&[scored]).unwrap()[0];
        assert_eq!(
            s.message(sc).unwrap().unwrap().content_scores,
            Some(serde_json::json!({"category": "marketing", "scores": {"marketing": 0.97}})),
            "{name}: content scores kept beside the decision"
        );
        assert_eq!(rec.release_at, Some(t("2026-11-12T00:00:00Z")));
        let pending: Vec<u64> = s.pending().unwrap().iter().map(|r| r.id).collect();
        assert_eq!(pending, vec![ids[0], d], "{name}");
        s.set_delivery(&[(ids[0], Delivery::Delivered, t("2026-11-11T03:00:01Z"))])
            .unwrap();
        let inbox = s.inbox(p).unwrap();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].id, ids[0]);
        let cancel = Decision::from_reasons(
            vec![Reason::new(ReasonCode::OptedOut, "x")],
            None,
            true,
            Category::Marketing,
        );
        s.redecide(d, &cancel, t("2026-11-11T04:00:00Z")).unwrap();
        let rec = s.message(d).unwrap().unwrap();
        assert_eq!(
            (rec.status, rec.delivery),
            (Verdict::Rejected, Delivery::NotSent),
            "{name}"
        );
        assert_eq!(rec.submitted_at, t("2026-11-11T03:00:00Z"));
        let recent = s.recent_sends(t("2026-11-11T00:00:00Z")).unwrap();
        assert_eq!(recent.len(), 1);
        assert_eq!(
            recent[0].text_hash,
            u64::MAX - 1,
            "{name}: hash bits survive"
        );
        assert!(s.message(999_999).unwrap().is_none());
    }
}

#[test]
fn a_committed_event_is_in_the_file_for_the_next_process() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open_sqlite(dir.path(), Durability::Full).unwrap();
        s.append_consents(&[consent(
            phone("13800138000"),
            None,
            ConsentAction::OptOut,
            "2026-11-11T00:00:00Z",
        )])
        .unwrap();
        // Dropped without any shutdown step.
        std::mem::forget(s);
    }
    let s = Store::open_sqlite(dir.path(), Durability::Full).unwrap();
    assert_eq!(s.consent_count().unwrap(), 1);
}

#[test]
fn cmpp_accounts_are_found_by_source_addr_and_replaced_per_sender() {
    use store::CmppRegistry;
    for (name, s, _dir) in backends() {
        assert_eq!(s.cmpp_account("000001").unwrap(), None, "{name}");
        s.put_cmpp_account("000001", SenderId(1), "secret-a")
            .unwrap();
        s.put_cmpp_account("000002", SenderId(2), "secret-b")
            .unwrap();
        assert_eq!(
            s.cmpp_account("000001").unwrap(),
            Some((SenderId(1), "secret-a".into())),
            "{name}"
        );
        // Re-issuing replaces the sender's old account; the other sender keeps its own.
        s.put_cmpp_account("00000A", SenderId(1), "secret-c")
            .unwrap();
        assert_eq!(s.cmpp_account("000001").unwrap(), None, "{name}");
        assert_eq!(
            s.cmpp_account("00000A").unwrap(),
            Some((SenderId(1), "secret-c".into())),
            "{name}"
        );
        assert_eq!(
            s.cmpp_account("000002").unwrap(),
            Some((SenderId(2), "secret-b".into())),
            "{name}"
        );
        // Source_Addr is compared exactly: CMPP sends it as written.
        assert_eq!(s.cmpp_account("00000a").unwrap(), None, "{name}");
    }
}

#[test]
fn smpp_credentials_and_carrier_ids() {
    use store::SmppRegistry;
    for (name, s, _dir) in backends() {
        assert_eq!(s.smpp_credential("cs1").unwrap(), None, "{name}");
        s.put_smpp_credential("cs1", SenderId(1), "hash-a").unwrap();
        assert_eq!(
            s.smpp_credential("cs1").unwrap(),
            Some((SenderId(1), "hash-a".into())),
            "{name}"
        );
        // Re-issuing replaces the sender's old credential.
        s.put_smpp_credential("cs1b", SenderId(1), "hash-b")
            .unwrap();
        assert_eq!(s.smpp_credential("cs1").unwrap(), None, "{name}");
        assert_eq!(
            s.smpp_credential("cs1b").unwrap(),
            Some((SenderId(1), "hash-b".into())),
            "{name}"
        );

        s.put_carrier_ids("c1", &[("AB12".into(), 7), ("99".into(), 8)])
            .unwrap();
        assert_eq!(
            s.message_by_carrier_id("c1", "ab12").unwrap(),
            Some(7),
            "{name}"
        );
        assert_eq!(
            s.message_by_carrier_id("c1", "99").unwrap(),
            Some(8),
            "{name}"
        );
        assert_eq!(s.message_by_carrier_id("c2", "99").unwrap(), None, "{name}");
    }
}

#[test]
fn replies_are_replayable_notices_claimed_once_and_links_found_by_hash() {
    use store::{LinkRecord, NewReply, ReplyLog, UnsubscribeLinks};
    for (name, s, _dir) in backends() {
        let p = phone("13800138000");
        let reply = NewReply {
            key: Some("k1"),
            phone: p,
            to: "10690000123450001",
            text: "T",
            received_at: t("2026-11-11T03:00:00Z"),
            intent: "opt_out",
            outcome: r#"{"intent":"opt_out"}"#,
        };
        assert_eq!(s.reply_outcome("k1").unwrap(), None, "{name}");
        let id = s.record_reply(&reply).unwrap();
        assert!(id > 0);
        assert_eq!(
            s.reply_outcome("k1").unwrap(),
            Some((id, r#"{"intent":"opt_out"}"#.to_string())),
            "{name}"
        );
        assert!(
            matches!(s.record_reply(&reply), Err(store::StoreError::Conflict(_))),
            "{name}: a replay key is recorded once"
        );
        let unkeyed = NewReply { key: None, ..reply };
        assert_ne!(
            s.record_reply(&unkeyed).unwrap(),
            s.record_reply(&unkeyed).unwrap()
        );

        assert!(s.claim_notice(p, 1, "opt_out", 20_000).unwrap(), "{name}");
        assert!(!s.claim_notice(p, 1, "opt_out", 20_000).unwrap(), "{name}");
        assert!(s.claim_notice(p, 1, "help", 20_000).unwrap());
        assert!(s.claim_notice(p, 2, "opt_out", 20_000).unwrap());
        assert!(s.claim_notice(p, 1, "opt_out", 20_001).unwrap());

        let link = LinkRecord {
            token_hash: "ab".repeat(32),
            phone: p,
            sender: SenderId(3),
            created_at: t("2026-11-11T03:00:00Z"),
        };
        s.put_links(std::slice::from_ref(&link)).unwrap();
        assert_eq!(s.link(&link.token_hash).unwrap(), Some(link), "{name}");
        assert_eq!(s.link("cd").unwrap(), None);
    }
}

#[test]
fn marketing_senders_are_those_whose_marketing_was_not_refused_in_the_window() {
    use store::ReplyLog;
    for (name, s, _dir) in backends() {
        let p = phone("13800138000");
        let other = phone("13900139000");
        let msg = |sender: u32, to: Msisdn, category, verdict, at: &str| NewMessage {
            sender: SenderId(sender),
            to: "x",
            phone: Some(to),
            text: "【A】hi",
            category,
            verdict,
            reasons: &[],
            decided_at: t(at),
            release_at: None,
            text_hash: 1,
            content_scores: None,
        };
        let ids = s
            .insert_messages(&[
                msg(
                    1,
                    p,
                    Category::Marketing,
                    Verdict::Accepted,
                    "2026-11-10T00:00:00Z",
                ),
                msg(
                    2,
                    p,
                    Category::Marketing,
                    Verdict::Rejected,
                    "2026-11-10T00:00:00Z",
                ),
                msg(
                    3,
                    p,
                    Category::Transactional,
                    Verdict::Accepted,
                    "2026-11-10T00:00:00Z",
                ),
                msg(
                    4,
                    p,
                    Category::Marketing,
                    Verdict::Accepted,
                    "2026-09-01T00:00:00Z",
                ),
                msg(
                    5,
                    other,
                    Category::Marketing,
                    Verdict::Accepted,
                    "2026-11-10T00:00:00Z",
                ),
                msg(
                    6,
                    p,
                    Category::Marketing,
                    Verdict::Deferred,
                    "2026-11-10T00:00:00Z",
                ),
                msg(
                    7,
                    p,
                    Category::Marketing,
                    Verdict::Accepted,
                    "2026-11-10T00:00:00Z",
                ),
            ])
            .unwrap();
        s.set_delivery(&[(ids[0], Delivery::Delivered, t("2026-11-10T00:00:01Z"))])
            .unwrap();
        let cancel = Decision::from_reasons(
            vec![Reason::new(ReasonCode::OptedOut, "x")],
            None,
            true,
            Category::Marketing,
        );
        s.redecide(ids[6], &cancel, t("2026-11-10T00:00:02Z"))
            .unwrap();
        let senders = s.marketing_senders(p, t("2026-10-12T00:00:00Z")).unwrap();
        assert_eq!(senders, vec![SenderId(1), SenderId(6)], "{name}");
    }
}

#[test]
fn a_late_submitted_does_not_undo_a_receipt() {
    for (name, s, _dir) in backends() {
        let ids = s
            .insert_messages(&[NewMessage {
                sender: SenderId(1),
                to: "13800138000",
                phone: Some(phone("13800138000")),
                text: "hi",
                category: Category::Transactional,
                verdict: Verdict::Accepted,
                reasons: &[],
                decided_at: t("2026-11-01T00:00:00Z"),
                release_at: None,
                text_hash: 1,
                content_scores: None,
            }])
            .expect("insert");
        let at = t("2026-11-01T00:00:01Z");
        s.set_delivery(&[(ids[0], Delivery::Delivered, at)])
            .expect("receipt");
        s.set_delivery(&[(ids[0], Delivery::Submitted, at)])
            .expect("hand-off recorded late");
        let m = s.message(ids[0]).expect("read").expect("row");
        assert_eq!(m.delivery, Delivery::Delivered, "{name}");
        s.set_delivery(&[(ids[0], Delivery::Failed, at)])
            .expect("later receipt");
        let m = s.message(ids[0]).expect("read").expect("row");
        assert_eq!(m.delivery, Delivery::Failed, "{name}");
    }
}

#[test]
fn audit_chain_names_the_row_changed_behind_its_back() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_sqlite(dir.path(), Durability::Normal).unwrap();
    audit_case("sqlite-file", sqlite, &|| {
        Store::open_sqlite(dir.path(), Durability::Normal).unwrap()
    });
    if let Some(schema) = store::testing::fresh_schema("audit_chain") {
        let pg = Store::open_postgres(&schema.opts).unwrap();
        audit_case("postgres", pg, &|| {
            Store::open_postgres(&schema.opts).unwrap()
        });
    }
}

fn audit_case(name: &str, s: Store, reopen: &dyn Fn() -> Store) {
    use store::{AuditKind, AuditLog};
    let p = phone("13800138000");
    assert_eq!(s.audit_head().unwrap().records, 0);
    s.append_consents(&[
        consent(p, Some(1), ConsentAction::OptIn, "2026-11-01T00:00:00Z"),
        consent(p, None, ConsentAction::OptOut, "2026-11-02T00:00:00Z"),
        consent(p, Some(2), ConsentAction::OptIn, "2026-11-03T00:00:00Z"),
    ])
    .unwrap();
    let msg = NewMessage {
        sender: SenderId(1),
        to: "13800138000",
        phone: Some(p),
        text: "【A】hi",
        category: Category::Transactional,
        verdict: Verdict::Accepted,
        reasons: &[],
        decided_at: t("2026-11-11T03:00:00Z"),
        release_at: None,
        text_hash: 7,
        content_scores: None,
    };
    let ids = s.insert_messages(&[msg.clone(), msg]).unwrap();
    let cancel = Decision::from_reasons(
        vec![Reason::new(ReasonCode::OptedOut, "x")],
        None,
        true,
        Category::Marketing,
    );
    s.redecide(ids[1], &cancel, t("2026-11-11T04:00:00Z"))
        .unwrap();
    let head = s.audit_head().unwrap();
    assert_eq!((head.blocks, head.records), (3, 6));
    let report = s.verify_audit().unwrap();
    assert_eq!(report.broken, None);
    assert_eq!(
        report.head, head.hash,
        "the recomputed head equals the live one"
    );
    // The re-decision did not disturb the chained first decision; the current status moved on.
    assert_eq!(
        s.message(ids[1]).unwrap().unwrap().status,
        Verdict::Rejected
    );
    let proof = s.audit_proof(AuditKind::ConsentEvent, 2).unwrap().unwrap();
    assert_eq!((proof.block, proof.count, proof.digests.len()), (1, 3, 3));
    drop(s);

    // The chain survives a restart and goes on from its head.
    let s = reopen();
    assert_eq!(s.audit_head().unwrap(), head, "{name}");

    // Someone turns an opt-out into an opt-in with plain SQL.
    tamper(
        &s,
        "UPDATE consent_events SET action = 'opt_in' WHERE seq = 2",
    );
    let broken = s.verify_audit().unwrap().broken.unwrap();
    assert_eq!(
        (broken.table, broken.row, broken.block),
        (Some("consent_events"), Some(2), 1),
        "{broken}"
    );
    tamper(
        &s,
        "UPDATE consent_events SET action = 'opt_out' WHERE seq = 2",
    );
    assert_eq!(s.verify_audit().unwrap().broken, None);
    // A deleted decision is named too.
    tamper(&s, &format!("DELETE FROM messages WHERE id = {}", ids[0]));
    let broken = s.verify_audit().unwrap().broken.unwrap();
    assert_eq!(
        (broken.table, broken.row),
        (Some("messages"), Some(ids[0] as i64)),
        "{broken}"
    );
}

#[test]
fn handoffs_without_a_carrier_id_are_found_for_resending() {
    use store::SmppRegistry;
    for (name, s, _dir) in backends() {
        let msg = |to| NewMessage {
            sender: SenderId(3),
            to,
            phone: Some(phone(to)),
            text: "【店】取件码 1234",
            category: Category::Verification,
            verdict: Verdict::Accepted,
            reasons: &[],
            decided_at: t("2026-11-01T00:00:00Z"),
            release_at: None,
            text_hash: 7,
            content_scores: None,
        };
        let ids = s
            .insert_messages(&[msg("13800138000"), msg("13900139000"), msg("13700137000")])
            .expect("insert");
        let at = t("2026-11-01T00:00:01Z");
        s.set_delivery(&[
            (ids[0], Delivery::Submitted, at),
            (ids[1], Delivery::Submitted, at),
        ])
        .expect("handed off");
        s.put_carrier_ids("c1", &[("ab".into(), ids[1])])
            .expect("acknowledged");
        let found = s
            .unacknowledged_handoffs(t("2026-10-31T00:00:00Z"))
            .expect("query");
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0].id, ids[0], "{name}");
        assert_eq!(found[0].sender, SenderId(3), "{name}");
        assert_eq!(found[0].phone, phone("13800138000"), "{name}");
        assert_eq!(found[0].text, "【店】取件码 1234", "{name}");
        assert_eq!(found[0].category, Category::Verification, "{name}");
        assert_eq!(found[0].acknowledged_parts, 0, "{name}");
        assert!(
            s.unacknowledged_handoffs(t("2026-11-02T00:00:00Z"))
                .expect("query")
                .is_empty(),
            "{name}"
        );
        // A long text (three UCS-2 segments) with one part acknowledged is still found, with
        // its count; with all three it is not.
        let long = "【店】".to_owned() + &"双十一快递取件提醒".repeat(20);
        let long_ids = s
            .insert_messages(&[
                NewMessage {
                    text: &long,
                    ..msg("13600136000")
                },
                NewMessage {
                    text: &long,
                    ..msg("13500135000")
                },
            ])
            .expect("insert");
        s.set_delivery(&[
            (long_ids[0], Delivery::Submitted, at),
            (long_ids[1], Delivery::Submitted, at),
        ])
        .expect("handed off");
        s.put_carrier_ids("c1", &[("p1".into(), long_ids[0])])
            .expect("one part");
        s.put_carrier_ids(
            "c1",
            &[
                ("q1".into(), long_ids[1]),
                ("q2".into(), long_ids[1]),
                ("q3".into(), long_ids[1]),
            ],
        )
        .expect("every part");
        let found = s
            .unacknowledged_handoffs(t("2026-10-31T00:00:00Z"))
            .expect("query");
        let parts: Vec<(u64, u32)> = found.iter().map(|h| (h.id, h.acknowledged_parts)).collect();
        assert_eq!(parts, [(ids[0], 0), (long_ids[0], 1)], "{name}");
    }
}

/// Issue #14, item 1: `DELETE FROM audit_blocks` read as intact (rows older than the first
/// block were "from before the chain"), so did rows left unchained by a restart that began a
/// new chain, and so did cutting the end off with its rows (nothing outside the database
/// anchored the head).
#[test]
fn audit_verify_reports_an_emptied_chain_unchained_rows_and_a_cut_off_end() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_sqlite(dir.path(), Durability::Normal).unwrap();
    emptied_case("sqlite-file", sqlite, &|| {
        Store::open_sqlite(dir.path(), Durability::Normal).unwrap()
    });
    if let Some(schema) = store::testing::fresh_schema("audit_emptied") {
        let pg = Store::open_postgres(&schema.opts).unwrap();
        emptied_case("postgres", pg, &|| {
            Store::open_postgres(&schema.opts).unwrap()
        });
    }
}

fn emptied_case(name: &str, s: Store, reopen: &dyn Fn() -> Store) {
    use store::{AuditAnchor, AuditLog};
    let p = phone("13800138000");
    let anchor = |h: &store::AuditHead| AuditAnchor {
        blocks: Some(h.blocks),
        hash: h.hash.clone(),
    };
    s.append_consents(&[consent(
        p,
        Some(1),
        ConsentAction::OptIn,
        "2026-11-01T00:00:00Z",
    )])
    .unwrap();
    let first = s.audit_head().unwrap();
    s.append_consents(&[consent(
        p,
        None,
        ConsentAction::OptOut,
        "2026-11-02T00:00:00Z",
    )])
    .unwrap();
    let second = s.audit_head().unwrap();
    let report = s
        .verify_audit_against(&[anchor(&first), anchor(&second)])
        .unwrap();
    assert_eq!((report.broken, report.anchors_matched), (None, 2), "{name}");
    // A bare hash (no block number) is found too; a head from elsewhere is not.
    let bare = AuditAnchor {
        blocks: None,
        hash: second.hash.clone(),
    };
    assert_eq!(s.verify_audit_against(&[bare]).unwrap().broken, None);
    let foreign = AuditAnchor {
        blocks: Some(1),
        hash: second.hash.clone(),
    };
    let broken = s.verify_audit_against(&[foreign]).unwrap().broken.unwrap();
    assert!(broken.why.contains("anchored head"), "{name}: {broken}");
    drop(s);

    // The end is cut off together with its rows: self-consistent, but not what was published.
    let s = reopen();
    tamper(&s, "DELETE FROM consent_events WHERE seq = 2");
    tamper(&s, "DELETE FROM audit_blocks WHERE seq = 2");
    if matches!(s, Store::Postgres(_)) {
        tamper(
            &s,
            &format!(
                "UPDATE audit_heads SET next_seq = 2, records = 1, head = decode('{}', 'hex')",
                first.hash
            ),
        );
    }
    assert_eq!(s.verify_audit().unwrap().broken, None, "{name}");
    let broken = s
        .verify_audit_against(&[anchor(&first), anchor(&second)])
        .unwrap()
        .broken
        .unwrap();
    assert!(
        broken.why.contains(&second.hash) && broken.why.contains("cut off"),
        "{name}: {broken}"
    );
    drop(s);

    // Every block is deleted: an empty chain over a table with rows is broken.
    let s = reopen();
    tamper(&s, "DELETE FROM audit_blocks");
    if matches!(s, Store::Postgres(_)) {
        tamper(
            &s,
            "UPDATE audit_heads SET next_seq = 1, records = 0, head = decode(repeat('00', 32), 'hex')",
        );
    }
    let broken = s.verify_audit().unwrap().broken.unwrap();
    assert_eq!(
        (broken.table, broken.row),
        (Some("consent_events"), Some(1)),
        "{name}: {broken}"
    );
    drop(s);

    // After a restart a new event begins a new chain; the older row is still unchained.
    let s = reopen();
    s.append_consents(&[consent(
        p,
        None,
        ConsentAction::OptIn,
        "2026-11-03T00:00:00Z",
    )])
    .unwrap();
    let broken = s.verify_audit().unwrap().broken.unwrap();
    assert_eq!(
        (broken.table, broken.row),
        (Some("consent_events"), Some(1)),
        "{name}: {broken}"
    );
}

/// Issue #14, item 4: the index rebuilt at start must know which events the consumer gave
/// themselves, or a merchant's stored opt-in would lift the consumer's refusal after a restart.
#[test]
fn scans_say_which_events_the_consumer_gave_themselves() {
    for (name, s, _dir) in backends_named("scan_by_consumer") {
        let p = phone("13800138000");
        let mut events = Vec::new();
        for actor in ["reply", "sender:1", "consumer", "import", "link", "admin"] {
            let mut e = consent(p, Some(1), ConsentAction::OptOut, "2026-11-01T00:00:00Z");
            e.actor = actor.into();
            events.push(e);
        }
        s.append_consents(&events).unwrap();
        let mut own = Vec::new();
        s.scan_consents(&mut |_, _, _, _, by_consumer| own.push(by_consumer))
            .unwrap();
        assert_eq!(own, [true, false, true, false, true, true], "{name}");
        let mut part = Vec::new();
        s.scan_partition(1, 0, &mut |_, _, _, _, by_consumer| part.push(by_consumer))
            .unwrap();
        assert_eq!(part, own, "{name}");
    }
}

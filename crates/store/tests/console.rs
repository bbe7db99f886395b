//! Conformance of the console role (`ConsoleAccounts`) on every backend: accounts, sessions
//! with idle expiry, failed sign-in counts, the message search and key replacement.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use domain::{Category, Msisdn, Region, SenderId, Timestamp};
use policy::Verdict;
use store::{
    AccountRole, ConsoleAccounts, Durability, KeyRing, KeyRole, MessageLog, MessageQuery,
    NewAccount, NewMessage, SessionRecord, Store, StoreError,
};

type Guard = Option<Box<dyn std::any::Any>>;

fn backends(label: &str) -> Vec<(&'static str, Store, Guard)> {
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

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn account(name: &str, role: AccountRole) -> NewAccount {
    NewAccount {
        name: name.into(),
        role,
        password_hash: "$argon2id$v=19$m=8192,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: t("2026-12-01T00:00:00.000123Z"),
    }
}

#[test]
fn accounts_are_unique_by_name_and_merchants_have_one_each() {
    for (name, s, _g) in backends("console_accounts") {
        let a = s
            .create_account(&account("li", AccountRole::Operator))
            .unwrap();
        let b = s
            .create_account(&account("audit", AccountRole::Auditor))
            .unwrap();
        let m = s
            .create_account(&account("shop7", AccountRole::Merchant(SenderId(7))))
            .unwrap();
        assert!(a.id != b.id && b.id != m.id, "{name}");
        assert_eq!(s.account_by_name("li").unwrap().unwrap(), a, "{name}");
        assert_eq!(
            s.account(m.id).unwrap().unwrap().role,
            AccountRole::Merchant(SenderId(7))
        );
        assert!(s.account_by_name("nobody").unwrap().is_none(), "{name}");
        assert!(s.account(u64::MAX).unwrap().is_none(), "{name}");
        assert!(
            matches!(
                s.create_account(&account("li", AccountRole::Auditor)),
                Err(StoreError::Conflict(_))
            ),
            "{name}: a taken name"
        );
        assert!(
            matches!(
                s.create_account(&account("shop7b", AccountRole::Merchant(SenderId(7)))),
                Err(StoreError::Conflict(_))
            ),
            "{name}: a second account for one merchant"
        );
        assert_eq!(s.accounts().unwrap().len(), 3, "{name}");
    }
}

#[test]
fn sessions_are_found_by_hash_touched_and_ended_when_idle_or_old() {
    for (name, s, _g) in backends("console_sessions") {
        let session = |h: &str, created: &str| SessionRecord {
            token_hash: h.into(),
            account: 1,
            csrf: format!("csrf-{h}"),
            created_at: t(created),
            last_seen: t(created),
        };
        s.put_session(&session("a", "2026-12-01T10:00:00Z"))
            .unwrap();
        s.put_session(&session("b", "2026-12-01T10:00:00Z"))
            .unwrap();
        s.put_session(&session("c", "2026-11-30T00:00:00Z"))
            .unwrap();
        assert_eq!(s.session("a").unwrap().unwrap().csrf, "csrf-a", "{name}");
        s.touch_session("a", t("2026-12-01T10:40:00Z")).unwrap();
        // An older touch never moves last_seen back (two nodes may touch out of order).
        s.touch_session("a", t("2026-12-01T10:20:00Z")).unwrap();
        assert_eq!(
            s.session("a").unwrap().unwrap().last_seen,
            t("2026-12-01T10:40:00Z"),
            "{name}"
        );
        // Idle since before 10:30 (b), or created before yesterday noon (c).
        let ended = s
            .end_stale_sessions(t("2026-12-01T10:30:00Z"), t("2026-11-30T12:00:00Z"))
            .unwrap();
        assert_eq!(ended, 2, "{name}");
        assert!(s.session("b").unwrap().is_none(), "{name}");
        assert!(s.session("c").unwrap().is_none(), "{name}");
        s.end_session("a").unwrap();
        assert!(s.session("a").unwrap().is_none(), "{name}");
    }
}

#[test]
fn signin_failures_count_per_subject_in_the_window_and_clear() {
    for (name, s, _g) in backends("console_failures") {
        for minute in 0..4 {
            s.record_signin_failure(
                &["account:li", "addr:10.0.0.1"],
                t(&format!("2026-12-01T10:0{minute}:00Z")),
            )
            .unwrap();
        }
        s.record_signin_failure(&["addr:10.0.0.1"], t("2026-12-01T10:05:00Z"))
            .unwrap();
        let since = t("2026-12-01T10:01:00Z");
        assert_eq!(s.signin_failures("account:li", since).unwrap(), 3, "{name}");
        assert_eq!(
            s.signin_failures("addr:10.0.0.1", since).unwrap(),
            4,
            "{name}"
        );
        s.clear_signin_failures("account:li", t("2026-12-01T10:00:30Z"))
            .unwrap();
        assert_eq!(s.signin_failures("account:li", since).unwrap(), 0, "{name}");
        // The address keeps its recent failures; the one older than the cut is gone.
        assert_eq!(
            s.signin_failures("addr:10.0.0.1", t("2026-12-01T00:00:00Z"))
                .unwrap(),
            4,
            "{name}"
        );
    }
}

#[test]
fn message_search_narrows_by_phone_sender_status_and_pages_by_id() {
    for (name, s, _g) in backends("console_search") {
        let p1 = Msisdn::parse("13800138000", Region::CN).unwrap();
        let p2 = Msisdn::parse("13900139000", Region::CN).unwrap();
        let msg = |sender: u32, phone: Msisdn, verdict| NewMessage {
            sender: SenderId(sender),
            to: "x",
            phone: Some(phone),
            text: "【A】hi",
            category: Category::Marketing,
            verdict,
            reasons: &[],
            decided_at: t("2026-11-11T03:00:00Z"),
            release_at: None,
            text_hash: 1,
            content_scores: None,
        };
        let ids = s
            .insert_messages(&[
                msg(1, p1, Verdict::Accepted),
                msg(1, p2, Verdict::Rejected),
                msg(2, p1, Verdict::Rejected),
                msg(1, p1, Verdict::Rejected),
            ])
            .unwrap();
        let search = |q: MessageQuery| -> Vec<u64> {
            s.search_messages(&q)
                .unwrap()
                .iter()
                .map(|m| m.id)
                .collect()
        };
        let all = MessageQuery {
            limit: 50,
            ..MessageQuery::default()
        };
        assert_eq!(
            search(all.clone()),
            vec![ids[3], ids[2], ids[1], ids[0]],
            "{name}"
        );
        assert_eq!(
            search(MessageQuery {
                phone: Some(p1),
                sender: Some(SenderId(1)),
                ..all.clone()
            }),
            vec![ids[3], ids[0]],
            "{name}"
        );
        assert_eq!(
            search(MessageQuery {
                status: Some(Verdict::Rejected),
                limit: 2,
                ..all.clone()
            }),
            vec![ids[3], ids[2]],
            "{name}: newest first, limited"
        );
        assert_eq!(
            search(MessageQuery {
                status: Some(Verdict::Rejected),
                before: Some(ids[2]),
                ..all.clone()
            }),
            vec![ids[1]],
            "{name}: the next page"
        );
        let day = (t("2026-11-11T00:00:00Z"), t("2026-11-12T00:00:00Z"));
        assert_eq!(
            s.decision_counts(day.0, day.1, None).unwrap(),
            vec![(Verdict::Accepted, 1), (Verdict::Rejected, 3)],
            "{name}"
        );
        assert_eq!(
            s.decision_counts(day.0, day.1, Some(SenderId(2))).unwrap(),
            vec![(Verdict::Rejected, 1)],
            "{name}"
        );
        assert!(
            s.decision_counts(day.1, t("2026-11-13T00:00:00Z"), None)
                .unwrap()
                .is_empty()
        );
        assert!(
            search(MessageQuery {
                sender: Some(SenderId(9)),
                ..all
            })
            .is_empty(),
            "{name}"
        );
    }
}

#[test]
fn replacing_a_senders_key_drops_its_old_keys_only() {
    for (name, s, _g) in backends("console_keys") {
        s.put_key("old1", KeyRole::Sender(SenderId(3))).unwrap();
        s.put_key("old2", KeyRole::Sender(SenderId(3))).unwrap();
        s.put_key("other", KeyRole::Sender(SenderId(4))).unwrap();
        s.put_key("adm", KeyRole::Admin).unwrap();
        s.replace_sender_key(SenderId(3), "new").unwrap();
        let mut keys: Vec<String> = s.keys().unwrap().into_iter().map(|(h, _)| h).collect();
        keys.sort();
        assert_eq!(keys, vec!["adm", "new", "other"], "{name}");
    }
}

#[test]
fn message_lists_filter_by_reason_category_and_day_and_sort_either_way() {
    use policy::{Reason, ReasonCode};
    use store::{MessageColumn, MessageSort};
    for (name, s, _g) in backends("console_lists") {
        let p1 = Msisdn::parse("13800138000", Region::CN).unwrap();
        let p2 = Msisdn::parse("13900139000", Region::CN).unwrap();
        let no_consent = [Reason::new(ReasonCode::NoConsent, "none")];
        let quiet = [Reason::new(ReasonCode::QuietHours, "night")];
        // A code that contains another's name must not match it (`opted_out` in no reason
        // here; `no_consent` only where given).
        let msg = |sender: u32, phone: Msisdn, verdict, reasons, category, at: &str| NewMessage {
            sender: SenderId(sender),
            to: "x",
            phone: Some(phone),
            text: "【A】hi",
            category,
            verdict,
            reasons,
            decided_at: t(at),
            release_at: None,
            text_hash: 1,
            content_scores: None,
        };
        let ids = s
            .insert_messages(&[
                msg(
                    2,
                    p1,
                    Verdict::Accepted,
                    &[],
                    Category::Transactional,
                    "2026-11-10T09:00:00Z",
                ),
                msg(
                    1,
                    p2,
                    Verdict::Rejected,
                    &no_consent,
                    Category::Marketing,
                    "2026-11-11T09:00:00Z",
                ),
                msg(
                    3,
                    p1,
                    Verdict::Deferred,
                    &quiet,
                    Category::Marketing,
                    "2026-11-11T23:00:00Z",
                ),
                msg(
                    1,
                    p1,
                    Verdict::Rejected,
                    &no_consent,
                    Category::Marketing,
                    "2026-11-12T01:00:00Z",
                ),
            ])
            .unwrap();
        let search = |q: MessageQuery| -> Vec<u64> {
            s.search_messages(&q)
                .unwrap()
                .iter()
                .map(|m| m.id)
                .collect()
        };
        let all = MessageQuery {
            limit: 50,
            ..MessageQuery::default()
        };
        assert_eq!(
            search(MessageQuery {
                reason: Some(ReasonCode::NoConsent),
                ..all.clone()
            }),
            vec![ids[3], ids[1]],
            "{name}: by reason"
        );
        assert!(
            search(MessageQuery {
                reason: Some(ReasonCode::OptedOut),
                ..all.clone()
            })
            .is_empty(),
            "{name}"
        );
        assert_eq!(
            search(MessageQuery {
                category: Some(Category::Marketing),
                from: Some(t("2026-11-11T00:00:00Z")),
                to: Some(t("2026-11-12T00:00:00Z")),
                ..all.clone()
            }),
            vec![ids[2], ids[1]],
            "{name}: by category and day"
        );
        assert_eq!(
            search(MessageQuery {
                sort: MessageSort {
                    column: MessageColumn::Id,
                    descending: false
                },
                ..all.clone()
            }),
            ids,
            "{name}: oldest first"
        );
        let by_sender = |descending| MessageQuery {
            sort: MessageSort {
                column: MessageColumn::Sender,
                descending,
            },
            ..all.clone()
        };
        assert_eq!(
            search(by_sender(false)),
            vec![ids[1], ids[3], ids[0], ids[2]],
            "{name}: by sender, ties by id"
        );
        assert_eq!(
            search(by_sender(true)),
            vec![ids[2], ids[0], ids[3], ids[1]],
            "{name}: by sender, largest first"
        );
        assert_eq!(
            search(MessageQuery {
                offset: 1,
                limit: 2,
                ..by_sender(false)
            }),
            vec![ids[3], ids[0]],
            "{name}: a page further on"
        );
        let by_status = MessageQuery {
            sort: MessageSort {
                column: MessageColumn::Status,
                descending: false,
            },
            ..all.clone()
        };
        // accepted < deferred < rejected, as text.
        assert_eq!(
            search(by_status),
            vec![ids[0], ids[2], ids[1], ids[3]],
            "{name}: by status"
        );
        let by_phone = MessageQuery {
            sort: MessageSort {
                column: MessageColumn::Phone,
                descending: true,
            },
            ..all
        };
        assert_eq!(
            search(by_phone),
            vec![ids[1], ids[3], ids[2], ids[0]],
            "{name}: by phone, largest first"
        );
        // The reason search follows a message's current decision: held for quiet hours, then
        // withdrawn, it is found by `cancelled` and no longer by `quiet_hours`.
        let by = |code| MessageQuery {
            reason: Some(code),
            ..MessageQuery {
                limit: 50,
                ..MessageQuery::default()
            }
        };
        assert_eq!(search(by(ReasonCode::QuietHours)), vec![ids[2]], "{name}");
        s.redecide(
            ids[2],
            &policy::Decision {
                verdict: Verdict::Rejected,
                reasons: vec![Reason::new(ReasonCode::Cancelled, "withdrawn")],
                release_at: None,
                category: Category::Marketing,
                content_scores: None,
            },
            t("2026-11-11T23:30:00Z"),
        )
        .unwrap();
        assert!(search(by(ReasonCode::QuietHours)).is_empty(), "{name}");
        assert_eq!(search(by(ReasonCode::Cancelled)), vec![ids[2]], "{name}");
        assert_eq!(
            search(MessageQuery {
                from: Some(t("2026-11-11T00:00:00Z")),
                to: Some(t("2026-11-12T00:00:00Z")),
                ..by(ReasonCode::Cancelled)
            }),
            vec![ids[2]],
            "{name}: by reason and day"
        );
    }
}

#[test]
fn a_disabled_account_keeps_no_session() {
    for (name, s, _g) in backends("console_disable") {
        let a = s
            .create_account(&account("li", AccountRole::Operator))
            .unwrap();
        let b = s
            .create_account(&account("wang", AccountRole::Operator))
            .unwrap();
        assert!(!a.disabled, "{name}");
        for (hash, who) in [("ha", a.id), ("hb", b.id)] {
            s.put_session(&SessionRecord {
                token_hash: hash.into(),
                account: who,
                csrf: "c".into(),
                created_at: t("2026-12-01T10:00:00Z"),
                last_seen: t("2026-12-01T10:00:00Z"),
            })
            .unwrap();
        }
        assert!(s.set_account_disabled(a.id, true).unwrap(), "{name}");
        assert!(s.account(a.id).unwrap().unwrap().disabled, "{name}");
        assert!(
            s.session("ha").unwrap().is_none(),
            "{name}: its session ended"
        );
        assert!(s.session("hb").unwrap().is_some(), "{name}: not another's");
        assert!(s.set_account_disabled(a.id, false).unwrap(), "{name}");
        assert!(
            !s.account_by_name("li").unwrap().unwrap().disabled,
            "{name}"
        );
        assert!(
            !s.set_account_disabled(u64::MAX / 2, true).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn a_senders_consent_events_are_its_phones_own_and_platform_events() {
    use domain::{ConsentAction, ConsentSource, Scope};
    use store::{ConsentLog, NewConsent};
    for (name, s, _g) in backends("console_consents") {
        let p = |n: &str| Msisdn::parse(n, Region::CN).unwrap();
        let ev = |phone: &str, scope, sender: Option<u32>, action, at: &str| NewConsent {
            phone: p(phone),
            scope,
            sender: sender.map(SenderId),
            action,
            source: ConsentSource::Api,
            evidence: "form".into(),
            actor: "sender:1".into(),
            at: t(at),
        };
        s.append_consents(&[
            ev(
                "13800138000",
                Scope::Sender,
                Some(1),
                ConsentAction::OptIn,
                "2026-11-01T00:00:00Z",
            ),
            ev(
                "13800138000",
                Scope::Sender,
                Some(2),
                ConsentAction::OptIn,
                "2026-11-01T00:00:00Z",
            ),
            ev(
                "13800138000",
                Scope::Platform,
                None,
                ConsentAction::OptOut,
                "2026-11-02T00:00:00Z",
            ),
            ev(
                "13900139000",
                Scope::Sender,
                Some(1),
                ConsentAction::OptOut,
                "2026-11-03T00:00:00Z",
            ),
            // A phone with no event of sender 1's is not its business.
            ev(
                "13700137000",
                Scope::Platform,
                None,
                ConsentAction::OptOut,
                "2026-11-03T00:00:00Z",
            ),
            ev(
                "13700137000",
                Scope::Sender,
                Some(2),
                ConsentAction::OptIn,
                "2026-11-03T00:00:00Z",
            ),
        ])
        .unwrap();
        let events = s.sender_consent_events(SenderId(1)).unwrap();
        let seen: Vec<(String, Option<u32>)> = events
            .iter()
            .map(|e| (e.phone.to_string(), e.sender.map(|s| s.0)))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("+8613800138000".to_string(), Some(1)),
                ("+8613800138000".to_string(), None),
                ("+8613900139000".to_string(), Some(1)),
            ],
            "{name}"
        );
        let recent = s.recent_sender_consents(SenderId(1), 1).unwrap();
        assert_eq!(recent.len(), 1, "{name}");
        assert_eq!(recent[0].phone, p("13900139000"), "{name}: newest first");
        assert!(
            s.recent_sender_consents(SenderId(9), 20)
                .unwrap()
                .is_empty()
        );
    }
}

/// The senders list is searched, ordered and cut in the store: by current name (an edit
/// renames), ignoring case, with `%` and `_` matched as themselves; pages by offset with the
/// count of every match; the same on every backend.
#[test]
fn the_senders_list_searches_sorts_and_pages_in_the_store() {
    use store::{NewSender, SenderColumn, SenderQuery, SenderRegistry};
    for (name, s, _g) in backends("senders_list") {
        let mut ids = Vec::new();
        for (i, shop) in ["beta", "Alpha", "gamma 50%", "delta_x", "阿里"]
            .into_iter()
            .enumerate()
        {
            let created = s
                .create_sender(&NewSender {
                    name: shop.into(),
                    signature: format!("【{shop}】"),
                    number_prefix: "1069".into(),
                    extension_digits: 4,
                    api_key_hash: format!("h{i}"),
                })
                .unwrap();
            ids.push(created.id);
        }
        s.edit_sender(ids[0], "Zeta", "【Zeta】", "operator")
            .unwrap()
            .unwrap();
        let page = |text: &str, column, descending, offset, limit| {
            let (found, total) = s
                .sender_page(&SenderQuery {
                    text: text.into(),
                    column,
                    descending,
                    offset,
                    limit,
                })
                .unwrap();
            (found.iter().map(|r| r.id).collect::<Vec<_>>(), total)
        };
        let [beta, alpha, gamma, delta, ali] = ids[..] else {
            panic!()
        };
        // By current name: "zeta" (was beta) after "gamma", the CJK name last (code points).
        assert_eq!(
            page("", SenderColumn::Name, false, 0, 10),
            (vec![alpha, delta, gamma, beta, ali], 5),
            "{name}"
        );
        assert_eq!(
            page("", SenderColumn::Name, true, 0, 2),
            (vec![ali, beta], 5),
            "{name}"
        );
        assert_eq!(
            page("", SenderColumn::Name, true, 2, 2),
            (vec![gamma, delta], 5),
            "{name}"
        );
        assert_eq!(
            page("", SenderColumn::Id, true, 4, 2),
            (vec![beta], 5),
            "{name}"
        );
        assert_eq!(
            page("", SenderColumn::Created, false, 0, 10).0,
            ids,
            "{name}"
        );
        // Search: ignoring case, wildcards as themselves, by signature, by number, by id.
        assert_eq!(
            page("ALP", SenderColumn::Id, false, 0, 10),
            (vec![alpha], 1)
        );
        assert_eq!(
            page("50%", SenderColumn::Id, false, 0, 10),
            (vec![gamma], 1)
        );
        assert_eq!(page("_", SenderColumn::Id, false, 0, 10), (vec![delta], 1));
        assert_eq!(
            page("【zeta", SenderColumn::Id, false, 0, 10),
            (vec![beta], 1)
        );
        assert_eq!(
            page("beta", SenderColumn::Id, false, 0, 10),
            (vec![], 0),
            "renamed"
        );
        let number = format!("1069{:04}", ali.0);
        assert_eq!(
            page(&number, SenderColumn::Id, false, 0, 10),
            (vec![ali], 1)
        );
        assert_eq!(page("nothing", SenderColumn::Id, false, 0, 10), (vec![], 0));
    }
}

/// A common reason (more messages than the sparse bound) is searched by probing each
/// candidate rather than gathering every message with it: the same answers either way.
#[test]
fn a_common_reason_is_searched_as_exactly_as_a_rare_one() {
    use policy::{Reason, ReasonCode};
    for (name, s, _g) in backends("common_reason") {
        let p = Msisdn::parse("13800138000", Region::CN).unwrap();
        let no_consent = [Reason::new(ReasonCode::NoConsent, "none")];
        let rare = [Reason::new(ReasonCode::FraudSuspected, "x")];
        let msgs: Vec<NewMessage<'_>> = (0..5_010)
            .map(|i| NewMessage {
                sender: SenderId(1),
                to: "x",
                phone: Some(p),
                text: "【A】hi",
                category: Category::Marketing,
                verdict: Verdict::Rejected,
                reasons: if i % 1000 == 7 { &rare } else { &no_consent },
                decided_at: t("2026-11-11T09:00:00Z"),
                release_at: None,
                text_hash: 1,
                content_scores: None,
            })
            .collect();
        let ids = s.insert_messages(&msgs).unwrap();
        let search = |code, limit| -> Vec<u64> {
            s.search_messages(&MessageQuery {
                reason: Some(code),
                limit,
                ..MessageQuery::default()
            })
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect()
        };
        let newest: Vec<u64> = ids
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, _)| i % 1000 != 7)
            .take(3)
            .map(|(_, id)| *id)
            .collect();
        assert_eq!(search(ReasonCode::NoConsent, 3), newest, "{name}");
        let rare_ids: Vec<u64> = ids
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, _)| i % 1000 == 7)
            .map(|(_, id)| *id)
            .collect();
        assert_eq!(search(ReasonCode::FraudSuspected, 50), rare_ids, "{name}");
    }
}

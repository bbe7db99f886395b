//! Cluster ownership seen from one gateway: what it does with held (deferred) messages while
//! the phone's partition is between owners. The cluster crate drives the real leases; here a
//! switchable `Ownership` stands for them, so the interleavings are exact.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use domain::{Category, Clock, ConsentAction, ConsentSource, ManualClock, Msisdn, Scope};
use gateway::{
    ConsentRequest, Gateway, GatewayConfig, LoopbackCarrier, Ownership, Principal, Submission,
};
use policy::{Policy, PolicyConfig, Verdict};
use store::{Delivery, MessageLog, Store};

const PHONE: &str = "13800138000";

/// Owns every phone under `epoch`; 0 = owns none (the lease not yet named, or trust lapsed).
struct Switch(AtomicI64);

impl Ownership for Switch {
    fn epoch(&self, _phone: Msisdn) -> Option<i64> {
        Some(self.0.load(Ordering::SeqCst)).filter(|e| *e > 0)
    }
    fn partition(&self, _phone: Msisdn) -> Option<u32> {
        Some(0)
    }
}

/// A gateway under a switchable ownership (epoch 1), with one shop that has marketing consent
/// from every phone of `phones` and has submitted one marketing message to each of them.
fn campaign_under_ownership(
    clock: &ManualClock,
    carrier: Arc<dyn gateway::Carrier>,
    phones: &[&str],
) -> (Arc<Gateway>, Arc<Switch>, Vec<gateway::Outcome>) {
    let gw = Gateway::open(
        Store::open_in_memory().unwrap(),
        GatewayConfig::default(),
        Policy::new(&PolicyConfig::default()).unwrap(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        carrier,
    )
    .unwrap();
    let owner = Arc::new(Switch(AtomicI64::new(1)));
    assert!(gw.set_ownership(owner.clone()));
    let (shop, _) = gw.create_sender("甲店", "【甲店】").unwrap();
    for phone in phones {
        gw.record_consents(
            Principal::Admin,
            &[ConsentRequest {
                phone: (*phone).into(),
                action: ConsentAction::OptIn,
                scope: Scope::Sender,
                sender: Some(shop.id),
                source: ConsentSource::Web,
                evidence: "form".into(),
                at: None,
            }],
        )
        .unwrap();
    }
    let to: Vec<String> = phones.iter().map(|p| (*p).to_string()).collect();
    let out = gw
        .submit(
            Principal::Sender(shop.id),
            &Submission {
                to: &to,
                text: "【甲店】双11全场5折，回T退订",
                category: Category::Marketing,
            },
        )
        .unwrap();
    (gw, owner, out)
}

/// #10: a partition is loaded for a takeover (its deferred messages held in memory) before
/// the lease names the new epoch. A tick in that gap found the due messages "not ours" and
/// dropped them from memory: they stayed deferred in the store and were never released until
/// the next restart or takeover. They now wait for the next tick.
#[test]
fn a_due_deferred_message_survives_a_tick_while_its_partition_is_between_owners() {
    // 22:00 in Shanghai: inside quiet hours, marketing is deferred to 08:00.
    let clock = ManualClock::new("2026-11-11T14:00:00Z".parse().unwrap());
    let (gw, owner, out) = campaign_under_ownership(&clock, Arc::new(LoopbackCarrier), &[PHONE]);
    assert_eq!(out[0].status, Verdict::Deferred);

    // 08:05: the message is due, but the partition is between owners at this instant.
    clock.set("2026-11-12T00:05:00Z".parse().unwrap());
    owner.0.store(0, Ordering::SeqCst);
    assert_eq!(
        gw.tick().unwrap(),
        0,
        "nothing released for a phone not held"
    );
    let m = gw.store().message(out[0].id).unwrap().unwrap();
    assert_eq!(m.status, Verdict::Deferred, "nothing decided meanwhile");

    // The lease is named: the next tick releases it under the new epoch, and it goes out.
    owner.0.store(2, Ordering::SeqCst);
    assert_eq!(
        gw.tick().unwrap(),
        1,
        "the held message was kept for this tick"
    );
    assert_eq!(gw.dispatch_queued(), 1);
    let m = gw.store().message(out[0].id).unwrap().unwrap();
    assert_eq!(m.status, Verdict::Accepted);
    assert_eq!(m.delivery, Delivery::Delivered);
}

/// Hands off without a carrier acknowledgement (`submitted`, no carrier id), as a link does
/// when the carrier never answered before its node stopped.
struct Unanswered;

impl gateway::Carrier for Unanswered {
    fn name(&self) -> &str {
        "unanswered"
    }
    fn hand_off(&self, _msg: &gateway::Outbound) -> Result<bool, gateway::CarrierError> {
        Ok(false)
    }
}

/// #10/#13: after a takeover each carrier link — SMPP and now CMPP, through the one shared
/// `Gateway::takeover_resumer` — queues again, under the new epoch, the partition's hand-offs
/// no carrier acknowledged, and only those of the phones taken over that it serves.
#[test]
fn a_takeover_requeues_the_unacknowledged_hand_offs_of_the_phones_taken_under_the_new_epoch() {
    // 10:00 in Shanghai: marketing goes out at once.
    let clock = ManualClock::new("2026-11-11T02:00:00Z".parse().unwrap());
    let phones = ["13800138000", "13900139000"];
    let (gw, owner, out) = campaign_under_ownership(&clock, Arc::new(Unanswered), &phones);
    assert_eq!(gw.dispatch_queued(), 2);
    for o in &out {
        let m = gw.store().message(o.id).unwrap().unwrap();
        assert_eq!(
            m.delivery,
            Delivery::Submitted,
            "handed off, never acknowledged"
        );
    }

    let requeued = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let sink = Arc::clone(&requeued);
    let first = Msisdn::parse(phones[0], domain::Region::CN).unwrap();
    gw.on_takeover(Gateway::takeover_resumer(
        Arc::downgrade(&gw),
        "cmcc".into(),
        |_| 1,
        Some(Arc::new(move |p| p == first)),
        move |m| {
            sink.lock().push(m);
            true
        },
    ));
    owner.0.store(2, Ordering::SeqCst);
    gw.resume_phones(&|_| Some(2)).unwrap();
    let got = requeued.lock().clone();
    assert_eq!(got.len(), 1, "only the phone this link serves: {got:?}");
    assert_eq!((got[0].id, got[0].epoch), (out[0].id, Some(2)));

    // A takeover of other phones requeues none of these.
    requeued.lock().clear();
    gw.resume_phones(&|_| None).unwrap();
    assert!(requeued.lock().is_empty());
}

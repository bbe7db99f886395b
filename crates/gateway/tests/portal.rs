//! The consumer portal without HTTP: what a one-time code leaves behind.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use domain::{Clock, ManualClock};
use gateway::{Carrier, CarrierError, Gateway, GatewayConfig, Outbound, Principal};
use parking_lot::Mutex;
use policy::{Policy, PolicyConfig};
use store::{MessageLog, Store};

const PHONE: &str = "13800138000";

/// A carrier that keeps what it was handed (a real SMSC, as far as the gateway can tell).
#[derive(Default)]
struct Handset(Mutex<Vec<Outbound>>);

impl Carrier for Handset {
    fn name(&self) -> &str {
        "smsc"
    }
    fn hand_off(&self, msg: &Outbound) -> Result<bool, CarrierError> {
        self.0.lock().push(msg.clone());
        Ok(false)
    }
}

/// With a real carrier the code reaches the phone, but the store (and so the message API, the
/// database file and its backups) keeps it masked; the code still logs the consumer in.
#[test]
fn a_one_time_code_is_sent_but_never_stored() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new("2026-11-11T02:00:00Z".parse().unwrap()));
    let handset = Arc::new(Handset::default());
    let gw = Gateway::open(
        Store::open_in_memory().unwrap(),
        GatewayConfig::default(),
        Policy::new(&PolicyConfig::default()).unwrap(),
        clock,
        Arc::clone(&handset) as Arc<dyn Carrier>,
    )
    .unwrap();
    gw.portal_send_code(PHONE).unwrap();
    gw.dispatch_queued();
    let sent = handset.0.lock().clone();
    assert_eq!(sent.len(), 1);
    let code: String = sent[0]
        .text
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .chars()
        .take(6)
        .collect();
    assert_eq!(code.len(), 6, "{}", sent[0].text);
    let stored = gw.message(Principal::Admin, sent[0].id).unwrap();
    assert!(!stored.text.contains(&code), "{}", stored.text);
    assert!(stored.text.contains("******"), "{}", stored.text);
    assert_eq!(
        gw.store().message(sent[0].id).unwrap().unwrap().text,
        stored.text
    );
    let (phone, token) = gw.portal_login(PHONE, &code).unwrap();
    assert_eq!(gw.portal_session(&token), Some(phone));
}

/// The code form is open to anyone: it must not pump SMS to premium numbers abroad, nor send
/// without bound across many numbers.
#[test]
fn the_code_form_sends_only_to_served_countries_and_within_a_global_rate() {
    let clock = Arc::new(ManualClock::new("2026-11-11T02:00:00Z".parse().unwrap()));
    let gw = Gateway::open(
        Store::open_in_memory().unwrap(),
        GatewayConfig {
            portal_codes_per_minute: 3,
            ..GatewayConfig::default()
        },
        Policy::new(&PolicyConfig::default()).unwrap(),
        Arc::clone(&clock) as Arc<dyn Clock>,
        Arc::new(Handset::default()) as Arc<dyn Carrier>,
    )
    .unwrap();
    for foreign in ["+12025550123", "+2348031234567", "+447911123456"] {
        let e = gw.portal_send_code(foreign).unwrap_err();
        assert!(
            matches!(e, gateway::GatewayError::Forbidden(_)) && e.to_string().contains("+86"),
            "{e}"
        );
    }
    for i in 0..3 {
        gw.portal_send_code(&format!("1380013800{i}")).unwrap();
    }
    let e = gw.portal_send_code("13800138009").unwrap_err();
    assert!(
        matches!(e, gateway::GatewayError::TooManyRequests(_)),
        "{e}"
    );
    // The next minute the form works again.
    clock.advance(jiff::SignedDuration::from_mins(1));
    gw.portal_send_code("13800138009").unwrap();
}

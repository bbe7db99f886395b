//! A seeded simulation of the send path: random submissions, consents, refusals, clock jumps
//! and dispatcher steps, single-threaded and deterministic. A recording carrier checks every
//! hand-off against a reference model built only from acknowledged ledger events:
//!
//! - no marketing reaches a (phone, sender) whose acknowledged events say "no consent";
//! - no marketing is handed off inside the recipient's quiet hours;
//! - no recipient gets more marketing in a local day than the caps allow.
//!
//! A failing seed reproduces exactly: run with `SIM_SEED=<seed>`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::HashMap;
use std::sync::Arc;

use domain::{
    Category, Clock, ConsentAction, ConsentSource, ManualClock, Scope, SenderId, Timestamp,
};
use gateway::{
    Carrier, CarrierError, ConsentRequest, Gateway, GatewayConfig, Outbound, Principal, Submission,
};
use ledger::{ConsentEvent, answer_at};
use parking_lot::Mutex;
use policy::{Policy, PolicyConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::Store;

const PHONES: u64 = 40;
const SENDERS: usize = 6;
const STEPS: usize = 1_500;

/// What the reference model knows: every acknowledged consent event, and the hand-offs so far.
#[derive(Default)]
struct Model {
    events: Vec<ConsentEvent>,
    /// (phone, local day) → marketing handed off, per sender.
    handed: HashMap<(u64, i64), Vec<SenderId>>,
    violations: Vec<String>,
    marketing_handed: usize,
}

struct Recorder {
    model: Arc<Mutex<Model>>,
    clock: ManualClock,
}

impl Carrier for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn hand_off(&self, msg: &Outbound) -> Result<bool, CarrierError> {
        if msg.category != Category::Marketing {
            return Ok(true);
        }
        let now = self.clock.now();
        let mut m = self.model.lock();
        m.marketing_handed += 1;
        let mine: Vec<ConsentEvent> = m
            .events
            .iter()
            .filter(|e| e.phone == msg.phone)
            .cloned()
            .collect();
        if !answer_at(&mine, msg.sender, now).allows_marketing() {
            m.violations.push(format!(
                "message {} to {} from {} without consent at {now}",
                msg.id, msg.phone, msg.sender
            ));
        }
        // Shanghai is UTC+8 without DST: local seconds of day and local day number.
        let local = now.as_second() + 8 * 3600;
        let (day, tod) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        if !(8 * 3600..20 * 3600).contains(&tod) {
            m.violations.push(format!(
                "message {} handed off in quiet hours at {now}",
                msg.id
            ));
        }
        let list = m.handed.entry((msg.phone.as_u64(), day)).or_default();
        list.push(msg.sender);
        let same = list.iter().filter(|s| **s == msg.sender).count();
        if list.len() > 3 || same > 1 {
            let n = list.len();
            m.violations.push(format!(
                "{} got {n} marketing messages on day {day} ({same} from {})",
                msg.phone, msg.sender
            ));
        }
        Ok(true)
    }
}

fn phone(i: u64) -> String {
    format!("1380013{i:04}")
}

fn run(seed: u64) -> Model {
    let mut rng = StdRng::seed_from_u64(seed);
    let clock = ManualClock::new("2026-11-10T23:00:00Z".parse::<Timestamp>().unwrap()); // 07:00 local
    let model = Arc::new(Mutex::new(Model::default()));
    let carrier = Arc::new(Recorder {
        model: Arc::clone(&model),
        clock: clock.clone(),
    });
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let gw = Gateway::open(
        Store::open_in_memory().unwrap(),
        GatewayConfig::default(),
        Policy::new(&PolicyConfig {
            duplicate_window_minutes: 0,
            ..PolicyConfig::default()
        })
        .unwrap(),
        clock_dyn,
        carrier,
    )
    .unwrap();
    let senders: Vec<SenderId> = (0..SENDERS)
        .map(|i| {
            gw.create_sender(&format!("店{i}"), &format!("【店{i}】"))
                .unwrap()
                .0
                .id
        })
        .collect();
    for _ in 0..STEPS {
        match rng.random_range(0..100) {
            // A campaign from one shop to a random handful of phones.
            0..=39 => {
                let s = rng.random_range(0..SENDERS);
                let to: Vec<String> = (0..rng.random_range(1..8))
                    .map(|_| phone(rng.random_range(0..PHONES)))
                    .collect();
                let text = format!("【店{s}】限时{}折，回T退订", rng.random_range(1..10));
                gw.submit(
                    Principal::Sender(senders[s]),
                    &Submission {
                        to: &to,
                        text: &text,
                        category: Category::Marketing,
                    },
                )
                .unwrap();
            }
            // Consent given or withdrawn, for one shop or platform-wide.
            40..=64 => {
                let platform = rng.random_ratio(1, 5);
                let s = senders[rng.random_range(0..SENDERS)];
                let action = if rng.random_bool(0.5) {
                    ConsentAction::OptIn
                } else {
                    ConsentAction::OptOut
                };
                let by = if platform {
                    Principal::Admin
                } else {
                    Principal::Sender(s)
                };
                let req = ConsentRequest {
                    phone: phone(rng.random_range(0..PHONES)),
                    action,
                    scope: if platform {
                        Scope::Platform
                    } else {
                        Scope::Sender
                    },
                    sender: None,
                    source: ConsentSource::Web,
                    evidence: String::new(),
                    at: None,
                };
                let recorded = gw.record_consents(by, &[req]);
                // Only acknowledged events enter the model.
                if let Ok(events) = recorded {
                    model.lock().events.extend(events);
                }
            }
            // The dispatcher takes a step.
            65..=84 => {
                gw.dispatch_queued();
            }
            // Time passes: minutes, or across a night.
            85..=94 => clock.advance(jiff::SignedDuration::from_mins(rng.random_range(1..180))),
            _ => {
                clock.advance(jiff::SignedDuration::from_hours(rng.random_range(1..14)));
                gw.tick().unwrap();
            }
        }
    }
    gw.dispatch_queued();
    std::mem::take(&mut *model.lock())
}

#[test]
fn nothing_marketing_is_handed_off_against_the_ledger_caps_or_quiet_hours() {
    let seeds: Vec<u64> = match std::env::var("SIM_SEED") {
        Ok(s) => vec![s.parse().unwrap()],
        Err(_) => (1..=6).collect(),
    };
    let mut handed = 0;
    for seed in seeds {
        let m = run(seed);
        assert!(
            m.violations.is_empty(),
            "seed {seed}: {:#?}",
            &m.violations[..m.violations.len().min(10)]
        );
        handed += m.marketing_handed;
    }
    // The simulation must exercise the path it checks.
    assert!(
        handed > 50,
        "only {handed} marketing messages were handed off"
    );
}

//! A seeded simulation of several nodes on one PostgreSQL ledger: each node is a gateway under
//! its own partition map with a fenced store, as `consentry serve` in cluster mode runs it, and
//! one seed drives traffic, the manual clock, dispatcher steps and ownership changes — clean
//! hand-overs, a node that pauses past its lease (a zombie that still believes it owns the
//! partition) and a node that loses a partition and takes it back under a newer epoch while
//! decisions it made under the old one wait to be recorded. The lease steps are the keeper's
//! (claim, load, hold, resume; drop and forget), taken one at a time so every interleaving the
//! seed picks is reproducible.
//!
//! One recording carrier, shared by every node, checks each hand-off against a model built only
//! from acknowledged consent events (from any node):
//! - no marketing reaches a (phone, sender) without consent at that moment;
//! - no marketing outside 08:00–20:00 local time, no more than the caps per phone and day;
//! - no message is handed off twice.
//!
//! At the end every acknowledged consent event is in the ledger and the audit chain verifies.
//! PostgreSQL only (SKIPPED without a server; failed under `CONSENTRY_REQUIRE_SERVICES=1`).
//! A failing seed reproduces with `SIM_SEED=<seed>`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cluster::Partitions;
use domain::{
    Category, Clock, ConsentAction, ConsentSource, ManualClock, Msisdn, Region, Scope, SenderId,
    Timestamp,
};
use gateway::{
    Carrier, CarrierError, ConsentRequest, DecidedSubmission, Gateway, GatewayConfig, GatewayError,
    Outbound, Principal,
};
use ledger::{ConsentEvent, answer_at};
use parking_lot::Mutex;
use policy::{Policy, PolicyConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::postgres::PgStore;
use store::{AuditLog, ConsentLog, Store};

const NODES: usize = 3;
const PARTS: u32 = 4;
const PHONES: u64 = 24;
const SENDERS: usize = 4;
const STEPS: usize = 700;
/// Leases in the database never run out on their own here: the seed expires them.
const LEASE: Duration = Duration::from_secs(3600);

#[derive(Default)]
struct Model {
    events: Vec<ConsentEvent>,
    handed: HashMap<(u64, i64), Vec<SenderId>>,
    ids: HashSet<u64>,
    violations: Vec<String>,
    marketing_handed: usize,
    /// What happened, for the failure message.
    stats: HashMap<&'static str, usize>,
}

impl Model {
    fn count(&mut self, what: &'static str) {
        *self.stats.entry(what).or_default() += 1;
    }
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
        let now = self.clock.now();
        let mut m = self.model.lock();
        if !m.ids.insert(msg.id) {
            m.violations
                .push(format!("message {} handed off twice", msg.id));
        }
        if msg.category != Category::Marketing {
            return Ok(true);
        }
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

struct Node {
    name: String,
    gw: Arc<Gateway>,
    parts: Arc<Partitions>,
    /// Decided, not yet recorded (a group commit's queue).
    decided: Mutex<Vec<DecidedSubmission>>,
}

impl Node {
    fn pg(&self) -> &PgStore {
        match self.gw.store() {
            Store::Postgres(pg) => pg,
            _ => unreachable!("the simulation runs on PostgreSQL"),
        }
    }

    fn mine(part: u32) -> impl Fn(Msisdn) -> bool {
        move |p: Msisdn| p.as_u64() % u64::from(PARTS) == u64::from(part)
    }

    /// The keeper's takeover: claim, load the slice, hold, resume.
    fn take(&self, part: u32) -> bool {
        let Some(epoch) = self
            .pg()
            .claim(i32::try_from(part).unwrap(), &self.name, LEASE)
            .unwrap()
        else {
            return false;
        };
        let pg = self.pg();
        self.gw
            .load_phones(&Self::mine(part), &|f| pg.scan_partition(PARTS, part, f))
            .unwrap();
        self.parts.hold(part, epoch, Instant::now(), LEASE);
        let mine = Self::mine(part);
        self.gw
            .resume_phones(&|p| mine(p).then_some(epoch))
            .unwrap();
        true
    }

    /// The keeper's loss: stop acting for `part` and forget its slice.
    fn lose(&self, part: u32) {
        self.parts.drop_part(part);
        self.gw.forget_phones(&Self::mine(part));
    }

    /// A pause past the lease: the node still holds `part` under its epoch, but its own clock
    /// says the lease can no longer be trusted (as a SIGSTOPped node's monotonic clock does).
    fn pause(&self, part: u32) {
        if let Some((_, epoch)) = self.parts.held().into_iter().find(|(p, _)| *p == part) {
            self.parts.hold(part, epoch, Instant::now() - LEASE, LEASE);
        }
    }

    /// The keeper's renewal round after a pause: what the database no longer says is this
    /// node's under the same epoch is lost.
    fn wake(&self) {
        let leases = self.pg().leases().unwrap();
        for (part, epoch) in self.parts.held() {
            let still = leases.iter().any(|l| {
                l.part == i32::try_from(part).unwrap()
                    && l.owner.as_deref() == Some(self.name.as_str())
                    && l.epoch == epoch
                    && l.expires_in_ms > 0
            });
            if still {
                self.parts.hold(part, epoch, Instant::now(), LEASE);
            } else {
                self.lose(part);
            }
        }
    }
}

fn phone(i: u64) -> String {
    format!("1380013{i:04}")
}

fn expire(pg: &PgStore, part: u32) {
    pg.execute_batch(&format!(
        "UPDATE partition_leases SET expires_at = now() - interval '1 second' WHERE part = {part}"
    ))
    .unwrap();
}

fn owner_of(nodes: &[Node], part: u32) -> Option<usize> {
    let leases = nodes[0].pg().leases().unwrap();
    let l = leases
        .iter()
        .find(|l| l.part == i32::try_from(part).unwrap() && l.expires_in_ms > 0)?;
    nodes
        .iter()
        .position(|n| Some(n.name.as_str()) == l.owner.as_deref())
}

#[allow(clippy::too_many_lines)]
fn run(seed: u64, opts: &store::PgOptions) -> Model {
    let mut rng = StdRng::seed_from_u64(seed);
    let clock = ManualClock::new("2026-11-10T23:00:00Z".parse::<Timestamp>().unwrap()); // 07:00 local
    let model = Arc::new(Mutex::new(Model::default()));
    let carrier = Arc::new(Recorder {
        model: Arc::clone(&model),
        clock: clock.clone(),
    });
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let nodes: Vec<Node> = (0..NODES)
        .map(|i| {
            let name = format!("n{i}");
            let store = Store::open_postgres(opts).unwrap();
            let parts = Arc::new(Partitions::new(&name, PARTS));
            let Store::Postgres(pg) = &store else {
                unreachable!()
            };
            pg.init_partitions(i32::try_from(PARTS).unwrap()).unwrap();
            pg.set_fence(Arc::clone(&parts) as _);
            let gw = Gateway::open_with(
                store,
                GatewayConfig::default(),
                Policy::new(&PolicyConfig {
                    duplicate_window_minutes: 0,
                    ..PolicyConfig::default()
                })
                .unwrap(),
                Arc::clone(&clock_dyn),
                Arc::clone(&carrier) as Arc<dyn Carrier>,
                false,
            )
            .unwrap();
            gw.set_ownership(Arc::clone(&parts) as _);
            Node {
                name,
                gw,
                parts,
                decided: Mutex::new(Vec::new()),
            }
        })
        .collect();
    let senders: Vec<SenderId> = (0..SENDERS)
        .map(|i| {
            nodes[0]
                .gw
                .create_sender(&format!("店{i}"), &format!("【店{i}】"))
                .unwrap()
                .0
                .id
        })
        .collect();
    for n in &nodes {
        n.gw.reload_access().unwrap();
    }
    for part in 0..PARTS {
        assert!(nodes[part as usize % NODES].take(part));
    }
    let region = Region::CN;
    for _ in 0..STEPS {
        let x = rng.random_range(0..NODES);
        match rng.random_range(0..100) {
            // A node decides a campaign to phones of one partition (queued for its commit).
            0..=29 => {
                let part = rng.random_range(0..PARTS);
                // Mostly the owner, as the routing layer sends it; sometimes a node that is not.
                let x = match owner_of(&nodes, part) {
                    Some(o) if rng.random_ratio(4, 5) => o,
                    _ => x,
                };
                let s = rng.random_range(0..SENDERS);
                let to: Vec<String> = (0..rng.random_range(1..5))
                    .map(|_| {
                        let i = rng.random_range(0..PHONES / u64::from(PARTS));
                        (0..PHONES)
                            .filter(|p| {
                                Msisdn::parse(&phone(*p), region).unwrap().as_u64()
                                    % u64::from(PARTS)
                                    == u64::from(part)
                            })
                            .nth(usize::try_from(i).unwrap())
                            .map_or_else(|| phone(0), phone)
                    })
                    .collect();
                let text = format!("【店{s}】限时{}折，回T退订", rng.random_range(1..10));
                match nodes[x].gw.decide_submission(
                    Principal::Sender(senders[s]),
                    to,
                    text,
                    Category::Marketing,
                ) {
                    Ok(d) => nodes[x].decided.lock().push(d),
                    Err(GatewayError::PartitionUnavailable(_)) => {
                        model.lock().count("decide refused: not the owner");
                    }
                    Err(e) => panic!("seed {seed}: deciding failed: {e}"),
                }
            }
            // A node records what it decided (the group commit's step).
            30..=47 => {
                let batch = std::mem::take(&mut *nodes[x].decided.lock());
                if batch.is_empty() {
                    continue;
                }
                match nodes[x].gw.record_decided(batch) {
                    Ok(_) => model.lock().count("commits"),
                    Err(GatewayError::Store(store::StoreError::Fenced { .. })) => {
                        model.lock().count("commit fenced");
                    }
                    Err(e) => panic!("seed {seed}: recording failed: {e}"),
                }
            }
            // Consent given or withdrawn, through a node (only the owner may record it).
            48..=65 => {
                let who = rng.random_range(0..PHONES);
                let part = u32::try_from(
                    Msisdn::parse(&phone(who), region).unwrap().as_u64() % u64::from(PARTS),
                )
                .unwrap();
                let x = match owner_of(&nodes, part) {
                    Some(o) if rng.random_ratio(4, 5) => o,
                    _ => x,
                };
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
                    phone: phone(who),
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
                match nodes[x].gw.record_consents(by, &[req]) {
                    Ok(events) => model.lock().events.extend(events),
                    Err(GatewayError::PartitionUnavailable(_)) => {
                        model.lock().count("consent refused: not the owner");
                    }
                    Err(GatewayError::Store(store::StoreError::Fenced { .. })) => {
                        model.lock().count("consent fenced");
                    }
                    // A shop's opt-in over the consumer's own refusal (recorded by the
                    // operator) never takes effect.
                    Err(GatewayError::ConsumerRefused { .. }) => {
                        model
                            .lock()
                            .count("shop opt-in refused: the consumer's own refusal");
                    }
                    Err(e) => panic!("seed {seed}: recording consent failed: {e}"),
                }
            }
            // A node's dispatcher takes a step.
            66..=81 => {
                nodes[x].gw.dispatch_queued();
            }
            // Time passes.
            82..=89 => clock.advance(jiff::SignedDuration::from_mins(rng.random_range(1..180))),
            90..=92 => {
                clock.advance(jiff::SignedDuration::from_hours(rng.random_range(1..14)));
                for n in &nodes {
                    n.gw.tick().unwrap();
                }
            }
            // Ownership changes.
            _ => {
                let part = rng.random_range(0..PARTS);
                let Some(o) = owner_of(&nodes, part) else {
                    // Nobody owns it (its owner paused): someone takes it.
                    if nodes[x].take(part) {
                        model.lock().count("takeovers of an expired lease");
                    }
                    continue;
                };
                let y = (o + 1 + rng.random_range(0..NODES - 1)) % NODES;
                match rng.random_range(0..4) {
                    // A clean hand-over: the owner gives the partition up, another takes it.
                    0 => {
                        let epoch = nodes[o]
                            .parts
                            .held()
                            .into_iter()
                            .find(|(p, _)| *p == part)
                            .map(|(_, e)| e);
                        nodes[o].lose(part);
                        if let Some(e) = epoch {
                            nodes[o]
                                .pg()
                                .release(i32::try_from(part).unwrap(), &nodes[o].name, e)
                                .unwrap();
                        }
                        assert!(nodes[y].take(part));
                        model.lock().count("hand-overs");
                    }
                    // The owner pauses past its lease; another takes over; the zombie wakes
                    // later (or now).
                    1 => {
                        nodes[o].pause(part);
                        expire(nodes[o].pg(), part);
                        assert!(nodes[y].take(part));
                        if rng.random_bool(0.5) {
                            nodes[o].wake();
                        }
                        model.lock().count("zombies");
                    }
                    // The owner loses the partition and takes it back under a newer epoch
                    // after another node owned it, with its queued decisions still waiting.
                    2 => {
                        nodes[o].pause(part);
                        expire(nodes[o].pg(), part);
                        assert!(nodes[y].take(part));
                        nodes[o].wake();
                        let e = nodes[y]
                            .parts
                            .held()
                            .into_iter()
                            .find(|(p, _)| *p == part)
                            .map(|(_, e)| e)
                            .unwrap();
                        nodes[y].lose(part);
                        nodes[y]
                            .pg()
                            .release(i32::try_from(part).unwrap(), &nodes[y].name, e)
                            .unwrap();
                        assert!(nodes[o].take(part));
                        model.lock().count("retaken under a newer epoch");
                    }
                    // Every paused node wakes.
                    _ => {
                        for n in &nodes {
                            n.wake();
                        }
                    }
                }
            }
        }
    }
    // Settle: every node wakes, records what it decided and hands off what it may.
    for n in &nodes {
        n.wake();
    }
    for n in &nodes {
        let batch = std::mem::take(&mut *n.decided.lock());
        if !batch.is_empty() {
            let _ = n.gw.record_decided(batch);
        }
        n.gw.dispatch_queued();
    }
    // Every acknowledged event is in the ledger, and the chain holds.
    let mut m = std::mem::take(&mut *model.lock());
    let mut by_phone: HashMap<u64, HashSet<u64>> = HashMap::new();
    for e in &m.events {
        by_phone.entry(e.phone.as_u64()).or_default().insert(e.seq);
    }
    for (p, seqs) in by_phone {
        let stored: HashSet<u64> = nodes[0]
            .gw
            .store()
            .consent_history(Msisdn::from_u64(p))
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        for s in seqs.difference(&stored) {
            m.violations.push(format!(
                "acknowledged event {s} of {p} is not in the ledger"
            ));
        }
    }
    // The caps hold in what was recorded as accepted, not only in what was handed off: a
    // decision made under one epoch and recorded under a later one would have been counted
    // against a volume that missed the interim owner's sends.
    let day = "((coalesce(current_decided_at, decided_at) / 1000000 + 8 * 3600) / 86400)";
    for (group, cap) in [
        (format!("phone, {day}"), 3),
        (format!("phone, sender_id, {day}"), 1),
    ] {
        let most = nodes[0]
            .pg()
            .count(&format!(
                "SELECT coalesce(max(c), 0) FROM (SELECT count(*) AS c FROM messages
                 WHERE category = 'marketing' AND coalesce(current_status, status) = 'accepted'
                 GROUP BY {group}) t"
            ))
            .unwrap();
        if most > cap {
            m.violations.push(format!(
                "{most} marketing accepted per ({group}), cap {cap}"
            ));
        }
    }
    let report = nodes[0].gw.store().verify_audit().unwrap();
    if report.broken.is_some() {
        m.violations
            .push(format!("audit chain broken: {:?}", report.broken));
    }
    m
}

#[test]
fn several_nodes_under_lease_changes_and_zombies_keep_every_promise() {
    let seeds: Vec<u64> = match std::env::var("SIM_SEED") {
        Ok(s) => vec![s.parse().unwrap()],
        // 19, 22 and 33 found two defects (a decision recorded under a later epoch than it
        // was made under; a deferred send counted on its first day when the volume was
        // rebuilt at a takeover): kept as regressions.
        Err(_) => (1..=6).chain([19, 22, 33]).collect(),
    };
    let runs = seeds.len();
    let mut handed = 0;
    let mut fenced = 0;
    for seed in seeds {
        let Some(schema) = store::testing::fresh_schema(&format!("cluster_sim_{seed}")) else {
            return;
        };
        let m = run(seed, &schema.opts);
        assert!(
            m.violations.is_empty(),
            "seed {seed}: {:#?}\n{:?}",
            &m.violations[..m.violations.len().min(10)],
            m.stats
        );
        handed += m.marketing_handed;
        fenced += m.stats.get("commit fenced").copied().unwrap_or(0);
        eprintln!("seed {seed}: {:?}", m.stats);
    }
    assert!(
        handed >= 10 * runs,
        "only {handed} marketing messages were handed off in {runs} runs"
    );
    assert!(
        fenced > 0,
        "no seed recorded a decision after its epoch ended"
    );
}

//! One simulated world: a gateway on a real SQLite file behind the faulty disk, the faulty
//! carrier, a manual clock, and the seeded steps that drive them.

use std::sync::Arc;

use domain::{Category, Clock, ConsentAction, ConsentSource, ManualClock, Scope, SenderId};
use gateway::{ConsentRequest, Gateway, GatewayConfig, Principal, Submission};
use parking_lot::Mutex;
use policy::{Policy, PolicyConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::{AuditAnchor, AuditLog, ConsentLog, Durability, MessageLog, SmppRegistry, Store};

use crate::carrier::{CarrierRates, SimCarrier};
use crate::disk::{Disk, DiskRates, Torn};
use crate::model::{AckedMessage, Model, local};
use crate::{Options, Outcome, Violation};

pub(crate) struct World {
    opts: Options,
    rng: StdRng,
    dir: tempfile::TempDir,
    clock: ManualClock,
    disk: Arc<Disk>,
    carrier: Arc<SimCarrier>,
    model: Arc<Mutex<Model>>,
    gw: Option<Arc<Gateway>>,
    senders: Vec<SenderId>,
    policy: PolicyConfig,
    anchor: Option<AuditAnchor>,
    /// Whether the last step restarted the gateway (the audit chain is then verified).
    restarted: bool,
    /// Set up or winding down: no faults injected.
    settling: bool,
    out: Outcome,
}

/// Why a step could not go on (a violation, or the harness itself failing).
type Stop = String;

fn phone(i: u64) -> String {
    format!("1380013{i:04}")
}

impl World {
    pub(crate) fn new(seed: u64, opts: &Options) -> Result<Self, Stop> {
        let mut rng = StdRng::seed_from_u64(seed);
        let dir = match &opts.dir {
            Some(d) => tempfile::tempdir_in(d),
            None => tempfile::tempdir(),
        }
        .map_err(|e| format!("temporary directory: {e}"))?;
        // Each seed draws its own fault rates, so some seeds are calm and some are storms.
        let disk_rates = DiskRates {
            fail: rng.random_range(0..60),
            unsynced: rng.random_range(0..15),
        };
        let carrier_rates = CarrierRates {
            drop: rng.random_range(0..100),
            immediate: rng.random_range(0..500),
            disconnect: rng.random_range(0..100),
            duplicate_receipt: rng.random_range(0..300),
        };
        // 07:30 in Shanghai: the day begins inside quiet hours, which end half an hour in.
        let start = "2026-11-10T23:30:00Z"
            .parse()
            .map_err(|e| format!("start time: {e}"))?;
        let clock = ManualClock::new(start);
        let policy = PolicyConfig {
            duplicate_window_minutes: 0,
            ..PolicyConfig::default()
        };
        let model = Arc::new(Mutex::new(Model {
            caps: (
                policy.max_marketing_per_sender_per_day,
                policy.max_marketing_per_recipient_per_day,
            ),
            ..Model::default()
        }));
        let disk = Arc::new(Disk::new(dir.path(), seed, disk_rates));
        let carrier = Arc::new(SimCarrier::new(
            seed,
            carrier_rates,
            clock.clone(),
            Arc::clone(&model),
        ));
        let mut w = World {
            opts: opts.clone(),
            rng,
            dir,
            clock,
            disk,
            carrier,
            model,
            gw: None,
            senders: Vec::new(),
            policy,
            anchor: None,
            settling: true,
            restarted: false,
            out: Outcome {
                seed,
                ..Outcome::default()
            },
        };
        w.open()?;
        let gw = w.gw()?;
        for i in 0..opts.senders {
            let (s, _) = gw
                .create_sender(&format!("店{i}"), &format!("【店{i}】"))
                .map_err(|e| format!("creating a sender: {e}"))?;
            w.senders.push(s.id);
        }
        // A customer base: each shop starts with consent from about half the phones.
        for &s in &w.senders.clone() {
            let reqs: Vec<ConsentRequest> = (0..opts.phones)
                .filter(|_| w.rng.random_bool(0.5))
                .map(|i| ConsentRequest {
                    phone: phone(i),
                    action: ConsentAction::OptIn,
                    scope: Scope::Sender,
                    sender: None,
                    source: ConsentSource::Web,
                    evidence: "signed up at the till".into(),
                    at: None,
                })
                .collect();
            let events = gw
                .record_consents(Principal::Sender(s), &reqs)
                .map_err(|e| format!("recording the customer base: {e}"))?;
            w.model.lock().ack_events(&events);
        }
        w.settling = false;
        w.disk.arm(true);
        Ok(w)
    }

    fn gw(&self) -> Result<Arc<Gateway>, Stop> {
        self.gw
            .clone()
            .ok_or_else(|| "the gateway is not running".to_string())
    }

    /// Opens the store from the directory and the gateway on it (with faults off: a start
    /// that fails is not what is being tested).
    fn open(&mut self) -> Result<(), Stop> {
        self.disk.arm(false);
        let mut store = Store::open_sqlite(self.dir.path(), Durability::Full)
            .map_err(|e| format!("reopening the store: {e}"))?;
        if let Store::Sqlite(s) = &mut store {
            s.inject_faults(Arc::clone(&self.disk) as Arc<dyn store::faults::CommitFaults>);
        }
        let policy = Policy::new(&self.policy).map_err(|e| format!("policy: {e}"))?;
        let gw = Gateway::open(
            store,
            // A small bounded queue: the simulation never queues more, and opening allocates it.
            GatewayConfig {
                dispatch_queue: 4096,
                ..GatewayConfig::default()
            },
            policy,
            Arc::new(self.clock.clone()) as Arc<dyn Clock>,
            Arc::clone(&self.carrier) as Arc<dyn gateway::Carrier>,
        )
        .map_err(|e| format!("reopening the gateway: {e}"))?;
        self.gw = Some(gw);
        self.disk.arm(!self.settling);
        Ok(())
    }

    pub(crate) fn run(mut self) -> Outcome {
        for step in 0..self.opts.steps {
            self.out.steps = step + 1;
            let stepped = self.step();
            let audit =
                std::mem::take(&mut self.restarted) || step % self.opts.audit_every.max(1) == 0;
            let result = stepped.and_then(|()| self.check(audit));
            if let Err(what) = result {
                self.out.violation = Some(Violation { step, what });
                return self.finish();
            }
        }
        if let Err(what) = self.settle() {
            self.out.violation = Some(Violation {
                step: self.opts.steps,
                what,
            });
        }
        self.finish()
    }

    fn finish(mut self) -> Outcome {
        self.out.counts = self.model.lock().counts;
        (self.out.write_failures, self.out.fsync_failures) = self.disk.counts();
        self.out
    }

    fn step(&mut self) -> Result<(), Stop> {
        let gw = self.gw()?;
        match self.rng.random_range(0..1000) {
            0..=219 => self.campaign(&gw),
            220..=449 => self.consent(&gw),
            450..=529 => self.reply(&gw),
            530..=679 => {
                gw.dispatch_queued();
            }
            680..=789 => {
                let n = self.rng.random_range(1..20);
                self.carrier.wire(&gw, n);
            }
            790..=859 => self.carrier.receipts(&gw),
            860..=949 => self.clock.advance(jiff::SignedDuration::from_mins(
                self.rng.random_range(1..120),
            )),
            950..=974 => {
                self.clock.advance(jiff::SignedDuration::from_hours(
                    self.rng.random_range(1..14),
                ));
                // Releasing deferred marketing; a failed write leaves them held.
                let _ = gw.tick();
            }
            975..=989 => {
                drop(gw);
                self.crash()?;
            }
            _ => {
                drop(gw);
                self.restart()?;
            }
        }
        // An fsync failure leaves a process that must not go on writing: it dies now.
        if self.disk.poisoned() {
            self.crash()?;
        }
        Ok(())
    }

    /// A campaign from one shop to a random handful of phones (now and then a notice).
    fn campaign(&mut self, gw: &Gateway) {
        let s = self.rng.random_range(0..self.senders.len());
        let to: Vec<String> = (0..self.rng.random_range(1..6))
            .map(|_| phone(self.rng.random_range(0..self.opts.phones)))
            .collect();
        let (text, category) = if self.rng.random_ratio(1, 8) {
            (
                format!("【店{s}】您的订单{}已发货", self.rng.random_range(100..999)),
                Category::Transactional,
            )
        } else {
            (
                format!("【店{s}】限时{}折，回T退订", self.rng.random_range(1..10)),
                Category::Marketing,
            )
        };
        let sub = Submission {
            to: &to,
            text: &text,
            category,
        };
        if let Ok(outcomes) = gw.submit(Principal::Sender(self.senders[s]), &sub) {
            let mut m = self.model.lock();
            for o in outcomes {
                if let Some(phone) = o.phone {
                    m.messages.insert(
                        o.id,
                        AckedMessage {
                            phone,
                            sender: self.senders[s],
                        },
                    );
                }
            }
        }
    }

    /// Consent given or withdrawn through the API: by a shop for itself, or platform-wide.
    fn consent(&mut self, gw: &Gateway) {
        let platform = self.rng.random_ratio(1, 5);
        let s = self.senders[self.rng.random_range(0..self.senders.len())];
        let action = if self.rng.random_bool(0.75) {
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
            phone: phone(self.rng.random_range(0..self.opts.phones)),
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
        // Only acknowledged events enter the model.
        if let Ok(events) = gw.record_consents(by, &[req]) {
            self.model.lock().ack_events(&events);
        }
    }

    /// A consumer's own reply: `T` to a shop's number, or `全部退订` to every shop.
    fn reply(&mut self, gw: &Gateway) {
        let p = phone(self.rng.random_range(0..self.opts.phones));
        let s = self.senders[self.rng.random_range(0..self.senders.len())];
        let (to, text) = match self.rng.random_range(0..10) {
            0 => (gw.config().platform_number.clone(), "全部退订"),
            1 => (
                gw.sender(s)
                    .map_or_else(String::new, |r| r.source_number.clone()),
                "订阅",
            ),
            _ => (
                gw.sender(s)
                    .map_or_else(String::new, |r| r.source_number.clone()),
                "T",
            ),
        };
        let Ok(outcome) = gw.handle_reply(&p, &to, text, None) else {
            return;
        };
        let Ok(number) = domain::Msisdn::parse(&p, gw.policy().region()) else {
            return;
        };
        let Ok(history) = gw.store().consent_history(number) else {
            return;
        };
        let events: Vec<_> = history
            .into_iter()
            .filter(|e| outcome.events.contains(&e.seq))
            .collect();
        self.model.lock().ack_events(&events);
    }

    /// `kill -9`: the files as they are, the last unacknowledged write perhaps torn.
    fn crash(&mut self) -> Result<(), Stop> {
        let snap = self.disk.snapshot().map_err(|e| format!("snapshot: {e}"))?;
        self.gw = None;
        self.carrier.crash();
        let torn = self
            .disk
            .restore(snap)
            .map_err(|e| format!("restoring the crashed files: {e}"))?;
        self.out.crashes += 1;
        if torn == Torn::Cut {
            self.out.torn += 1;
        }
        self.open()?;
        self.after_restart()
    }

    /// An orderly stop and start.
    fn restart(&mut self) -> Result<(), Stop> {
        self.gw = None;
        self.carrier.crash();
        self.disk.reopened();
        self.out.restarts += 1;
        self.open()?;
        self.after_restart()
    }

    /// After a start: nothing acknowledged lost; what recovery kept adopted; the in-flight
    /// window computed; the link's resend queued.
    fn after_restart(&mut self) -> Result<(), Stop> {
        self.restarted = true;
        let gw = self.gw()?;
        let store = gw.store();
        let mut m = self.model.lock();
        for i in 0..self.opts.phones {
            let number = domain::Msisdn::parse(&phone(i), gw.policy().region())
                .map_err(|e| format!("phone: {e}"))?;
            let stored = store
                .consent_history(number)
                .map_err(|e| format!("reading the ledger: {e}"))?;
            for e in &stored {
                let known = m
                    .events
                    .get(&number.as_u64())
                    .is_some_and(|l| l.iter().any(|x| x.seq == e.seq));
                if !known {
                    m.counts.surfaced_events += 1;
                    m.adopt(e);
                }
            }
            let lost: Vec<u64> = m
                .acked
                .values()
                .filter(|a| a.phone == number)
                .filter(|a| !stored.iter().any(|e| e == *a))
                .map(|a| a.seq)
                .collect();
            if let Some(seq) = lost.first() {
                return Err(format!(
                    "acknowledged consent event {seq} for {number} lost after a restart"
                ));
            }
        }
        for (&id, acked) in &m.messages {
            let rec = store
                .message(id)
                .map_err(|e| format!("reading message {id}: {e}"))?;
            if rec.is_none_or(|r| r.phone != Some(acked.phone) || r.sender != acked.sender) {
                return Err(format!("acknowledged message {id} lost after a restart"));
            }
        }
        let since = self
            .clock
            .now()
            .checked_sub(jiff::SignedDuration::from_hours(48))
            .unwrap_or(domain::Timestamp::UNIX_EPOCH);
        let unacked: std::collections::HashSet<u64> = store
            .unacknowledged_handoffs(since)
            .map_err(|e| format!("reading hand-offs: {e}"))?
            .into_iter()
            .map(|h| h.id)
            .collect();
        let mut window = std::collections::HashSet::new();
        for &id in m.received.keys() {
            let pending = store
                .message(id)
                .map_err(|e| format!("reading message {id}: {e}"))?
                .is_some_and(|r| r.delivery == store::Delivery::Pending);
            if pending || unacked.contains(&id) {
                window.insert(id);
            }
        }
        m.resendable = window;
        drop(m);
        self.carrier.resume(&gw);
        Ok(())
    }

    /// The invariants over the store, after every step.
    fn check(&mut self, audit: bool) -> Result<(), Stop> {
        if let Some(v) = self.model.lock().violations.first() {
            return Err(v.clone());
        }
        let gw = self.gw()?;
        let store = gw.store();
        if !audit {
            return self.check_records(store);
        }
        // The audit chain verifies, and still holds the last head taken when every write had
        // been acknowledged (a head with an unacknowledged block may rightly be torn off).
        let anchors: Vec<AuditAnchor> = self.anchor.iter().cloned().collect();
        let report = store
            .verify_audit_against(&anchors)
            .map_err(|e| format!("audit verify: {e}"))?;
        if let Some(b) = report.broken {
            return Err(format!("audit chain broken: {b:?}"));
        }
        if !self.disk.poisoned() {
            let head = store.audit_head().map_err(|e| format!("audit head: {e}"))?;
            self.anchor = Some(AuditAnchor {
                blocks: Some(head.blocks),
                hash: head.hash,
            });
        }
        self.check_records(store)
    }

    /// Caps over the recorded decisions, and no message recorded delivered that no handset
    /// got.
    fn check_records(&self, store: &Store) -> Result<(), Stop> {
        let Store::Sqlite(sqlite) = store else {
            return Ok(());
        };
        let rows = sqlite
            .with_reader(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, phone, sender_id, coalesce(current_decided_at, decided_at),
                            coalesce(current_status, status), category, delivery
                     FROM messages",
                )?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, Option<i64>>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, String>(5)?,
                            r.get::<_, String>(6)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .map_err(|e| format!("reading messages: {e}"))?;
        let m = self.model.lock();
        let mut per_recipient: std::collections::HashMap<(i64, i64), u32> = Default::default();
        let mut per_sender: std::collections::HashMap<(i64, i64, i64), u32> = Default::default();
        let (cap_sender, cap_recipient) = m.caps;
        for (id, phone, sender, decided, status, category, delivery) in rows {
            let id_u = u64::try_from(id).unwrap_or(0);
            if delivery == "delivered" && !m.received.contains_key(&id_u) {
                return Err(format!(
                    "message {id} is recorded delivered but no handset got it"
                ));
            }
            let Some(phone) = phone else { continue };
            if category != "marketing" || status != "accepted" {
                continue;
            }
            let at = domain::Timestamp::from_microsecond(decided)
                .map_err(|e| format!("message {id}: {e}"))?;
            let (day, _) = local(at);
            let r = per_recipient.entry((phone, day)).or_default();
            *r += 1;
            let s = per_sender.entry((phone, sender, day)).or_default();
            *s += 1;
            if *r > cap_recipient || *s > cap_sender {
                return Err(format!(
                    "cap exceeded in the recorded decisions: {phone} has {r} accepted marketing on day {day} ({s} from sender {sender})"
                ));
            }
        }
        Ok(())
    }

    /// The end of a run: faults off, the queues and receipts worked off, a last restart, and
    /// every check again.
    fn settle(&mut self) -> Result<(), Stop> {
        self.settling = true;
        self.disk.arm(false);
        if self.disk.poisoned() {
            self.crash()?;
        }
        for _ in 0..4 {
            let gw = self.gw()?;
            gw.dispatch_queued();
            self.carrier.wire(&gw, usize::MAX);
            self.clock.advance(jiff::SignedDuration::from_mins(15));
            self.carrier.receipts(&gw);
            self.check(true)?;
        }
        self.restart()?;
        self.check(true)
    }
}

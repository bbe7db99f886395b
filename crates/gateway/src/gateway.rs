//! The gateway value: state, start-up rebuild, background workers.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use domain::{Category, Clock, SenderId, Timestamp};
use ledger::ConsentIndex;
use parking_lot::Mutex;
use policy::Policy;
use store::{
    ConsentLog, KeyRing, KeyRole, NewSender, SenderRecord, SenderRegistry, Store, StoreError,
};

use crate::access::{Access, Principal, hash_key, new_key};
use crate::deferred::Deferred;
use crate::volume::Volume;
use crate::{Carrier, GatewayConfig, GatewayError, Outbound, text_hash};

/// Figures about the live state, for `/metrics` and logs.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Stats {
    /// Consent events in the ledger at start plus those committed since.
    pub consent_events: u64,
    /// Phones with consent state in memory.
    pub phones: usize,
    /// Messages waiting for quiet hours to end.
    pub deferred: usize,
    /// Messages handed to the carrier since start.
    pub handed_off: u64,
    /// Marketing cancelled at hand-off because consent was withdrawn meanwhile.
    pub cancelled: u64,
}

/// The send path. Share it as `Arc<Gateway>`; see the crate docs.
pub struct Gateway {
    pub(crate) config: GatewayConfig,
    pub(crate) policy: Policy,
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) consent: ConsentIndex,
    pub(crate) volume: Volume,
    pub(crate) access: Access,
    pub(crate) carrier: Arc<dyn Carrier>,
    pub(crate) queue: SyncSender<Outbound>,
    pub(crate) queue_rx: Mutex<Option<Receiver<Outbound>>>,
    pub(crate) resume: Mutex<Vec<Outbound>>,
    /// What carrier links do after a takeover (cluster mode).
    pub(crate) resumers: Mutex<Vec<crate::ownership::Resumer>>,
    pub(crate) deferred: Mutex<Deferred>,
    pub(crate) stop: AtomicBool,
    pub(crate) consent_events: AtomicU64,
    pub(crate) handed_off: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    /// Consumer portal codes and sessions.
    pub(crate) portal: crate::portal::Portal,
    /// The reply parser and replay locks.
    pub(crate) replies: crate::inbound::Replies,
    /// The content classifier, if `[classify]` put one on the send path.
    pub(crate) classifier: std::sync::OnceLock<crate::content::ContentClassifier>,
    /// Enforcement settings and the complaint-filing lock.
    pub(crate) enforcement: crate::complaints::Enforcement,
    /// When keys were last read again for an unknown key (cluster mode).
    key_refresh: Mutex<Option<std::time::Instant>>,
    /// Cluster mode: which phones this node acts for (unset: all of them).
    pub(crate) ownership: std::sync::OnceLock<Arc<dyn crate::ownership::Ownership>>,
    /// Where replies to a sender's number are forwarded (the SMPP listener's merchants).
    pub(crate) reply_listener: parking_lot::RwLock<Option<crate::inbound::ReplyListener>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Opens the gateway on `store`: rebuilds the consent index from the ledger, the volume
    /// counters from the last two days of accepted messages, and the queues from messages not yet
    /// handed off. Call [`Gateway::start`] to run the workers.
    pub fn open(
        store: Store,
        config: GatewayConfig,
        policy: Policy,
        clock: Arc<dyn Clock>,
        carrier: Arc<dyn Carrier>,
    ) -> Result<Arc<Self>, GatewayError> {
        Self::open_with(store, config, policy, clock, carrier, true)
    }

    /// [`Gateway::open`]; with `load_all` false nothing per phone is loaded: cluster mode
    /// loads each partition when it becomes this node's ([`Gateway::load_phones`]).
    pub fn open_with(
        store: Store,
        config: GatewayConfig,
        policy: Policy,
        clock: Arc<dyn Clock>,
        carrier: Arc<dyn Carrier>,
        load_all: bool,
    ) -> Result<Arc<Self>, GatewayError> {
        // The phone-number library loads its metadata on first use (about a second in a debug
        // build): load it now, not inside the first request after a start.
        let _ = domain::Msisdn::parse("+8613800138000", policy.region());
        if !(1..=9).contains(&config.extension_digits) {
            return Err(GatewayError::InvalidField(format!(
                "[gateway] extension_digits must be 1-9, not {}",
                config.extension_digits
            )));
        }
        let consent = ConsentIndex::default();
        let mut events = 0;
        if load_all {
            store.consent_counts_by_phone(&mut |phone, n| consent.reserve(phone, n))?;
            events = store.scan_consents(&mut |phone, sender, action, at, own| {
                consent.apply_raw(phone, sender, action, at, own);
            })?;
            consent.shrink();
        }
        let (queue, rx) = sync_channel(config.dispatch_queue.max(1));
        let gw = Gateway {
            config,
            policy,
            store,
            clock,
            consent,
            volume: Volume::default(),
            access: Access::default(),
            carrier,
            queue,
            queue_rx: Mutex::new(Some(rx)),
            resume: Mutex::new(Vec::new()),
            resumers: Mutex::new(Vec::new()),
            deferred: Mutex::new(Deferred::default()),
            stop: AtomicBool::new(false),
            consent_events: AtomicU64::new(events),
            handed_off: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            portal: crate::portal::Portal::default(),
            replies: crate::inbound::Replies::default(),
            classifier: std::sync::OnceLock::new(),
            enforcement: crate::complaints::Enforcement::default(),
            ownership: std::sync::OnceLock::new(),
            key_refresh: Mutex::new(None),
            reply_listener: parking_lot::RwLock::new(None),
        };
        gw.reload_access()?;
        if load_all {
            gw.rebuild_volume(&|_| true)?;
            gw.rebuild_queues(&|_| true, &|_| None, (true, true))?;
        }
        Ok(Arc::new(gw))
    }

    /// Reads senders, keys and suspensions again from the store: in cluster mode another node
    /// may have changed them.
    pub fn reload_access(&self) -> Result<(), GatewayError> {
        let keys = self.store.keys()?;
        *self.access.keys.write() = keys
            .into_iter()
            .map(|(h, r)| (h, Principal::from(r)))
            .collect();
        *self.access.senders.write() = self
            .store
            .senders()?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        Ok(())
    }

    pub(crate) fn source_number(&self, sender: SenderId) -> String {
        self.access
            .sender(sender)
            .map_or_else(|| self.config.platform_number.clone(), |s| s.source_number)
    }

    /// Starts the dispatcher and the deferred-release ticker; they stop when the returned
    /// [`Workers`] is dropped.
    pub fn start(self: &Arc<Self>) -> Workers {
        let mut handles = Vec::new();
        if let Some(rx) = self.queue_rx.lock().take() {
            let gw = Arc::clone(self);
            handles.push(std::thread::spawn(move || gw.run_dispatcher(&rx)));
        }
        let gw = Arc::clone(self);
        handles.push(std::thread::spawn(move || {
            let tick = Duration::from_millis(gw.config.tick_ms.max(10));
            while !gw.stop.load(Ordering::Acquire) {
                if let Err(e) = gw.tick() {
                    tracing::error!(error = %e, "releasing deferred messages failed");
                }
                std::thread::sleep(tick);
            }
        }));
        Workers {
            gateway: Arc::clone(self),
            handles,
        }
    }

    /// The compiled policy.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The gateway settings.
    #[must_use]
    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    /// Whether accepted messages go to the simulated handset (no real phone is reached; its
    /// inbox is read back from the store).
    pub(crate) fn on_loopback(&self) -> bool {
        self.carrier.name() == crate::LoopbackCarrier::NAME
    }

    /// The live consent index.
    #[must_use]
    pub fn consent_index(&self) -> &ConsentIndex {
        &self.consent
    }

    /// Live figures.
    #[must_use]
    pub fn stats(&self) -> Stats {
        Stats {
            consent_events: self.consent_events.load(Ordering::Relaxed),
            phones: self.consent.phones(),
            deferred: self.deferred.lock().len(),
            handed_off: self.handed_off.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
        }
    }

    /// Who a presented key belongs to. In cluster mode a key this node does not know may have
    /// been created on another node a moment ago: the keys are read again from the store (at
    /// most five times a second, so unknown keys cannot hammer the database) before the answer
    /// is no.
    #[must_use]
    pub fn authenticate(&self, key: &str) -> Option<Principal> {
        if let Some(p) = self.access.authenticate(key) {
            return Some(p);
        }
        // One node: its keys are all in memory.
        let _cluster = self.ownership.get()?;
        let now = std::time::Instant::now();
        {
            let mut last = self.key_refresh.lock();
            if last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(200)) {
                return None;
            }
            *last = Some(now);
        }
        if let Err(e) = self.reload_access() {
            tracing::warn!(error = %e, "reloading keys for an unknown key failed");
        }
        self.access.authenticate(key)
    }

    /// A registered sender.
    #[must_use]
    pub fn sender(&self, id: SenderId) -> Option<SenderRecord> {
        self.access.sender(id)
    }

    /// The sender whose source number is `number`.
    #[must_use]
    pub fn sender_by_source(&self, number: &str) -> Option<SenderRecord> {
        self.access.sender_by_source(number)
    }

    /// Every sender.
    #[must_use]
    pub fn senders(&self) -> Vec<SenderRecord> {
        self.access.senders.read().values().cloned().collect()
    }

    /// A page of the senders list as the store reads it — searched, ordered and cut in the
    /// database ([`store::SenderQuery`]) — and how many senders match in all.
    pub fn sender_page(
        &self,
        q: &store::SenderQuery,
    ) -> Result<(Vec<SenderRecord>, u64), GatewayError> {
        Ok(self.store.sender_page(q)?)
    }

    /// Registers a sender; returns it with its API key (shown once, stored hashed).
    pub fn create_sender(
        &self,
        name: &str,
        signature: &str,
    ) -> Result<(SenderRecord, String), GatewayError> {
        let (name, signature) = self.new_identity(name, signature, None)?;
        let key = new_key("cs_live_");
        // The store allocates the id and the number that follows from it, so two nodes never
        // hand out one number.
        let record = match self.store.create_sender(&NewSender {
            name: name.to_string(),
            signature: signature.to_string(),
            number_prefix: self.config.platform_number.clone(),
            extension_digits: self.config.extension_digits,
            api_key_hash: hash_key(&key),
        }) {
            Err(StoreError::SenderNumbersFull { max }) => {
                return Err(GatewayError::SenderNumbersFull {
                    digits: self.config.extension_digits,
                    max,
                });
            }
            other => other?,
        };
        self.access
            .keys
            .write()
            .insert(hash_key(&key), Principal::Sender(record.id));
        self.access
            .senders
            .write()
            .insert(record.id, record.clone());
        Ok((record, key))
    }

    /// A name and signature checked for a sender (`None`: a new one): trimmed, of allowed
    /// lengths, and no other sender's already. Checked against this node's registry, in
    /// memory: reading every sender from the store for each registration made registering n
    /// senders cost n² rows. (Not a unique index: stores registered before #12 may hold such
    /// pairs already.)
    pub(crate) fn new_identity<'a>(
        &self,
        name: &'a str,
        signature: &'a str,
        sender: Option<SenderId>,
    ) -> Result<(&'a str, &'a str), GatewayError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(GatewayError::InvalidField(
                "name must be 1–100 characters".into(),
            ));
        }
        if signature.chars().count() > 40 {
            return Err(GatewayError::InvalidField(
                "signature must be at most 40 characters".into(),
            ));
        }
        let signature = signature.trim();
        if let Some(same) = self
            .access
            .senders
            .read()
            .values()
            .find(|s| Some(s.id) != sender && same_identity(s, name, signature))
        {
            return Err(GatewayError::DuplicateSender(same.id.0));
        }
        Ok((name, signature))
    }

    /// Makes sure a key of `role` exists. When none does, creates one, writes it to `file`
    /// (mode 0600) and returns it so the caller can print it once.
    pub fn ensure_key(
        &self,
        role: KeyRole,
        prefix: &str,
        file: &Path,
    ) -> Result<Option<String>, GatewayError> {
        let wanted = Principal::from(role);
        if self.access.keys.read().values().any(|p| *p == wanted) {
            return Ok(None);
        }
        let key = new_key(prefix);
        write_secret(file, &key).map_err(|e| {
            GatewayError::InvalidField(format!("cannot write {}: {e}", file.display()))
        })?;
        self.store.put_key(&hash_key(&key), role)?;
        self.access.keys.write().insert(hash_key(&key), wanted);
        Ok(Some(key))
    }

    /// The text hash and the category a message is decided under.
    pub(crate) fn hash_of(text: &str) -> u64 {
        text_hash(text)
    }

    pub(crate) fn is_marketing(c: Category) -> bool {
        c == Category::Marketing
    }
}

fn write_secret(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    // `mode` applies only when the file is created; an existing file keeps its permissions
    // unless they are set again.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    writeln!(f, "{secret}")?;
    f.sync_all()
}

/// The running background workers; dropping this stops and joins them.
pub struct Workers {
    gateway: Arc<Gateway>,
    handles: Vec<JoinHandle<()>>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.gateway.stop.store(true, Ordering::Release);
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// Keeps `BTreeMap` in the public signature of `Deferred` tidy.
pub(crate) type ByRelease<V> = BTreeMap<(Timestamp, u64), V>;

/// Whether `s` bears the name and signature consumers would read as `name` / `signature`:
/// equal after trimming, letters compared without case (`Tea Shop` and `tea shop` are one
/// shop to a reader). A sender with no signature is told apart by its name alone.
fn same_identity(s: &SenderRecord, name: &str, signature: &str) -> bool {
    // Compared without allocating, names first (they differ most): this runs over every
    // sender per registration. ASCII takes the length-first comparison, which keeps a debug
    // build registering 20,000 senders in seconds instead of minutes.
    let same = |a: &str, b: &str| {
        if a.is_ascii() && b.is_ascii() {
            return a.eq_ignore_ascii_case(b);
        }
        a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
    };
    same(s.name.trim(), name) && same(s.signature.trim(), signature)
}

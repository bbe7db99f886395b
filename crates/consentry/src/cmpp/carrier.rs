//! A China Mobile ISMG as a carrier: the hand-off only queues (it runs under the phone's consent
//! shard lock), and a feeder task sends the queue through a [`CmppClient`], with the last
//! consent check run by the link task right before a message's first part is written
//! ([`CmppClient::submit_gated`] over [`Gateway::at_the_wire`]), as the SMPP link does.
//!
//! Store writes (the ISMG's Msg_Ids, refusals, messages not sent) run on one recorder thread
//! per carrier, in batches. What happens to each outcome, following the SMPP carrier:
//! accepted parts are mapped to our message for their status reports; a part the ISMG refused
//! fails the message; parts in flight when the link dropped, or unanswered in time, are sent
//! again (CMPP cannot ask whether they arrived: the handset may get a duplicate, nothing is
//! lost); after a restart every hand-off of the last 48 hours without its Msg_Ids is sent
//! again (so at most what was in flight or queued at the stop is sent twice).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use cmpp::{ClientError, CmppClient, Gate, Outgoing, PartResult};
use domain::Msisdn;
use gateway::{Carrier, CarrierError, Gateway, NotSent, Outbound};
use parking_lot::Mutex;
use smpp::Hub;
use smpp_proto::MessageState;
use store::{Delivery, MessageLog, SmppRegistry};
use tokio::sync::{Semaphore, mpsc};

use super::config::CarrierConfig;
use super::deliveries::CarrierDeliveries;

/// Msg_Id → our message id, for status reports that arrive before the recorder has written
/// the mapping (most arrive within seconds); older ones are read from the store.
pub(super) struct Recent {
    ids: HashMap<u64, u64>,
    order: VecDeque<u64>,
}

const RECENT: usize = 200_000;

impl Recent {
    fn new() -> Self {
        Recent {
            ids: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn remember(&mut self, msg_id: u64, id: u64) {
        if self.ids.insert(msg_id, id).is_none() {
            self.order.push_back(msg_id);
        }
        while self.ids.len() > RECENT {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            self.ids.remove(&old);
        }
    }

    pub(super) fn get(&self, msg_id: u64) -> Option<u64> {
        self.ids.get(&msg_id).copied()
    }
}

/// The carrier the gateway hands off to.
#[derive(Debug)]
pub struct CmppCarrier {
    name: String,
    queue: mpsc::Sender<Outbound>,
}

impl Carrier for CmppCarrier {
    fn name(&self) -> &str {
        &self.name
    }

    /// Never blocks: called under the phone's consent shard lock.
    fn hand_off(&self, msg: &Outbound) -> Result<bool, CarrierError> {
        self.queue
            .try_send(msg.clone())
            .map(|()| false)
            .map_err(|e| CarrierError {
                carrier: self.name.clone(),
                why: match e {
                    mpsc::error::TrySendError::Full(_) => "queue full".into(),
                    mpsc::error::TrySendError::Closed(_) => "link stopped".into(),
                },
            })
    }
}

/// The not-yet-started link of a [`CmppCarrier`].
pub struct CmppLink {
    config: CarrierConfig,
    queue: mpsc::Receiver<Outbound>,
    /// The sending half of `queue`, for the resend after a takeover (cluster mode).
    requeue: mpsc::Sender<Outbound>,
    serves: Option<gateway::Serves>,
}

/// The carrier and its link, not yet connected.
pub fn new(config: CarrierConfig) -> Result<(Arc<CmppCarrier>, CmppLink)> {
    config.validate()?;
    let (tx, rx) = mpsc::channel(config.queue.max(1));
    Ok((
        Arc::new(CmppCarrier {
            name: config.name.clone(),
            queue: tx.clone(),
        }),
        CmppLink {
            config,
            queue: rx,
            requeue: tx,
            serves: None,
        },
    ))
}

/// What the recorder thread writes.
enum Event {
    /// The ISMG accepted every part of message `id` under these Msg_Ids.
    Mapped { id: u64, msg_ids: Vec<u64> },
    /// The ISMG refused message `id` (a part's Result, or the link's reason).
    Refused { id: u64, why: String },
    /// The last check stopped it before it was written.
    NotSent { msg: Arc<Outbound>, why: NotSent },
}

/// What every send task shares.
struct Feeder {
    name: String,
    gateway: Arc<Gateway>,
    client: CmppClient,
    recent: Arc<Mutex<Recent>>,
    events: mpsc::Sender<Event>,
    /// The platform number our senders' numbers begin with, and the ISMG's access number that
    /// takes its place on the wire.
    platform: String,
    /// Chinese numbers written without `86` (`national_numbers`).
    national: bool,
    /// Ids resent from before a restart: the dispatcher may hand one off again (it was
    /// `submitted` before this link started), and it must go once.
    resumed: Mutex<HashSet<u64>>,
}

impl CmppLink {
    /// Limits the resend after a restart to the recipients this link serves.
    #[must_use]
    pub fn serving(mut self, serves: impl Fn(Msisdn) -> bool + Send + Sync + 'static) -> Self {
        self.serves = Some(Arc::new(serves));
        self
    }

    /// Cluster mode: after each takeover by this node, queue again the partition's messages
    /// handed off and never acknowledged (see [`Gateway::resume_phones`]), as SMPP links do.
    /// Call before the node takes its first partitions.
    pub fn resume_on_takeover(&self, gateway: &Arc<Gateway>) {
        let requeue = self.requeue.clone();
        gateway.on_takeover(Gateway::takeover_resumer(
            Arc::downgrade(gateway),
            self.config.name.clone(),
            cmpp_parts,
            self.serves.clone(),
            move |m| requeue.try_send(m).is_ok(),
        ));
    }

    /// Starts the client, the feeder and the recorder on the current runtime.
    pub fn start(self, gateway: Arc<Gateway>, hub: Arc<Hub>) -> Result<()> {
        let mut resume = gateway
            .unacknowledged(cmpp_parts)
            .context("reading unacknowledged hand-offs")?;
        if let Some(serves) = &self.serves {
            resume.retain(|m| serves(m.phone));
        }
        // Cluster mode: a phone's messages are resent by its partition's owner, after each
        // takeover, under the new epoch (at start this node holds no partition yet).
        if gateway.clustered() {
            resume.clear();
        }
        if !resume.is_empty() {
            tracing::info!(carrier = %self.config.name, n = resume.len(), "resending messages handed off before the restart and never acknowledged");
        }
        let recent = Arc::new(Mutex::new(Recent::new()));
        let deliveries = Arc::new(CarrierDeliveries {
            carrier: self.config.name.clone(),
            src_id: self.config.src_id.clone(),
            gateway: Arc::clone(&gateway),
            hub: Arc::clone(&hub),
            recent: Arc::clone(&recent),
        });
        let client = CmppClient::start(self.config.client_config(), deliveries);
        let (events, events_rx) = mpsc::channel(8192);
        spawn_recorder(
            self.config.name.clone(),
            Arc::clone(&gateway),
            hub,
            events_rx,
        )?;
        let feeder = Arc::new(Feeder {
            name: self.config.name.clone(),
            platform: gateway.config().platform_number.clone(),
            national: self.config.national_numbers,
            gateway,
            client,
            recent,
            events,
            resumed: Mutex::new(resume.iter().map(|m| m.id).collect()),
        });
        tokio::spawn(feed(feeder, self.config, self.queue, resume));
        Ok(())
    }
}

/// Takes messages off the queue (the resumed ones first), paced to `max_tps` parts a second,
/// with at most two windows' worth handed to the client at once so the queue, not the client,
/// is where messages wait while the ISMG is away.
async fn feed(
    feeder: Arc<Feeder>,
    config: CarrierConfig,
    mut queue: mpsc::Receiver<Outbound>,
    resume: Vec<Outbound>,
) {
    let slots = Arc::new(Semaphore::new(config.window.max(1) * 2));
    let mut resume: VecDeque<Outbound> = resume.into();
    let interval = if config.max_tps == 0 {
        Duration::ZERO
    } else {
        Duration::from_secs(1) / config.max_tps
    };
    // A burst of up to one window after an idle spell, no more.
    let burst = interval * u32::try_from(config.window).unwrap_or(u32::MAX);
    let mut next_send = Instant::now();
    loop {
        let msg = match resume.pop_front() {
            Some(m) => m,
            None => match queue.recv().await {
                Some(m) => {
                    // Resent from before the restart already: the dispatcher may hand it off
                    // again (it was `submitted` before this link started), and it goes once.
                    if feeder.resumed.lock().remove(&m.id) {
                        continue;
                    }
                    m
                }
                None => return,
            },
        };
        if !interval.is_zero() {
            let parts = cmpp_proto::concat::split(&msg.text, 0).map_or(1, |p| p.len());
            let now = Instant::now();
            if next_send > now {
                tokio::time::sleep_until(next_send.into()).await;
            }
            let now = Instant::now();
            next_send = next_send.max(now.checked_sub(burst).unwrap_or(now))
                + interval * u32::try_from(parts).unwrap_or(1);
        }
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let feeder = Arc::clone(&feeder);
        tokio::spawn(async move {
            feeder.send(msg).await;
            drop(slot);
        });
    }
}

impl Feeder {
    /// Dest_terminal_Id: the E.164 digits, or for a Chinese number without `86` when the ISMG
    /// takes national numbers.
    fn destination(&self, phone: Msisdn) -> String {
        if self.national && phone.country_code() == 86 {
            phone.national().to_string()
        } else {
            phone.as_u64().to_string()
        }
    }

    /// The Src_Id extension of a message: its sender's number after the platform number (the
    /// client appends it to the ISMG's access number).
    fn extension(&self, source_number: &str) -> String {
        source_number
            .strip_prefix(&self.platform)
            .unwrap_or("")
            .to_owned()
    }

    /// Sends one message until the ISMG answers it, the last check stops it, or it fails.
    async fn send(&self, msg: Outbound) {
        let msg = Arc::new(msg);
        let out = Outgoing {
            destination: self.destination(msg.phone),
            text: msg.text.clone(),
            extension: self.extension(&msg.source_number),
            report: true,
        };
        let mut gate_next = true;
        let mut pause = Duration::from_millis(100);
        loop {
            let withheld: Arc<Mutex<Option<NotSent>>> = Arc::new(Mutex::new(None));
            let gate: Option<Gate> = gate_next.then(|| {
                let (gateway, msg, withheld) = (
                    Arc::clone(&self.gateway),
                    Arc::clone(&msg),
                    Arc::clone(&withheld),
                );
                let gate: Gate = Box::new(move || match gateway.at_the_wire(&msg, || ()) {
                    Ok(()) => true,
                    Err(why) => {
                        *withheld.lock() = Some(why);
                        false
                    }
                });
                gate
            });
            match self.client.submit_gated(&out, gate).await {
                Ok(parts) => return self.answered(&msg, &parts).await,
                Err(ClientError::Withheld) => {
                    let why = withheld.lock().take();
                    // A stale message decided again comes back through the dispatcher, and
                    // must then be taken even if it was resumed after a restart.
                    self.resumed.lock().remove(&msg.id);
                    if let Some(why) = why {
                        let _ = self.events.send(Event::NotSent { msg, why }).await;
                    }
                    return;
                }
                Err(ClientError::Disconnected | ClientError::Timeout) => {
                    // The first transmission may have arrived: sent again unchecked, as the
                    // SMPP link does; the check was passed when it first went out.
                    metrics::counter!("consentry_carrier_timeouts_total").increment(1);
                    gate_next = false;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                Err(ClientError::Closed) => {
                    // Shutting down: still `submitted`, so it is resent at the next start.
                    return;
                }
                Err(e) => {
                    let why = e.to_string();
                    let _ = self.events.send(Event::Refused { id: msg.id, why }).await;
                    return;
                }
            }
        }
    }

    async fn answered(&self, msg: &Outbound, parts: &[PartResult]) {
        if let Some(refused) = parts.iter().find(|p| p.result != cmpp_proto::result::OK) {
            let why = format!("Result {}", refused.result);
            let _ = self.events.send(Event::Refused { id: msg.id, why }).await;
            return;
        }
        {
            let mut recent = self.recent.lock();
            for p in parts {
                recent.remember(p.msg_id, msg.id);
            }
        }
        let msg_ids = parts.iter().map(|p| p.msg_id).collect();
        if self
            .events
            .send(Event::Mapped {
                id: msg.id,
                msg_ids,
            })
            .await
            .is_err()
        {
            tracing::error!(carrier = %self.name, id = msg.id, "the recorder is gone; Msg_Ids not stored");
        }
    }
}

/// Runs the recorder: batches of events, one store write of each kind per batch.
fn spawn_recorder(
    carrier: String,
    gateway: Arc<Gateway>,
    hub: Arc<Hub>,
    mut rx: mpsc::Receiver<Event>,
) -> Result<()> {
    std::thread::Builder::new()
        .name(format!("carrier-{carrier}"))
        .spawn(move || {
            while let Some(first) = rx.blocking_recv() {
                let mut batch = vec![first];
                while batch.len() < 4096 {
                    match rx.try_recv() {
                        Ok(e) => batch.push(e),
                        Err(_) => break,
                    }
                }
                record(&carrier, &gateway, &hub, batch);
            }
        })
        .context("starting the CMPP carrier's recorder")?;
    Ok(())
}

fn record(carrier: &str, gateway: &Gateway, hub: &Hub, batch: Vec<Event>) {
    let store = gateway.store();
    let now = domain::Timestamp::now();
    let mut mapped = Vec::new();
    let mut failed = Vec::new();
    for e in batch {
        match e {
            Event::Mapped { id, msg_ids } => {
                mapped.extend(msg_ids.into_iter().map(|m| (m.to_string(), id)));
            }
            Event::Refused { id, why } => {
                tracing::warn!(carrier, id, why, "the ISMG refused a message");
                failed.push((id, Delivery::Failed, now));
            }
            Event::NotSent { msg, why } => {
                tracing::info!(carrier, id = msg.id, ?why, "not sent at the carrier link");
                gateway.not_sent_at_the_wire(&msg, why);
            }
        }
    }
    if let Err(e) = store.put_carrier_ids(carrier, &mapped) {
        tracing::error!(carrier, error = %e, "recording Msg_Ids failed");
    }
    if let Err(e) = store.set_delivery(&failed) {
        tracing::error!(carrier, error = %e, "recording refused messages failed");
    }
    for (id, _, at) in failed {
        hub.report(id, MessageState::Undeliverable, None, at);
    }
}

/// CMPP's part count: a long text goes as UCS-2 parts behind the 6-octet UDH.
fn cmpp_parts(text: &str) -> usize {
    cmpp_proto::concat::split(text, 0).map_or(1, |p| p.len())
}

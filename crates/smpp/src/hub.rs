//! Where deliveries to merchants go: the registry of bound merchant sessions, the receipts they
//! asked for, and routing of mobile-originated replies to the sender whose number was texted.
//!
//! Everything here is non-blocking (`try_send` into each session's bounded queue) because
//! receipts are produced under the gateway's consent shard lock (loopback hand-off) and by the
//! carrier client's I/O tasks. A session whose queue is full is not reading: it is told to close
//! rather than allowed to hold memory or delay the others.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use domain::{SenderId, Timestamp};
use parking_lot::Mutex;
use smpp_proto::receipt::ReceiptTime;
use smpp_proto::{Address, MessageState, Receipt, ShortMessage, text};
use tokio::sync::{Notify, mpsc};

/// What a session's writer is asked to send on the hub's behalf.
#[derive(Debug)]
pub enum Push {
    /// A deliver_sm (receipt or reply); the session assigns the sequence number.
    Deliver(ShortMessage),
}

/// Identifies one connection.
pub type SessionId = u64;

struct Bound {
    sender: SenderId,
    receives: bool,
    tx: mpsc::Sender<Push>,
    close: Arc<Notify>,
}

/// A merchant's request for a receipt of one accepted message.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub sender: SenderId,
    /// The merchant's source address (the receipt's destination).
    pub source: Address,
    /// The recipient (the receipt's source).
    pub destination: Address,
    /// registered_delivery & 0x03: 1 = every final state, 2 = failures only.
    pub mode: u8,
    pub submitted_at: Timestamp,
    /// The receipt's `text:`: the first 20 characters when they read the same in ASCII and
    /// GSM, else empty (receipts are plain ASCII, data_coding 0).
    pub text: String,
}

#[derive(Default)]
struct Receipts {
    by_id: HashMap<u64, Subscription>,
    order: VecDeque<u64>,
    /// Final states reported before anyone subscribed: the dispatcher can hand a message off
    /// (and the loopback handset deliver it) before its submit_sm_resp reaches the session
    /// that subscribes. Bounded; only the last moments matter.
    early: HashMap<u64, (MessageState, Option<String>, Timestamp)>,
    early_order: VecDeque<u64>,
}

/// Early reports remembered.
const EARLY: usize = 65_536;

/// deliver_sm kept per merchant while it has no receiving bind that can take them.
pub const BACKLOG_PER_SENDER: usize = 10_000;
/// deliver_sm kept for all merchants together (about 200 bytes each).
pub const BACKLOG_TOTAL: usize = 200_000;

/// deliver_sm waiting for their merchants, oldest first per merchant.
#[derive(Default)]
struct Waiting {
    by_sender: HashMap<SenderId, VecDeque<ShortMessage>>,
    total: usize,
    /// Merchants that have bound over SMPP since the start: only they are waited for. A
    /// merchant that only uses HTTP never binds, and its replies would wait forever.
    known: std::collections::HashSet<SenderId>,
}

/// Merchants reached over another protocol (the CMPP listener): the hub hands them every final
/// delivery report and every reply it is given, beside serving its own SMPP sessions, so the
/// carrier links and the loopback handset report to one place whatever the merchant speaks.
/// Called where the hub is called (under a consent shard lock, from carrier tasks): it must
/// not block.
pub trait Forward: Send + Sync {
    /// A final delivery state of message `id` (`err`: a three-digit error code, if any).
    fn report(&self, id: u64, state: MessageState, err: Option<&str>, at: Timestamp);
    /// A reply from `from` to `sender`'s number `to`; true when a connection took it.
    fn reply(&self, sender: SenderId, from: &str, to: &str, text: &str) -> bool;
}

/// Shared between the listener's sessions, the carrier client and the loopback reporter.
pub struct Hub {
    sessions: Mutex<HashMap<SessionId, Bound>>,
    receipts: Mutex<Receipts>,
    capacity: usize,
    next_id: AtomicU64,
    /// deliver_sm dropped: a merchant's backlog was full ([`BACKLOG_PER_SENDER`]), or (cluster
    /// mode) no node could take it.
    pub undeliverable: AtomicU64,
    /// deliver_sm waiting for their merchant to bind as a receiver, oldest first: an ESME
    /// restarts and binds again, and a receipt lost meanwhile is a message whose fate it never
    /// learns. In memory (a restart loses them), bounded. Locked after `sessions`.
    waiting: Mutex<Waiting>,
    /// Cluster mode: the other nodes (merchants bound there, submissions decided there).
    remote: std::sync::OnceLock<Arc<dyn crate::Remote>>,
    forward: std::sync::OnceLock<Arc<dyn Forward>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("sessions", &self.sessions.lock().len())
            .finish_non_exhaustive()
    }
}

/// Appendix B timestamps (YYMMDDhhmm, UTC).
pub(crate) fn receipt_time(t: Timestamp) -> Option<ReceiptTime> {
    let dt = jiff::tz::TimeZone::UTC.to_datetime(t);
    Some(ReceiptTime {
        year: u8::try_from(dt.year().rem_euclid(100)).ok()?,
        month: u8::try_from(dt.month()).ok()?,
        day: u8::try_from(dt.day()).ok()?,
        hour: u8::try_from(dt.hour()).ok()?,
        minute: u8::try_from(dt.minute()).ok()?,
        second: None,
    })
}

impl Hub {
    /// A hub remembering at most `receipt_capacity` receipt subscriptions.
    #[must_use]
    pub fn new(receipt_capacity: usize) -> Arc<Self> {
        Arc::new(Hub {
            sessions: Mutex::new(HashMap::new()),
            receipts: Mutex::new(Receipts::default()),
            capacity: receipt_capacity.max(1),
            next_id: AtomicU64::new(1),
            undeliverable: AtomicU64::new(0),
            waiting: Mutex::new(Waiting::default()),
            remote: std::sync::OnceLock::new(),
            forward: std::sync::OnceLock::new(),
        })
    }

    /// Cluster mode: deliveries for merchants not bound here go to the other nodes, and the
    /// listener sends submissions for phones other nodes own there. Once; later calls are
    /// ignored.
    pub fn set_remote(&self, remote: Arc<dyn crate::Remote>) {
        let _ = self.remote.set(remote);
    }

    /// The other nodes, in cluster mode.
    pub fn remote(&self) -> Option<&Arc<dyn crate::Remote>> {
        self.remote.get()
    }

    /// Receiving binds of `sender` here.
    fn receiving(&self, sender: SenderId) -> usize {
        self.sessions
            .lock()
            .values()
            .filter(|b| b.sender == sender && b.receives)
            .count()
    }

    /// Also hands every final report and reply to `forward` (set once; false if already set).
    pub fn forward_to(&self, forward: Arc<dyn Forward>) -> bool {
        self.forward.set(forward).is_ok()
    }

    pub(crate) fn session_id(&self) -> SessionId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn register(
        &self,
        id: SessionId,
        sender: SenderId,
        receives: bool,
        tx: mpsc::Sender<Push>,
        close: Arc<Notify>,
    ) {
        {
            let mut sessions = self.sessions.lock();
            sessions.insert(
                id,
                Bound {
                    sender,
                    receives,
                    tx,
                    close,
                },
            );
            self.waiting.lock().known.insert(sender);
            if receives {
                Self::flush_locked(&sessions, &self.waiting, sender);
            }
        }
        if receives && let Some(r) = self.remote.get() {
            r.binds_changed(sender, self.receiving(sender));
        }
    }

    pub(crate) fn unregister(&self, id: SessionId) {
        let gone = self.sessions.lock().remove(&id);
        if let (Some(b), Some(r)) = (gone, self.remote.get())
            && b.receives
        {
            r.binds_changed(b.sender, self.receiving(b.sender));
        }
    }

    /// Bound sessions of `system_id`'s sender.
    pub(crate) fn binds_of(&self, sender: SenderId) -> usize {
        self.sessions
            .lock()
            .values()
            .filter(|b| b.sender == sender)
            .count()
    }

    /// Sends `sm` to one receiving session of `sender` here or, in cluster mode, on another
    /// node.
    fn push_to(&self, sender: SenderId, sm: ShortMessage) -> bool {
        let Some(remote) = self.remote.get() else {
            return self.push_local(sender, sm);
        };
        if self.receiving(sender) > 0 {
            // Kept for the other nodes if no session here can take it after all.
            if self.push_here(sender, sm.clone()).is_none() {
                return true;
            }
        }
        if remote.deliver(sender, &sm) {
            return true;
        }
        self.undeliverable.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("consentry_smpp_undeliverable_total").increment(1);
        false
    }

    /// Sends `sm` to one receiving session of `sender` on this node, trying each until one has
    /// room (what another node's delivery arrives as). When none can take it, it waits for the
    /// merchant's next receiving bind ([`Hub::waiting`]); false then.
    pub fn push_local(&self, sender: SenderId, sm: ShortMessage) -> bool {
        let Some(sm) = self.push_here(sender, sm) else {
            return true;
        };
        let mut w = self.waiting.lock();
        let dropped = if w.known.contains(&sender) {
            w.by_sender.entry(sender).or_default().push_back(sm);
            w.total += 1;
            let over_own = w
                .by_sender
                .get(&sender)
                .is_some_and(|q| q.len() > BACKLOG_PER_SENDER);
            if (over_own || w.total > BACKLOG_TOTAL)
                && let Some(q) = w.by_sender.get_mut(&sender)
            {
                q.pop_front();
                w.total -= 1;
                true
            } else {
                false
            }
        } else {
            true
        };
        drop(w);
        if dropped {
            self.undeliverable.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("consentry_smpp_undeliverable_total").increment(1);
            tracing::debug!(sender = sender.0, "a deliver_sm for a merchant was dropped");
        }
        false
    }

    /// deliver_sm waiting for `sender` to bind as a receiver.
    #[must_use]
    pub fn waiting(&self, sender: SenderId) -> usize {
        self.waiting
            .lock()
            .by_sender
            .get(&sender)
            .map_or(0, VecDeque::len)
    }

    /// Sends what waits for `sender` to its receiving sessions, in order, as far as they have
    /// room (after a bind, and as the merchant acknowledges deliveries).
    pub(crate) fn flush(&self, sender: SenderId) {
        let sessions = self.sessions.lock();
        Self::flush_locked(&sessions, &self.waiting, sender);
    }

    fn flush_locked(
        sessions: &HashMap<SessionId, Bound>,
        waiting: &Mutex<Waiting>,
        sender: SenderId,
    ) {
        let mut w = waiting.lock();
        let Waiting {
            by_sender, total, ..
        } = &mut *w;
        let Some(q) = by_sender.get_mut(&sender) else {
            return;
        };
        while let Some(sm) = q.pop_front() {
            if let Some(back) = Self::queue_on(sessions, sender, sm, false) {
                q.push_front(back);
                return;
            }
            *total = total.saturating_sub(1);
        }
        by_sender.remove(&sender);
    }

    /// Queues `sm` on a receiving session of `sender` with room; gives it back when none has.
    /// `close_full`: a session whose queue is full is told to close (it is not reading); a
    /// backlog being flushed only fills what room there is.
    fn queue_on(
        sessions: &HashMap<SessionId, Bound>,
        sender: SenderId,
        sm: ShortMessage,
        close_full: bool,
    ) -> Option<ShortMessage> {
        let mut push = Push::Deliver(sm);
        for b in sessions
            .values()
            .filter(|b| b.sender == sender && b.receives)
        {
            match b.tx.try_send(push) {
                Ok(()) => return None,
                Err(mpsc::error::TrySendError::Full(p)) => {
                    if close_full {
                        // Not reading: close it, so it cannot hold deliveries hostage.
                        b.close.notify_one();
                    }
                    push = p;
                }
                Err(mpsc::error::TrySendError::Closed(p)) => push = p,
            }
        }
        let Push::Deliver(sm) = push;
        Some(sm)
    }

    /// Queues `sm` on a receiving session of `sender` here, behind what already waits for it;
    /// gives it back when no session took it (without counting a failure).
    fn push_here(&self, sender: SenderId, sm: ShortMessage) -> Option<ShortMessage> {
        let sessions = self.sessions.lock();
        // What waits goes first: a receipt must not overtake an older one.
        Self::flush_locked(&sessions, &self.waiting, sender);
        if self.waiting.lock().by_sender.contains_key(&sender) {
            return Some(sm);
        }
        Self::queue_on(&sessions, sender, sm, true)
    }

    /// Remembers that the merchant wants a receipt for message `id`.
    pub fn subscribe(&self, id: u64, sub: Subscription) {
        let mut r = self.receipts.lock();
        if let Some((state, err, at)) = r.early.remove(&id) {
            drop(r);
            self.send_receipt(id, &sub, state, err.as_deref(), at);
            return;
        }
        if r.by_id.insert(id, sub).is_none() {
            r.order.push_back(id);
        }
        while r.by_id.len() > self.capacity {
            let Some(old) = r.order.pop_front() else {
                break;
            };
            r.by_id.remove(&old);
        }
    }

    /// Reports a final delivery state of message `id`; sends the merchant its receipt if it
    /// asked for one. Non-final states (ENROUTE, ACCEPTD) are not forwarded. In cluster mode a
    /// state no request is kept for here goes to the other nodes ([`crate::Remote::report`]).
    pub fn report(&self, id: u64, state: MessageState, err: Option<&str>, at: Timestamp) {
        if !self.report_here(id, state, err, at)
            && let Some(remote) = self.remote.get()
        {
            remote.report(id, state, err, at);
        }
    }

    /// A final state another node's carrier link reported ([`crate::Remote::report`]): sends
    /// the receipt if the request is kept here, and goes no further.
    pub fn report_from_peer(&self, id: u64, state: MessageState, err: Option<&str>, at: Timestamp) {
        self.report_here(id, state, err, at);
    }

    /// Sends the receipt for `id` if its request is kept here (true), else remembers the state
    /// for a request that may still come (false).
    fn report_here(&self, id: u64, state: MessageState, err: Option<&str>, at: Timestamp) -> bool {
        if !state.is_final() {
            return true;
        }
        if let Some(f) = self.forward.get() {
            f.report(id, state, err, at);
        }
        let sub = {
            let mut r = self.receipts.lock();
            match r.by_id.remove(&id) {
                Some(sub) => sub,
                None => {
                    if r.early
                        .insert(id, (state, err.map(str::to_string), at))
                        .is_none()
                    {
                        r.early_order.push_back(id);
                    }
                    while r.early.len() > EARLY {
                        let Some(old) = r.early_order.pop_front() else {
                            break;
                        };
                        r.early.remove(&old);
                    }
                    return false;
                }
            }
        };
        self.send_receipt(id, &sub, state, err, at);
        true
    }

    fn send_receipt(
        &self,
        id: u64,
        sub: &Subscription,
        state: MessageState,
        err: Option<&str>,
        at: Timestamp,
    ) {
        let delivered = state == MessageState::Delivered;
        if sub.mode == 2 && delivered {
            return;
        }
        let receipt = Receipt {
            id: id.to_string(),
            submitted: Some(1),
            delivered: Some(u32::from(delivered)),
            submit_date: receipt_time(sub.submitted_at),
            done_date: receipt_time(at),
            state: Some(state),
            error: Some(err.unwrap_or("000").to_string()),
            text: Some(sub.text.clone()),
        };
        let sm = receipt.to_deliver_sm(sub.destination.clone(), sub.source.clone());
        self.push_to(sub.sender, sm);
    }

    /// Sends a receipt built by the caller (rejections) to `sender`.
    pub(crate) fn push_receipt(&self, sender: SenderId, sm: ShortMessage) -> bool {
        self.push_to(sender, sm)
    }

    /// Forwards a mobile-originated reply from `from` to the merchant `sender` (whose source
    /// number `to` was texted), over SMPP and through [`Hub::forward_to`]. Returns false when
    /// no connection of that sender could take it.
    pub fn deliver_reply(&self, sender: SenderId, from: &str, to: &str, body: &str) -> bool {
        let forwarded = self
            .forward
            .get()
            .is_some_and(|f| f.reply(sender, from, to, body));
        let sm = Self::reply_sm(from, to, body);
        if forwarded {
            // Also to an SMPP receiver of the same merchant, if it has one; not a miss if not.
            let _ = self.push_here(sender, sm);
            return true;
        }
        self.push_to(sender, sm)
    }

    fn reply_sm(from: &str, to: &str, body: &str) -> ShortMessage {
        let (data_coding, bytes) = text::encode_text(body);
        let mut sm = ShortMessage {
            source: Address::international(from.trim_start_matches('+')),
            destination: Address::new(0, 1, to),
            data_coding,
            ..ShortMessage::default()
        };
        if bytes.len() <= 254 {
            sm.short_message = bytes;
        } else {
            sm.tlvs.push(smpp_proto::Tlv::MessagePayload(bytes));
        }
        sm
    }
}

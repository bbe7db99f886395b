//! The carrier link's blocking side: everything that touches the store or the reply handler runs
//! on one thread per carrier, in the order the link saw it, so a receipt is always looked up
//! after the mapping from its submit_sm_resp was recorded.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use domain::Timestamp;
use gateway::Gateway;
use smpp_proto::{CommandStatus, MessageState, Receipt};
use store::{Delivery, MessageLog, SmppRegistry};
use tokio::sync::mpsc;

use crate::{Hub, MobileOriginated, ReceiptIdBase, ReplyHandler};

/// What the link hands over.
#[derive(Debug)]
pub(crate) enum Event {
    /// The carrier accepted one segment of message `id` under `carrier_id`.
    Mapped { carrier_id: String, id: u64 },
    /// The carrier refused message `id` for good.
    Refused { id: u64, status: CommandStatus },
    /// A delivery receipt, to be answered with `seq` on connection `conn`.
    Receipt {
        receipt: Receipt,
        seq: u32,
        conn: u64,
    },
    /// A reply from a handset, to be answered with `seq` on connection `conn`.
    Reply {
        mo: MobileOriginated,
        seq: u32,
        conn: u64,
    },
    /// A queued message the link did not send after all (refused or stale since the hand-off).
    NotSent {
        msg: Arc<gateway::Outbound>,
        why: gateway::NotSent,
    },
}

/// The deliver_sm_resp to send for a receipt or reply.
#[derive(Debug)]
pub(crate) struct Ack {
    /// The connection the request came on; an ack for an older connection is dropped.
    pub conn: u64,
    pub seq: u32,
    pub status: CommandStatus,
}

/// Mappings kept in memory for receipts that arrive soon after the response (most do); older
/// ones come from the store.
const RECENT: usize = 200_000;

pub(crate) struct Recorder {
    pub carrier: String,
    pub gateway: Arc<Gateway>,
    pub hub: Option<Arc<Hub>>,
    pub replies: Arc<dyn ReplyHandler>,
    ids: ReceiptIdBase,
    recent: HashMap<String, u64>,
    order: VecDeque<String>,
}

fn delivery_of(state: MessageState) -> Option<Delivery> {
    match state {
        MessageState::Delivered => Some(Delivery::Delivered),
        MessageState::Expired
        | MessageState::Deleted
        | MessageState::Undeliverable
        | MessageState::Rejected => Some(Delivery::Failed),
        _ => None,
    }
}

impl Recorder {
    pub fn new(
        carrier: String,
        ids: ReceiptIdBase,
        gateway: Arc<Gateway>,
        hub: Option<Arc<Hub>>,
        replies: Arc<dyn ReplyHandler>,
    ) -> Self {
        Recorder {
            carrier,
            gateway,
            hub,
            replies,
            ids,
            recent: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn remember(&mut self, carrier_id: &str, id: u64) {
        let key = self.ids.sent_key(carrier_id);
        if self.recent.insert(key.clone(), id).is_none() {
            self.order.push_back(key);
        }
        while self.recent.len() > RECENT {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            self.recent.remove(&old);
        }
    }

    /// The message a receipt's id names, in memory or in the store (both keyed by
    /// [`ReceiptIdBase::sent_key`]).
    fn lookup(&self, receipt_id: &str) -> Option<u64> {
        let key = self.ids.receipt_key(receipt_id)?;
        if let Some(&id) = self.recent.get(&key) {
            return Some(id);
        }
        let store = self.gateway.store();
        store
            .message_by_carrier_id(&self.carrier, &key)
            .ok()
            .flatten()
    }

    /// Processes one batch; returns the acknowledgements to send, in order.
    pub fn process(&mut self, events: Vec<Event>) -> Vec<Ack> {
        let gateway = Arc::clone(&self.gateway);
        let store = gateway.store();
        let now = Timestamp::now();
        let mut mapped = Vec::new();
        let mut deliveries = Vec::new();
        let mut acks = Vec::new();
        // Indices in `acks` of receipts: they are answered ROK only once their state is written.
        let mut receipt_acks = Vec::new();
        let mut reports = Vec::new();
        for e in events {
            match e {
                Event::Mapped { carrier_id, id } => {
                    self.remember(&carrier_id, id);
                    mapped.push((self.ids.sent_key(&carrier_id), id));
                }
                Event::Refused { id, status } => {
                    tracing::warn!(carrier = %self.carrier, id, status = %status.0, "carrier refused a message");
                    deliveries.push((id, Delivery::Failed, now));
                    reports.push((
                        id,
                        MessageState::Undeliverable,
                        format!("{:03}", status.0 & 0xFFF),
                    ));
                }
                Event::Receipt { receipt, seq, conn } => {
                    // The mapping may be in this very batch: write it first.
                    if let Err(e) = store.put_carrier_ids(&self.carrier, &mapped) {
                        tracing::error!(error = %e, "recording carrier ids failed");
                    }
                    mapped.clear();
                    match (self.lookup(&receipt.id), receipt.state) {
                        (Some(id), Some(state)) => {
                            if let Some(d) = delivery_of(state) {
                                deliveries.push((id, d, now));
                            }
                            reports.push((id, state, receipt.error.clone().unwrap_or_default()));
                        }
                        (None, _) => {
                            tracing::warn!(carrier = %self.carrier, carrier_id = %receipt.id, "receipt for an unknown message");
                        }
                        (Some(_), None) => {}
                    }
                    receipt_acks.push(acks.len());
                    acks.push(Ack {
                        conn,
                        seq,
                        status: CommandStatus::ROK,
                    });
                }
                Event::Reply { mo, seq, conn } => {
                    // Forwarding the reply to the merchant bound over SMPP is the gateway's
                    // (`Gateway::forward_replies`, set up by the listener), so replies posted
                    // over HTTP reach merchants the same way.
                    let status = match self.replies.on_reply(&mo) {
                        Ok(()) => CommandStatus::ROK,
                        Err(e) => {
                            tracing::error!(error = %e, "reply handling failed; the carrier will redeliver");
                            CommandStatus::RX_T_APPN
                        }
                    };
                    acks.push(Ack { conn, seq, status });
                }
                Event::NotSent { msg, why } => {
                    tracing::info!(carrier = %self.carrier, id = msg.id, ?why, "not sent at the carrier link");
                    gateway.not_sent_at_the_wire(&msg, why);
                }
            }
        }
        if let Err(e) = store.put_carrier_ids(&self.carrier, &mapped) {
            tracing::error!(error = %e, "recording carrier ids failed");
        }
        if let Err(e) = store.set_delivery(&deliveries) {
            // Not acknowledged, so the carrier delivers the receipts again.
            tracing::error!(error = %e, "recording delivery receipts failed; asking the carrier to resend them");
            for &i in &receipt_acks {
                acks[i].status = CommandStatus::RX_T_APPN;
            }
        }
        if let Some(hub) = &self.hub {
            for (id, state, err) in reports {
                let err = (!err.is_empty()).then_some(err.as_str());
                hub.report(id, state, err, now);
            }
        }
        acks
    }
}

/// The sender a reply was addressed to: its source number, written with or without the country
/// code, possibly with a sub-extension appended (as the reply handling attributes it).
/// Runs the recorder until the link drops its sender.
pub(crate) fn spawn(
    mut recorder: Recorder,
    mut rx: mpsc::Receiver<Event>,
    acks: mpsc::Sender<Ack>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("carrier-{}", recorder.carrier))
        .spawn(move || {
            let mut batch = Vec::new();
            while let Some(first) = rx.blocking_recv() {
                batch.push(first);
                while batch.len() < 4096 {
                    match rx.try_recv() {
                        Ok(e) => batch.push(e),
                        Err(_) => break,
                    }
                }
                for ack in recorder.process(std::mem::take(&mut batch)) {
                    if acks.blocking_send(ack).is_err() {
                        return;
                    }
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use crate::ReceiptIdBase;

    #[test]
    fn receipt_ids_are_read_in_the_carriers_base_only() {
        let same = ReceiptIdBase::Same;
        assert_eq!(same.receipt_key("00AB").as_deref(), Some("ab"));
        assert_eq!(same.sent_key("ab"), "ab");
        assert_eq!(same.receipt_key("000").as_deref(), Some("0"));
        // "10" is decimal ten to one carrier and hex sixteen to another: never both.
        let hex = ReceiptIdBase::HexToDecimal;
        assert_eq!(hex.receipt_key("10").as_deref(), Some("a"));
        assert_eq!(hex.receipt_key("16").as_deref(), Some("10"));
        assert_eq!(hex.receipt_key("ff"), None);
        let dec = ReceiptIdBase::DecimalToHex;
        assert_eq!(dec.receipt_key("ff").as_deref(), Some("255"));
        assert_eq!(dec.receipt_key("10").as_deref(), Some("16"));
    }
}

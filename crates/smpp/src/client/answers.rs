//! What the carrier answers and delivers: submit_sm responses (acknowledged, throttled,
//! refused) and deliver_sm (receipts and replies), handed to the recorder in arrival order.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use domain::Timestamp;
use smpp_proto::reassembly::Outcome as Reassembly;
use smpp_proto::window::Window;
use smpp_proto::{Body, CommandStatus, Pdu, Reassembler, Receipt, ShortMessage, SmResp};
use tokio::sync::mpsc;

use super::link::{Ctx, Link, MAX_THROTTLE, Piece};
use super::recorder::Event;
use crate::MobileOriginated;

impl Link {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn on_submit_resp(
        &self,
        window: &mut Window<Ctx>,
        pdu: &Pdu,
        resp: &SmResp,
        retry: &mut VecDeque<Piece>,
        events: &mpsc::Sender<Event>,
        pause_until: &mut Instant,
        throttle: &mut Duration,
    ) {
        let Ok(f) = window.complete(pdu) else {
            return;
        };
        let Ctx::Submit(piece) = f.context else {
            return;
        };
        let status = pdu.command_status;
        if status.is_ok() {
            *throttle = Duration::from_millis(200);
            let _ = events
                .send(Event::Mapped {
                    carrier_id: resp.message_id.clone(),
                    id: piece.id,
                })
                .await;
        } else if status == CommandStatus::RTHROTTLED || status == CommandStatus::RMSGQFUL {
            metrics::counter!("consentry_carrier_throttled_total").increment(1);
            retry.push_front(piece);
            *pause_until = Instant::now() + *throttle;
            *throttle = (*throttle * 2).min(MAX_THROTTLE);
        } else {
            let _ = events
                .send(Event::Refused {
                    id: piece.id,
                    status,
                })
                .await;
        }
    }

    /// Hands a deliver_sm to the recorder; returns a response to send now when one is due at
    /// once (a segment of a longer reply, or something unreadable).
    ///
    /// A receipt or reply the recorder cannot take (its thread is gone) is answered
    /// `ESME_RX_T_APPN`, never ROK: the carrier keeps it and delivers it again, rather than an
    /// opt-out being acknowledged and lost.
    pub(super) async fn on_deliver(
        &self,
        seq: u32,
        sm: &ShortMessage,
        reasm: &mut Reassembler,
        events: &mpsc::Sender<Event>,
    ) -> Option<Pdu> {
        let ok = Some(Pdu::response(
            seq,
            CommandStatus::ROK,
            Body::DeliverSmResp(SmResp::default()),
        ));
        if sm.is_delivery_receipt() {
            return match Receipt::from_deliver_sm(sm) {
                Ok(receipt) => {
                    let sent = events
                        .send(Event::Receipt {
                            receipt,
                            seq,
                            conn: self.conn,
                        })
                        .await;
                    if sent.is_ok() { None } else { retry_later(seq) }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "unreadable delivery receipt");
                    ok
                }
            };
        }
        // The same bound on held segments as for merchants (see server/submit.rs).
        let (info, part) = smpp_proto::concat::segment_of(sm);
        if info.is_some_and(|i| i.total > 16 || part.len() > 254) {
            let body = Body::DeliverSmResp(SmResp::default());
            return Some(Pdu::response(seq, CommandStatus::RINVMSGLEN, body));
        }
        match reasm.accept(sm, Instant::now()) {
            Reassembly::Pending => ok,
            Reassembly::Complete(r) => {
                // An international number is written without its `+` on the wire.
                let from = if r.source.ton == 1 && !r.source.addr.starts_with('+') {
                    format!("+{}", r.source.addr)
                } else {
                    r.source.addr.clone()
                };
                let mo = MobileOriginated {
                    from,
                    to: r.destination.addr.clone(),
                    text: r.text(),
                    received_at: Timestamp::now(),
                };
                let sent = events
                    .send(Event::Reply {
                        mo,
                        seq,
                        conn: self.conn,
                    })
                    .await;
                if sent.is_ok() { None } else { retry_later(seq) }
            }
        }
    }
}

/// "Try again later" for a deliver_sm this link could not record.
fn retry_later(seq: u32) -> Option<Pdu> {
    tracing::error!("the carrier link's recorder is gone; asking the carrier to redeliver");
    Some(Pdu::response(
        seq,
        CommandStatus::RX_T_APPN,
        Body::DeliverSmResp(SmResp::default()),
    ))
}

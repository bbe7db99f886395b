//! A merchant's submissions: text and category from the submit_sm, reassembly, the decision on
//! this session's thread, the answer once the group commit has recorded it (with a receipt when
//! one was asked for), and query_sm.

use std::sync::Arc;
use std::time::Instant;

use domain::{Category, Timestamp};
use gateway::Principal;
use policy::Verdict;
use smpp_proto::reassembly::Outcome as Reassembly;
use smpp_proto::{
    Body, CommandStatus, MessageState, Pdu, QuerySmResp, Receipt, ShortMessage, SmResp, Tlv,
};
use store::{Delivery, MessageLog};

use super::commit::{Completion, Job, Ticket, status_for};
use super::reasons::{err_code, rejection_status};
use super::session::{Conn, Stop};
use crate::hub::{Subscription, receipt_time};

/// Most segments of one concatenated message (the policy's limit is lower: 10 by default).
const MAX_PARTS: usize = 16;
/// Largest segment, in octets.
const MAX_PART_OCTETS: usize = 254;

/// The category a merchant declares through service_type (SMPP has no field for it); anything
/// else is marketing, the strictest. The CMPP listener reads Service_Id the same way, so a
/// merchant declares a category alike over both.
#[must_use]
pub fn category_of(service_type: &str) -> Category {
    match service_type.trim().to_ascii_uppercase().as_str() {
        "TXN" | "TRANS" => Category::Transactional,
        "OTP" | "VERIF" => Category::Verification,
        _ => Category::Marketing,
    }
}

/// The recipient as the gateway parses it: international numbers get their `+`.
fn recipient(addr: &smpp_proto::Address) -> String {
    let digits = addr.addr.trim();
    if addr.ton == 1 && !digits.starts_with('+') {
        format!("+{digits}")
    } else {
        digits.to_string()
    }
}

impl Conn {
    pub(super) async fn on_submit(&mut self, seq: u32, sm: ShortMessage) -> Stop {
        let Some(sender) = self.sender else {
            return self
                .send(Pdu::response(
                    seq,
                    CommandStatus::RINVBNDSTS,
                    Body::SubmitSmResp(SmResp::default()),
                ))
                .await;
        };
        let single = !sm.has_udh() && sm.tlvs.sar().is_none();
        let receipt = sm.registered_delivery & 0x03 != 0;
        let text = if single {
            // The common case needs no reassembly table (nor its copies).
            smpp_proto::text::decode_text(sm.data_coding, sm.payload())
        } else {
            // Bound what partial messages can hold: at most MAX_PARTS segments of at most
            // MAX_PART_OCTETS each (a segment travels in short_message), so a flood of
            // never-completed segments costs a few hundred KiB per session at most.
            let (info, part) = smpp_proto::concat::segment_of(&sm);
            if info
                .is_some_and(|i| usize::from(i.total) > MAX_PARTS || part.len() > MAX_PART_OCTETS)
            {
                let body = Body::SubmitSmResp(SmResp::default());
                return self
                    .send(Pdu::response(seq, CommandStatus::RINVMSGLEN, body))
                    .await;
            }
            match self.reassembler.accept(&sm, Instant::now()) {
                Reassembly::Pending => {
                    // Earlier segments are answered at once (a client may wait for each
                    // response before sending the next); the last one carries the decision.
                    let id = format!("part-{}-{seq}", self.id);
                    return self
                        .send(Pdu::response(
                            seq,
                            CommandStatus::ROK,
                            Body::SubmitSmResp(SmResp::new(&id)),
                        ))
                        .await;
                }
                Reassembly::Complete(r) => r.text(),
            }
        };
        // The text is kept for the receipt's `text:` only when a receipt was asked for, and
        // for the owner in cluster mode.
        let forward_text = self.shared.hub.remote().map(|_| text.clone());
        let (decide_on, receipt_text) = if receipt {
            (text.clone(), text)
        } else {
            (text, String::new())
        };
        // Decided here, on this session's thread, so sessions decide in parallel and the
        // committer only writes.
        let decided = self.shared.gateway.decide_submission(
            Principal::Sender(sender),
            vec![recipient(&sm.destination)],
            decide_on,
            category_of(&sm.service_type),
        );
        // Cluster mode: a recipient another node owns is decided and recorded there.
        if let Err(gateway::GatewayError::PartitionUnavailable(_)) = &decided
            && let Some(remote) = self.shared.hub.remote()
        {
            let ticket = Ticket {
                sequence_number: seq,
                source: sm.source.clone(),
                destination: sm.destination.clone(),
                registered_delivery: sm.registered_delivery & 0x03,
                user_message_reference: sm.tlvs.user_message_reference(),
                remote: true,
            };
            let head = smpp_proto::receipt::ascii_text_field(&receipt_text);
            let forwarded = crate::RemoteSubmit {
                sender,
                to: recipient(&sm.destination),
                text: forward_text.unwrap_or_default(),
                category: category_of(&sm.service_type),
                receipt: (ticket.registered_delivery != 0).then(|| crate::ReceiptRequest {
                    source: (sm.source.ton, sm.source.npi, sm.source.addr.clone()),
                    destination: (
                        sm.destination.ton,
                        sm.destination.npi,
                        sm.destination.addr.clone(),
                    ),
                    mode: ticket.registered_delivery,
                    text: head,
                }),
            };
            let (answer, done) = (remote.submit(forwarded), self.done_tx.clone());
            tokio::spawn(async move {
                let result = answer.await;
                let _ = done
                    .send(Completion {
                        ticket,
                        text: receipt_text,
                        result,
                    })
                    .await;
            });
            self.pending += 1;
            return Stop::Continue;
        }
        let decided = decided.map_err(|e| status_for(&e));
        let job = Job {
            decided,
            text: receipt_text,
            ticket: Ticket {
                sequence_number: seq,
                source: sm.source.clone(),
                destination: sm.destination.clone(),
                registered_delivery: sm.registered_delivery & 0x03,
                user_message_reference: sm.tlvs.user_message_reference(),
                remote: false,
            },
            reply: self.done_tx.clone(),
        };
        if self.shared.commits.send(job).await.is_err() {
            return self
                .send(Pdu::response(
                    seq,
                    CommandStatus::RSYSERR,
                    Body::SubmitSmResp(SmResp::default()),
                ))
                .await;
        }
        self.pending += 1;
        Stop::Continue
    }

    pub(super) async fn complete(&mut self, c: Completion) -> Stop {
        let Some(sender) = self.sender else {
            return Stop::Continue;
        };
        let seq = c.ticket.sequence_number;
        let outcome = match c.result {
            Err(status) => {
                let body = Body::SubmitSmResp(SmResp::default());
                return self.send(Pdu::response(seq, status, body)).await;
            }
            Ok(o) => o,
        };
        let id = outcome.id.to_string();
        let now = Timestamp::now();
        // Only what an ASCII receipt can carry is kept (see Receipt::to_deliver_sm).
        let head = smpp_proto::receipt::ascii_text_field(&c.text);
        if outcome.status == Verdict::Rejected {
            let status = rejection_status(&outcome.reasons);
            let stop = self
                .send(Pdu::response(
                    seq,
                    status,
                    Body::SubmitSmResp(SmResp::default()),
                ))
                .await;
            metrics::counter!("consentry_smpp_submits_total", "status" => "rejected").increment(1);
            if c.ticket.registered_delivery != 0 {
                let receipt = Receipt {
                    id,
                    submitted: Some(1),
                    delivered: Some(0),
                    submit_date: receipt_time(now),
                    done_date: receipt_time(now),
                    state: Some(MessageState::Rejected),
                    error: Some(err_code(&outcome.reasons).to_string()),
                    text: Some(head),
                };
                let mut sm = receipt.to_deliver_sm(c.ticket.destination, c.ticket.source);
                if let Some(r) = c.ticket.user_message_reference {
                    sm.tlvs.push(Tlv::UserMessageReference(r));
                }
                self.shared.hub.push_receipt(sender, sm);
            }
            return stop;
        }
        let mut resp = SmResp::new(&id);
        if let Some(r) = c.ticket.user_message_reference {
            resp.tlvs.push(Tlv::UserMessageReference(r));
        }
        let stop = self
            .send(Pdu::response(
                seq,
                CommandStatus::ROK,
                Body::SubmitSmResp(resp),
            ))
            .await;
        metrics::counter!("consentry_smpp_submits_total", "status" => "accepted").increment(1);
        // A message decided on another node has its receipt request there.
        if c.ticket.registered_delivery != 0 && !c.ticket.remote {
            self.shared.hub.subscribe(
                outcome.id,
                Subscription {
                    sender,
                    source: c.ticket.source,
                    destination: c.ticket.destination,
                    mode: c.ticket.registered_delivery,
                    submitted_at: now,
                    text: head,
                },
            );
        }
        stop
    }

    pub(super) async fn on_query(&mut self, seq: u32, message_id: &str) -> Stop {
        let (Some(sender), Ok(id)) = (self.sender, message_id.trim().parse::<u64>()) else {
            let body = Body::QuerySmResp(QuerySmResp::default());
            return self
                .send(Pdu::response(seq, CommandStatus::RINVMSGID, body))
                .await;
        };
        let gw = Arc::clone(&self.shared.gateway);
        let found = tokio::task::spawn_blocking(move || gw.store().message(id))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten()
            .filter(|m| m.sender == sender);
        let Some(m) = found else {
            let body = Body::QuerySmResp(QuerySmResp::default());
            return self
                .send(Pdu::response(seq, CommandStatus::RQUERYFAIL, body))
                .await;
        };
        let state = match m.delivery {
            Delivery::Delivered => MessageState::Delivered,
            Delivery::Failed => MessageState::Undeliverable,
            Delivery::NotSent => MessageState::Rejected,
            Delivery::Pending | Delivery::Submitted => MessageState::Enroute,
        };
        let final_date = m
            .delivery_at
            .filter(|_| state.is_final())
            .and_then(receipt_time)
            .map(|t| format!("{t}00000+"))
            .unwrap_or_default();
        let body = Body::QuerySmResp(QuerySmResp {
            message_id: message_id.trim().to_string(),
            final_date,
            message_state: state,
            error_code: 0,
        });
        self.send(Pdu::response(seq, CommandStatus::ROK, body))
            .await
    }
}

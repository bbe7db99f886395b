//! One merchant connection: framing, bind, submit_sm through the group committer, deliveries.
//!
//! Memory per session is bounded by construction: the decoder refuses frames over its maximum
//! before buffering them, at most `window` submissions are in the committer (the socket is not
//! read while the window is full), the reassembler holds a bounded number of partial messages,
//! and the queue to the socket is bounded (a full queue stalls only this session's reader, and a
//! write blocked for `write_timeout_secs` closes it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{Category, SenderId, Timestamp};
use gateway::Principal;
use policy::Verdict;
use smpp_proto::reassembly::Outcome as Reassembly;
use smpp_proto::window::Window;
use smpp_proto::{
    BindResp, Body, CommandId, CommandStatus, Decoder, Inbound, MessageState, Pdu, QuerySmResp,
    Reassembler, Receipt, Role, SequenceNumbers, Session, SessionState, ShortMessage, SmResp, Tlv,
};
use store::{Delivery, MessageLog};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc};

use super::Shared;
use super::commit::{Completion, Job, Ticket, status_for};
use super::reasons::{err_code, rejection_status};
use crate::hub::{Push, SessionId, Subscription, receipt_time};

/// Failed binds tolerated on one connection before it is closed.
const MAX_BIND_FAILURES: u32 = 3;

/// Why the reader loop stops.
enum Stop {
    Continue,
    Close,
}

struct Conn {
    shared: Arc<Shared>,
    id: SessionId,
    session: Session,
    out: mpsc::Sender<Vec<u8>>,
    done_tx: mpsc::Sender<Completion>,
    pending: usize,
    reassembler: Reassembler,
    sender: Option<SenderId>,
    bind_failures: u32,
    deliveries: Window<()>,
    seqs: SequenceNumbers,
    close: Arc<Notify>,
}

/// The category a merchant declares through service_type (SMPP has no field for it); anything
/// else is marketing, the strictest.
fn category_of(service_type: &str) -> Category {
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

async fn write_loop(mut wr: OwnedWriteHalf, mut rx: mpsc::Receiver<Vec<u8>>, timeout: Duration) {
    while let Some(mut batch) = rx.recv().await {
        while batch.len() < 64 * 1024 {
            match rx.try_recv() {
                Ok(more) => batch.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        match tokio::time::timeout(timeout, wr.write_all(&batch)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break,
            Err(_) => {
                tracing::info!("SMPP client stopped reading; closing its session");
                metrics::counter!("consentry_smpp_slow_clients_total").increment(1);
                break;
            }
        }
    }
    let _ = wr.shutdown().await;
}

/// Runs one connection to its end. `permit` is the session slot; it is freed on return.
pub(crate) async fn run(stream: TcpStream, shared: Arc<Shared>, permit: OwnedSemaphorePermit) {
    let _permit = permit;
    let _ = stream.set_nodelay(true);
    let cfg = shared.config.clone();
    let (mut rd, wr) = stream.into_split();
    let (out, out_rx) = mpsc::channel::<Vec<u8>>(cfg.outbound_queue.max(1));
    let writer = tokio::spawn(write_loop(
        wr,
        out_rx,
        Duration::from_secs(cfg.write_timeout_secs.max(1)),
    ));
    let window = cfg.window.max(1);
    let (done_tx, mut done_rx) = mpsc::channel(window);
    let (push_tx, mut push_rx) = mpsc::channel::<Push>(cfg.outbound_queue.max(1));
    let close = Arc::new(Notify::new());
    let mut conn = Conn {
        id: shared.hub.session_id(),
        shared,
        session: Session::new(Role::Smsc),
        out,
        done_tx,
        pending: 0,
        reassembler: Reassembler::new(
            cfg.max_partial_messages,
            Duration::from_secs(cfg.reassembly_timeout_secs),
        ),
        sender: None,
        bind_failures: 0,
        deliveries: Window::new(cfg.outbound_queue.max(1), Duration::from_secs(60)),
        seqs: SequenceNumbers::new(),
        close: Arc::clone(&close),
    };
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 16 * 1024];
    let bind_deadline = Instant::now() + Duration::from_secs(cfg.bind_timeout_secs.max(1));
    let idle = Duration::from_secs(cfg.idle_timeout_secs.max(1));
    let mut last_read = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut push_tx = Some(push_tx);
    loop {
        let deadline = if conn.sender.is_some() {
            last_read + idle
        } else {
            bind_deadline
        };
        let stop = tokio::select! {
            r = rd.read(&mut buf), if conn.pending < window => match r {
                Ok(0) | Err(_) => Stop::Close,
                Ok(n) => {
                    last_read = Instant::now();
                    decoder.extend(&buf[..n]);
                    conn.drain(&mut decoder, &mut push_tx).await
                }
            },
            Some(c) = done_rx.recv() => {
                conn.pending = conn.pending.saturating_sub(1);
                conn.complete(c).await
            }
            Some(p) = push_rx.recv(), if conn.deliveries.available() > 0 => conn.push(p).await,
            () = close.notified() => Stop::Close,
            () = tokio::time::sleep_until(deadline.into()) => {
                tracing::debug!(session = conn.id, "SMPP session timed out");
                Stop::Close
            }
            _ = tick.tick() => conn.housekeeping(),
        };
        if matches!(stop, Stop::Close) || conn.session.state() == SessionState::Closed {
            break;
        }
    }
    conn.shared.hub.unregister(conn.id);
    conn.session.close();
    drop(conn);
    // Let queued responses (an unbind_resp, a generic_nack) reach the client, within reason.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
}

impl Conn {
    async fn send(&mut self, pdu: Pdu) -> Stop {
        if let Err(e) = self.session.send(&pdu) {
            tracing::debug!(session = self.id, error = %e, "not sending");
            return Stop::Continue;
        }
        let mut bytes = Vec::with_capacity(64);
        if let Err(e) = pdu.encode_into(&mut bytes) {
            tracing::warn!(session = self.id, error = %e, "encoding a PDU failed");
            return Stop::Continue;
        }
        if self.out.send(bytes).await.is_err() {
            return Stop::Close;
        }
        Stop::Continue
    }

    /// Sends a response without consulting the session state (replies to undecodable frames).
    async fn send_raw(&mut self, pdu: &Pdu) -> Stop {
        let Ok(bytes) = pdu.encode() else {
            return Stop::Continue;
        };
        if self.out.send(bytes).await.is_ok() {
            Stop::Continue
        } else {
            Stop::Close
        }
    }

    async fn drain(
        &mut self,
        decoder: &mut Decoder,
        push_tx: &mut Option<mpsc::Sender<Push>>,
    ) -> Stop {
        loop {
            match decoder.next_pdu() {
                Ok(None) => return Stop::Continue,
                Ok(Some(pdu)) => {
                    metrics::counter!("consentry_smpp_pdus_in_total").increment(1);
                    if let Stop::Close = self.on_pdu(pdu, push_tx).await {
                        return Stop::Close;
                    }
                    if self.pending >= self.shared.config.window.max(1) {
                        // The rest stays buffered until a completion frees the window.
                        return Stop::Continue;
                    }
                }
                Err(e) => {
                    metrics::counter!("consentry_smpp_bad_pdus_total").increment(1);
                    tracing::debug!(session = self.id, error = %e, "bad PDU");
                    if let Some(reply) = e.reply()
                        && let Stop::Close = self.send_raw(&reply).await
                    {
                        return Stop::Close;
                    }
                    if e.is_fatal() {
                        return Stop::Close;
                    }
                }
            }
        }
    }

    async fn on_pdu(&mut self, pdu: Pdu, push_tx: &mut Option<mpsc::Sender<Push>>) -> Stop {
        match self.session.receive(&pdu) {
            Inbound::Reject(resp) => return self.send_raw(&resp).await,
            Inbound::Unexpected => {
                tracing::debug!(session = self.id, command = ?pdu.command_id(), "unexpected");
                return Stop::Continue;
            }
            Inbound::Accept => {}
        }
        let seq = pdu.sequence_number;
        match pdu.body {
            Body::Bind(bind) => self.on_bind(seq, bind, push_tx).await,
            Body::SubmitSm(sm) => self.on_submit(seq, sm).await,
            Body::QuerySm(q) => self.on_query(seq, &q.message_id).await,
            Body::DataSm(_) => {
                let resp = Pdu::response(
                    seq,
                    CommandStatus::RINVCMDID,
                    Body::DataSmResp(SmResp::default()),
                );
                self.send(resp).await
            }
            Body::EnquireLink => {
                self.send(Pdu::response(
                    seq,
                    CommandStatus::ROK,
                    Body::EnquireLinkResp,
                ))
                .await
            }
            Body::Unbind => {
                self.shared.hub.unregister(self.id);
                self.send(Pdu::response(seq, CommandStatus::ROK, Body::UnbindResp))
                    .await;
                Stop::Close
            }
            Body::DeliverSmResp(_) => {
                let _ = self.deliveries.complete(&pdu);
                Stop::Continue
            }
            Body::GenericNack => {
                let _ = self.deliveries.complete(&pdu);
                Stop::Continue
            }
            _ => Stop::Continue,
        }
    }

    async fn on_bind(
        &mut self,
        seq: u32,
        bind: smpp_proto::Bind,
        push_tx: &mut Option<mpsc::Sender<Push>>,
    ) -> Stop {
        let shared = Arc::clone(&self.shared);
        let (system_id, password) = (bind.system_id.clone(), bind.password.clone());
        let verdict = {
            let Ok(_slot) = shared.auth.acquire().await else {
                return Stop::Close;
            };
            let gw = Arc::clone(&shared.gateway);
            tokio::task::spawn_blocking(move || gw.authenticate_smpp(&system_id, &password)).await
        };
        let status = match verdict {
            Ok(Ok(Some(sender))) => {
                if shared.hub.binds_of(sender) >= shared.config.max_binds_per_system_id {
                    CommandStatus::RBINDFAIL
                } else {
                    self.sender = Some(sender);
                    CommandStatus::ROK
                }
            }
            Ok(Ok(None)) => {
                let known = {
                    let gw = Arc::clone(&shared.gateway);
                    let id = bind.system_id.clone();
                    tokio::task::spawn_blocking(move || {
                        store::SmppRegistry::smpp_credential(gw.store(), &id)
                            .ok()
                            .flatten()
                            .is_some()
                    })
                    .await
                    .unwrap_or(false)
                };
                if known {
                    CommandStatus::RINVPASWD
                } else {
                    CommandStatus::RINVSYSID
                }
            }
            _ => CommandStatus::RSYSERR,
        };
        let body = if status.is_ok() {
            Body::BindResp(BindResp::new(bind.mode, &shared.config.system_id))
        } else {
            Body::BindResp(BindResp::new(bind.mode, ""))
        };
        let stop = self.send(Pdu::response(seq, status, body)).await;
        if let (Some(sender), true) = (self.sender, status.is_ok()) {
            if let Some(tx) = push_tx.take() {
                shared.hub.register(
                    self.id,
                    sender,
                    bind.mode.can_receive(),
                    tx,
                    Arc::clone(&self.close),
                );
            }
            tracing::debug!(session = self.id, system_id = %bind.system_id, mode = ?bind.mode, "SMPP bind");
        } else {
            self.bind_failures += 1;
            metrics::counter!("consentry_smpp_bind_failures_total").increment(1);
            if self.bind_failures >= MAX_BIND_FAILURES {
                return Stop::Close;
            }
        }
        stop
    }

    async fn on_submit(&mut self, seq: u32, sm: ShortMessage) -> Stop {
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
        // The text is kept for the receipt's `text:` only when a receipt was asked for.
        let (decide_on, receipt_text) = if receipt {
            (text.clone(), text)
        } else {
            (text, String::new())
        };
        // Decided here, on this session's thread, so sessions decide in parallel and the
        // committer only writes.
        let decided = self
            .shared
            .gateway
            .decide_submission(
                Principal::Sender(sender),
                vec![recipient(&sm.destination)],
                decide_on,
                category_of(&sm.service_type),
            )
            .map_err(|e| status_for(&e));
        let job = Job {
            decided,
            text: receipt_text,
            ticket: Ticket {
                sequence_number: seq,
                source: sm.source.clone(),
                destination: sm.destination.clone(),
                registered_delivery: sm.registered_delivery & 0x03,
                user_message_reference: sm.tlvs.user_message_reference(),
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

    async fn complete(&mut self, c: Completion) -> Stop {
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
        let head: String = c.text.chars().take(20).collect();
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
        if c.ticket.registered_delivery != 0 {
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

    async fn on_query(&mut self, seq: u32, message_id: &str) -> Stop {
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

    async fn push(&mut self, p: Push) -> Stop {
        let Push::Deliver(sm) = p;
        let seq = self.seqs.allocate();
        if self
            .deliveries
            .insert(seq, CommandId::DeliverSm, Instant::now(), ())
            .is_err()
        {
            return Stop::Continue;
        }
        self.send(Pdu::request(seq, Body::DeliverSm(sm))).await
    }

    fn housekeeping(&mut self) -> Stop {
        let now = Instant::now();
        let dropped = self.reassembler.expire(now);
        if !dropped.is_empty() {
            tracing::debug!(
                session = self.id,
                n = dropped.len(),
                "incomplete multipart dropped"
            );
        }
        // A client that never answers deliver_sm frees its window slots after the timeout.
        let _ = self.deliveries.expire(now);
        Stop::Continue
    }
}

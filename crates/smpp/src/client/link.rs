//! One carrier link: connect, bind, then send the queue over a bounded window until the
//! connection is lost; reconnect with exponential backoff, keeping the queue.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use domain::Timestamp;
use gateway::Outbound;
use smpp_proto::concat::{Concat, split_text};
use smpp_proto::reassembly::Outcome as Reassembly;
use smpp_proto::window::Window;
use smpp_proto::{
    Address, Bind, Body, CommandId, CommandStatus, Decoder, Inbound, Pdu, Reassembler, Receipt,
    Role, SequenceNumbers, Session, ShortMessage, SmResp,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use super::recorder::{Ack, Event};
use crate::{CarrierConfig, MobileOriginated};

/// One submit_sm to send: a message, or one segment of a long one.
#[derive(Debug, Clone)]
struct Piece {
    id: u64,
    sm: ShortMessage,
}

enum Ctx {
    Submit(Piece),
    Enquire,
}

enum End {
    /// The gateway is gone and everything was sent.
    Finished,
    /// The connection failed; reconnect.
    Lost(String),
}

const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const MAX_THROTTLE: Duration = Duration::from_secs(5);

/// Splits a message into the submit_sm that carry it.
fn pieces(msg: &Outbound, reference: u16) -> Vec<Piece> {
    let digits = msg.phone.to_string();
    let template = ShortMessage {
        source: Address::new(0, 1, &msg.source_number),
        destination: Address::international(digits.trim_start_matches('+')),
        registered_delivery: 1,
        ..ShortMessage::default()
    };
    let segments = match split_text(&msg.text, Concat::Udh8, reference) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(id = msg.id, error = %e, "cannot split message");
            return Vec::new();
        }
    };
    segments
        .iter()
        .map(|seg| {
            let mut sm = template.clone();
            seg.apply(&mut sm);
            Piece { id: msg.id, sm }
        })
        .collect()
}

async fn read_pdu(
    rd: &mut OwnedReadHalf,
    decoder: &mut Decoder,
    buf: &mut [u8],
    deadline: Instant,
) -> Result<Pdu, String> {
    loop {
        match decoder.next_pdu() {
            Ok(Some(p)) => return Ok(p),
            Ok(None) => {}
            Err(e) => return Err(format!("bad PDU from carrier: {e}")),
        }
        let n = tokio::time::timeout_at(deadline.into(), rd.read(buf))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        decoder.extend(&buf[..n]);
    }
}

async fn connect(
    cfg: &CarrierConfig,
) -> Result<(OwnedReadHalf, OwnedWriteHalf, Decoder, Session), String> {
    let timeout = Duration::from_secs(cfg.response_timeout_secs.max(1));
    let stream = tokio::time::timeout(timeout, TcpStream::connect((cfg.host.as_str(), cfg.port)))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let mut session = Session::new(Role::Esme);
    let mut bind = Bind::new(cfg.bind.into(), &cfg.system_id, &cfg.password);
    bind.system_type.clone_from(&cfg.system_type);
    let pdu = Pdu::request(1, Body::Bind(bind));
    session.send(&pdu).map_err(|e| e.to_string())?;
    let bytes = pdu.encode().map_err(|e| e.to_string())?;
    wr.write_all(&bytes).await.map_err(|e| e.to_string())?;
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 4096];
    let deadline = Instant::now() + timeout;
    loop {
        let resp = read_pdu(&mut rd, &mut decoder, &mut buf, deadline).await?;
        if let Body::EnquireLink = resp.body {
            let ack = Pdu::response(
                resp.sequence_number,
                CommandStatus::ROK,
                Body::EnquireLinkResp,
            );
            if let Ok(b) = ack.encode() {
                wr.write_all(&b).await.map_err(|e| e.to_string())?;
            }
            continue;
        }
        session.receive(&resp);
        return match session.bound_mode() {
            Some(_) => Ok((rd, wr, decoder, session)),
            None => Err(format!(
                "bind refused: {:?} status {:#x}",
                resp.command_id(),
                resp.command_status.0
            )),
        };
    }
}

/// Runs the link until the queue is closed and drained.
pub(crate) async fn run(
    cfg: CarrierConfig,
    mut queue: mpsc::Receiver<Outbound>,
    resume: Vec<Outbound>,
    events: mpsc::Sender<Event>,
    mut acks: mpsc::Receiver<Ack>,
) {
    let mut retry: VecDeque<Piece> = VecDeque::new();
    let mut backoff = INITIAL_BACKOFF;
    let max_backoff = Duration::from_secs(cfg.reconnect_max_secs.max(1));
    let mut link = Link {
        reference: 0,
        conn: 0,
        resumed: resume.iter().map(|m| m.id).collect(),
    };
    for m in &resume {
        link.reference = link.reference.wrapping_add(1);
        retry.extend(pieces(m, link.reference));
    }
    loop {
        match connect(&cfg).await {
            Ok((rd, wr, decoder, session)) => {
                backoff = INITIAL_BACKOFF;
                link.conn += 1;
                tracing::info!(carrier = %cfg.name, "bound to carrier");
                metrics::counter!("consentry_carrier_binds_total", "carrier" => cfg.name.clone())
                    .increment(1);
                let end = link
                    .bound(
                        &cfg, rd, wr, decoder, session, &mut queue, &mut retry, &events, &mut acks,
                    )
                    .await;
                match end {
                    End::Finished => return,
                    End::Lost(why) => {
                        tracing::warn!(carrier = %cfg.name, why, queued = retry.len(), "carrier link lost");
                    }
                }
            }
            Err(why) => tracing::warn!(carrier = %cfg.name, why, "cannot bind to carrier"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(max_backoff);
    }
}

struct Link {
    reference: u16,
    conn: u64,
    /// Ids resent from before a restart: the dispatcher may hand one off again meanwhile (it
    /// was `submitted` in the store before this link started), and it must go once.
    resumed: HashSet<u64>,
}

impl Link {
    /// Queues a hand-off unless it was already queued as resumed.
    fn take(&mut self, m: &Outbound, retry: &mut VecDeque<Piece>) {
        if !self.resumed.is_empty() && self.resumed.remove(&m.id) {
            return;
        }
        self.reference = self.reference.wrapping_add(1);
        retry.extend(pieces(m, self.reference));
    }
}

impl Link {
    #[allow(clippy::too_many_arguments, clippy::too_many_lines)]
    async fn bound(
        &mut self,
        cfg: &CarrierConfig,
        mut rd: OwnedReadHalf,
        mut wr: OwnedWriteHalf,
        mut decoder: Decoder,
        mut session: Session,
        queue: &mut mpsc::Receiver<Outbound>,
        retry: &mut VecDeque<Piece>,
        events: &mpsc::Sender<Event>,
        acks: &mut mpsc::Receiver<Ack>,
    ) -> End {
        let timeout = Duration::from_secs(cfg.response_timeout_secs.max(1));
        // One slot more than the carrier's window is reserved for enquire_link.
        let mut window: Window<Ctx> = Window::new(cfg.window + 1, timeout);
        let mut seqs = SequenceNumbers::starting_at(2);
        let interval = if cfg.max_tps == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(1) / cfg.max_tps
        };
        // A burst of up to one window is allowed after an idle spell, no more.
        let burst = interval * u32::try_from(cfg.window).unwrap_or(u32::MAX);
        let mut next_send = Instant::now();
        let mut pause_until = Instant::now();
        let mut throttle = Duration::from_millis(200);
        let mut enquire = tokio::time::interval(Duration::from_secs(cfg.enquire_link_secs.max(1)));
        enquire.tick().await;
        let mut expiry = tokio::time::interval(Duration::from_millis(100));
        let mut reasm = Reassembler::new(64, Duration::from_secs(60));
        let mut buf = vec![0u8; 32 * 1024];
        let mut out: Vec<u8> = Vec::with_capacity(64 * 1024);
        let mut queue_open = true;
        let can_submit = session
            .bound_mode()
            .is_some_and(smpp_proto::BindMode::can_submit);
        let end = loop {
            // Send whatever the window, the throttle and the rate allow.
            let now = Instant::now();
            while can_submit && window.available() > 1 && now >= pause_until && now >= next_send {
                let piece = match retry.pop_front() {
                    Some(p) => p,
                    None => match queue.try_recv() {
                        Ok(m) => {
                            self.take(&m, retry);
                            continue;
                        }
                        Err(mpsc::error::TryRecvError::Empty) => break,
                        Err(mpsc::error::TryRecvError::Disconnected) => {
                            queue_open = false;
                            break;
                        }
                    },
                };
                let seq = seqs.allocate();
                let pdu = Pdu::request(seq, Body::SubmitSm(piece.sm.clone()));
                if let Err(e) = pdu.encode_into(&mut out) {
                    tracing::error!(id = piece.id, error = %e, "cannot encode submit_sm");
                    let _ = events
                        .send(Event::Refused {
                            id: piece.id,
                            status: CommandStatus::RSYSERR,
                        })
                        .await;
                    continue;
                }
                let _ = window.insert(seq, CommandId::SubmitSm, now, Ctx::Submit(piece));
                if !interval.is_zero() {
                    next_send = next_send.max(now.checked_sub(burst).unwrap_or(now)) + interval;
                }
            }
            if !queue_open && retry.is_empty() && window.is_empty() {
                break End::Finished;
            }
            if !out.is_empty() {
                match tokio::time::timeout(timeout, wr.write_all(&out)).await {
                    Ok(Ok(())) => out.clear(),
                    _ => break End::Lost("write failed or timed out".into()),
                }
            }
            let now = Instant::now();
            let waiting_for_time = now < pause_until || now < next_send;
            let wake = pause_until.max(next_send);
            let can_take = can_submit
                && queue_open
                && retry.is_empty()
                && window.available() > 1
                && !waiting_for_time;
            tokio::select! {
                r = rd.read(&mut buf) => {
                    let n = match r {
                        Ok(0) => break End::Lost("carrier closed the connection".into()),
                        Err(e) => break End::Lost(e.to_string()),
                        Ok(n) => n,
                    };
                    decoder.extend(&buf[..n]);
                    let mut lost = None;
                    loop {
                        let pdu = match decoder.next_pdu() {
                            Ok(Some(p)) => p,
                            Ok(None) => break,
                            Err(e) => {
                                if let Some(reply) = e.reply() {
                                    let _ = reply.encode_into(&mut out);
                                }
                                if e.is_fatal() {
                                    lost = Some(format!("framing lost: {e}"));
                                    break;
                                }
                                continue;
                            }
                        };
                        match session.receive(&pdu) {
                            Inbound::Reject(resp) => {
                                let _ = resp.encode_into(&mut out);
                                continue;
                            }
                            Inbound::Unexpected => continue,
                            Inbound::Accept => {}
                        }
                        let seq = pdu.sequence_number;
                        match &pdu.body {
                            Body::SubmitSmResp(resp) => {
                                self.on_submit_resp(&mut window, &pdu, resp, retry, events, &mut pause_until, &mut throttle).await;
                            }
                            Body::GenericNack => {
                                let resp = SmResp::default();
                                self.on_submit_resp(&mut window, &pdu, &resp, retry, events, &mut pause_until, &mut throttle).await;
                            }
                            Body::EnquireLinkResp => {
                                let _ = window.complete(&pdu);
                            }
                            Body::EnquireLink => {
                                let _ = Pdu::response(seq, CommandStatus::ROK, Body::EnquireLinkResp).encode_into(&mut out);
                            }
                            Body::Unbind => {
                                let _ = Pdu::response(seq, CommandStatus::ROK, Body::UnbindResp).encode_into(&mut out);
                                let _ = wr.write_all(&out).await;
                                lost = Some("carrier unbound".into());
                                break;
                            }
                            Body::DeliverSm(sm) => {
                                if let Some(e) = self.on_deliver(seq, sm, &mut reasm, events).await {
                                    let _ = e.encode_into(&mut out);
                                }
                            }
                            _ => {}
                        }
                    }
                    if let Some(why) = lost {
                        break End::Lost(why);
                    }
                }
                m = queue.recv(), if can_take => match m {
                    Some(m) => self.take(&m, retry),
                    None => queue_open = false,
                },
                Some(ack) = acks.recv() => {
                    if ack.conn == self.conn {
                        let resp = Pdu::response(ack.seq, ack.status, Body::DeliverSmResp(SmResp::default()));
                        let _ = resp.encode_into(&mut out);
                    }
                }
                () = tokio::time::sleep_until(wake.into()), if waiting_for_time => {}
                _ = enquire.tick() => {
                    let seq = seqs.allocate();
                    if window.insert(seq, CommandId::EnquireLink, Instant::now(), Ctx::Enquire).is_ok() {
                        let _ = Pdu::request(seq, Body::EnquireLink).encode_into(&mut out);
                    }
                }
                _ = expiry.tick() => {
                    let mut dead = false;
                    let expired = window.expire(Instant::now());
                    // Resend timed-out submissions first, oldest first.
                    for f in expired.into_iter().rev() {
                        match f.context {
                            Ctx::Submit(p) => {
                                metrics::counter!("consentry_carrier_timeouts_total").increment(1);
                                retry.push_front(p);
                            }
                            Ctx::Enquire => dead = true,
                        }
                    }
                    let _ = reasm.expire(Instant::now());
                    if dead {
                        break End::Lost("enquire_link unanswered".into());
                    }
                }
            }
        };
        // Whatever was in flight goes back to the front of the queue, in sending order.
        let mut in_flight: Vec<_> = window.drain();
        in_flight.sort_by_key(|f| std::cmp::Reverse((f.sent_at, f.sequence_number)));
        for f in in_flight {
            if let Ctx::Submit(p) = f.context {
                retry.push_front(p);
            }
        }
        end
    }

    #[allow(clippy::too_many_arguments)]
    async fn on_submit_resp(
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
    async fn on_deliver(
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
                    if sent.is_ok() { None } else { ok }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "unreadable delivery receipt");
                    ok
                }
            };
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
                if sent.is_ok() { None } else { ok }
            }
        }
    }
}

//! One carrier link: connect, bind, then send the queue over a bounded window until the
//! connection is lost; reconnect with exponential backoff, keeping the queue.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use std::sync::Arc;

use gateway::{Gateway, Outbound};
use smpp_proto::concat::{Concat, split_text};
use smpp_proto::window::Window;
use smpp_proto::{
    Address, Body, CommandId, CommandStatus, Decoder, Inbound, Pdu, Reassembler, SequenceNumbers,
    Session, ShortMessage, SmResp,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use super::connect::connect;
use super::recorder::{Ack, Event};
use crate::CarrierConfig;

/// One submit_sm to send: a message, or one segment of a long one.
#[derive(Debug, Clone)]
pub(super) struct Piece {
    pub(super) id: u64,
    pub(super) sm: ShortMessage,
    /// On a message's first piece until it is first put on the wire: the message, for the
    /// last consent check ([`Gateway::at_the_wire`]). Retransmissions are not checked again:
    /// the first transmission was the point of no return.
    pub(super) check: Option<Arc<Outbound>>,
}

// The window holds one per request in flight (a window's worth): boxing the piece would cost an
// allocation per submit_sm to save a few kilobytes.
#[allow(clippy::large_enum_variant)]
pub(super) enum Ctx {
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
pub(super) const MAX_THROTTLE: Duration = Duration::from_secs(5);

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
    let first = Arc::new(msg.clone());
    segments
        .iter()
        .enumerate()
        .map(|(i, seg)| {
            let mut sm = template.clone();
            seg.apply(&mut sm);
            Piece {
                id: msg.id,
                sm,
                check: (i == 0).then(|| Arc::clone(&first)),
            }
        })
        .collect()
}

/// Runs the link until the queue is closed and drained.
pub(crate) async fn run(
    gateway: Arc<Gateway>,
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
        gateway,
        reasm: Reassembler::new(64, Duration::from_secs(60)),
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

pub(super) struct Link {
    gateway: Arc<Gateway>,
    /// Segments of multi-part replies waiting for the rest (kept across reconnections).
    reasm: Reassembler,
    reference: u16,
    pub(super) conn: u64,
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
        // Held across reconnections: the carrier acknowledged segments of a reply on the old
        // connection and redelivers only the rest on the new one.
        let mut reasm = std::mem::replace(&mut self.reasm, Reassembler::new(0, Duration::ZERO));
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
                let mut piece = match retry.pop_front() {
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
                let encoded = match piece.check.take() {
                    None => pdu.encode_into(&mut out),
                    Some(msg) => match self.gateway.at_the_wire(&msg, || pdu.encode_into(&mut out))
                    {
                        Ok(encoded) => encoded,
                        Err(why) => {
                            // Refused since the hand-off (or stale): none of its pieces go. A
                            // stale one decided again comes back through the dispatcher, and
                            // must then be taken, even if it was resumed after a restart.
                            retry.retain(|p| p.id != piece.id);
                            self.resumed.remove(&piece.id);
                            let _ = events.send(Event::NotSent { msg, why }).await;
                            continue;
                        }
                    },
                };
                if let Err(e) = encoded {
                    tracing::error!(id = piece.id, error = %e, "cannot encode submit_sm");
                    // The message failed: none of its other parts go either.
                    retry.retain(|p| p.id != piece.id);
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
            // Every PDU the decoder holds, including any that came in one segment with the
            // bind response (an SMSC with replies waiting sends them at once after the bind).
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
                        self.on_submit_resp(
                            &mut window,
                            &pdu,
                            resp,
                            retry,
                            events,
                            &mut pause_until,
                            &mut throttle,
                        )
                        .await;
                    }
                    Body::GenericNack => {
                        let resp = SmResp::default();
                        self.on_submit_resp(
                            &mut window,
                            &pdu,
                            &resp,
                            retry,
                            events,
                            &mut pause_until,
                            &mut throttle,
                        )
                        .await;
                    }
                    Body::EnquireLinkResp => {
                        let _ = window.complete(&pdu);
                    }
                    Body::EnquireLink => {
                        let _ = Pdu::response(seq, CommandStatus::ROK, Body::EnquireLinkResp)
                            .encode_into(&mut out);
                    }
                    Body::Unbind => {
                        let _ = Pdu::response(seq, CommandStatus::ROK, Body::UnbindResp)
                            .encode_into(&mut out);
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
        };
        self.reasm = reasm;
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
}

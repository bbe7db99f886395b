//! The link task: connect and authenticate, run the connected loop, reconnect with backoff.
//!
//! Protocol decisions live in `cmpp-proto` (the handshake, the session rules, the window and
//! its flow control); this file only moves bytes and time between them and the socket.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use cmpp_proto::{
    Body, CommandId, Decoder, Deliver, DeliverResp, Inbound, Pdu, Reassembler, Role, SequenceIds,
    Session, Version, Window, result, text,
};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::{ClientConfig, DeliverHandler, LinkState, MobileOriginated, Request};
use crate::io::write_loop;
use crate::{ClientError, CmppError};

/// A DELIVER's Sequence_Id, Msg_Id and the Result to answer it with, once the handler ran.
type Answer = (u32, u64, u32);

/// How a connected period ended.
enum End {
    /// Reconnect.
    Lost(String),
    /// Shut down for good.
    Stop,
}

pub(super) async fn run(
    cfg: Arc<ClientConfig>,
    mut rx: mpsc::Receiver<Request>,
    state: watch::Sender<LinkState>,
    mut stop: watch::Receiver<bool>,
    handler: Arc<dyn DeliverHandler>,
) {
    let mut backoff = cfg.reconnect_min;
    // Parts accepted from callers but never written to a socket: safe to send after a
    // reconnect, unlike parts in flight when a connection dropped.
    let mut pending: VecDeque<Request> = VecDeque::new();
    loop {
        if *stop.borrow() {
            break;
        }
        let _ = state.send(LinkState::Connecting);
        match super::connect::connect(&cfg).await {
            Ok((stream, version, decoder)) => {
                backoff = cfg.reconnect_min;
                let _ = state.send(LinkState::Connected(version));
                tracing::info!(addr = %cfg.addr, ?version, "CMPP link connected");
                let mut link = Connected::new(&cfg, version, Arc::clone(&handler));
                match link
                    .run(stream, decoder, &mut rx, &mut pending, &mut stop)
                    .await
                {
                    End::Stop => break,
                    End::Lost(why) => tracing::info!(addr = %cfg.addr, %why, "CMPP link lost"),
                }
            }
            Err(CmppError::Connect(cmpp_proto::ConnectError::Refused(status))) => {
                tracing::warn!(addr = %cfg.addr, status, "the ISMG refused CONNECT");
                let _ = state.send(LinkState::Refused(status));
                backoff = cfg.reconnect_max;
            }
            Err(e) => tracing::info!(addr = %cfg.addr, error = %e, "CMPP connect failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            r = stop.changed() => if r.is_err() || *stop.borrow() { break },
        }
        backoff = (backoff * 2).min(cfg.reconnect_max);
    }
    let _ = state.send(LinkState::Stopped);
    for r in pending {
        let _ = r.reply.send(Err(ClientError::Closed));
    }
}

/// One connected period.
struct Connected {
    cfg: Arc<ClientConfig>,
    version: Version,
    session: Session,
    window: Window<Request>,
    seqs: SequenceIds,
    handler: Arc<dyn DeliverHandler>,
    reassembler: Reassembler,
    out: Option<mpsc::Sender<Vec<u8>>>,
    answers: (mpsc::Sender<Answer>, mpsc::Receiver<Answer>),
    active_test: Option<Instant>,
    last_rx: Instant,
}

impl Connected {
    fn new(cfg: &Arc<ClientConfig>, version: Version, handler: Arc<dyn DeliverHandler>) -> Self {
        Connected {
            cfg: Arc::clone(cfg),
            version,
            // The handshake happened in `connect`, through `ClientHandshake`.
            session: Session::established(Role::Sp, version),
            window: Window::new(cfg.window, cfg.response_timeout),
            seqs: SequenceIds::starting_at(2),
            handler,
            reassembler: Reassembler::new(64, Duration::from_secs(60)),
            out: None,
            answers: mpsc::channel(64),
            active_test: None,
            last_rx: Instant::now(),
        }
    }

    async fn send(&mut self, pdu: &Pdu) -> bool {
        if !self.session.send(pdu) {
            return false;
        }
        let Some(out) = &self.out else { return false };
        match pdu.encode(self.version) {
            Ok(bytes) => out.send(bytes).await.is_ok(),
            Err(e) => {
                tracing::warn!(error = %e, "a CMPP PDU could not be encoded");
                false
            }
        }
    }

    async fn send_submit(&mut self, mut req: Request) {
        if let Some(gate) = req.gate.take() {
            if !gate() {
                let _ = req.reply.send(Err(ClientError::Withheld));
                return;
            }
        }
        let seq = self.seqs.allocate();
        let pdu = Pdu::new(seq, Body::Submit(Box::new(req.submit.clone())));
        let now = Instant::now().into_std();
        match pdu.encode(self.version) {
            Err(e) => {
                let _ = req.reply.send(Err(ClientError::Encode(e.to_string())));
            }
            Ok(_) => {
                if let Err(e) = self.window.insert(seq, CommandId::Submit, now, req) {
                    tracing::warn!(error = %e, "window refused a SUBMIT");
                    return;
                }
                self.send(&pdu).await;
            }
        }
    }

    async fn run(
        &mut self,
        stream: TcpStream,
        mut decoder: Decoder,
        rx: &mut mpsc::Receiver<Request>,
        pending: &mut VecDeque<Request>,
        stop: &mut watch::Receiver<bool>,
    ) -> End {
        let (mut rd, wr) = stream.into_split();
        let (out, out_rx) = mpsc::channel(self.cfg.window.max(1) * 2 + 16);
        self.out = Some(out);
        let writer = tokio::spawn(write_loop(wr, out_rx, self.cfg.response_timeout));
        let mut buf = vec![0u8; 16 * 1024];
        let end = loop {
            // Responses first: they free window slots and requeue flow-controlled parts,
            // which must go out before the loop sleeps (it once waited for the next
            // keep-alive with the window open and parts queued).
            if let Some(end) = self.pump(&mut decoder, pending) {
                break end;
            }
            let now = Instant::now();
            while self.window.available(now.into_std()) > 0 {
                let Some(req) = pending.pop_front() else {
                    break;
                };
                self.send_submit(req).await;
            }
            let can_take = pending.is_empty() && self.window.available(now.into_std()) > 0;
            let wake = self.next_wake(now);
            let end = tokio::select! {
                r = rd.read(&mut buf) => match r {
                    Ok(0) => Some(End::Lost("closed by the gateway".into())),
                    Err(e) => Some(End::Lost(e.to_string())),
                    Ok(n) => {
                        self.last_rx = Instant::now();
                        decoder.extend(&buf[..n]);
                        None
                    }
                },
                req = rx.recv(), if can_take => match req {
                    Some(r) => {
                        self.send_submit(r).await;
                        None
                    }
                    None => Some(End::Stop),
                },
                Some((seq, msg_id, res)) = self.answers.1.recv() => {
                    let resp = DeliverResp { msg_id, result: res };
                    self.send(&Pdu::new(seq, Body::DeliverResp(resp))).await;
                    None
                }
                r = stop.changed() => (r.is_err() || *stop.borrow()).then_some(End::Stop),
                () = tokio::time::sleep_until(wake) => self.on_timer().await,
            };
            if let Some(end) = end {
                break end;
            }
        };
        if matches!(end, End::Stop) {
            let seq = self.seqs.allocate();
            self.send(&Pdu::new(seq, Body::Terminate)).await;
        }
        for f in self.window.drain() {
            let _ = f.context.reply.send(Err(ClientError::Disconnected));
        }
        self.out = None;
        let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
        end
    }

    fn next_wake(&self, now: Instant) -> Instant {
        let std_now = now.into_std();
        let mut wake = self.last_rx + self.cfg.active_test_interval;
        if let Some(sent) = self.active_test {
            wake = sent + self.cfg.response_timeout;
        }
        for t in [self.window.next_deadline(), self.window.resume_at(std_now)]
            .into_iter()
            .flatten()
        {
            wake = wake.min(Instant::from_std(t));
        }
        wake
    }

    async fn on_timer(&mut self) -> Option<End> {
        let now = Instant::now();
        for f in self.window.expire(now.into_std()) {
            let _ = f.context.reply.send(Err(ClientError::Timeout));
        }
        if let Some(sent) = self.active_test {
            if now >= sent + self.cfg.response_timeout {
                return Some(End::Lost("ACTIVE_TEST unanswered".into()));
            }
        } else if now >= self.last_rx + self.cfg.active_test_interval {
            let seq = self.seqs.allocate();
            self.send(&Pdu::new(seq, Body::ActiveTest)).await;
            self.active_test = Some(now);
        }
        None
    }

    /// Handles every whole PDU buffered in `decoder`.
    fn pump(&mut self, decoder: &mut Decoder, pending: &mut VecDeque<Request>) -> Option<End> {
        loop {
            match decoder.next_pdu() {
                Ok(None) => return None,
                Ok(Some(pdu)) => {
                    if let Some(end) = self.handle(pdu, pending) {
                        return Some(end);
                    }
                }
                Err(e) if e.is_fatal() => return Some(End::Lost(e.to_string())),
                Err(e) => {
                    tracing::info!(error = %e, "bad CMPP frame from the gateway");
                    if let Some(reply) = e.reply() {
                        self.queue(&reply);
                    }
                }
            }
        }
    }

    /// Sends without waiting for queue room (responses are few and must not block reading).
    fn queue(&mut self, pdu: &Pdu) {
        if !self.session.send(pdu) {
            return;
        }
        if let (Some(out), Ok(bytes)) = (&self.out, pdu.encode(self.version)) {
            let _ = out.try_send(bytes);
        }
    }

    fn handle(&mut self, pdu: Pdu, pending: &mut VecDeque<Request>) -> Option<End> {
        match self.session.receive(&pdu) {
            Inbound::Accept => {}
            Inbound::Reject(answer) => {
                if let Some(a) = answer {
                    self.queue(&a);
                }
                return None;
            }
            Inbound::Unexpected => return None,
        }
        let seq = pdu.sequence_id;
        match pdu.body {
            Body::SubmitResp(r) => {
                let Ok(f) = self.window.complete(seq, CommandId::SubmitResp) else {
                    tracing::debug!(seq, "SUBMIT_RESP for nothing in flight");
                    return None;
                };
                self.window.on_result(r.result, Instant::now().into_std());
                let mut req = f.context;
                if r.result == result::FLOW_CONTROL {
                    if req.retries_left > 0 {
                        req.retries_left -= 1;
                        pending.push_front(req);
                    } else {
                        let _ = req.reply.send(Err(ClientError::FlowControl));
                    }
                } else {
                    let _ = req.reply.send(Ok(r));
                }
            }
            Body::Deliver(d) => self.deliver(seq, *d),
            Body::ActiveTest => self.queue(&Pdu::new(seq, Body::ActiveTestResp)),
            Body::ActiveTestResp => self.active_test = None,
            Body::Terminate => {
                self.queue(&Pdu::new(seq, Body::TerminateResp));
                return Some(End::Lost("TERMINATE from the gateway".into()));
            }
            _ => {}
        }
        None
    }

    /// Hands a DELIVER to the handler off the runtime; its DELIVER_RESP follows the outcome.
    fn deliver(&mut self, seq: u32, d: Deliver) {
        let msg_id = d.msg_id;
        let answer = |this: &mut Self, res: u32| {
            this.queue(&Pdu::new(
                seq,
                Body::DeliverResp(DeliverResp {
                    msg_id,
                    result: res,
                }),
            ));
        };
        let handler = Arc::clone(&self.handler);
        let job: Box<dyn FnOnce() -> Result<(), String> + Send> =
            match d.status_report(self.version) {
                Some(Ok(report)) => Box::new(move || handler.on_report(&report)),
                Some(Err(e)) => {
                    tracing::info!(error = %e, "unreadable status report");
                    return answer(self, result::STRUCTURE);
                }
                None => {
                    let octets = if d.tp_udhi == 1 {
                        let now = Instant::now().into_std();
                        match self.reassembler.accept(
                            &d.src_terminal_id,
                            d.msg_fmt,
                            &d.msg_content,
                            now,
                        ) {
                            Ok(Some((fmt, octets))) => text::decode_text(fmt, &octets),
                            Ok(None) => return answer(self, result::OK),
                            Err(e) => {
                                tracing::info!(error = %e, "bad long-reply part");
                                return answer(self, result::STRUCTURE);
                            }
                        }
                    } else {
                        text::decode_text(d.msg_fmt, &d.msg_content)
                    };
                    let mo = MobileOriginated {
                        from: d.src_terminal_id,
                        to: d.dest_id,
                        service_id: d.service_id,
                        text: octets,
                    };
                    Box::new(move || handler.on_mo(&mo))
                }
            };
        let answers = self.answers.0.clone();
        tokio::spawn(async move {
            let res = match tokio::task::spawn_blocking(job).await {
                Ok(Ok(())) => result::OK,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "DELIVER handler failed; the gateway will retry");
                    result::OTHER
                }
                Err(_) => result::OTHER,
            };
            let _ = answers.send((seq, msg_id, res)).await;
        });
    }
}

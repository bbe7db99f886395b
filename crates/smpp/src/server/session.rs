//! One merchant connection: framing, bind, the read loop and deliveries; submissions are in
//! `submit.rs`.
//!
//! Memory per session is bounded by construction: the decoder refuses frames over its maximum
//! before buffering them, at most `window` submissions are in the committer (the socket is not
//! read while the window is full), the reassembler holds a bounded number of partial messages,
//! and the queue to the socket is bounded (a full queue stalls only this session's reader, and a
//! write blocked for `write_timeout_secs` closes it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::SenderId;
use smpp_proto::window::Window;
use smpp_proto::{
    BindResp, Body, CommandId, CommandStatus, Decoder, Inbound, Pdu, Reassembler, Role,
    SequenceNumbers, Session, SessionState, SmResp,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc};

use super::Shared;
use super::commit::Completion;
use crate::hub::{Push, SessionId};

/// Failed binds tolerated on one connection before it is closed.
const MAX_BIND_FAILURES: u32 = 3;

/// Why the reader loop stops.
pub(super) enum Stop {
    Continue,
    Close,
}

pub(super) struct Conn {
    pub(super) shared: Arc<Shared>,
    pub(super) id: SessionId,
    pub(super) session: Session,
    pub(super) out: mpsc::Sender<Vec<u8>>,
    pub(super) done_tx: mpsc::Sender<Completion>,
    pub(super) pending: usize,
    pub(super) reassembler: Reassembler,
    pub(super) sender: Option<SenderId>,
    pub(super) bind_failures: u32,
    pub(super) deliveries: Window<()>,
    pub(super) seqs: SequenceNumbers,
    pub(super) close: Arc<Notify>,
    /// The slot among connections not yet bound, given back at the bind.
    pub(super) unbound: Option<OwnedSemaphorePermit>,
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
pub(crate) async fn run(
    stream: TcpStream,
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
    unbound: OwnedSemaphorePermit,
) {
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
        unbound: Some(unbound),
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
    pub(super) async fn send(&mut self, pdu: Pdu) -> Stop {
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
                // Room was made: what waited for this merchant can follow.
                if let Some(sender) = self.sender {
                    self.shared.hub.flush(sender);
                }
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
                    self.unbound = None;
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

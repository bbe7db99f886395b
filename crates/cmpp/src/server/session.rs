//! One SP connection: CONNECT, the read loop, verdicts coming back, and pushed DELIVERs.
//!
//! Memory per connection is bounded by construction: the decoder refuses frames over its
//! maximum before buffering them, at most `window` submissions await a verdict (one more is
//! answered with Result 8 at once), the reassembler holds a bounded number of partial messages,
//! and both queues to the socket are bounded.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cmpp_proto::{
    Body, CancelResp, CommandId, Decoder, Deliver, Inbound, Pdu, QueryResp, Reassembler, Role,
    SequenceIds, Session, StatusReport, SubmitResp, Version, Window, answer_connect, result,
};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc};

use super::submit::RateWindow;
use super::{Account, Shared};
use crate::io::write_loop;

/// Partial long messages held per connection.
pub(super) const PARTIAL_MESSAGES: usize = 64;

/// A verdict on its way back to the socket.
pub(crate) struct Done {
    pub(super) sequence_id: u32,
    pub(super) msg_id: u64,
    pub(super) result: u32,
}

pub(super) struct Conn {
    pub(super) shared: Arc<Shared>,
    pub(super) session: Session,
    pub(super) version: Version,
    pub(super) account: Option<Account>,
    /// The Source_Addr the connection authenticated as: every SUBMIT's Msg_src must be it.
    pub(super) source_addr: String,
    pub(super) registered: Option<u64>,
    pub(super) out: mpsc::Sender<Vec<u8>>,
    pub(super) done_tx: mpsc::Sender<Done>,
    pub(super) awaiting_verdict: usize,
    pub(super) reassembler: Reassembler,
    pub(super) part_ids: HashMap<(String, u16), Vec<u64>>,
    pub(super) pushes: Window<()>,
    pub(super) seqs: SequenceIds,
    pub(super) rate: RateWindow,
    pub(super) submitted: u32,
}

enum Flow {
    Continue,
    Close,
}

/// Runs one connection to its end; `permit` (a connection slot) is freed on return.
pub(super) async fn run(stream: TcpStream, shared: Arc<Shared>, permit: OwnedSemaphorePermit) {
    let _permit = permit;
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().ok();
    let cfg = shared.config.clone();
    let (mut rd, wr) = stream.into_split();
    let window = cfg.window.max(1);
    let (out, out_rx) = mpsc::channel::<Vec<u8>>(window * 2 + 16);
    let writer = tokio::spawn(write_loop(wr, out_rx, cfg.write_timeout));
    let (done_tx, mut done_rx) = mpsc::channel::<Done>(window);
    let (push_tx, mut push_rx) = mpsc::channel::<Deliver>(256);
    let close = Arc::new(Notify::new());
    let mut conn = Conn {
        shared,
        session: Session::new(Role::Ismg),
        version: cfg.version,
        account: None,
        source_addr: String::new(),
        registered: None,
        out,
        done_tx,
        awaiting_verdict: 0,
        reassembler: Reassembler::new(PARTIAL_MESSAGES, Duration::from_secs(60)),
        part_ids: HashMap::new(),
        pushes: Window::new(16, Duration::from_secs(60)),
        seqs: SequenceIds::default(),
        rate: RateWindow {
            limit: cfg.submits_per_second,
            second: Instant::now(),
            count: 0,
        },
        submitted: 0,
    };
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 16 * 1024];
    let connect_deadline = Instant::now() + cfg.connect_timeout;
    let mut last_pdu = Instant::now();
    let mut unanswered_tests = 0u32;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut push_tx = Some(push_tx);
    loop {
        let connected = conn.account.is_some();
        // Biased: verdicts before DELIVERs, so a report pushed once its SUBMIT_RESP was queued
        // (`Submissions::answered`) never overtakes it. Reading is bounded by the window and
        // DELIVERs by their own window, so neither starves the other for long.
        let flow = tokio::select! {
            biased;
            Some(d) = done_rx.recv() => {
                conn.awaiting_verdict -= 1;
                let resp = SubmitResp { msg_id: d.msg_id, result: d.result };
                conn.send(&Pdu::new(d.sequence_id, Body::SubmitResp(resp))).await;
                Flow::Continue
            }
            r = rd.read(&mut buf), if conn.awaiting_verdict < window => match r {
                Ok(0) | Err(_) => Flow::Close,
                Ok(n) => {
                    decoder.extend(&buf[..n]);
                    let mut flow = Flow::Continue;
                    loop {
                        match decoder.next_pdu() {
                            Ok(None) => break,
                            Ok(Some(pdu)) => {
                                last_pdu = Instant::now();
                                unanswered_tests = 0;
                                flow = conn.handle(pdu, &mut push_tx, &close).await;
                                decoder.set_version(conn.version);
                            }
                            Err(e) => {
                                tracing::info!(?peer, error = %e, "bad CMPP frame");
                                if let Some(reply) = e.reply() {
                                    conn.send(&reply).await;
                                }
                                if e.is_fatal() || conn.account.is_none() {
                                    flow = Flow::Close;
                                }
                            }
                        }
                        if matches!(flow, Flow::Close) {
                            break;
                        }
                    }
                    flow
                }
            },
            Some(d) = push_rx.recv(), if connected && conn.pushes.available(Instant::now()) > 0 => {
                conn.push(d).await;
                Flow::Continue
            }
            () = close.notified() => Flow::Close,
            _ = tick.tick() => {
                let now = Instant::now();
                for lost in conn.pushes.expire(now) {
                    tracing::info!(?peer, seq = lost.sequence_id, "DELIVER got no DELIVER_RESP");
                }
                if !connected && now >= connect_deadline {
                    tracing::info!(?peer, "no CONNECT in time; closing");
                    Flow::Close
                } else if connected && now.saturating_duration_since(last_pdu) >= cfg.active_test_interval {
                    if unanswered_tests >= 3 {
                        tracing::info!(?peer, "three ACTIVE_TESTs unanswered; closing");
                        Flow::Close
                    } else {
                        unanswered_tests += 1;
                        last_pdu = now;
                        let seq = conn.seqs.allocate();
                        conn.send(&Pdu::new(seq, Body::ActiveTest)).await;
                        Flow::Continue
                    }
                } else {
                    Flow::Continue
                }
            }
        };
        if matches!(flow, Flow::Close) {
            break;
        }
    }
    if let Some(id) = conn.registered {
        conn.shared.handle.unregister(id);
    }
    drop(conn);
    // The writer drains what was queued (a refusal's CONNECT_RESP, a TERMINATE_RESP) and
    // ends when the last sender is gone.
    let _ = writer.await;
}

impl Conn {
    pub(super) async fn send(&mut self, pdu: &Pdu) {
        if !self.session.send(pdu) {
            tracing::debug!(command = ?pdu.command_id(), "not sent in this session state");
            return;
        }
        match pdu.encode(self.version) {
            Ok(bytes) => {
                let _ = self.out.send(bytes).await;
            }
            Err(e) => tracing::warn!(error = %e, "a CMPP PDU could not be encoded"),
        }
    }

    async fn handle(
        &mut self,
        pdu: Pdu,
        push_tx: &mut Option<mpsc::Sender<Deliver>>,
        close: &Arc<Notify>,
    ) -> Flow {
        match self.session.receive(&pdu) {
            Inbound::Accept => {}
            Inbound::Reject(answer) => {
                if let Some(a) = answer {
                    self.send(&a).await;
                }
                return if self.account.is_some() {
                    Flow::Continue
                } else {
                    Flow::Close
                };
            }
            Inbound::Unexpected => return Flow::Continue,
        }
        let seq = pdu.sequence_id;
        match pdu.body {
            Body::Connect(c) => self.connect(seq, &c, push_tx, close).await,
            Body::Submit(s) => {
                self.submit(seq, *s).await;
                Flow::Continue
            }
            Body::DeliverResp(r) => {
                // Room was made: what waited for this SP can follow.
                if let Some(a) = &self.account {
                    self.shared.handle.flush(a.id);
                }
                if self.pushes.complete(seq, CommandId::DeliverResp).is_ok()
                    && r.result != result::OK
                {
                    tracing::info!(result = r.result, "SP refused a DELIVER");
                }
                Flow::Continue
            }
            Body::ActiveTest => {
                self.send(&Pdu::new(seq, Body::ActiveTestResp)).await;
                Flow::Continue
            }
            Body::Terminate => {
                self.send(&Pdu::new(seq, Body::TerminateResp)).await;
                Flow::Close
            }
            Body::Query(q) => {
                let subs = Arc::clone(&self.shared.submissions);
                let account = self.account.as_ref().map_or(0, |a| a.id);
                let day = q.time.clone();
                let traffic = tokio::task::spawn_blocking(move || subs.query(account, &day))
                    .await
                    .ok()
                    .flatten();
                let resp = match traffic {
                    Some(t) => QueryResp {
                        time: q.time,
                        query_type: q.query_type,
                        query_code: q.query_code,
                        mt_tl_msg: t.mt_messages,
                        mt_tl_usr: t.mt_users,
                        mt_scs: t.mt_sent,
                        mt_wt: t.mt_waiting,
                        mt_fl: t.mt_failed,
                        mo_scs: t.mo_sent,
                        mo_wt: t.mo_waiting,
                        mo_fl: t.mo_failed,
                    },
                    None => QueryResp {
                        time: q.time,
                        query_type: q.query_type,
                        query_code: q.query_code,
                        mt_tl_msg: self.submitted,
                        mt_tl_usr: self.submitted,
                        ..QueryResp::default()
                    },
                };
                self.send(&Pdu::new(seq, Body::QueryResp(resp))).await;
                Flow::Continue
            }
            Body::Cancel(c) => {
                let subs = Arc::clone(&self.shared.submissions);
                let account = self.account.as_ref().map_or(0, |a| a.id);
                let ok = tokio::task::spawn_blocking(move || subs.cancel(account, c.msg_id))
                    .await
                    .unwrap_or(false);
                let resp = CancelResp {
                    success: u32::from(!ok),
                };
                self.send(&Pdu::new(seq, Body::CancelResp(resp))).await;
                Flow::Continue
            }
            // Responses to our ACTIVE_TEST only prove the peer alive (handled by the caller).
            _ => Flow::Continue,
        }
    }

    async fn connect(
        &mut self,
        seq: u32,
        c: &cmpp_proto::Connect,
        push_tx: &mut Option<mpsc::Sender<Deliver>>,
        close: &Arc<Notify>,
    ) -> Flow {
        let accounts = Arc::clone(&self.shared.accounts);
        let addr = c.source_addr.clone();
        let account = tokio::task::spawn_blocking(move || accounts.lookup(&addr))
            .await
            .ok()
            .flatten();
        let secret = account.as_ref().map(|a| a.secret.as_slice());
        let (mut resp, agreed) = answer_connect(c, self.shared.config.version, secret);
        let over_limit = account.as_ref().is_some_and(|a| {
            self.shared.handle.connections_of(a.id)
                >= self.shared.config.max_connections_per_account.max(1)
        });
        if let (Some(v), Some(a)) = (agreed, &account) {
            if over_limit {
                resp = cmpp_proto::ConnectResp::answer(c, result::CONNECT_OTHER, v, &a.secret);
            } else {
                self.version = v;
            }
        }
        if let Some(v) = Version::from_octet(resp.version) {
            self.version = v;
        }
        let ok = resp.status == result::CONNECT_OK;
        tracing::info!(source_addr = %c.source_addr, status = resp.status, "CMPP CONNECT");
        self.send(&Pdu::new(seq, Body::ConnectResp(resp))).await;
        match (ok, account, push_tx.take()) {
            (true, Some(a), Some(tx)) => {
                self.registered = Some(self.shared.handle.register(a.id, tx, Arc::clone(close)));
                self.account = Some(a);
                c.source_addr.clone_into(&mut self.source_addr);
                Flow::Continue
            }
            _ => Flow::Close,
        }
    }

    async fn push(&mut self, mut d: Deliver) {
        // Reports are queued in the 3.0 layout; a 2.0 SP gets its own terminal-id width.
        if self.version == Version::V20 && d.registered_delivery == 1 {
            if let Some(Ok(r)) = d.status_report(Version::V30) {
                if let Ok(content) = StatusReport::encode(&r, Version::V20) {
                    d.msg_content = content;
                }
            }
        }
        let seq = self.seqs.allocate();
        let now = Instant::now();
        if self.pushes.insert(seq, CommandId::Deliver, now, ()).is_ok() {
            self.send(&Pdu::new(seq, Body::Deliver(Box::new(d)))).await;
        }
    }
}

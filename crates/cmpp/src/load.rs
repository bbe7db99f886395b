//! A pipelined SP for load: CONNECTs and keeps `window` SUBMITs in flight until `total` are
//! answered. Used by `consentry bench cmpp`; it measures the listener, so it does as little as
//! possible itself (one buffer, one write per refill), like `smpp::load` for SMPP. The
//! [`crate::CmppClient`] link (a task per part, a oneshot per answer, resend after Result 8)
//! is built to deliver, not to load: on a 2-core machine its own work was counted against the
//! listener it measured.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cmpp_proto::{Body, Connect, Decoder, DeliverResp, Pdu, Submit, Version, result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::CmppError;

/// What a load run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadReport {
    /// SUBMITs answered Result 0.
    pub ok: u64,
    /// SUBMITs answered another Result.
    pub refused: u64,
    pub elapsed: Duration,
}

impl LoadReport {
    /// Answered SUBMITs per second.
    #[must_use]
    pub fn per_second(&self) -> f64 {
        (self.ok + self.refused) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn io(e: impl std::fmt::Display) -> CmppError {
    CmppError::Io(e.to_string())
}

/// CONNECTs to `addr` as `source_addr` and submits `total` SUBMITs made by `make(i)` (one part
/// each), `window` at a time. DELIVERs pushed meanwhile are acknowledged.
pub async fn submit_load(
    addr: SocketAddr,
    source_addr: &str,
    secret: &str,
    window: usize,
    total: u64,
    mut make: impl FnMut(u64) -> Submit,
) -> Result<LoadReport, CmppError> {
    let version = Version::V30;
    let mut stream = TcpStream::connect(addr).await.map_err(io)?;
    let _ = stream.set_nodelay(true);
    let timestamp = crate::clock::now().connect_timestamp();
    let connect = Connect::new(source_addr, secret.as_bytes(), version, timestamp);
    stream
        .write_all(
            &Pdu::new(1, Body::Connect(connect))
                .encode(version)
                .map_err(io)?,
        )
        .await
        .map_err(io)?;
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    let answer = loop {
        if let Some(p) = decoder.next_pdu().map_err(io)? {
            break p;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .map_err(io)?
            .map_err(io)?;
        if n == 0 {
            return Err(io("closed during CONNECT"));
        }
        decoder.extend(&buf[..n]);
    };
    match answer.body {
        Body::ConnectResp(r) if r.status == 0 => {}
        other => return Err(io(format!("CONNECT refused: {other:?}"))),
    }
    decoder.set_version(version);
    let window = window.max(1) as u64;
    let started = Instant::now();
    let (mut sent, mut ok, mut refused) = (0u64, 0u64, 0u64);
    let mut out = Vec::with_capacity(64 * 1024);
    let mut seq: u32 = 1;
    while ok + refused < total {
        while sent < total && sent - ok - refused < window {
            seq = if seq >= 0x7FFF_FFFF { 2 } else { seq + 1 };
            Pdu::new(seq, Body::Submit(Box::new(make(sent))))
                .encode_into(version, &mut out)
                .map_err(io)?;
            sent += 1;
        }
        if !out.is_empty() {
            stream.write_all(&out).await.map_err(io)?;
            out.clear();
        }
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .map_err(|_| io("no answer for 30 s"))?
            .map_err(io)?;
        if n == 0 {
            return Err(io("the listener closed the connection"));
        }
        decoder.extend(&buf[..n]);
        while let Some(p) = decoder.next_pdu().map_err(io)? {
            match p.body {
                Body::SubmitResp(r) => {
                    if r.result == result::OK {
                        ok += 1;
                    } else {
                        refused += 1;
                    }
                }
                Body::ActiveTest => Pdu::new(p.sequence_id, Body::ActiveTestResp)
                    .encode_into(version, &mut out)
                    .map_err(io)?,
                Body::Deliver(d) => Pdu::new(
                    p.sequence_id,
                    Body::DeliverResp(DeliverResp {
                        msg_id: d.msg_id,
                        result: result::OK,
                    }),
                )
                .encode_into(version, &mut out)
                .map_err(io)?,
                _ => {}
            }
        }
    }
    let elapsed = started.elapsed();
    let _ = stream
        .write_all(
            &Pdu::new(seq.wrapping_add(1).max(2), Body::Terminate)
                .encode(version)
                .map_err(io)?,
        )
        .await;
    Ok(LoadReport {
        ok,
        refused,
        elapsed,
    })
}

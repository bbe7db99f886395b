//! A pipelined ESME for load: binds as a transmitter and keeps `window` submit_sm in flight
//! until `total` are answered. Used by `consentry bench smpp` and the tests; it measures the
//! server, so it does as little as possible itself (one buffer, one write per refill).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use smpp_proto::{Bind, BindMode, Body, CommandStatus, Decoder, Pdu, ShortMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::SmppError;

/// What a load run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadReport {
    /// submit_sm answered with ROK.
    pub ok: u64,
    /// submit_sm answered with an error status.
    pub refused: u64,
    pub elapsed: Duration,
}

impl LoadReport {
    /// Answered submit_sm per second.
    #[must_use]
    pub fn per_second(&self) -> f64 {
        (self.ok + self.refused) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn io(e: impl std::fmt::Display) -> SmppError {
    SmppError::Io(e.to_string())
}

/// Binds to `addr` and submits `total` messages made by `make(i)`, `window` at a time.
pub async fn submit_load(
    addr: SocketAddr,
    system_id: &str,
    password: &str,
    window: usize,
    total: u64,
    mut make: impl FnMut(u64) -> ShortMessage,
) -> Result<LoadReport, SmppError> {
    let mut stream = TcpStream::connect(addr).await.map_err(io)?;
    let _ = stream.set_nodelay(true);
    let bind = Pdu::request(
        1,
        Body::Bind(Bind::new(BindMode::Transmitter, system_id, password)),
    );
    stream
        .write_all(&bind.encode().map_err(io)?)
        .await
        .map_err(io)?;
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    let bound = loop {
        if let Some(p) = decoder.next_pdu().map_err(io)? {
            break p;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .map_err(io)?
            .map_err(io)?;
        if n == 0 {
            return Err(io("closed during bind"));
        }
        decoder.extend(&buf[..n]);
    };
    if !bound.command_status.is_ok() {
        return Err(io(format!("bind refused: {:#x}", bound.command_status.0)));
    }
    let window = window.max(1) as u64;
    let started = Instant::now();
    let (mut sent, mut ok, mut refused) = (0u64, 0u64, 0u64);
    let mut out = Vec::with_capacity(64 * 1024);
    let mut seq: u32 = 1;
    while ok + refused < total {
        while sent < total && sent - ok - refused < window {
            seq = if seq >= 0x7FFF_FFFF { 1 } else { seq + 1 };
            Pdu::request(seq, Body::SubmitSm(make(sent)))
                .encode_into(&mut out)
                .map_err(io)?;
            sent += 1;
        }
        if !out.is_empty() {
            stream.write_all(&out).await.map_err(io)?;
            out.clear();
        }
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .map_err(|_| io("no response for 30 s"))?
            .map_err(io)?;
        if n == 0 {
            return Err(io("server closed the connection"));
        }
        decoder.extend(&buf[..n]);
        while let Some(p) = decoder.next_pdu().map_err(io)? {
            match p.body {
                Body::SubmitSmResp(_) | Body::GenericNack => {
                    if p.command_status.is_ok() {
                        ok += 1;
                    } else {
                        refused += 1;
                    }
                }
                Body::EnquireLink => {
                    Pdu::response(p.sequence_number, CommandStatus::ROK, Body::EnquireLinkResp)
                        .encode_into(&mut out)
                        .map_err(io)?;
                }
                _ => {}
            }
        }
    }
    let elapsed = started.elapsed();
    let unbind = Pdu::request(seq.wrapping_add(1).max(1), Body::Unbind);
    let _ = stream.write_all(&unbind.encode().map_err(io)?).await;
    Ok(LoadReport {
        ok,
        refused,
        elapsed,
    })
}

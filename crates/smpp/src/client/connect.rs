//! Connecting and binding to the carrier's SMSC.

use std::time::{Duration, Instant};

use smpp_proto::{Bind, Body, CommandStatus, Decoder, Pdu, Role, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::CarrierConfig;

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

pub(super) async fn connect(
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

//! Opening a link: TCP connect, CONNECT, and the CONNECT_RESP checked by the handshake in
//! `cmpp-proto` (status, AuthenticatorISMG, version).

use cmpp_proto::{Body, ClientHandshake, Decoder, Pdu, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ClientConfig;
use crate::{CmppError, clock};

/// TCP connect, CONNECT, and the checked CONNECT_RESP.
pub(super) async fn connect(
    cfg: &ClientConfig,
) -> Result<(TcpStream, Version, Decoder), CmppError> {
    let timeout = cfg.response_timeout;
    let io = |e: std::io::Error| CmppError::Io(e.to_string());
    let late = |_| CmppError::Io("timed out".to_owned());
    let mut stream = tokio::time::timeout(timeout, TcpStream::connect(&cfg.addr))
        .await
        .map_err(late)?
        .map_err(io)?;
    let _ = stream.set_nodelay(true);
    let hs = ClientHandshake::new(
        &cfg.source_addr,
        cfg.shared_secret.as_bytes(),
        cfg.version,
        clock::now().connect_timestamp(),
    );
    let bytes = hs
        .request(1)
        .encode(cfg.version)
        .map_err(|e| CmppError::Config(e.to_string()))?;
    stream.write_all(&bytes).await.map_err(io)?;
    let mut decoder = Decoder::new();
    decoder.set_version(cfg.version);
    let mut buf = [0u8; 512];
    let resp = tokio::time::timeout(timeout, async {
        loop {
            match decoder.next_pdu() {
                Ok(Some(Pdu {
                    body: Body::ConnectResp(r),
                    ..
                })) => return Ok(r),
                Ok(Some(other)) => {
                    tracing::debug!(command = ?other.command_id(), "ignored before CONNECT_RESP");
                }
                Ok(None) => {
                    let n = stream.read(&mut buf).await.map_err(io)?;
                    if n == 0 {
                        return Err(CmppError::Io("closed during CONNECT".to_owned()));
                    }
                    decoder.extend(&buf[..n]);
                }
                Err(e) => return Err(CmppError::Io(e.to_string())),
            }
        }
    })
    .await
    .map_err(late)??;
    let version = hs.accept(&resp)?;
    decoder.set_version(version);
    Ok((stream, version, decoder))
}

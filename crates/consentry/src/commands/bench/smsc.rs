//! A carrier's SMSC for benchmarks: binds anyone, answers every submit_sm at once with a fresh
//! id and enquire_link as asked, and counts what it accepted. It has no rate cap, so what a
//! benchmark measures in front of it is the gateway, not the carrier. Written here from the
//! SMPP 3.4 specification (bind, submit_sm, enquire_link, unbind) with our `smpp-proto` codec:
//! no SMSC on the registries runs without its own limits or a JVM.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use smpp_proto::{BindResp, Body, CommandStatus, Decoder, Pdu, SmResp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running sink SMSC.
pub struct Sink {
    /// Where it listens.
    pub port: u16,
    /// submit_sm accepted so far.
    pub accepted: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    /// Starts it on a free loopback port.
    pub async fn start() -> std::io::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let accepted = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&count)));
            }
        });
        Ok(Sink {
            port,
            accepted,
            task,
        })
    }
}

async fn serve(mut stream: TcpStream, accepted: Arc<AtomicU64>) {
    let _ = stream.set_nodelay(true);
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(64 * 1024);
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        decoder.extend(&buf[..n]);
        out.clear();
        let mut close = false;
        loop {
            let pdu = match decoder.next_pdu() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(_) => return,
            };
            let seq = pdu.sequence_number;
            let answer = match &pdu.body {
                Body::Bind(b) => Some(Body::BindResp(BindResp::new(b.mode, "sink"))),
                Body::SubmitSm(_) => {
                    let id = accepted.fetch_add(1, Ordering::Relaxed) + 1;
                    Some(Body::SubmitSmResp(SmResp::new(&format!("{id:x}"))))
                }
                Body::EnquireLink => Some(Body::EnquireLinkResp),
                Body::Unbind => {
                    close = true;
                    Some(Body::UnbindResp)
                }
                _ => None,
            };
            if let Some(body) = answer {
                let _ = Pdu::response(seq, CommandStatus::ROK, body).encode_into(&mut out);
            }
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            return;
        }
        if close {
            return;
        }
    }
}

//! Test rig: a gateway on a fresh store with one sender holding SMPP credentials, the SMPP
//! listener on a free loopback port, and a raw ESME to talk to it byte by byte.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::{Clock, ManualClock, Timestamp};
use gateway::{Carrier, Gateway, GatewayConfig, LoopbackCarrier, SmppCredentials, Workers};
use policy::{Policy, PolicyConfig};
use smpp::{Hub, ReceiptingCarrier, ServerConfig, SmppServer};
use smpp_proto::{Bind, BindMode, Body, Decoder, Pdu};
use store::{SenderRecord, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Noon in Shanghai: outside quiet hours.
pub const NOON: &str = "2026-11-28T04:00:00Z";
pub const SIGNATURE: &str = "【好店】";

pub struct Rig {
    pub gateway: Arc<Gateway>,
    pub hub: Arc<Hub>,
    pub server: Arc<SmppServer>,
    pub addr: SocketAddr,
    pub sender: SenderRecord,
    pub creds: SmppCredentials,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub workers: Option<Workers>,
    pub dir: tempfile::TempDir,
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub fn open_gateway(dir: &std::path::Path, carrier: Arc<dyn Carrier>) -> Arc<Gateway> {
    let store = Store::open_sqlite(dir, store::Durability::Normal).expect("store");
    let clock: Arc<dyn Clock> =
        Arc::new(ManualClock::new(NOON.parse::<Timestamp>().expect("time")));
    Gateway::open(
        store,
        GatewayConfig::default(),
        Policy::new(&PolicyConfig::default()).expect("policy"),
        clock,
        carrier,
    )
    .expect("gateway")
}

pub async fn rig_with(config: ServerConfig, carrier: Option<Arc<dyn Carrier>>) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::new(10_000);
    let carrier = carrier.unwrap_or_else(|| {
        Arc::new(ReceiptingCarrier::new(
            Arc::new(LoopbackCarrier),
            Arc::clone(&hub),
        ))
    });
    let gateway = open_gateway(dir.path(), carrier);
    let (sender, _key) = gateway
        .create_sender("Good Shop", SIGNATURE)
        .expect("sender");
    let creds = gateway.issue_smpp_credentials(sender.id).expect("creds");
    let workers = gateway.start();
    let server =
        Arc::new(SmppServer::new(Arc::clone(&gateway), Arc::clone(&hub), config).expect("server"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let s = Arc::clone(&server);
    tokio::spawn(async move {
        let _ = s
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await;
    });
    Rig {
        gateway,
        hub,
        server,
        addr,
        sender,
        creds,
        stop: Some(stop),
        workers: Some(workers),
        dir,
    }
}

pub async fn rig() -> Rig {
    rig_with(ServerConfig::default(), None).await
}

/// A raw ESME: writes PDUs or bytes, reads PDUs with a timeout.
pub struct Esme {
    pub stream: TcpStream,
    pub decoder: Decoder,
    pub seq: u32,
}

impl Esme {
    pub async fn connect(addr: SocketAddr) -> Esme {
        Esme {
            stream: TcpStream::connect(addr).await.expect("connect"),
            decoder: Decoder::new(),
            seq: 1,
        }
    }

    /// Connects from a chosen local address (any of 127.0.0.0/8 on Linux): another client.
    pub async fn connect_from(addr: SocketAddr, from: std::net::IpAddr) -> Esme {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind(SocketAddr::new(from, 0)).expect("bind local");
        Esme {
            stream: socket.connect(addr).await.expect("connect"),
            decoder: Decoder::new(),
            seq: 1,
        }
    }

    pub async fn send(&mut self, pdu: &Pdu) {
        let bytes = pdu.encode().expect("encode");
        self.stream.write_all(&bytes).await.expect("write");
    }

    pub async fn request(&mut self, body: Body) -> u32 {
        self.seq += 1;
        let seq = self.seq;
        self.send(&Pdu::request(seq, body)).await;
        seq
    }

    pub async fn write_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// The next PDU, or None if the connection closed or nothing came within 5 s.
    pub async fn recv(&mut self) -> Option<Pdu> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(p) = self.decoder.next_pdu().expect("server sends valid PDUs") {
                return Some(p);
            }
            let n = tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut buf))
                .await
                .ok()?
                .ok()?;
            if n == 0 {
                return None;
            }
            self.decoder.extend(&buf[..n]);
        }
    }

    /// The next PDU that is not a deliver_sm (those are kept for `next_deliver`).
    pub async fn recv_skipping(&mut self, skipped: &mut Vec<Pdu>) -> Option<Pdu> {
        loop {
            let p = self.recv().await?;
            if matches!(p.body, Body::DeliverSm(_)) {
                skipped.push(p);
            } else {
                return Some(p);
            }
        }
    }

    pub async fn bind(&mut self, mode: BindMode, system_id: &str, password: &str) -> Pdu {
        self.request(Body::Bind(Bind::new(mode, system_id, password)))
            .await;
        self.recv().await.expect("bind_resp")
    }

    /// True when the server has closed the connection (reads EOF or reset within 5 s).
    pub async fn closed(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut buf)).await {
                Err(_) => return false,
                Ok(Ok(0) | Err(_)) => return true,
                Ok(Ok(_)) => {}
            }
        }
    }
}

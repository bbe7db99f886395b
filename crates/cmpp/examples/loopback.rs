//! SUBMITs per second from our client to our acceptor over loopback, at windows 16 and 100,
//! with an acceptor that accepts everything (no policy, no store): the ceiling the protocol
//! layer leaves for `consentry bench cmpp`, which will add the policy and the group commit.
//!
//! `cargo run --release -p cmpp --example loopback [messages]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use cmpp::{
    Account, Accounts, ClientConfig, CmppClient, CmppServer, DeliverHandler, MobileOriginated,
    Outgoing, ServerConfig, Submission, Verdict,
};
use cmpp_proto::{StatusReport, Version};

struct OneSp;

impl Accounts for OneSp {
    fn lookup(&self, source_addr: &str) -> Option<Account> {
        (source_addr == "901234").then(|| Account {
            id: 1,
            secret: b"secret".to_vec(),
        })
    }
}

struct Ignore;

impl DeliverHandler for Ignore {
    fn on_report(&self, _: &StatusReport) -> Result<(), String> {
        Ok(())
    }
    fn on_mo(&self, _: &MobileOriginated) -> Result<(), String> {
        Ok(())
    }
}

async fn run(window: usize, messages: usize) -> Result<f64, Box<dyn std::error::Error>> {
    let accept = |_: Submission| Verdict::Accept;
    let server = Arc::new(CmppServer::new(
        ServerConfig {
            listen: "127.0.0.1:0".into(),
            window,
            ..ServerConfig::default()
        },
        Arc::new(OneSp),
        Arc::new(accept),
    )?);
    let listener = server.bind().await?;
    let addr = listener.local_addr()?;
    let s = Arc::clone(&server);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        s.serve(listener, async {
            let _ = stopped.await;
        })
        .await;
    });
    let client = CmppClient::start(
        ClientConfig {
            addr: addr.to_string(),
            source_addr: "901234".into(),
            shared_secret: "secret".into(),
            version: Version::V30,
            src_id: "1065801234".into(),
            window,
            ..ClientConfig::default()
        },
        Arc::new(Ignore),
    );
    client
        .connected(Duration::from_secs(5))
        .await
        .ok_or("not connected")?;
    let started = Instant::now();
    let per_task = messages / window;
    let mut tasks = Vec::new();
    for t in 0..window {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_task {
                let msg = Outgoing {
                    destination: format!("138{:08}", t * per_task + i),
                    text: "【小店】您的订单已发货，回T退订".into(),
                    ..Outgoing::default()
                };
                let _ = c.submit(&msg).await;
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let rate = (per_task * window) as f64 / started.elapsed().as_secs_f64();
    client.shutdown();
    let _ = stop.send(());
    Ok(rate)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let messages: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    for window in [16, 100] {
        let rate = run(window, messages).await?;
        println!("window {window:>3}: {rate:>9.0} SUBMITs/s over loopback (accept-all acceptor)");
    }
    Ok(())
}

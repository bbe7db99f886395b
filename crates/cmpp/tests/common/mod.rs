//! Test rig: the CMPP acceptor on a free loopback port with two SP accounts, a submissions
//! recorder that can push status reports, and a recording [`DeliverHandler`] for clients.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cmpp::{
    Account, Accounts, ClientConfig, CmppServer, DeliverHandler, MobileOriginated, Report,
    ServerConfig, ServerHandle, Submission, Submissions, Verdict,
};
use cmpp_proto::{StatusReport, Version};
use parking_lot::Mutex;

pub const SP: &str = "901234";
pub const SECRET: &str = "secret";
/// A destination the recorder refuses with Result 13.
pub const REFUSED: &str = "13900000000";

pub struct Sps;

impl Accounts for Sps {
    fn lookup(&self, source_addr: &str) -> Option<Account> {
        match source_addr {
            SP => Some(Account {
                id: 1,
                secret: SECRET.as_bytes().to_vec(),
            }),
            "905678" => Some(Account {
                id: 2,
                secret: b"other".to_vec(),
            }),
            _ => None,
        }
    }
}

/// Records submissions; accepts all but [`REFUSED`], and reports DELIVRD for every part of an
/// accepted message that asked for a report, shortly after (as a real ISMG would, once the
/// handset acknowledged).
#[derive(Default)]
pub struct Recorder {
    pub got: Mutex<Vec<Submission>>,
    pub handle: OnceLock<ServerHandle>,
}

impl Submissions for Recorder {
    fn submit(&self, s: Submission) -> Verdict {
        self.got.lock().push(s.clone());
        if s.destinations.iter().any(|d| d == REFUSED) {
            return Verdict::Refuse(cmpp_proto::result::DEST_TERMINAL_ID);
        }
        if s.wants_report {
            if let Some(h) = self.handle.get().cloned() {
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(30));
                    let t = cmpp::clock::now().report_time();
                    for id in &s.msg_ids {
                        h.report(
                            s.account,
                            &Report {
                                msg_id: *id,
                                src_id: s.src_id.clone(),
                                destination: s.destinations[0].clone(),
                                stat: "DELIVRD".into(),
                                submit_time: t.clone(),
                                done_time: t.clone(),
                            },
                        );
                    }
                });
            }
        }
        Verdict::Accept
    }
}

pub struct Rig {
    pub addr: SocketAddr,
    pub server: Arc<CmppServer>,
    pub recorder: Arc<Recorder>,
    pub handle: ServerHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn rig_with(config: ServerConfig) -> Rig {
    let recorder = Arc::new(Recorder::default());
    let config = ServerConfig {
        listen: "127.0.0.1:0".into(),
        ..config
    };
    let server =
        Arc::new(CmppServer::new(config, Arc::new(Sps), recorder.clone()).expect("deciders"));
    let handle = server.handle();
    let _ = recorder.handle.set(handle.clone());
    let listener = server.bind().await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let s = Arc::clone(&server);
    tokio::spawn(async move {
        s.serve(listener, async {
            let _ = stopped.await;
        })
        .await;
    });
    Rig {
        addr,
        server,
        recorder,
        handle,
        stop: Some(stop),
    }
}

pub async fn rig() -> Rig {
    rig_with(ServerConfig::default()).await
}

pub fn client_config(addr: SocketAddr, version: Version) -> ClientConfig {
    ClientConfig {
        addr: addr.to_string(),
        source_addr: SP.into(),
        shared_secret: SECRET.into(),
        version,
        src_id: "1065801234".into(),
        response_timeout: Duration::from_secs(5),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(400),
        ..ClientConfig::default()
    }
}

/// Records what a client link was delivered.
#[derive(Default)]
pub struct Inbox {
    pub reports: Mutex<Vec<StatusReport>>,
    pub replies: Mutex<Vec<MobileOriginated>>,
    /// Fail this many deliveries first (the gateway must redeliver).
    pub fail_first: Mutex<u32>,
}

impl DeliverHandler for Inbox {
    fn on_report(&self, report: &StatusReport) -> Result<(), String> {
        self.reports.lock().push(report.clone());
        Ok(())
    }

    fn on_mo(&self, mo: &MobileOriginated) -> Result<(), String> {
        let mut fail = self.fail_first.lock();
        if *fail > 0 {
            *fail -= 1;
            return Err("store unavailable".into());
        }
        self.replies.lock().push(mo.clone());
        Ok(())
    }
}

/// Polls `f` every 20 ms for up to 5 s.
pub async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..250 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

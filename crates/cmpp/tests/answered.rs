//! `Submissions::answered` runs after the batch's SUBMIT_RESPs are queued, so a report pushed
//! from it reaches the SP after the SUBMIT_RESP naming its Msg_Id (pushed from `submit` it
//! could come first, and the SP could not match it).

mod common;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cmpp::{Report, ServerConfig, ServerHandle, Submission, Submissions, Verdict};
use cmpp_proto::{Body, Connect, Decoder, Pdu, Submit, Version};
use common::{SECRET, SP, Sps};
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Refuses everything and reports each refusal from `answered`, at once.
#[derive(Default)]
struct ReportsOnAnswer {
    handle: OnceLock<ServerHandle>,
    waiting: Mutex<Vec<Submission>>,
}

impl Submissions for ReportsOnAnswer {
    fn submit(&self, s: Submission) -> Verdict {
        self.waiting.lock().push(s);
        Verdict::Refuse(101)
    }

    fn answered(&self, msg_ids: &[u64]) {
        let Some(h) = self.handle.get() else { return };
        let mut waiting = self.waiting.lock();
        let (done, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut *waiting)
            .into_iter()
            .partition(|s| s.msg_ids.last().is_some_and(|id| msg_ids.contains(id)));
        *waiting = rest;
        for s in done {
            for id in &s.msg_ids {
                h.report(
                    s.account,
                    &Report {
                        msg_id: *id,
                        src_id: s.src_id.clone(),
                        destination: s.destinations[0].clone(),
                        stat: "CS:0101".into(),
                        submit_time: "2612020800".into(),
                        done_time: "2612020800".into(),
                    },
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_pushed_when_answered_follows_its_submit_resp_on_the_wire() {
    let subs = Arc::new(ReportsOnAnswer::default());
    let server = cmpp::CmppServer::new(
        ServerConfig {
            listen: "127.0.0.1:0".into(),
            window: 64,
            ..ServerConfig::default()
        },
        Arc::new(Sps),
        subs.clone(),
    )
    .expect("server");
    let _ = subs.handle.set(server.handle());
    let listener = server.bind().await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { server.serve(listener, std::future::pending()).await });

    let mut s = TcpStream::connect(addr).await.expect("tcp");
    let connect = Connect::new(SP, SECRET.as_bytes(), Version::V30, 1_202_093_015);
    let mut out = Pdu::new(1, Body::Connect(connect))
        .encode(Version::V30)
        .expect("encode");
    // Fifty SUBMITs in one write: verdicts and reports race inside the server.
    for i in 0..50u32 {
        let submit = Submit {
            registered_delivery: 1,
            msg_src: SP.into(),
            src_id: "1065801234".into(),
            dest_terminal_ids: vec![format!("138001{i:05}")],
            msg_content: b"hello".to_vec(),
            ..Submit::default()
        };
        out.extend(
            Pdu::new(i + 2, Body::Submit(Box::new(submit)))
                .encode(Version::V30)
                .expect("encode"),
        );
    }
    s.write_all(&out).await.expect("write");
    let mut d = Decoder::new();
    let mut buf = [0u8; 4096];
    let mut answered = std::collections::HashSet::new();
    let mut reports = 0;
    while reports < 50 {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("in time")
            .expect("read");
        assert!(n > 0, "closed after {reports} reports");
        d.extend(&buf[..n]);
        while let Ok(Some(p)) = d.next_pdu() {
            match p.body {
                Body::SubmitResp(r) => {
                    assert_eq!(r.result, 101);
                    answered.insert(r.msg_id);
                }
                Body::Deliver(del) => {
                    let r = del
                        .status_report(Version::V30)
                        .expect("a report")
                        .expect("readable");
                    assert!(
                        answered.contains(&r.msg_id),
                        "report for {} before its SUBMIT_RESP",
                        r.msg_id
                    );
                    assert_eq!(r.stat, "CS:0101");
                    reports += 1;
                    let resp = cmpp_proto::DeliverResp {
                        msg_id: del.msg_id,
                        result: 0,
                    };
                    let bytes = Pdu::new(p.sequence_id, Body::DeliverResp(resp))
                        .encode(Version::V30)
                        .expect("encode");
                    s.write_all(&bytes).await.expect("write");
                }
                _ => {}
            }
        }
    }
}

/// Verdicts sent later from another thread answer the SUBMIT then; verdicts dropped unsent
/// answer Result 9 rather than leaving the SP waiting.
struct Later;

impl Submissions for Later {
    fn submit(&self, _: Submission) -> Verdict {
        Verdict::Accept
    }

    fn submit_many_then(&self, batch: Vec<Submission>, done: cmpp::Verdicts) {
        if batch.iter().any(|s| s.destinations[0] == "13900000000") {
            drop(done);
            return;
        }
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            done.send(vec![Verdict::Refuse(102); batch.len()]);
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_sent_later_answer_then_and_dropped_ones_answer_result_9() {
    let server = cmpp::CmppServer::new(
        ServerConfig {
            listen: "127.0.0.1:0".into(),
            ..ServerConfig::default()
        },
        Arc::new(Sps),
        Arc::new(Later),
    )
    .expect("server");
    let listener = server.bind().await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { server.serve(listener, std::future::pending()).await });
    let client = cmpp::CmppClient::start(
        common::client_config(addr, Version::V30),
        Arc::new(common::Inbox::default()),
    );
    assert!(client.connected(Duration::from_secs(5)).await.is_some());
    let later = client
        .submit(&cmpp::Outgoing {
            destination: "13800138000".into(),
            text: "hello".into(),
            ..cmpp::Outgoing::default()
        })
        .await
        .expect("answered");
    assert_eq!(later[0].result, 102);
    let dropped = client
        .submit(&cmpp::Outgoing {
            destination: "13900000000".into(),
            text: "hello".into(),
            ..cmpp::Outgoing::default()
        })
        .await
        .expect("answered");
    assert_eq!(dropped[0].result, cmpp_proto::result::OTHER);
    client.shutdown();
}

//! Our client against our server over loopback: the handshake in both versions, Chinese and
//! long messages, status reports, replies, refusals and flow control.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmpp::{CmppClient, LinkState, Outgoing, ServerConfig};
use cmpp_proto::{MsgId, Version, result};
use common::{Inbox, REFUSED, client_config, rig, rig_with, wait_for};

const LONG: &str = "【好店】您的快递已到达小区驿站，请凭取件码123456在今晚八点前领取，逾期将退回寄件人。如有疑问请致电客服热线。感谢您的支持，祝您生活愉快！回T退订";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_chinese_message_is_joined_decided_once_and_every_part_reported() {
    let r = rig().await;
    let inbox = Arc::new(Inbox::default());
    let client = CmppClient::start(client_config(r.addr, Version::V30), inbox.clone());
    assert_eq!(
        client.connected(Duration::from_secs(5)).await,
        Some(Version::V30)
    );

    let parts = client
        .submit(&Outgoing {
            destination: "13800138000".into(),
            text: LONG.into(),
            extension: "88".into(),
            report: true,
        })
        .await
        .expect("answered");
    assert_eq!(
        parts.len(),
        2,
        "{} characters in two UCS-2 parts",
        LONG.chars().count()
    );
    assert!(parts.iter().all(|p| p.result == result::OK));
    assert_ne!(parts[0].msg_id, parts[1].msg_id);
    let id = MsgId::unpack(parts[0].msg_id);
    assert!(id.is_plausible(), "{id:?}");
    assert_eq!(id.gateway, 1);

    let got = r.recorder.got.lock().clone();
    assert_eq!(got.len(), 1, "the parts are decided as one message");
    assert_eq!(got[0].text, LONG);
    assert_eq!(got[0].src_id, "106580123488");
    assert_eq!(got[0].msg_ids, vec![parts[0].msg_id, parts[1].msg_id]);

    wait_for("two status reports", || inbox.reports.lock().len() == 2).await;
    let reports = inbox.reports.lock().clone();
    assert!(reports.iter().all(|rep| rep.stat == "DELIVRD"));
    assert!(reports.iter().any(|rep| rep.msg_id == parts[1].msg_id));
    assert_eq!(reports[0].dest_terminal_id, "13800138000");
    client.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2_0_client_gets_2_0_layouts_from_a_3_0_server() {
    let r = rig().await;
    let inbox = Arc::new(Inbox::default());
    let client = CmppClient::start(client_config(r.addr, Version::V20), inbox.clone());
    assert_eq!(
        client.connected(Duration::from_secs(5)).await,
        Some(Version::V20)
    );
    let parts = client
        .submit(&Outgoing {
            destination: "13800138000".into(),
            text: "验证码 4321".into(),
            report: true,
            ..Outgoing::default()
        })
        .await
        .expect("answered");
    assert_eq!(parts.len(), 1);
    // The report was queued in the 3.0 layout and re-encoded for this 2.0 connection; a
    // 21-octet terminal id reading back the right number shows the width is right.
    wait_for("the status report", || !inbox.reports.lock().is_empty()).await;
    let rep = inbox.reports.lock()[0].clone();
    assert_eq!(
        (rep.msg_id, rep.dest_terminal_id.as_str()),
        (parts[0].msg_id, "13800138000")
    );
    client.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_refused_and_the_link_says_so() {
    let r = rig().await;
    let mut cfg = client_config(r.addr, Version::V30);
    cfg.shared_secret = "guess".into();
    let client = CmppClient::start(cfg, Arc::new(Inbox::default()));
    wait_for("the refusal", || client.state() == LinkState::Refused(3)).await;
    assert_eq!(r.handle.connections_of(1), 0);
    client.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_reaches_the_caller_and_replies_reach_the_handler_joined() {
    let r = rig().await;
    let inbox = Arc::new(Inbox::default());
    let client = CmppClient::start(client_config(r.addr, Version::V30), inbox.clone());
    client
        .connected(Duration::from_secs(5))
        .await
        .expect("connected");
    let refused = client
        .submit(&Outgoing {
            destination: REFUSED.into(),
            text: "hi".into(),
            ..Outgoing::default()
        })
        .await
        .expect("answered");
    assert_eq!(refused[0].result, result::DEST_TERMINAL_ID);

    // A long reply goes out in two parts and comes back whole.
    assert!(r.handle.mo(1, "13800138000", "1065801234", LONG, 9));
    wait_for("the reply", || !inbox.replies.lock().is_empty()).await;
    let mo = inbox.replies.lock()[0].clone();
    assert_eq!(
        (mo.from.as_str(), mo.to.as_str()),
        ("13800138000", "1065801234")
    );
    assert_eq!(mo.text, LONG);
    client.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_8_slows_the_client_down_until_everything_is_accepted() {
    let r = rig_with(ServerConfig {
        submits_per_second: 20,
        ..ServerConfig::default()
    })
    .await;
    let client = CmppClient::start(
        client_config(r.addr, Version::V30),
        Arc::new(Inbox::default()),
    );
    client
        .connected(Duration::from_secs(5))
        .await
        .expect("connected");
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.submit(&Outgoing {
                destination: format!("138001380{i:02}"),
                text: format!("message {i}"),
                ..Outgoing::default()
            })
            .await
        }));
    }
    for t in tasks {
        let parts = t.await.expect("task").expect("answered");
        assert_eq!(parts[0].result, result::OK);
    }
    assert_eq!(r.recorder.got.lock().len(), 50);
    // 50 at 20 per second cannot finish in under two seconds unless Result 8 was ignored.
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "{took:?}");
    // Nor take a keep-alive interval: the link once slept with its window open and parts
    // requeued after Result 8 until the server's ACTIVE_TEST woke it (60 s per stall).
    assert!(took < Duration::from_secs(20), "{took:?}");
    client.shutdown();
}

/// The gate runs in the link task just before the first part is written: `false` sends
/// nothing (the gateway records no submission), `true` sends the whole message. Run once a
/// message, not once a part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_that_refuses_withholds_the_whole_message_and_one_that_allows_runs_once() {
    let r = rig().await;
    let inbox = Arc::new(Inbox::default());
    let client = CmppClient::start(client_config(r.addr, Version::V30), inbox.clone());
    assert!(client.connected(Duration::from_secs(5)).await.is_some());
    let msg = Outgoing {
        destination: "13800138000".into(),
        text: LONG.into(),
        ..Outgoing::default()
    };
    let refused = client.submit_gated(&msg, Some(Box::new(|| false))).await;
    assert_eq!(refused, Err(cmpp::ClientError::Withheld));
    assert!(
        r.recorder.got.lock().is_empty(),
        "nothing reached the gateway"
    );

    let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = Arc::clone(&runs);
    let gate: cmpp::Gate = Box::new(move || {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        true
    });
    let parts = client.submit_gated(&msg, Some(gate)).await.expect("sent");
    assert_eq!(parts.len(), 2);
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(r.recorder.got.lock().len(), 1);
    client.shutdown();
}

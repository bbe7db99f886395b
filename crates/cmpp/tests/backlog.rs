//! Reports and replies for an SP with no connection wait for it: pushed while it is away, they
//! reach it, each once, when it connects again (an SP's software restarts; a report lost then is a
//! message whose fate it never learns).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmpp::{CmppClient, Report};
use cmpp_proto::Version;
use common::{Inbox, client_config, rig, wait_for};

fn report(msg_id: u64) -> Report {
    let t = cmpp::clock::now().report_time();
    Report {
        msg_id,
        src_id: "1065801234".into(),
        destination: "13800138000".into(),
        stat: "DELIVRD".into(),
        submit_time: t.clone(),
        done_time: t,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_and_replies_for_an_sp_away_reach_it_when_it_connects() {
    let r = rig().await;
    // Account 1 (the SP `client_config` connects as) has never connected: everything waits.
    for id in 1..=300u64 {
        assert!(
            !r.handle.report(1, &report(id)),
            "nobody to take report {id}"
        );
    }
    assert!(!r.handle.mo(1, "13800138000", "1065801234", "TD", 1));
    assert_eq!(r.handle.waiting(1), 301);
    assert_eq!(r.handle.undeliverable(), 0, "nothing dropped");

    let inbox = Arc::new(Inbox::default());
    let link = CmppClient::start(client_config(r.addr, Version::V30), inbox.clone());
    assert!(link.connected(Duration::from_secs(5)).await.is_some());
    wait_for("every waiting report", || inbox.reports.lock().len() == 300).await;
    wait_for("the waiting reply", || inbox.replies.lock().len() == 1).await;
    // Queued in the order they came; the client link hands DELIVERs to its handler on
    // several threads, so compare them as a set.
    let mut ids: Vec<u64> = inbox.reports.lock().iter().map(|r| r.msg_id).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=300).collect::<Vec<_>>(), "each exactly once");
    assert_eq!(inbox.replies.lock()[0].text, "TD");
    assert_eq!(r.handle.waiting(1), 0);

    // Connected, a report goes straight out; another account's wait is its own.
    assert!(r.handle.report(1, &report(301)));
    assert!(!r.handle.report(2, &report(1)));
    assert_eq!(r.handle.waiting(2), 1);
    wait_for("the live report", || inbox.reports.lock().len() == 301).await;
    link.shutdown();
}

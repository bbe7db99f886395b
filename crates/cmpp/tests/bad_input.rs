//! What the acceptor does with hostile or broken peers: a clear CMPP answer or a closed
//! connection, and the server still serving everyone else.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmpp::{CmppClient, Outgoing, ServerConfig};
use cmpp_proto::{Body, Connect, Decoder, Pdu, Version};
use common::{Inbox, SECRET, SP, client_config, rig_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config() -> ServerConfig {
    ServerConfig {
        connect_timeout: Duration::from_millis(300),
        max_connections: 100,
        ..ServerConfig::default()
    }
}

/// Reads until the server closes; returns the PDUs it sent.
async fn until_closed(s: &mut TcpStream) -> Vec<Pdu> {
    let mut d = Decoder::new();
    let mut buf = [0u8; 1024];
    let mut got = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return got,
            Ok(Ok(n)) => {
                d.extend(&buf[..n]);
                while let Ok(Some(p)) = d.next_pdu() {
                    got.push(p);
                }
            }
            Err(_) => panic!("the server kept the connection open; got {got:?}"),
        }
    }
}

async fn connect_status(addr: std::net::SocketAddr, c: Connect) -> Vec<u32> {
    let mut s = TcpStream::connect(addr).await.expect("tcp");
    let bytes = Pdu::new(1, Body::Connect(c))
        .encode(Version::V30)
        .expect("encode");
    s.write_all(&bytes).await.expect("write");
    until_closed(&mut s)
        .await
        .into_iter()
        .filter_map(|p| match p.body {
            Body::ConnectResp(r) => Some(r.status),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_connects_get_their_status_and_are_closed() {
    let r = rig_with(config()).await;
    let good = Connect::new(SP, SECRET.as_bytes(), Version::V30, 1_202_093_015);
    let wrong_secret = Connect::new(SP, b"guess", Version::V30, 1_202_093_015);
    let unknown = Connect::new("999999", SECRET.as_bytes(), Version::V30, 1);
    let too_new = Connect {
        version: 0x40,
        ..good.clone()
    };
    // A replayed authenticator with another timestamp no longer matches.
    let tampered = Connect {
        timestamp: good.timestamp + 1,
        ..good
    };
    assert_eq!(connect_status(r.addr, wrong_secret).await, vec![3]);
    assert_eq!(connect_status(r.addr, unknown).await, vec![2]);
    assert_eq!(connect_status(r.addr, too_new).await, vec![4]);
    assert_eq!(connect_status(r.addr, tampered).await, vec![3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_framing_half_pdus_and_early_submits_close_the_connection() {
    let r = rig_with(config()).await;
    // A 4 GiB Total_Length.
    let mut s = TcpStream::connect(r.addr).await.expect("tcp");
    s.write_all(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0, 0, 0, 1])
        .await
        .expect("write");
    assert!(until_closed(&mut s).await.is_empty());
    // A Total_Length below the header.
    let mut s = TcpStream::connect(r.addr).await.expect("tcp");
    s.write_all(&[0, 0, 0, 4]).await.expect("write");
    assert!(until_closed(&mut s).await.is_empty());
    // Slow loris: half a CONNECT, then nothing; closed at connect_timeout.
    let mut s = TcpStream::connect(r.addr).await.expect("tcp");
    s.write_all(&[0, 0, 0, 39, 0, 0, 0, 1])
        .await
        .expect("write");
    let started = std::time::Instant::now();
    assert!(until_closed(&mut s).await.is_empty());
    assert!(started.elapsed() < Duration::from_secs(2));
    // A SUBMIT before CONNECT.
    let mut s = TcpStream::connect(r.addr).await.expect("tcp");
    let submit = Pdu::new(1, Body::Submit(Box::default()));
    s.write_all(&submit.encode(Version::V30).expect("encode"))
        .await
        .expect("write");
    assert!(until_closed(&mut s).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_submit_after_connect_is_answered_and_the_session_goes_on() {
    let r = rig_with(config()).await;
    let mut s = TcpStream::connect(r.addr).await.expect("tcp");
    let c = Connect::new(SP, SECRET.as_bytes(), Version::V30, 1);
    s.write_all(
        &Pdu::new(1, Body::Connect(c))
            .encode(Version::V30)
            .expect("encode"),
    )
    .await
    .expect("write");
    // A SUBMIT header with a 10-octet body: far too short for its fields.
    let mut bad = vec![0, 0, 0, 22, 0, 0, 0, 4, 0, 0, 0, 2];
    bad.extend_from_slice(&[0; 10]);
    s.write_all(&bad).await.expect("write");
    s.write_all(
        &Pdu::new(3, Body::ActiveTest)
            .encode(Version::V30)
            .expect("encode"),
    )
    .await
    .expect("write");
    let mut d = Decoder::new();
    let mut buf = [0u8; 1024];
    let mut got = Vec::new();
    while got.len() < 3 {
        let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
            .await
            .expect("answers")
            .expect("read");
        assert!(n > 0, "closed early; got {got:?}");
        d.extend(&buf[..n]);
        while let Ok(Some(p)) = d.next_pdu() {
            got.push(p);
        }
    }
    // CONNECT, the bad SUBMIT and the ACTIVE_TEST may arrive in one read: the SUBMIT must still
    // be judged as coming after CONNECT (it once closed the connection as if before it).
    assert!(
        matches!(&got[1], Pdu { sequence_id: 2, body: Body::SubmitResp(r) } if r.result == 4),
        "{got:?}"
    );
    assert!(matches!(
        &got[2],
        Pdu {
            sequence_id: 3,
            body: Body::ActiveTestResp
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_connections_at_once_leave_the_server_serving() {
    let r = rig_with(config()).await;
    let mut idle = Vec::new();
    for _ in 0..500 {
        if let Ok(s) = TcpStream::connect(r.addr).await {
            idle.push(s);
        }
    }
    // The first 100 hold slots until connect_timeout; the other 400 were closed at accept.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(r.server.open_connections() <= 100);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let client = CmppClient::start(
        client_config(r.addr, Version::V30),
        Arc::new(Inbox::default()),
    );
    client
        .connected(Duration::from_secs(5))
        .await
        .expect("a real SP still gets in");
    let parts = client
        .submit(&Outgoing {
            destination: "13800138000".into(),
            text: "still here".into(),
            ..Outgoing::default()
        })
        .await
        .expect("answered");
    assert_eq!(parts[0].result, 0);
    drop(idle);
    client.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_peer_that_never_answers_active_test_is_dropped() {
    let r = rig_with(ServerConfig {
        active_test_interval: Duration::from_millis(300),
        ..config()
    })
    .await;
    let mut s = TcpStream::connect(r.addr).await.expect("tcp");
    let c = Connect::new(SP, SECRET.as_bytes(), Version::V30, 1);
    s.write_all(
        &Pdu::new(1, Body::Connect(c))
            .encode(Version::V30)
            .expect("encode"),
    )
    .await
    .expect("write");
    let started = std::time::Instant::now();
    let got = until_closed(&mut s).await;
    assert!(
        matches!(&got[0].body, Body::ConnectResp(r) if r.status == 0),
        "{got:?}"
    );
    let tests = got
        .iter()
        .filter(|p| matches!(p.body, Body::ActiveTest))
        .count();
    assert_eq!(
        tests, 3,
        "three ACTIVE_TESTs, then the connection goes: {got:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.handle.connections_of(1), 0);
}

//! Our client against a small ISMG written here from the CMPP 3.0 specification, not from
//! cmpp-proto: it reads requests at the byte offsets of the specification's field tables and
//! writes its answers octet by octet (MD5 from the md-5 crate directly). It answers the first
//! SUBMIT with Result 8, reports delivery, sends a GBK reply and an ACTIVE_TEST, redelivers a
//! reply the client failed to take, then drops the connection to force a reconnect.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmpp::{CmppClient, Outgoing};
use cmpp_proto::Version;
use common::{Inbox, SECRET, SP, client_config, wait_for};
use md5::{Digest, Md5};
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One frame: (Command_Id, Sequence_Id, body).
async fn read_frame(s: &mut TcpStream) -> Option<(u32, u32, Vec<u8>)> {
    let mut head = [0u8; 12];
    s.read_exact(&mut head).await.ok()?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let mut body = vec![0u8; len.checked_sub(12)?];
    s.read_exact(&mut body).await.ok()?;
    let word = |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    Some((word(4), word(8), body))
}

async fn write_frame(s: &mut TcpStream, command: u32, seq: u32, body: &[u8]) {
    let mut f = ((12 + body.len()) as u32).to_be_bytes().to_vec();
    f.extend_from_slice(&command.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(body);
    s.write_all(&f).await.expect("write");
}

fn pad(out: &mut Vec<u8>, s: &[u8], width: usize) {
    out.extend_from_slice(s);
    out.resize(out.len() + width - s.len(), 0);
}

/// Checks CONNECT (Source_Addr 6, AuthenticatorSource 16, Version 1, Timestamp 4) and
/// answers CONNECT_RESP (Status 4, AuthenticatorISMG 16, Version 1).
async fn handshake(s: &mut TcpStream, log: &Mutex<Vec<String>>) {
    let (cmd, seq, body) = read_frame(s).await.expect("CONNECT");
    assert_eq!((cmd, body.len()), (0x0000_0001, 27));
    assert_eq!(&body[..6], SP.as_bytes());
    assert_eq!(body[22], 0x30);
    let ts = u32::from_be_bytes([body[23], body[24], body[25], body[26]]);
    let mut h = Md5::new();
    h.update(&body[..6]);
    h.update([0u8; 9]);
    h.update(SECRET.as_bytes());
    h.update(format!("{ts:010}").as_bytes());
    let want: [u8; 16] = h.finalize().into();
    assert_eq!(&body[6..22], &want, "AuthenticatorSource");
    let mut h = Md5::new();
    h.update([0u8; 4]);
    h.update(&body[6..22]);
    h.update(SECRET.as_bytes());
    let mut resp = vec![0, 0, 0, 0];
    resp.extend_from_slice(&h.finalize());
    resp.push(0x30);
    write_frame(s, 0x8000_0001, seq, &resp).await;
    log.lock().push("connect".into());
}

/// The UCS-2 or ASCII text of a 3.0 SUBMIT body, read at the specification's offsets.
fn submit_text(body: &[u8]) -> String {
    let fmt = body[8 + 4 + 10 + 1 + 32 + 1 + 2];
    let dests = usize::from(body[128]);
    let at = 129 + 32 * dests + 1;
    let len = usize::from(body[at]);
    let content = &body[at + 1..at + 1 + len];
    if fmt == 8 {
        let units: Vec<u16> = content
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(content).into_owned()
    }
}

fn deliver(msg_id: u64, src: &str, fmt: u8, report: bool, content: &[u8]) -> Vec<u8> {
    let mut b = msg_id.to_be_bytes().to_vec();
    pad(&mut b, b"1065801234", 21); // Dest_Id
    pad(&mut b, b"", 10); // Service_Id
    b.extend_from_slice(&[0, 0, fmt]); // TP_pid, TP_udhi, Msg_Fmt
    pad(&mut b, src.as_bytes(), 32); // Src_terminal_Id
    b.push(0); // Src_terminal_type
    b.push(u8::from(report)); // Registered_Delivery
    b.push(content.len() as u8);
    b.extend_from_slice(content);
    pad(&mut b, b"", 20); // LinkID
    b
}

fn report_content(msg_id: u64) -> Vec<u8> {
    let mut c = msg_id.to_be_bytes().to_vec();
    pad(&mut c, b"DELIVRD", 7);
    pad(&mut c, b"2612020930", 10);
    pad(&mut c, b"2612020931", 10);
    pad(&mut c, b"13800138000", 32);
    c.extend_from_slice(&1u32.to_be_bytes());
    assert_eq!(c.len(), 71);
    c
}

async fn first_connection(mut s: TcpStream, log: Arc<Mutex<Vec<String>>>) {
    handshake(&mut s, &log).await;
    write_frame(&mut s, 0x0000_0008, 100, &[]).await; // ACTIVE_TEST
    let mut submits = 0;
    let mut mo_sends = 0;
    let mut done = (false, false, false);
    while let Some((cmd, seq, body)) = read_frame(&mut s).await {
        match cmd {
            0x0000_0004 => {
                submits += 1;
                log.lock().push(format!("submit {}", submit_text(&body)));
                let (id, res) = if submits == 1 {
                    (0u64, 8u32)
                } else {
                    (0x1111, 0)
                };
                let mut resp = id.to_be_bytes().to_vec();
                resp.extend_from_slice(&res.to_be_bytes());
                write_frame(&mut s, 0x8000_0004, seq, &resp).await;
                if res == 0 {
                    let rep = deliver(0, "13800138000", 0, true, &report_content(0x1111));
                    write_frame(&mut s, 0x0000_0005, 200, &rep).await;
                    // 退订 in GBK: CD CB B6 A9.
                    let mo = deliver(0x2001, "13800138000", 15, false, &[0xCD, 0xCB, 0xB6, 0xA9]);
                    write_frame(&mut s, 0x0000_0005, 201, &mo).await;
                    mo_sends += 1;
                }
            }
            0x8000_0005 => {
                let res = u32::from_be_bytes([body[8], body[9], body[10], body[11]]);
                log.lock().push(format!("deliver_resp {seq} {res}"));
                match (seq, res) {
                    (200, 0) => done.0 = true,
                    (201 | 202, 0) => done.1 = true,
                    (201, _) => {
                        // The SP could not take the reply: deliver it again.
                        let mo =
                            deliver(0x2001, "13800138000", 15, false, &[0xCD, 0xCB, 0xB6, 0xA9]);
                        write_frame(&mut s, 0x0000_0005, 202, &mo).await;
                        mo_sends += 1;
                    }
                    _ => {}
                }
            }
            0x8000_0008 => {
                assert_eq!(seq, 100);
                log.lock().push("active_test_resp".into());
                done.2 = true;
            }
            0x0000_0008 => write_frame(&mut s, 0x8000_0008, seq, &[0]).await,
            other => panic!("unexpected command {other:#x}"),
        }
        if done == (true, true, true) {
            log.lock()
                .push(format!("closing after {mo_sends} reply sends"));
            return; // Dropping the socket: a gateway restart, as the client sees it.
        }
    }
}

async fn second_connection(mut s: TcpStream, log: Arc<Mutex<Vec<String>>>) {
    handshake(&mut s, &log).await;
    while let Some((cmd, seq, body)) = read_frame(&mut s).await {
        match cmd {
            0x0000_0004 => {
                log.lock().push(format!("submit {}", submit_text(&body)));
                let mut resp = 0x2222u64.to_be_bytes().to_vec();
                resp.extend_from_slice(&0u32.to_be_bytes());
                write_frame(&mut s, 0x8000_0004, seq, &resp).await;
            }
            0x0000_0002 => {
                log.lock().push("terminate".into());
                write_frame(&mut s, 0x8000_0002, seq, &[]).await;
                return;
            }
            0x0000_0008 => write_frame(&mut s, 0x8000_0008, seq, &[0]).await,
            other => panic!("unexpected command {other:#x}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_follows_a_spec_ismg_through_flow_control_reports_replies_and_a_restart() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = Arc::clone(&log);
    let ismg = tokio::spawn(async move {
        let (s, _) = listener.accept().await.expect("first");
        first_connection(s, Arc::clone(&l)).await;
        let (s, _) = listener.accept().await.expect("reconnect");
        second_connection(s, l).await;
    });

    let inbox = Arc::new(Inbox::default());
    *inbox.fail_first.lock() = 1;
    let client = CmppClient::start(client_config(addr, Version::V30), inbox.clone());
    let sent = client
        .submit(&Outgoing {
            destination: "13800138000".into(),
            text: "退订测试".into(),
            report: true,
            ..Outgoing::default()
        })
        .await
        .expect("answered");
    assert_eq!((sent[0].msg_id, sent[0].result), (0x1111, 0));

    wait_for("the report and the reply", || {
        !inbox.reports.lock().is_empty() && !inbox.replies.lock().is_empty()
    })
    .await;
    assert_eq!(inbox.reports.lock()[0].msg_id, 0x1111);
    assert!(inbox.reports.lock()[0].is_delivered());
    assert_eq!(inbox.replies.lock()[0].text, "退订");

    wait_for("the reconnect", || {
        log.lock().iter().filter(|l| *l == "connect").count() == 2
    })
    .await;
    client
        .connected(Duration::from_secs(5))
        .await
        .expect("connected again");
    let again = client
        .submit(&Outgoing {
            destination: "13800138000".into(),
            text: "after restart".into(),
            ..Outgoing::default()
        })
        .await
        .expect("answered");
    assert_eq!(again[0].msg_id, 0x2222);
    client.shutdown();
    tokio::time::timeout(Duration::from_secs(5), ismg)
        .await
        .expect("the ISMG saw TERMINATE")
        .expect("ISMG task");

    let log = log.lock().clone();
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with("submit 退订测试"))
            .count(),
        2,
        "the part was resent once after Result 8: {log:?}"
    );
    assert!(log.contains(&"deliver_resp 201 9".to_owned()), "{log:?}");
    assert!(log.contains(&"deliver_resp 202 0".to_owned()), "{log:?}");
    assert!(log.contains(&"active_test_resp".to_owned()), "{log:?}");
    assert_eq!(log.last().map(String::as_str), Some("terminate"), "{log:?}");
}

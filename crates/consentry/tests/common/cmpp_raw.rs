//! A bare CMPP session for what `cmpp::CmppClient` does not send (QUERY, CANCEL), and a
//! configuration holding marketing for quiet hours whatever the time of day.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use cmpp_proto::Version;

/// A bare CMPP session for the PDUs `CmppClient` does not send (QUERY, CANCEL): CONNECT, then
/// one request at a time, each answer read before the next.
pub struct RawSession {
    stream: tokio::net::TcpStream,
    decoder: cmpp_proto::Decoder,
    seq: u32,
}

impl RawSession {
    pub async fn connect(addr: &str, source_addr: &str, secret: &str) -> RawSession {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut s = RawSession {
            stream,
            decoder: cmpp_proto::Decoder::new(),
            seq: 0,
        };
        let timestamp = cmpp::clock::now().connect_timestamp();
        let connect =
            cmpp_proto::Connect::new(source_addr, secret.as_bytes(), Version::V30, timestamp);
        match s.request(cmpp_proto::Body::Connect(connect)).await {
            cmpp_proto::Body::ConnectResp(r) => assert_eq!(r.status, 0, "CONNECT refused"),
            other => panic!("CONNECT answered {other:?}"),
        }
        s.decoder.set_version(Version::V30);
        s
    }

    pub async fn request(&mut self, body: cmpp_proto::Body) -> cmpp_proto::Body {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.seq += 1;
        let bytes = cmpp_proto::Pdu::new(self.seq, body)
            .encode(Version::V30)
            .expect("encode");
        self.stream.write_all(&bytes).await.expect("write");
        let mut buf = [0u8; 4096];
        loop {
            if let Some(pdu) = self.decoder.next_pdu().expect("a well-formed answer") {
                if pdu.sequence_id == self.seq {
                    return pdu.body;
                }
                continue; // a DELIVER pushed meanwhile: not what this session asks about
            }
            let n = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut buf))
                .await
                .expect("an answer within 10 s")
                .expect("read");
            assert!(n > 0, "the listener closed the session");
            self.decoder.extend(&buf[..n]);
        }
    }

    pub async fn query(&mut self, day: &str) -> cmpp_proto::QueryResp {
        let q = cmpp_proto::Query {
            time: day.into(),
            query_type: 0,
            query_code: String::new(),
        };
        match self.request(cmpp_proto::Body::Query(q)).await {
            cmpp_proto::Body::QueryResp(r) => r,
            other => panic!("QUERY answered {other:?}"),
        }
    }

    pub async fn cancel(&mut self, msg_id: u64) -> u32 {
        match self
            .request(cmpp_proto::Body::Cancel(cmpp_proto::Cancel { msg_id }))
            .await
        {
            cmpp_proto::Body::CancelResp(r) => r.success,
            other => panic!("CANCEL answered {other:?}"),
        }
    }
}

/// Quiet hours around now in Shanghai (an hour before to two after), so marketing submitted
/// now is held whatever the time of day the test runs at.
pub fn quiet_now_config() -> String {
    let now = jiff::tz::offset(8).to_datetime(jiff::Timestamp::now());
    let at = |h: i64| {
        let t = now
            .checked_add(jiff::SignedDuration::from_hours(h))
            .expect("time");
        format!("{:02}:{:02}", t.hour(), t.minute())
    };
    format!(
        "[policy]\nquiet_hours_start = \"{}\"\nquiet_hours_end = \"{}\"\n",
        at(-1),
        at(2)
    )
}

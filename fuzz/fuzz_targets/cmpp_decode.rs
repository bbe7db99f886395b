//! Feeds arbitrary bytes to everything in cmpp-proto that reads peer input.
//!
//! The first byte picks a chunk size and the version, so the streaming decoder sees many
//! splits of the same stream in both layouts. Every PDU that decodes must re-encode and decode
//! to itself (a 3.0-width CONNECT_RESP status on a 2.0 link is the one value that may not fit).

#![no_main]

use cmpp_proto::{Body, Decoder, Reassembler, StatusReport, Version, concat, decode_frame, text};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let version = if first & 0x80 == 0 { Version::V30 } else { Version::V20 };
    let chunk = usize::from(first & 0x7F).max(1);
    let mut decoder = Decoder::with_max_total_length(4096);
    decoder.set_version(version);
    let mut reassembler = Reassembler::new(4, Duration::from_secs(1));
    let now = Instant::now();
    for piece in stream.chunks(chunk) {
        decoder.extend(piece);
        assert!(decoder.buffered() <= 4096 + chunk);
        for item in decoder.by_ref() {
            match item {
                Ok(pdu) => {
                    match pdu.encode(version) {
                        Ok(bytes) => assert_eq!(decode_frame(&bytes, version).as_ref(), Ok(&pdu)),
                        Err(_) => assert!(matches!(pdu.body, Body::ConnectResp(_))),
                    }
                    match &pdu.body {
                        Body::Submit(s) => {
                            let _ = text::decode_text(s.msg_fmt, &s.msg_content);
                            let _ = reassembler.accept(&s.msg_src, s.msg_fmt, &s.msg_content, now);
                        }
                        Body::Deliver(d) => {
                            let _ = text::decode_text(d.msg_fmt, &d.msg_content);
                            let _ = d.status_report(version);
                        }
                        _ => {}
                    }
                }
                Err(e) => {
                    let _ = e.reply();
                }
            }
        }
    }
    let _ = decode_frame(stream, version);
    let _ = concat::parse_udh(stream);
    let _ = StatusReport::decode(stream, version);
    let _ = text::decode_text(first & 0x0F, stream);
});

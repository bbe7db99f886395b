//! Feeds arbitrary bytes to everything in smpp-proto that reads peer input.
//!
//! The first byte picks a chunk size so the streaming decoder sees many different splits of the
//! same stream. Every PDU that decodes must re-encode and decode to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smpp_proto::receipt::Receipt;
use smpp_proto::{Body, Decoder, Reassembler, concat, decode_frame, text};
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = Decoder::with_max_command_length(4096);
    let mut reassembler = Reassembler::new(4, Duration::from_secs(1));
    let now = Instant::now();
    for piece in stream.chunks(chunk) {
        decoder.extend(piece);
        assert!(decoder.buffered() <= 4096 + chunk);
        for item in decoder.by_ref() {
            match item {
                Ok(pdu) => {
                    let bytes = pdu.encode().expect("a decoded PDU re-encodes");
                    assert_eq!(decode_frame(&bytes).as_ref(), Ok(&pdu));
                    if let Body::DeliverSm(sm) | Body::SubmitSm(sm) = &pdu.body {
                        let _ = text::decode_text(sm.data_coding, sm.payload());
                        let _ = Receipt::from_deliver_sm(sm);
                        let _ = reassembler.accept(sm, now);
                    }
                }
                Err(e) => {
                    let _ = e.reply();
                }
            }
        }
    }
    let _ = decode_frame(stream);
    let _ = concat::parse_udh(stream);
    let _ = text::decode_text(chunk as u8, stream);
    let _ = Receipt::parse(&String::from_utf8_lossy(stream));
});

//! Properties over generated input: every PDU this crate can build survives encode → decode in
//! both versions, arbitrary octets never panic the decoder, and long text splits and joins.

use std::time::{Duration, Instant};

use cmpp_proto::{
    Body, Cancel, CancelResp, Decoder, Deliver, DeliverResp, Pdu, Query, QueryResp, Reassembler,
    Submit, SubmitResp, Version, concat, decode_frame, text,
};
use proptest::prelude::*;

fn latin(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(1u8..=255, 0..=max)
        .prop_map(|b| b.into_iter().map(char::from).collect())
}

fn version() -> impl Strategy<Value = Version> {
    prop_oneof![Just(Version::V20), Just(Version::V30)]
}

prop_compose! {
    fn submit()(
        ids in (any::<u64>(), any::<[u8; 8]>()),
        service_id in latin(10), fee_terminal_id in latin(21), msg_src in latin(6),
        fee_type in latin(2), fee_code in latin(6), valid_time in latin(17), at_time in latin(17),
        src_id in latin(21), dests in proptest::collection::vec(latin(21), 0..4),
        msg_content in proptest::collection::vec(any::<u8>(), 0..=255), link_id in latin(20),
    ) -> Submit {
        let (msg_id, o) = ids;
        Submit {
            msg_id, pk_total: o[0], pk_number: o[1], registered_delivery: o[2], msg_level: o[3],
            service_id, fee_user_type: o[4], fee_terminal_id, fee_terminal_type: o[5],
            tp_pid: o[6], tp_udhi: o[7], msg_fmt: 8, msg_src, fee_type, fee_code, valid_time,
            at_time, src_id, dest_terminal_ids: dests, dest_terminal_type: 1, msg_content, link_id,
        }
    }
}

prop_compose! {
    fn deliver()(
        msg_id in any::<u64>(), dest_id in latin(21), service_id in latin(10),
        o in any::<[u8; 5]>(), src in latin(21),
        msg_content in proptest::collection::vec(any::<u8>(), 0..=255), link_id in latin(20),
    ) -> Deliver {
        Deliver {
            msg_id, dest_id, service_id, tp_pid: o[0], tp_udhi: o[1], msg_fmt: o[2],
            src_terminal_id: src, src_terminal_type: o[3], registered_delivery: o[4],
            msg_content, link_id,
        }
    }
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        submit().prop_map(|s| Body::Submit(Box::new(s))),
        deliver().prop_map(|d| Body::Deliver(Box::new(d))),
        (any::<u64>(), 0u32..=255)
            .prop_map(|(msg_id, result)| Body::SubmitResp(SubmitResp { msg_id, result })),
        (any::<u64>(), 0u32..=255)
            .prop_map(|(msg_id, result)| Body::DeliverResp(DeliverResp { msg_id, result })),
        (latin(8), any::<u8>(), latin(10)).prop_map(|(time, query_type, query_code)| {
            Body::Query(Query {
                time,
                query_type,
                query_code,
            })
        }),
        (latin(8), any::<[u32; 8]>()).prop_map(|(time, c)| Body::QueryResp(QueryResp {
            time,
            query_type: 1,
            query_code: String::new(),
            mt_tl_msg: c[0],
            mt_tl_usr: c[1],
            mt_scs: c[2],
            mt_wt: c[3],
            mt_fl: c[4],
            mo_scs: c[5],
            mo_wt: c[6],
            mo_fl: c[7],
        })),
        any::<u64>().prop_map(|msg_id| Body::Cancel(Cancel { msg_id })),
        (0u32..=1).prop_map(|success| Body::CancelResp(CancelResp { success })),
        Just(Body::ActiveTest),
        Just(Body::ActiveTestResp),
        Just(Body::Terminate),
        Just(Body::TerminateResp),
    ]
}

/// What decoding with `v` keeps of a body: 2.0 has no terminal types and no LinkID.
fn as_seen_by(v: Version, mut b: Body) -> Body {
    if v == Version::V20 {
        match &mut b {
            Body::Submit(s) => {
                s.fee_terminal_type = 0;
                s.dest_terminal_type = 0;
                s.link_id.clear();
            }
            Body::Deliver(d) => {
                d.src_terminal_type = 0;
                d.link_id.clear();
            }
            _ => {}
        }
    }
    b
}

proptest! {
    #[test]
    fn every_pdu_round_trips_in_both_versions(seq in any::<u32>(), body in body(), v in version()) {
        let pdu = Pdu::new(seq, body);
        let bytes = pdu.encode(v).expect("generated fields fit");
        let want = Pdu::new(seq, as_seen_by(v, pdu.body));
        prop_assert_eq!(decode_frame(&bytes, v), Ok(want.clone()));
        // And through the streaming decoder, split at an arbitrary point.
        let mut d = Decoder::new();
        d.set_version(v);
        let cut = usize::from(bytes[3]) % bytes.len();
        d.extend(&bytes[..cut]);
        d.extend(&bytes[cut..]);
        prop_assert_eq!(d.next_pdu(), Ok(Some(want)));
    }

    #[test]
    fn arbitrary_octets_never_panic_and_decoded_pdus_re_encode(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        chunk in 1usize..64,
        v in version(),
    ) {
        let mut d = Decoder::with_max_total_length(512);
        d.set_version(v);
        for piece in data.chunks(chunk) {
            d.extend(piece);
            prop_assert!(d.buffered() <= 512 + chunk);
            for item in d.by_ref() {
                match item {
                    Ok(pdu) => {
                        if let Ok(bytes) = pdu.encode(v) {
                            prop_assert_eq!(decode_frame(&bytes, v), Ok(pdu));
                        } else {
                            // Only a 3.0-width CONNECT_RESP status read on a 2.0 link may not
                            // fit back into 2.0's single octet.
                            prop_assert!(matches!(pdu.body, Body::ConnectResp(_)));
                        }
                    }
                    Err(e) => { let _ = e.reply(); }
                }
            }
        }
    }

    #[test]
    fn long_text_splits_and_reassembles(s in "\\PC{0,400}", fmt in prop_oneof![Just(8u8), Just(15u8)]) {
        let Ok(parts) = concat::split_as(fmt, &s, 3) else {
            // GBK cannot write every character; UCS-2 can.
            prop_assert_eq!(fmt, 15);
            return Ok(());
        };
        let mut r = Reassembler::new(2, Duration::from_secs(5));
        let now = Instant::now();
        let mut whole = None;
        for p in &parts {
            prop_assert!(p.content.len() <= 140);
            whole = if p.udhi {
                r.accept("src", p.msg_fmt, &p.content, now).expect("valid part")
            } else {
                Some((p.msg_fmt, p.content.clone()))
            };
        }
        let (fmt, bytes) = whole.expect("complete");
        prop_assert_eq!(text::decode_text(fmt, &bytes), s);
    }
}

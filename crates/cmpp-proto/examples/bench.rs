//! Encode/decode throughput of a CMPP 3.0 SUBMIT beside an SMPP 3.4 submit_sm carrying the same
//! Chinese text, measured in the same run so the ratio holds across machines.
//!
//! `cargo run --release -p cmpp-proto --example bench [iterations]`

use std::hint::black_box;
use std::time::Instant;

use cmpp_proto::{Body, Decoder, Pdu, Submit, Version, text};

const TEXT: &str = "【小店】您的订单已发货，回T退订";

fn cmpp_submit(seq: u32) -> Pdu {
    let (msg_fmt, msg_content) = text::encode_text(TEXT);
    Pdu::new(
        seq,
        Body::Submit(Box::new(Submit {
            registered_delivery: 1,
            msg_src: "901234".into(),
            src_id: "1065801234".into(),
            dest_terminal_ids: vec!["13800138000".into()],
            msg_fmt,
            msg_content,
            ..Submit::default()
        })),
    )
}

fn smpp_submit(seq: u32) -> smpp_proto::Pdu {
    let (data_coding, short_message) = smpp_proto::text::encode_text(TEXT);
    smpp_proto::Pdu::request(
        seq,
        smpp_proto::Body::SubmitSm(smpp_proto::ShortMessage {
            source: smpp_proto::Address::new(5, 0, "1065801234"),
            destination: smpp_proto::Address::international("8613800138000"),
            registered_delivery: 1,
            data_coding,
            short_message,
            ..smpp_proto::ShortMessage::default()
        }),
    )
}

/// PDUs per second for `f` run `n` times.
fn rate(n: u32, mut f: impl FnMut(u32)) -> f64 {
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500_000);

    let cmpp = cmpp_submit(1);
    let smpp = smpp_submit(1);
    let mut buf = Vec::with_capacity(256);
    // Decoding goes through the streaming decoder in batches of 64 PDUs, as a socket read would.
    let mut cmpp_stream = Vec::new();
    let mut smpp_stream = Vec::new();
    for i in 0..64 {
        cmpp_submit(i + 1).encode_into(Version::V30, &mut cmpp_stream)?;
        smpp_stream.extend_from_slice(&smpp_submit(i + 1).encode()?);
    }
    let mut cd = Decoder::new();
    let mut sd = smpp_proto::Decoder::new();

    // The machine is shared: the two codecs alternate in short rounds and each keeps its best
    // round, so a burst of someone else's load does not land on one side of the ratio only.
    let rounds = 7;
    let per_round = (n / rounds).max(64);
    let [mut cmpp_enc, mut smpp_enc, mut cmpp_dec, mut smpp_dec] = [0f64; 4];
    for _ in 0..rounds {
        cmpp_enc = cmpp_enc.max(rate(per_round, |_| {
            buf.clear();
            let _ = black_box(&cmpp).encode_into(Version::V30, &mut buf);
            black_box(&buf);
        }));
        smpp_enc = smpp_enc.max(rate(per_round, |_| {
            black_box(black_box(&smpp).encode().ok());
        }));
        cmpp_dec = cmpp_dec.max(
            64.0 * rate(per_round / 64, |_| {
                cd.extend(&cmpp_stream);
                while let Ok(Some(p)) = cd.next_pdu() {
                    black_box(p);
                }
            }),
        );
        smpp_dec = smpp_dec.max(
            64.0 * rate(per_round / 64, |_| {
                sd.extend(&smpp_stream);
                while let Ok(Some(p)) = sd.next_pdu() {
                    black_box(p);
                }
            }),
        );
    }

    println!(
        "{n} iterations, one SUBMIT / submit_sm of {} characters",
        TEXT.chars().count()
    );
    println!(
        "encode  cmpp {cmpp_enc:>12.0}/s  smpp {smpp_enc:>12.0}/s  ratio {:.2}x",
        cmpp_enc / smpp_enc
    );
    println!(
        "decode  cmpp {cmpp_dec:>12.0}/s  smpp {smpp_dec:>12.0}/s  ratio {:.2}x",
        cmpp_dec / smpp_dec
    );
    Ok(())
}

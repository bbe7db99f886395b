//! The pipelined load SP (`cmpp::load`) that `consentry bench cmpp` measures with: every SUBMIT
//! is answered and counted, refusals apart, and a wrong secret is an error, not a run.
#![allow(clippy::unwrap_used)]

mod common;

use cmpp_proto::Submit;
use common::{REFUSED, SECRET, SP, rig};

fn submit(i: u64) -> Submit {
    let (msg_fmt, msg_content) = cmpp_proto::text::encode_text("【好店】您的订单已发货");
    Submit {
        pk_total: 1,
        pk_number: 1,
        msg_fmt,
        msg_src: SP.into(),
        // Every tenth to the destination the recorder refuses.
        dest_terminal_ids: vec![if i % 10 == 0 {
            REFUSED.into()
        } else {
            format!("1380013{i:04}")
        }],
        msg_content,
        ..Submit::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_sp_counts_every_answer_in_its_window() {
    let r = rig().await;
    let report = cmpp::load::submit_load(r.addr, SP, SECRET, 16, 500, submit)
        .await
        .unwrap();
    assert_eq!((report.ok, report.refused), (450, 50), "{report:?}");
    assert_eq!(r.recorder.got.lock().len(), 500);
    assert!(report.per_second() > 0.0);
    let wrong = cmpp::load::submit_load(r.addr, SP, "not-it", 16, 10, submit).await;
    assert!(wrong.is_err(), "a refused CONNECT is an error");
}

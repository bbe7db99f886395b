//! SUBMIT on one connection: the checks answered at once (rate, destinations, Msg_src), Msg_Id
//! minting, long messages joined, and the verdict asked of [`Submissions`] off the runtime.
//!
//! [`Submissions`]: super::Submissions

use std::time::{Duration, Instant};

use cmpp_proto::concat::parse_udh;
use cmpp_proto::{Body, Pdu, Submit, SubmitResp, result, text};

use super::Submission;
use super::decide::Job;
use super::session::{Conn, Done, PARTIAL_MESSAGES};
use crate::clock;

/// Counts SUBMITs in the current second, for the per-connection rate.
pub(super) struct RateWindow {
    pub(super) limit: u32,
    pub(super) second: Instant,
    pub(super) count: u32,
}

impl RateWindow {
    pub(super) fn admit(&mut self, now: Instant) -> bool {
        if self.limit == 0 {
            return true;
        }
        if now.saturating_duration_since(self.second) >= Duration::from_secs(1) {
            self.second = now;
            self.count = 0;
        }
        // A refused SUBMIT uses no quota: counting it would keep an SP that retries at once
        // refused for as long as it keeps retrying.
        if self.count >= self.limit {
            return false;
        }
        self.count += 1;
        true
    }
}

impl Conn {
    pub(super) async fn submit(&mut self, seq: u32, s: Submit) {
        let now = Instant::now();
        let refuse = |result| Done {
            sequence_id: seq,
            msg_id: 0,
            result,
        };
        let Some(account) = self.account.clone() else {
            return;
        };
        let early = if !self.rate.admit(now) {
            Some(result::FLOW_CONTROL)
        } else if s.dest_terminal_ids.is_empty() {
            Some(result::DEST_TERMINAL_ID)
        } else if s.msg_src != self.source_addr {
            Some(result::MSG_SRC)
        } else {
            None
        };
        if let Some(code) = early {
            self.answer(refuse(code)).await;
            return;
        }
        let f = clock::now();
        let msg_id = self
            .shared
            .ids
            .lock()
            .next(f.month, f.day, f.hour, f.minute, f.second);
        self.submitted = self.submitted.saturating_add(1);
        let (fmt, octets, msg_ids) = if s.tp_udhi == 1 {
            let key = (s.src_id.clone(), s.dest_terminal_ids.join(","));
            let sender = format!("{}|{}", key.0, key.1);
            let reference = parse_udh(&s.msg_content)
                .and_then(|(c, _)| c)
                .map_or(0, |c| c.reference);
            match self
                .reassembler
                .accept(&sender, s.msg_fmt, &s.msg_content, now)
            {
                Err(e) => {
                    tracing::info!(error = %e, "bad long-message part");
                    self.answer(refuse(result::STRUCTURE)).await;
                    return;
                }
                Ok(None) => {
                    let ids = self.part_ids.entry((sender, reference)).or_default();
                    ids.push(msg_id);
                    if self.part_ids.len() > PARTIAL_MESSAGES * 2 {
                        // Parts the reassembler has already dropped: forget their ids too.
                        self.part_ids.clear();
                    }
                    self.answer(Done {
                        sequence_id: seq,
                        msg_id,
                        result: result::OK,
                    })
                    .await;
                    return;
                }
                Ok(Some((fmt, octets))) => {
                    let mut ids = self
                        .part_ids
                        .remove(&(sender, reference))
                        .unwrap_or_default();
                    ids.push(msg_id);
                    (fmt, octets, ids)
                }
            }
        } else {
            (s.msg_fmt, s.msg_content.clone(), vec![msg_id])
        };
        let submission = Submission {
            account: account.id,
            source_addr: s.msg_src,
            src_id: s.src_id,
            destinations: s.dest_terminal_ids,
            service_id: s.service_id,
            msg_fmt: fmt,
            text: text::decode_text(fmt, &octets),
            wants_report: s.registered_delivery == 1,
            msg_ids,
        };
        self.awaiting_verdict += 1;
        let job = Job {
            submission,
            sequence_id: seq,
            msg_id,
            done: self.done_tx.clone(),
        };
        if self.shared.deciders.send(job).await.is_err() {
            // The deciders are gone (the server is shutting down): nothing will answer.
            self.awaiting_verdict -= 1;
            self.answer(refuse(result::OTHER)).await;
        }
    }

    /// Answers a SUBMIT at once, through the same queue as verdicts so responses keep their
    /// accounting.
    async fn answer(&mut self, d: Done) {
        let resp = SubmitResp {
            msg_id: d.msg_id,
            result: d.result,
        };
        self.send(&Pdu::new(d.sequence_id, Body::SubmitResp(resp)))
            .await;
    }
}

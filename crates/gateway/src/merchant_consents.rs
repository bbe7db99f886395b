//! A merchant's consent summary: how many phones may receive its marketing now, how many
//! refused it, how many refused every shop, and its latest recorded changes.
//!
//! Every phone is folded with the ledger's own rule ([`ledger::answer_at`]), so the summary
//! counts exactly what the send path would decide now — a platform-wide refusal newer than a
//! shop's opt-in counts as "refused all", a consumer's own refusal outlives a merchant's later
//! opt-in — rather than an approximation in SQL that could drift from it.

use domain::{Scope, SenderId};
use ledger::{Answer, ConsentEvent};
use serde::Serialize;

use crate::{Gateway, GatewayError, Principal};

/// Most recent changes listed with a summary.
pub const RECENT_CHANGES: u32 = 20;

/// One merchant's consents now.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentSummary {
    /// The merchant.
    pub sender_id: u32,
    /// Phones with at least one event of this merchant's.
    pub phones: u64,
    /// May receive its marketing now.
    pub consented: u64,
    /// Refused this merchant (the latest deciding event is its own opt-out).
    pub refused: u64,
    /// Refused every shop (a platform-wide opt-out decides).
    pub refused_all: u64,
    /// Every event of the phone's is dated in the future: nothing decides yet.
    pub no_consent: u64,
    /// Its own latest recorded events, newest first (at most [`RECENT_CHANGES`]).
    pub recent: Vec<ConsentEvent>,
}

impl Gateway {
    /// `sender`'s consent summary: the operator and auditor for any sender, a merchant for
    /// itself only (another merchant's id is `NotFound`, as if it did not exist).
    pub fn consent_summary(
        &self,
        by: Principal,
        sender: SenderId,
    ) -> Result<ConsentSummary, GatewayError> {
        let not_found = || GatewayError::NotFound(format!("sender {sender}"));
        match by {
            Principal::Admin => {}
            Principal::Sender(own) if own == sender => {}
            _ => return Err(not_found()),
        }
        if self.sender(sender).is_none() {
            return Err(not_found());
        }
        let now = self.clock().now();
        let events = store::ConsoleAccounts::sender_consent_events(&self.store, sender)?;
        let mut summary = ConsentSummary {
            sender_id: sender.0,
            phones: 0,
            consented: 0,
            refused: 0,
            refused_all: 0,
            no_consent: 0,
            recent: store::ConsoleAccounts::recent_sender_consents(
                &self.store,
                sender,
                RECENT_CHANGES,
            )?,
        };
        for phone in events.chunk_by(|a, b| a.phone == b.phone) {
            summary.phones += 1;
            match ledger::answer_at(phone, sender, now) {
                Answer::Consented(_) => summary.consented += 1,
                Answer::OptedOut(e) if e.scope == Scope::Platform => summary.refused_all += 1,
                Answer::OptedOut(_) => summary.refused += 1,
                Answer::NoConsent => summary.no_consent += 1,
            }
        }
        Ok(summary)
    }
}

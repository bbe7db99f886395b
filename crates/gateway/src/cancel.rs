//! A sender withdrawing a message it submitted that is still held for quiet hours (HTTP
//! `POST /v1/messages/{id}/cancel`, CMPP CANCEL). Only a held message can be withdrawn: an
//! accepted one may already be with a carrier, and a carrier cannot be made to forget it.
//!
//! The withdrawal is a new decision for the message (`rejected`, reason `cancelled`), recorded
//! under the partition's lease like every re-decision, so it is in the message's history and
//! the audit chain, and a restart does not hold the message again.

use policy::{Decision, Reason, ReasonCode};
use store::{MessageLog, MessageRecord};

use crate::{Gateway, GatewayError, Principal};

impl Gateway {
    /// The phone message `id` went to, whoever sent it (the cluster's router sends a
    /// withdrawal to the phone's owner, which then checks who may see the message).
    #[must_use]
    pub fn message_phone(&self, id: u64) -> Option<domain::Msisdn> {
        self.store.message(id).ok().flatten().and_then(|m| m.phone)
    }

    /// Withdraws message `id`, held for quiet hours, on behalf of `by` (its sender or the
    /// admin; anyone else reads it as not found). Returns the message as now recorded.
    ///
    /// # Errors
    /// `NotFound` for an id `by` may not see; `NotCancellable` when the message is not held
    /// (accepted, rejected, or released meanwhile), naming its state; `PartitionUnavailable`
    /// when another node owns the phone (the cluster's router forwards the request there).
    pub fn cancel_message(&self, by: Principal, id: u64) -> Result<MessageRecord, GatewayError> {
        let m = self.message(by, id)?;
        let not_held = |m: &MessageRecord| {
            GatewayError::NotCancellable(format!(
                "message {id} is {} (only a message held for quiet hours can be withdrawn)",
                m.status.as_str()
            ))
        };
        let Some(phone) = m.phone else {
            return Err(not_held(&m));
        };
        if !self.owns(phone) {
            return Err(GatewayError::PartitionUnavailable(phone.to_string()));
        }
        let Some((release_at, held)) = self.deferred.lock().take(phone, id) else {
            // Released (or withdrawn) meanwhile, or never held: say what it is now.
            let now = self.store.message(id)?.unwrap_or(m);
            return Err(not_held(&now));
        };
        let by_whom = match by {
            Principal::Admin => "the operator",
            _ => "its sender",
        };
        let d = Decision::from_reasons(
            vec![Reason::new(
                ReasonCode::Cancelled,
                format!("withdrawn by {by_whom} while held for quiet hours"),
            )],
            None,
            false,
            m.category,
        );
        let now = self.clock.now();
        if let Err(e) = self.record_redecision(id, phone, None, &d, now) {
            // Not recorded: hold it again, so the release decides it as if nothing happened.
            self.deferred.lock().hold(release_at, id, held);
            return Err(e.into());
        }
        Ok(self.store.message(id)?.unwrap_or(m))
    }
}

//! Reading messages back: a sender sees only its own.

use domain::Msisdn;
use store::{MessageLog, MessageRecord};

use crate::{Gateway, GatewayError, Principal};

impl Gateway {
    /// One message, if `by` may see it (a sender: only its own; others' ids read as not found,
    /// so ids leak nothing).
    pub fn message(&self, by: Principal, id: u64) -> Result<MessageRecord, GatewayError> {
        let not_found = || GatewayError::NotFound(format!("message {id}"));
        let m = self.store.message(id)?.ok_or_else(not_found)?;
        match by {
            Principal::Admin => Ok(m),
            Principal::Sender(own) if own == m.sender => Ok(m),
            _ => Err(not_found()),
        }
    }

    /// `sender`'s traffic over `[from, to)` (CMPP QUERY): the sender itself or the admin.
    pub fn sender_traffic(
        &self,
        by: Principal,
        sender: domain::SenderId,
        from: domain::Timestamp,
        to: domain::Timestamp,
    ) -> Result<store::Traffic, GatewayError> {
        match by {
            Principal::Admin => {}
            Principal::Sender(own) if own == sender => {}
            _ => return Err(GatewayError::NotFound(format!("sender {}", sender.0))),
        }
        Ok(store::TrafficLog::sender_traffic(
            &self.store,
            sender,
            from,
            to,
        )?)
    }

    /// What the loopback handset of `phone` received, oldest first (admin only).
    pub fn inbox(
        &self,
        by: Principal,
        phone: &str,
    ) -> Result<(Msisdn, Vec<MessageRecord>), GatewayError> {
        if by != Principal::Admin {
            return Err(GatewayError::Forbidden(
                "only the admin key reads handset inboxes".into(),
            ));
        }
        if !self.on_loopback() {
            return Err(GatewayError::NotFound(
                "inbox (the carrier is not the loopback carrier)".into(),
            ));
        }
        let phone = Msisdn::parse(phone, self.policy.region())?;
        let mut inbox = self.store.inbox(phone)?;
        // What the handset received: secrets the message log holds masked, in clear.
        let handset = self.portal.handset.lock();
        for m in &mut inbox {
            if let Some((_, text)) = handset.iter().find(|(id, _)| *id == m.id) {
                m.text.clone_from(text);
            }
        }
        drop(handset);
        Ok((phone, inbox))
    }
}

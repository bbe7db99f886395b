//! What a carrier's ISMG delivers to us: status reports update the message's delivery state
//! (and reach the merchant through the hub, whatever it speaks), and replies from handsets go
//! to the gateway's reply handling, so a "TD" to a China Mobile number opts out exactly as one
//! over SMPP or `POST /v1/inbound` does, and then to the merchant texted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cmpp::{DeliverHandler, MobileOriginated};
use cmpp_proto::StatusReport;
use gateway::{Gateway, GatewayError};
use parking_lot::Mutex;
use smpp::Hub;
use smpp_proto::MessageState;
use store::{Delivery, MessageLog, SmppRegistry};

use super::carrier::Recent;

/// How long a report for a Msg_Id not yet mapped waits for its SUBMIT_RESP's mapping (the
/// report can overtake it: the client answers the submitter and the handler runs in parallel).
const MAPPING_WAIT: Duration = Duration::from_secs(2);

pub(super) struct CarrierDeliveries {
    pub carrier: String,
    /// The ISMG access number our senders' extensions follow on the wire.
    pub src_id: String,
    pub gateway: Arc<Gateway>,
    pub hub: Arc<Hub>,
    pub recent: Arc<Mutex<Recent>>,
}

/// The delivery state a report's Stat names. The standard words, and anything else — an
/// ISMG's own failure code such as `MK:0001` or `DB:0141` — is a failure; only `ACCEPTD` and
/// `ENROUTE` are not final.
pub(super) fn state_of(stat: &str) -> MessageState {
    match stat.trim() {
        "DELIVRD" => MessageState::Delivered,
        "EXPIRED" => MessageState::Expired,
        "DELETED" => MessageState::Deleted,
        "REJECTD" => MessageState::Rejected,
        "ACCEPTD" => MessageState::Accepted,
        "ENROUTE" => MessageState::Enroute,
        _ => MessageState::Undeliverable,
    }
}

fn delivery_of(state: MessageState) -> Option<Delivery> {
    match state {
        MessageState::Delivered => Some(Delivery::Delivered),
        MessageState::Accepted | MessageState::Enroute => None,
        _ => Some(Delivery::Failed),
    }
}

impl CarrierDeliveries {
    /// Our message for the ISMG's Msg_Id: in memory, in the store, or (just answered) in
    /// memory a moment later.
    fn message_of(&self, msg_id: u64) -> Result<Option<u64>, String> {
        if let Some(id) = self.recent.lock().get(msg_id) {
            return Ok(Some(id));
        }
        let stored = self
            .gateway
            .store()
            .message_by_carrier_id(&self.carrier, &msg_id.to_string())
            .map_err(|e| e.to_string())?;
        if stored.is_some() {
            return Ok(stored);
        }
        let deadline = Instant::now() + MAPPING_WAIT;
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            if let Some(id) = self.recent.lock().get(msg_id) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The number texted as the gateway knows it: the ISMG's access number written back as
    /// the platform number, so the merchant's extension after it names the merchant.
    fn to_platform(&self, to: &str) -> String {
        let to = to.trim();
        match to.strip_prefix(self.src_id.as_str()) {
            Some(rest) if !self.src_id.is_empty() => {
                format!("{}{rest}", self.gateway.config().platform_number)
            }
            _ => to.to_owned(),
        }
    }
}

impl DeliverHandler for CarrierDeliveries {
    fn on_report(&self, report: &StatusReport) -> Result<(), String> {
        let Some(id) = self.message_of(report.msg_id)? else {
            tracing::warn!(carrier = %self.carrier, msg_id = report.msg_id, "status report for an unknown message");
            return Ok(());
        };
        let state = state_of(&report.stat);
        let now = domain::Timestamp::now();
        if let Some(d) = delivery_of(state) {
            // An error is answered Result 9, so the ISMG reports again.
            self.gateway
                .store()
                .set_delivery(&[(id, d, now)])
                .map_err(|e| format!("recording a status report: {e}"))?;
        }
        self.hub.report(id, state, None, now);
        Ok(())
    }

    fn on_mo(&self, mo: &MobileOriginated) -> Result<(), String> {
        let to = self.to_platform(&mo.to);
        let from = super::e164ish(&mo.from);
        let now = domain::Timestamp::now();
        match self.gateway.handle_reply(&from, &to, &mo.text, Some(now)) {
            Ok(_) => {}
            // Answered Result 9: the ISMG delivers it again rather than an opt-out being lost.
            Err(e @ GatewayError::Store(_)) => return Err(e.to_string()),
            Err(e) => {
                tracing::warn!(from = %mo.from, to = %to, error = %e, "reply not handled");
                return Ok(());
            }
        }
        if let Some(sender) = self.gateway.attribute(to.trim_start_matches('+')).1 {
            self.hub.deliver_reply(sender.id, &mo.from, &to, &mo.text);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_stats_map_to_their_states_and_gateway_codes_fail() {
        assert_eq!(state_of("DELIVRD"), MessageState::Delivered);
        assert_eq!(state_of("UNDELIV"), MessageState::Undeliverable);
        assert_eq!(state_of("MK:0001"), MessageState::Undeliverable);
        assert_eq!(delivery_of(state_of("EXPIRED")), Some(Delivery::Failed));
        assert_eq!(delivery_of(state_of("ENROUTE")), None);
        assert_eq!(delivery_of(state_of("DELIVRD")), Some(Delivery::Delivered));
    }
}

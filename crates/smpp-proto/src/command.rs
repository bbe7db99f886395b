//! `command_id` values (SMPP 3.4 §5.1.2) for the operations this crate implements.
//!
//! replace_sm, cancel_sm, submit_multi and alert_notification are deliberately absent: the
//! gateway never sends them, and a peer that does gets `generic_nack(ESME_RINVCMDID)`, which the
//! spec allows for unsupported operations.

/// Bit set in every response `command_id`.
pub const RESPONSE_BIT: u32 = 0x8000_0000;

/// An SMPP operation this crate can encode and decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandId {
    GenericNack,
    BindReceiver,
    BindReceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    QuerySm,
    QuerySmResp,
    SubmitSm,
    SubmitSmResp,
    DeliverSm,
    DeliverSmResp,
    Unbind,
    UnbindResp,
    BindTransceiver,
    BindTransceiverResp,
    Outbind,
    EnquireLink,
    EnquireLinkResp,
    DataSm,
    DataSmResp,
}

impl CommandId {
    const ALL: [CommandId; 20] = [
        CommandId::GenericNack,
        CommandId::BindReceiver,
        CommandId::BindReceiverResp,
        CommandId::BindTransmitter,
        CommandId::BindTransmitterResp,
        CommandId::QuerySm,
        CommandId::QuerySmResp,
        CommandId::SubmitSm,
        CommandId::SubmitSmResp,
        CommandId::DeliverSm,
        CommandId::DeliverSmResp,
        CommandId::Unbind,
        CommandId::UnbindResp,
        CommandId::BindTransceiver,
        CommandId::BindTransceiverResp,
        CommandId::Outbind,
        CommandId::EnquireLink,
        CommandId::EnquireLinkResp,
        CommandId::DataSm,
        CommandId::DataSmResp,
    ];

    /// The wire value.
    #[must_use]
    pub fn value(self) -> u32 {
        match self {
            CommandId::GenericNack => 0x8000_0000,
            CommandId::BindReceiver => 0x01,
            CommandId::BindReceiverResp => 0x8000_0001,
            CommandId::BindTransmitter => 0x02,
            CommandId::BindTransmitterResp => 0x8000_0002,
            CommandId::QuerySm => 0x03,
            CommandId::QuerySmResp => 0x8000_0003,
            CommandId::SubmitSm => 0x04,
            CommandId::SubmitSmResp => 0x8000_0004,
            CommandId::DeliverSm => 0x05,
            CommandId::DeliverSmResp => 0x8000_0005,
            CommandId::Unbind => 0x06,
            CommandId::UnbindResp => 0x8000_0006,
            CommandId::BindTransceiver => 0x09,
            CommandId::BindTransceiverResp => 0x8000_0009,
            CommandId::Outbind => 0x0B,
            CommandId::EnquireLink => 0x15,
            CommandId::EnquireLinkResp => 0x8000_0015,
            CommandId::DataSm => 0x0103,
            CommandId::DataSmResp => 0x8000_0103,
        }
    }

    /// The operation for a wire value, or `None` for ids this crate does not handle.
    #[must_use]
    pub fn from_value(value: u32) -> Option<CommandId> {
        CommandId::ALL.into_iter().find(|id| id.value() == value)
    }

    /// True for responses (including generic_nack).
    #[must_use]
    pub fn is_response(self) -> bool {
        self.value() & RESPONSE_BIT != 0
    }

    /// The response that answers this request; `None` for responses and outbind (which has none).
    #[must_use]
    pub fn response(self) -> Option<CommandId> {
        if self.is_response() || self == CommandId::Outbind {
            return None;
        }
        CommandId::from_value(self.value() | RESPONSE_BIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_round_trips_and_requests_pair_with_responses() {
        for id in CommandId::ALL {
            assert_eq!(CommandId::from_value(id.value()), Some(id));
            if let Some(resp) = id.response() {
                assert!(resp.is_response());
                assert_eq!(resp.value(), id.value() | RESPONSE_BIT);
            }
        }
        assert_eq!(
            CommandId::from_value(0x07),
            None,
            "replace_sm is unsupported"
        );
        assert_eq!(CommandId::Outbind.response(), None);
        assert_eq!(
            CommandId::SubmitSm.response(),
            Some(CommandId::SubmitSmResp)
        );
    }
}

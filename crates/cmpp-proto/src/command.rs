//! Command_Id values and which response answers which request.

/// The operations this crate encodes and decodes. CMPP 2.0 and 3.0 share these values; the
/// SP–ISMG link uses no others (FWD and the route commands are ISMG–ISMG only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommandId {
    Connect,
    ConnectResp,
    Terminate,
    TerminateResp,
    Submit,
    SubmitResp,
    Deliver,
    DeliverResp,
    Query,
    QueryResp,
    Cancel,
    CancelResp,
    ActiveTest,
    ActiveTestResp,
}

/// Set on every response's Command_Id.
pub const RESPONSE_BIT: u32 = 0x8000_0000;

impl CommandId {
    const ALL: [CommandId; 14] = [
        CommandId::Connect,
        CommandId::ConnectResp,
        CommandId::Terminate,
        CommandId::TerminateResp,
        CommandId::Submit,
        CommandId::SubmitResp,
        CommandId::Deliver,
        CommandId::DeliverResp,
        CommandId::Query,
        CommandId::QueryResp,
        CommandId::Cancel,
        CommandId::CancelResp,
        CommandId::ActiveTest,
        CommandId::ActiveTestResp,
    ];

    /// The wire value.
    #[must_use]
    pub fn value(self) -> u32 {
        let base = match self {
            CommandId::Connect | CommandId::ConnectResp => 0x01,
            CommandId::Terminate | CommandId::TerminateResp => 0x02,
            CommandId::Submit | CommandId::SubmitResp => 0x04,
            CommandId::Deliver | CommandId::DeliverResp => 0x05,
            CommandId::Query | CommandId::QueryResp => 0x06,
            CommandId::Cancel | CommandId::CancelResp => 0x07,
            CommandId::ActiveTest | CommandId::ActiveTestResp => 0x08,
        };
        if self.is_response() {
            base | RESPONSE_BIT
        } else {
            base
        }
    }

    /// The command for a wire value, if this crate handles it.
    #[must_use]
    pub fn from_value(v: u32) -> Option<CommandId> {
        CommandId::ALL.into_iter().find(|c| c.value() == v)
    }

    /// True for the `*_RESP` commands.
    #[must_use]
    pub fn is_response(self) -> bool {
        matches!(
            self,
            CommandId::ConnectResp
                | CommandId::TerminateResp
                | CommandId::SubmitResp
                | CommandId::DeliverResp
                | CommandId::QueryResp
                | CommandId::CancelResp
                | CommandId::ActiveTestResp
        )
    }

    /// The response that answers this request.
    #[must_use]
    pub fn response(self) -> Option<CommandId> {
        Some(match self {
            CommandId::Connect => CommandId::ConnectResp,
            CommandId::Terminate => CommandId::TerminateResp,
            CommandId::Submit => CommandId::SubmitResp,
            CommandId::Deliver => CommandId::DeliverResp,
            CommandId::Query => CommandId::QueryResp,
            CommandId::Cancel => CommandId::CancelResp,
            CommandId::ActiveTest => CommandId::ActiveTestResp,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_pair_up() {
        for c in CommandId::ALL {
            assert_eq!(CommandId::from_value(c.value()), Some(c));
            if let Some(r) = c.response() {
                assert_eq!(r.value(), c.value() | RESPONSE_BIT);
                assert!(!c.is_response() && r.is_response());
            }
        }
        assert_eq!(CommandId::Submit.value(), 0x0000_0004);
        assert_eq!(CommandId::DeliverResp.value(), 0x8000_0005);
        assert_eq!(CommandId::from_value(0x0000_0009), None);
    }
}

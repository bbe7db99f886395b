//! `command_status` values (SMPP 3.4 §5.1.3).
//!
//! A newtype rather than an enum: peers send vendor-specific codes (0x400–0x4FF) and codes from
//! SMPP 5.0, and a response must be relayed or logged with the exact value it carried.

use std::fmt;

/// The `command_status` header field: zero in requests, the outcome in responses.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct CommandStatus(pub u32);

macro_rules! statuses {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        impl CommandStatus {
            $($(#[$doc])* pub const $name: CommandStatus = CommandStatus($value);)*

            /// The spec's symbolic name (`ESME_R…`), if this value has one here.
            #[must_use]
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(concat!("ESME_", stringify!($name))),)*
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    /// No error.
    ROK = 0x00;
    /// Message length is invalid (also used here for bodies that end inside a field).
    RINVMSGLEN = 0x01;
    /// Command length is invalid: answer with generic_nack and close the connection.
    RINVCMDLEN = 0x02;
    /// Invalid command id.
    RINVCMDID = 0x03;
    /// Incorrect bind status for the given command.
    RINVBNDSTS = 0x04;
    /// ESME already in bound state.
    RALYBND = 0x05;
    /// Invalid priority flag.
    RINVPRTFLG = 0x06;
    /// Invalid registered delivery flag.
    RINVREGDLVFLG = 0x07;
    /// System error.
    RSYSERR = 0x08;
    /// Invalid source address.
    RINVSRCADR = 0x0A;
    /// Invalid destination address.
    RINVDSTADR = 0x0B;
    /// Message id is invalid.
    RINVMSGID = 0x0C;
    /// Bind failed.
    RBINDFAIL = 0x0D;
    /// Invalid password.
    RINVPASWD = 0x0E;
    /// Invalid system id.
    RINVSYSID = 0x0F;
    /// cancel_sm failed.
    RCANCELFAIL = 0x11;
    /// replace_sm failed.
    RREPLACEFAIL = 0x13;
    /// Message queue full.
    RMSGQFUL = 0x14;
    /// Invalid service type.
    RINVSERTYP = 0x15;
    /// Invalid number of destinations.
    RINVNUMDESTS = 0x33;
    /// Invalid distribution list name.
    RINVDLNAME = 0x34;
    /// Invalid destination flag (submit_multi).
    RINVDESTFLAG = 0x40;
    /// Invalid "submit with replace" request.
    RINVSUBREP = 0x42;
    /// Invalid esm_class field data.
    RINVESMCLASS = 0x43;
    /// Cannot submit to distribution list.
    RCNTSUBDL = 0x44;
    /// submit_sm or submit_multi failed.
    RSUBMITFAIL = 0x45;
    /// Invalid source address TON.
    RINVSRCTON = 0x48;
    /// Invalid source address NPI.
    RINVSRCNPI = 0x49;
    /// Invalid destination address TON.
    RINVDSTTON = 0x50;
    /// Invalid destination address NPI.
    RINVDSTNPI = 0x51;
    /// Invalid system_type field.
    RINVSYSTYP = 0x53;
    /// Invalid replace_if_present flag.
    RINVREPFLAG = 0x54;
    /// Invalid number of messages.
    RINVNUMMSGS = 0x55;
    /// Throttling error: the ESME exceeded its allowed message rate.
    RTHROTTLED = 0x58;
    /// Invalid scheduled delivery time.
    RINVSCHED = 0x61;
    /// Invalid message validity period.
    RINVEXPIRY = 0x62;
    /// Predefined message invalid or not found.
    RINVDFTMSGID = 0x63;
    /// ESME receiver temporary application error.
    RX_T_APPN = 0x64;
    /// ESME receiver permanent application error: do not retry any message to this destination.
    RX_P_APPN = 0x65;
    /// ESME receiver reject message error: this message is refused and must not be retried.
    RX_R_APPN = 0x66;
    /// query_sm failed.
    RQUERYFAIL = 0x67;
    /// Error in the optional part of the PDU body (TLV stream).
    RINVOPTPARSTREAM = 0xC0;
    /// Optional parameter not allowed.
    ROPTPARNOTALLWD = 0xC1;
    /// Invalid parameter length.
    RINVPARLEN = 0xC2;
    /// Expected optional parameter missing.
    RMISSINGOPTPARAM = 0xC3;
    /// Invalid optional parameter value.
    RINVOPTPARAMVAL = 0xC4;
    /// Delivery failure (data_sm_resp).
    RDELIVERYFAILURE = 0xFE;
    /// Unknown error.
    RUNKNOWNERR = 0xFF;
    /// Invalid data coding scheme. Defined by SMPP 5.0, not 3.4; widely understood by 3.4 peers.
    RINVDCS = 0x104;
}

impl CommandStatus {
    /// The status consentry answers when its policy engine refuses a message.
    ///
    /// This is `ESME_RX_R_APPN` (0x66, "reject message"): it refuses this one message without the
    /// "stop sending to this destination" meaning of `ESME_RX_P_APPN` (0x65).
    pub const POLICY_REJECTED: CommandStatus = CommandStatus::RX_R_APPN;

    /// True for `ESME_ROK`.
    #[must_use]
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}({:#x})", self.0),
            None => write!(f, "CommandStatus({:#x})", self.0),
        }
    }
}

impl fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec() {
        assert_eq!(CommandStatus::RINVCMDLEN.name(), Some("ESME_RINVCMDLEN"));
        assert_eq!(CommandStatus(0x65).name(), Some("ESME_RX_P_APPN"));
        assert_eq!(CommandStatus::POLICY_REJECTED.0, 0x66);
        assert_eq!(CommandStatus(0x400).name(), None);
        assert_eq!(
            format!("{}", CommandStatus::RTHROTTLED),
            "ESME_RTHROTTLED(0x58)"
        );
    }
}

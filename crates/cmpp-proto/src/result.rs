//! Result and status codes, as the CMPP specification numbers them.
//!
//! Kept as plain `u32` constants rather than an enum because gateways send codes outside the
//! table and those must survive a round trip (a Result of 8 from one ISMG and 0x3A from
//! another both need to reach the caller unchanged).

/// CONNECT_RESP Status: accepted.
pub const CONNECT_OK: u32 = 0;
/// CONNECT_RESP Status: malformed CONNECT.
pub const CONNECT_STRUCTURE: u32 = 1;
/// CONNECT_RESP Status: unknown Source_Addr.
pub const CONNECT_INVALID_SOURCE: u32 = 2;
/// CONNECT_RESP Status: AuthenticatorSource did not match.
pub const CONNECT_AUTH: u32 = 3;
/// CONNECT_RESP Status: the requested version is newer than the gateway's.
pub const CONNECT_VERSION_TOO_HIGH: u32 = 4;
/// CONNECT_RESP Status: any other refusal (this crate's server uses it for too many links).
pub const CONNECT_OTHER: u32 = 5;

/// SUBMIT_RESP / DELIVER_RESP Result: accepted.
pub const OK: u32 = 0;
/// Malformed message structure.
pub const STRUCTURE: u32 = 1;
/// Unknown or misplaced Command_Id.
pub const COMMAND: u32 = 2;
/// Sequence_Id already in flight.
pub const DUPLICATE_SEQUENCE: u32 = 3;
/// A length field disagrees with the content.
pub const LENGTH: u32 = 4;
/// FeeCode error.
pub const FEE_CODE: u32 = 5;
/// Message longer than allowed.
pub const TOO_LONG: u32 = 6;
/// Service_Id error.
pub const SERVICE_ID: u32 = 7;
/// Flow control: the sender is over its window or rate and must slow down. Not a verdict on
/// the message: it may be sent again later.
pub const FLOW_CONTROL: u32 = 8;
/// Other error (3.0: "this gateway does not serve the fee number").
pub const OTHER: u32 = 9;
/// Src_Id error (3.0).
pub const SRC_ID: u32 = 10;
/// Msg_src error (3.0).
pub const MSG_SRC: u32 = 11;
/// Fee_terminal_Id error (3.0).
pub const FEE_TERMINAL_ID: u32 = 12;
/// Dest_terminal_Id error (3.0).
pub const DEST_TERMINAL_ID: u32 = 13;

/// A short English name for a SUBMIT_RESP / DELIVER_RESP Result, for logs.
#[must_use]
pub fn describe(result: u32) -> &'static str {
    match result {
        OK => "ok",
        STRUCTURE => "structure error",
        COMMAND => "command error",
        DUPLICATE_SEQUENCE => "duplicate sequence",
        LENGTH => "length error",
        FEE_CODE => "fee code error",
        TOO_LONG => "message too long",
        SERVICE_ID => "service id error",
        FLOW_CONTROL => "flow control",
        OTHER => "other error",
        SRC_ID => "src_id error",
        MSG_SRC => "msg_src error",
        FEE_TERMINAL_ID => "fee terminal id error",
        DEST_TERMINAL_ID => "dest terminal id error",
        _ => "gateway-specific error",
    }
}

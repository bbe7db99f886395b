//! Errors of the CMPP adapters.

use cmpp_proto::session::ConnectError;

/// Why a submission through [`crate::CmppClient`] did not get a gateway's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The link task has stopped (the client was dropped or shut down).
    #[error("the CMPP link is shut down")]
    Closed,
    /// The connection dropped before the SUBMIT_RESP came; the gateway may or may not have the
    /// message, so resending risks a duplicate and not resending risks a loss: the caller
    /// decides.
    #[error("the connection to the gateway dropped with the request in flight")]
    Disconnected,
    /// No SUBMIT_RESP within the response timeout.
    #[error("no response from the gateway in time")]
    Timeout,
    /// The gateway kept answering "flow control" past the retries allowed.
    #[error("the gateway kept answering flow control (Result 8)")]
    FlowControl,
    /// The caller's gate ([`crate::CmppClient::submit_gated`]) refused the message before
    /// any of it was written.
    #[error("the message was withheld before it was sent")]
    Withheld,
    /// The text cannot be written as a CMPP message.
    #[error("the message cannot be encoded: {0}")]
    Encode(String),
}

/// Why the listener could not start, or a link could not authenticate.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CmppError {
    #[error("{0}")]
    Io(String),
    #[error("the gateway refused the connection: {0}")]
    Connect(#[from] ConnectError),
    #[error("invalid configuration: {0}")]
    Config(String),
}

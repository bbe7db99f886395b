//! What the replies path needs from storage: inbound replies kept for replay and audit, the
//! daily notices (confirmations, help answers) already sent, which senders recently sent a phone
//! marketing (reply attribution), and one-click unsubscribe links.

use domain::{Msisdn, SenderId, Timestamp};

use crate::StoreError;

/// An inbound reply (mobile-originated message) as handled.
#[derive(Debug, Clone)]
pub struct NewReply<'a> {
    /// Replay key: a hash of (from, to, text, received_at), or `None` when the carrier gave no
    /// receive time (then two equal replies are two replies).
    pub key: Option<&'a str>,
    /// The consumer.
    pub phone: Msisdn,
    /// The number replied to, digits only.
    pub to: &'a str,
    /// The reply text (the caller bounds its length).
    pub text: &'a str,
    /// When the carrier received it.
    pub received_at: Timestamp,
    /// The intent read from it (`opt_out`, `opt_in`, `help`, `other`).
    pub intent: &'a str,
    /// The answer given to the carrier, as JSON, returned again on replay.
    pub outcome: &'a str,
}

/// A one-click unsubscribe link: its token's hash, and whom it unsubscribes from whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The recipient of the message that carried it.
    pub phone: Msisdn,
    /// The sender of that message.
    pub sender: SenderId,
    /// When the link was made.
    pub created_at: Timestamp,
}

/// Inbound replies, daily notices and reply attribution.
pub trait ReplyLog {
    /// The id and outcome stored for a reply with this replay key, if one was handled.
    fn reply_outcome(&self, key: &str) -> Result<Option<(u64, String)>, StoreError>;
    /// Records a handled reply; returns its id. A second reply with the same key is not
    /// recorded again ([`StoreError::Conflict`]).
    fn record_reply(&self, reply: &NewReply<'_>) -> Result<u64, StoreError>;
    /// Claims the one `kind` notice (`opt_out`, `help`) to `phone` about `target` (a sender id,
    /// 0 for the platform) on local `day`; false if it was already claimed.
    fn claim_notice(
        &self,
        phone: Msisdn,
        target: u32,
        kind: &str,
        day: i32,
    ) -> Result<bool, StoreError>;
    /// Senders whose marketing to `phone` was submitted since `since` and not refused or
    /// cancelled (handed off, or still on its way), by id.
    fn marketing_senders(
        &self,
        phone: Msisdn,
        since: Timestamp,
    ) -> Result<Vec<SenderId>, StoreError>;
}

/// One-click unsubscribe links.
pub trait UnsubscribeLinks {
    /// Stores links in one transaction.
    fn put_links(&self, links: &[LinkRecord]) -> Result<(), StoreError>;
    /// The link whose token hashes to `token_hash`.
    fn link(&self, token_hash: &str) -> Result<Option<LinkRecord>, StoreError>;
}

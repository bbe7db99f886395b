//! Cluster mode: what the SMPP side needs from the other nodes. A merchant's software binds to
//! whichever node its load balancer picked, but each recipient's decisions are made by the node
//! that owns the recipient's partition, and receipts and replies arise on that node. So:
//!
//! - a submit_sm for a phone another node owns is decided and recorded there
//!   ([`Remote::submit`]); that node keeps the receipt request, because its dispatcher (and its
//!   carrier link) learn the delivery state;
//! - a receipt or reply for a merchant with no receiving bind on this node goes to a node where
//!   it has one ([`Remote::deliver`]); the [`crate::Hub`] tells the cluster which senders have
//!   receiving binds here ([`Remote::binds_changed`]).

use std::future::Future;
use std::pin::Pin;

use domain::{Category, SenderId};
use gateway::Outcome;
use smpp_proto::{Address, CommandStatus, ShortMessage};

/// A submit_sm to be decided on its recipient's owner.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RemoteSubmit {
    /// The bound merchant.
    pub sender: SenderId,
    /// The recipient as the gateway parses it.
    pub to: String,
    /// The reassembled text.
    pub text: String,
    /// From service_type.
    pub category: Category,
    /// The receipt the merchant asked for, if any: the owner sends it when the message is
    /// delivered or fails.
    pub receipt: Option<ReceiptRequest>,
}

/// What a receipt needs from the submit_sm it answers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ReceiptRequest {
    /// The merchant's source address `(ton, npi, addr)` (the receipt's destination).
    pub source: (u8, u8, String),
    /// The recipient `(ton, npi, addr)` (the receipt's source).
    pub destination: (u8, u8, String),
    /// registered_delivery & 0x03.
    pub mode: u8,
    /// The receipt's `text:` field (ASCII, at most 20 characters).
    pub text: String,
}

impl ReceiptRequest {
    /// The addresses as SMPP ones: (source, destination).
    #[must_use]
    pub fn addresses(&self) -> (Address, Address) {
        let a = |(ton, npi, addr): &(u8, u8, String)| Address::new(*ton, *npi, addr);
        (a(&self.source), a(&self.destination))
    }
}

/// The future [`Remote::submit`] returns: the owner's decision, or the status refusing the
/// submission before any decision (as this node's listener would have answered it).
pub type SubmitFuture = Pin<Box<dyn Future<Output = Result<Outcome, CommandStatus>> + Send>>;

/// The future [`Remote::cancel`] returns: whether the owner withdrew the message.
pub type CancelFuture = Pin<Box<dyn Future<Output = bool> + Send>>;

/// What the owner answers a [`RemoteSubmit`] with.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum RemoteAnswer {
    /// Decided and recorded.
    Decided(Outcome),
    /// Refused before any decision, with this SMPP command status.
    Refused(u32),
}

/// The cluster, as the SMPP listener and hub see it.
pub trait Remote: Send + Sync {
    /// Decides and records `s` on the owner of its recipient's partition.
    fn submit(&self, s: RemoteSubmit) -> SubmitFuture;
    /// Hands a deliver_sm for `sender` to a node where it has a receiving bind. Returns false
    /// when none could take it.
    fn deliver(&self, sender: SenderId, sm: &ShortMessage) -> bool;
    /// This node now has `binds` receiving binds of `sender`.
    fn binds_changed(&self, sender: SenderId, binds: usize);
    /// A final delivery state of message `id` that a carrier reported on this node's link
    /// while no receipt request for it is kept here. Carriers send a receipt on whichever of
    /// their binds they like; the request is kept by the node that decided the message (its
    /// phone's owner), so the report goes to the other nodes and the one holding the request
    /// sends the merchant its receipt ([`crate::Hub::report_from_peer`]). One node: nothing.
    fn report(
        &self,
        _id: u64,
        _state: smpp_proto::MessageState,
        _err: Option<&str>,
        _at: domain::Timestamp,
    ) {
    }
    /// Withdraws message `id` of `sender`, held for quiet hours on the owner of its phone
    /// (a CMPP CANCEL that arrived on another node). One node: nothing is elsewhere, so false.
    fn cancel(&self, _sender: SenderId, _id: u64) -> CancelFuture {
        Box::pin(std::future::ready(false))
    }
}

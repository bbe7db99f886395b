//! The send path: every message from a sender to a carrier passes through a [`Gateway`].
//!
//! The gateway wires the domain crates together and owns the state they share:
//! - the [`ledger::ConsentIndex`], rebuilt from the store's consent log at start and updated
//!   under the phone's shard lock on every committed event ([`Gateway::record_consents`]);
//! - [`volume::Volume`], the per-recipient counts behind the caps and the duplicate window,
//!   rebuilt from the store's recent accepted messages at start;
//! - the registry of senders and hashed API keys ([`access`]);
//! - the deferred queue (quiet hours) and the dispatcher that hands accepted messages to a
//!   [`carrier::Carrier`];
//! - enforcement: complaints adjudicated against what was recorded at send time
//!   ([`Gateway::file_complaint`]), automatic and reviewed suspensions
//!   ([`Gateway::change_suspension`]), evidence bundles and reports.
//!
//! The one ordering promise — *nothing marketing is handed to a carrier after an opt-out is
//! acknowledged* — rests on the index's shard locks: an opt-out holds its phone's shard for
//! writing from before its commit until it is applied; the dispatcher holds the same shard for
//! reading while it re-checks consent and hands the message over. So every hand-off happens
//! either entirely before the opt-out committed, or after it, and then sees it.
//!
//! All methods are synchronous; the HTTP layer calls them from blocking tasks.

pub mod access;
pub mod accounts;
mod batch;
mod cancel;
pub mod carrier;
mod cmpp_access;
mod commit;
mod complaints;
mod config;
mod consents;
mod content;
mod deferred;
mod dispatch;
mod enforcement;
mod error;
mod evidence;
mod gateway;
mod inbound;
mod lookup;
pub mod merchant_consents;
mod notices;
mod ownership;
mod pasted;
pub use pasted::PASTED_LOOKBACK_DAYS;
mod portal;
mod resend;
pub mod routes;
mod sender_edits;
mod smpp_access;
mod submit;
mod texthash;
mod unsubscribe;
pub mod volume;

pub use crate::complaints::{ComplaintFiled, ComplaintPage, ComplaintRequest, read_content};
pub use access::Principal;
pub use accounts::{ConsoleUser, SignedIn};
pub use batch::DecidedSubmission;
pub use carrier::{Carrier, CarrierError, LoopbackCarrier, Outbound};
pub use cmpp_access::{CMPP_SECRET_LEN, CMPP_SOURCE_ADDR_LEN, CmppCredentials};
pub use commit::{Batches, GroupCommit};
pub use config::GatewayConfig;
pub use consents::{ConsentEffect, ConsentRequest, ConsentsView, EARLIEST_EVENT};
pub use content::{ClassifyConfig, ContentClassifier};
pub use dispatch::NotSent;
pub use enforcement::SuspensionView;
pub use error::GatewayError;
pub use evidence::{AuditSection, EVIDENCE_FORMAT, EvidenceBundle, SenderAtExport};
pub use gateway::{Gateway, Stats, Workers};
pub use inbound::{Attribution, Effect, ReplyListener, ReplyOutcome};
pub use notices::PLATFORM_SENDER;
pub use ownership::{Loaded, Ownership, Resumer};
pub use portal::{PortalTables, ReceivedMessage};
pub use resend::{PartCount, Serves};
pub use routes::RoutedCarriers;
pub use smpp_access::{SMPP_PASSWORD_MAX, SMPP_SYSTEM_ID_MAX, SmppCredentials};
pub use submit::{Outcome, Submission};
pub use texthash::text_hash;
pub use unsubscribe::{LinkView, UNSUBSCRIBE_PLACEHOLDER};

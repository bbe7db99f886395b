//! Cluster mode: several `consentry serve` nodes on one PostgreSQL database and NATS, with
//! every promise of the single node intact.
//!
//! Every cap, lock and queue in the send path is keyed by the recipient's phone, so the phones
//! are split into partitions (`phone % partitions`) and each partition has one owner at a time
//! ([`Partitions`], under the PostgreSQL leases of `store::postgres::leases`). Within one
//! ownership period the single-process argument holds unchanged: one node decides, records and
//! hands off for a phone, under its in-memory consent index and volume counters.
//!
//! - [`keeper`]: claims, renews and gives up leases; loads a partition's slice of the gateway's
//!   state after its takeover committed; drops it when the lease is lost.
//! - [`route`]: the HTTP layer. A request about a phone this node does not own goes to the owner
//!   over NATS request/reply (`<prefix>.p.<part>.http`) and the caller gets the owner's answer;
//!   no owner answering is `503 partition_unavailable`, never an acknowledgement.
//! - [`forward`]: the wire form of a forwarded request and the owner's side that serves it.
//! - [`control`]: senders, keys and suspensions changed on one node are reloaded by every live
//!   node before the admin call returns.
//!
//! The fence makes the argument hold across a pause: an owner's writes carry its epoch and are
//! refused once another node took the partition over, and an owner stops by its own monotonic
//! clock before its lease can expire in the database.

pub mod config;
pub mod control;
pub mod forward;
pub mod keeper;
pub mod node;
pub mod partitions;
pub mod route;
pub mod smpp;

pub use config::ClusterConfig;
pub use forward::ForwardedReply;
pub use keeper::Keeper;
pub use node::{Node, Parts, ReplyForwarder, connect};
pub use partitions::Partitions;
pub use route::Router;

/// Why the cluster could not start or go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// NATS could not be reached.
    #[error("[cluster] nats ({address}): {message}")]
    Nats {
        /// The configured address.
        address: String,
        /// What the client said.
        message: String,
    },
    /// The store said no.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The configuration is unusable.
    #[error("{0}")]
    Config(String),
}

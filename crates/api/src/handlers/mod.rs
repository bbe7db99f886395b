//! One module per resource.

pub mod audit;
pub mod consents;
pub mod health;
pub mod inbound;
pub mod messages;
pub mod phones;
pub mod senders;
pub mod unsubscribe;

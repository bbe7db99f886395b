//! One module per resource.

pub mod consents;
pub mod health;
pub mod messages;
pub mod phones;
pub mod senders;

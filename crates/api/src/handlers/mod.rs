//! One module per resource.

pub mod audit;
pub mod complaints;
pub mod consents;
pub mod health;
pub mod inbound;
pub mod messages;
pub mod phones;
pub mod portal;
pub mod reports;
mod reports_page;
pub mod sender_consents;
pub mod senders;
pub mod suspension;
pub mod unsubscribe;

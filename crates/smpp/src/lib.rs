//! SMPP 3.4 over tokio, on top of the sans-IO [`smpp_proto`]: the listener merchants' existing
//! SMS software binds to, and the client that delivers accepted messages to carriers' SMSCs.
//!
//! - [`SmppServer`]: merchants bind with the `smpp_system_id` / `smpp_password` issued by
//!   `POST /v1/senders`; every submit_sm (multipart reassembled, GSM 7-bit / Latin-1 / UCS-2
//!   decoded) is decided on its session's thread by the same policy as the HTTP API
//!   ([`gateway::Gateway::decide_submission`]) and recorded durably in one group commit with
//!   whatever else arrived meanwhile ([`gateway::Gateway::record_decided`]) before it is
//!   answered. Rejections answer with a status and, if asked, a receipt whose `err:` names the
//!   reason ([`server::reasons`]).
//! - [`SmppCarrier`]: a [`gateway::Carrier`] that queues hand-offs and sends them over a bound
//!   window with throttling, keep-alive and reconnection; receipts update the message's delivery
//!   state, replies go to a [`ReplyHandler`].
//! - [`Hub`]: what links them: bound merchant sessions, the receipts they asked for, and
//!   routing of replies to the merchant whose number was texted.
//!
//! ```
//! use smpp::{ServerConfig, server::reasons::err_code};
//! use policy::{Reason, ReasonCode};
//!
//! let config = ServerConfig::default();
//! assert_eq!(config.listen, "127.0.0.1:2775");
//! assert_eq!(err_code(&[Reason::new(ReasonCode::OptedOut, "replied TD")]), "102");
//! ```

pub mod client;
mod config;
mod error;
mod hub;
mod inbound;
pub mod load;
pub mod remote;
pub mod server;

pub use client::SmppCarrier;
pub use config::{BindType, CarrierConfig, CarrierKind, ReceiptIdBase, ServerConfig};
pub use error::SmppError;
pub use hub::{Forward, Hub, Subscription};
pub use inbound::{MobileOriginated, ReceiptingCarrier, ReplyHandler};
pub use remote::{ReceiptRequest, Remote, RemoteAnswer, RemoteSubmit};
pub use server::SmppServer;

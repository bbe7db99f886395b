//! CMPP 2.0/3.0 over tokio, on top of the sans-IO [`cmpp_proto`]: the client link that delivers
//! to China Mobile's gateways (ISMG), and the acceptor Chinese SP software connects to.
//!
//! - [`CmppClient`]: one authenticated link with a window, flow control (Result 8 slows it
//!   down and the part is resent), ACTIVE_TEST keep-alive and reconnection; status reports and
//!   replies go to a [`DeliverHandler`].
//! - [`CmppServer`]: checks CONNECT against [`Accounts`], hands whole messages to
//!   [`Submissions`], and pushes status reports and replies back through a [`ServerHandle`].
//!
//! Neither knows the gateway: the traits are the boundary the binary wires it through, so this
//! crate is tested against itself and against a small ISMG written from the specification.
//!
//! ```
//! use std::sync::Arc;
//! use cmpp::{Account, Accounts, CmppServer, ServerConfig, Submission, Verdict};
//!
//! struct OneSp;
//! impl Accounts for OneSp {
//!     fn lookup(&self, source_addr: &str) -> Option<Account> {
//!         (source_addr == "901234").then(|| Account { id: 7, secret: b"secret".to_vec() })
//!     }
//! }
//! let accept_all = |_: Submission| Verdict::Accept;
//! let server = CmppServer::new(ServerConfig::default(), Arc::new(OneSp), Arc::new(accept_all))?;
//! assert_eq!(server.open_connections(), 0);
//! # Ok::<(), cmpp::CmppError>(())
//! ```

pub mod client;
pub mod clock;
mod error;
mod io;
pub mod load;
pub mod server;

pub use client::{
    ClientConfig, CmppClient, DeliverHandler, Gate, LinkState, MobileOriginated, Outgoing,
    PartResult,
};
pub use error::{ClientError, CmppError};
pub use server::{
    Account, Accounts, CmppServer, DayTraffic, Report, ServerConfig, ServerHandle, Submission,
    Submissions, Verdict, Verdicts,
};

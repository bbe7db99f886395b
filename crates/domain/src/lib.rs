//! Value types every consentry crate speaks in.
//!
//! The gateway decides, for each message, whether a *sender* may reach a *recipient* with a
//! message of some *category*. These are the nouns of that sentence, kept here so that the
//! ledger, the policy engine, the store and the API agree on them without depending on each other:
//!
//! - [`Msisdn`]: a recipient number in E.164, parsed with a default region (`13800138000` in `CN`
//!   is `+8613800138000`), stored as a `u64` so that millions of them fit in memory.
//! - [`SenderId`], [`Scope`], [`Category`], [`ConsentAction`], [`ConsentSource`].
//! - [`Clock`]: time comes in through a trait so that tests and simulations control it.
//!
//! ```
//! use domain::{Msisdn, Region};
//! let n = Msisdn::parse("138 0013 8000", Region::CN).unwrap();
//! assert_eq!(n.to_string(), "+8613800138000");
//! assert_eq!(n.country_code(), 86);
//! ```

mod clock;
mod kinds;
mod msisdn;

pub use clock::{Clock, ManualClock, SystemClock};
pub use jiff::Timestamp;
pub use kinds::{Category, ConsentAction, ConsentSource, ParseKindError, Scope, SenderId};
pub use msisdn::{InvalidNumber, Msisdn, Region};

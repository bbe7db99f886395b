//! The recipient must be a valid number.

use crate::{Reason, ReasonCode};

/// Adds `invalid_number`; called when the recipient did not parse.
pub fn check(out: &mut Vec<Reason>) {
    out.push(Reason::new(
        ReasonCode::InvalidNumber,
        "the recipient is not a valid phone number",
    ));
}

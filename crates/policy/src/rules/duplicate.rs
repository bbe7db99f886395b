//! The same text to the same recipient twice in a short window is a retry storm or spam.

use crate::{Context, Reason, ReasonCode};

/// Adds `duplicate` when the gateway saw the same text to the same recipient recently.
pub fn check(ctx: &Context<'_>, out: &mut Vec<Reason>) {
    if ctx.duplicate {
        out.push(Reason::new(
            ReasonCode::Duplicate,
            "the same text was sent to this recipient within the duplicate window",
        ));
    }
}

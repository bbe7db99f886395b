//! A suspended sender sends nothing.

use crate::{Context, Reason, ReasonCode};

/// Adds `sender_suspended` when enforcement has suspended the sender.
pub fn check(ctx: &Context<'_>, out: &mut Vec<Reason>) {
    if ctx.sender.suspended {
        out.push(Reason::new(
            ReasonCode::SenderSuspended,
            format!("sender {} is suspended", ctx.sender.id),
        ));
    }
}

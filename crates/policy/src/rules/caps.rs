//! Marketing volume caps: per sender, and across all senders — the cap that stops ten shops
//! each sending "just one" message on Double-11.

use crate::{Context, Policy, Reason, ReasonCode};

/// Adds `cap_sender_daily` and/or `cap_global_daily`.
pub fn check(policy: &Policy, ctx: &Context<'_>, out: &mut Vec<Reason>) {
    let per_sender = policy.config.max_marketing_per_sender_per_day;
    if ctx.counts.sender_marketing_today >= per_sender {
        out.push(Reason::new(
            ReasonCode::CapSenderDaily,
            format!(
                "this sender already sent {per_sender} marketing message(s) to the recipient today"
            ),
        ));
    }
    let global = policy.config.max_marketing_per_recipient_per_day;
    if ctx.counts.recipient_marketing_today >= global {
        out.push(Reason::new(
            ReasonCode::CapGlobalDaily,
            format!("the recipient already received {global} marketing message(s) today"),
        ));
    }
}

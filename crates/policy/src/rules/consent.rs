//! Marketing needs consent, and a refusal is final until the consumer says otherwise.

use ledger::IndexAnswer;

use crate::{Context, Reason, ReasonCode};

/// Adds `no_consent` or `opted_out` from the ledger's answer.
pub fn check(ctx: &Context<'_>, out: &mut Vec<Reason>) {
    match ctx.consent {
        IndexAnswer::Consented(_) => {}
        IndexAnswer::NoConsent => out.push(Reason::new(
            ReasonCode::NoConsent,
            "the recipient never agreed to marketing from this sender",
        )),
        IndexAnswer::OptedOut { at, platform } => out.push(Reason::new(
            ReasonCode::OptedOut,
            if platform {
                format!("the recipient refused all merchants' marketing at {at}")
            } else {
                format!("the recipient refused this sender's marketing at {at}")
            },
        )),
    }
}

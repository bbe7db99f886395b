//! Transactional and verification messages need no consent, but a flood of "codes" is abuse:
//! per-sender per-recipient rate caps.

use domain::Category;

use crate::{Context, Policy, Reason, ReasonCode};

/// Adds `rate_limited` when any window's cap is reached (0 means no cap).
pub fn check(policy: &Policy, category: Category, ctx: &Context<'_>, out: &mut Vec<Reason>) {
    let Some(caps) = policy.rate_caps(category) else {
        return;
    };
    let c = ctx.counts;
    let over = [
        (caps.per_minute, c.category_last_minute, "minute"),
        (caps.per_hour, c.category_last_hour, "hour"),
        (caps.per_day, c.category_today, "day"),
    ]
    .into_iter()
    .find(|(cap, count, _)| *cap > 0 && count >= cap);
    if let Some((cap, _, window)) = over {
        out.push(Reason::new(
            ReasonCode::RateLimited,
            format!(
                "at most {cap} {category} message(s) per {window} from this sender to the recipient"
            ),
        ));
    }
}

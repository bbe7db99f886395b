//! No marketing at night, in the recipient's own time zone.

use domain::{Msisdn, Timestamp};

use crate::zones::LocalClock;
use crate::{Policy, Reason, ReasonCode};

/// Adds `quiet_hours` when `now` falls inside the recipient's local quiet window, and returns
/// the instant the window ends (when a deferred message is decided again).
pub fn check(
    policy: &Policy,
    to: Msisdn,
    now: Timestamp,
    local: LocalClock,
    out: &mut Vec<Reason>,
) -> Option<Timestamp> {
    if !policy.is_quiet(local) {
        return None;
    }
    let release = policy.zones.next_local(to, now, policy.quiet_end);
    out.push(Reason::new(
        ReasonCode::QuietHours,
        format!(
            "{}–{} is quiet time for the recipient",
            policy.config.quiet_hours_start, policy.config.quiet_hours_end
        ),
    ));
    release
}

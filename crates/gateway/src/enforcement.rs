//! Suspension review and change by the operator, and per-sender reports.

use ::complaints::{
    Activity, EnforcementConfig, PeriodReport, SuspensionAction, Trigger, suspension_due,
};
use domain::{SenderId, Timestamp};
use serde::Serialize;
use store::{ComplaintLog, NewSuspension, SuspensionRecord};

use crate::{Gateway, GatewayError, Principal};

/// Longest reason kept for a suspension change.
const MAX_REASON: usize = 500;

/// A sender's standing: whether it is suspended, its record over the window, and every change.
#[derive(Debug, Clone, Serialize)]
pub struct SuspensionView {
    /// The sender.
    pub sender_id: SenderId,
    /// Suspended now.
    pub suspended: bool,
    /// What a suspension stops (`[enforcement] suspension_blocks`): `marketing` or `all`.
    pub blocks: ::complaints::SuspensionBlocks,
    /// When the suspension in force began (its `suspend` change, automatic or by the
    /// admin); `None` when the sender is not suspended. (It used to carry the window start,
    /// which read as the suspension's date: #12.)
    pub since: Option<Timestamp>,
    /// The window the record covers starts here (the window's start, or the last lift).
    pub record_since: Timestamp,
    /// Its record since then.
    pub activity: Activity,
    /// Complaints per 10,000 marketing messages since then.
    pub complaint_rate_per_10k: Option<f64>,
    /// What the thresholds say about that record now.
    pub due: Option<Trigger>,
    /// The thresholds.
    pub thresholds: EnforcementConfig,
    /// Every suspension change, oldest first, each with its reason.
    pub history: Vec<SuspensionRecord>,
}

impl Gateway {
    /// A sender's standing, for the admin or the sender itself.
    pub fn suspension(
        &self,
        by: Principal,
        sender: SenderId,
    ) -> Result<SuspensionView, GatewayError> {
        match by {
            Principal::Admin => {}
            Principal::Sender(own) if own == sender => {}
            Principal::Sender(_) => {
                return Err(GatewayError::NotFound(format!("sender {sender}")));
            }
            Principal::Carrier => {
                return Err(GatewayError::Forbidden(
                    "the carrier key cannot read senders' standing".into(),
                ));
            }
        }
        let record = self
            .access
            .sender(sender)
            .ok_or(GatewayError::UnknownSender(sender.0))?;
        let config = self.enforcement();
        let now = self.clock.now();
        let record_since = self.reputation_since(sender, now, &config)?;
        let mut activity = self.store.sender_activity(sender, record_since)?;
        activity.opt_outs = self.store.opt_outs_since(sender, record_since)?;
        let history = self.store.suspensions(sender)?;
        // A confirmation keeps the suspension it confirms: it began at the last `suspend`.
        let since = record
            .suspended
            .then(|| {
                history
                    .iter()
                    .rev()
                    .find(|h| h.action == SuspensionAction::Suspend)
                    .map(|h| h.at)
            })
            .flatten();
        Ok(SuspensionView {
            sender_id: sender,
            suspended: record.suspended,
            blocks: config.suspension_blocks,
            since,
            record_since,
            complaint_rate_per_10k: activity.complaint_rate_per_10k(),
            due: suspension_due(&activity, &config),
            activity,
            thresholds: config,
            history,
        })
    }

    /// Suspends, lifts or confirms a sender's suspension (admin), recording who and why.
    /// `suspend` applies to an active sender; `lift` and `confirm` to a suspended one.
    pub fn change_suspension(
        &self,
        by: Principal,
        sender: SenderId,
        action: SuspensionAction,
        reason: &str,
    ) -> Result<SuspensionView, GatewayError> {
        self.change_suspension_as(by, &by.actor(), sender, action, reason)
    }

    /// [`Gateway::change_suspension`] recorded under `actor`: the console names the person
    /// (`console:li.wei`) where an API key can only name its role, so the chained record says
    /// who decided.
    pub fn change_suspension_as(
        &self,
        by: Principal,
        actor: &str,
        sender: SenderId,
        action: SuspensionAction,
        reason: &str,
    ) -> Result<SuspensionView, GatewayError> {
        if by != Principal::Admin {
            return Err(GatewayError::Forbidden(
                "only the admin changes a suspension".into(),
            ));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(GatewayError::InvalidField(format!(
                "reason must be 1–{MAX_REASON} characters: every change is recorded with why"
            )));
        }
        // One change at a time, and not while a complaint is deciding on a suspension.
        let _filing = self.enforcement.filing.lock();
        let current = self
            .access
            .sender(sender)
            .ok_or(GatewayError::UnknownSender(sender.0))?;
        match (action, current.suspended) {
            (SuspensionAction::Suspend, true) => {
                return Err(GatewayError::SuspensionState(format!(
                    "sender {sender} is already suspended; confirm or lift it"
                )));
            }
            (SuspensionAction::Lift | SuspensionAction::Confirm, false) => {
                return Err(GatewayError::SuspensionState(format!(
                    "sender {sender} is not suspended"
                )));
            }
            _ => {}
        }
        let now = self.clock.now();
        let config = self.enforcement();
        let since = self.reputation_since(sender, now, &config)?;
        let activity = self.store.sender_activity(sender, since)?;
        let recorded = self.store.record_suspension(&NewSuspension {
            sender,
            action,
            reason: reason.to_string(),
            actor: actor.to_string(),
            at: now,
            complaint_id: None,
            activity: Some(activity),
        })?;
        if recorded.is_none() {
            return Err(GatewayError::UnknownSender(sender.0));
        }
        if let Some(s) = self.access.senders.write().get_mut(&sender) {
            s.suspended = action != SuspensionAction::Lift;
        }
        metrics::counter!("consentry_suspension_changes_total", "action" => action.as_str())
            .increment(1);
        drop(_filing);
        self.suspension(by, sender)
    }

    /// Per-sender figures for `[from, to)`: every sender's for the admin, its own row only for
    /// a sender (complaints that matched nobody are not a sender's business).
    pub fn sender_report(
        &self,
        by: Principal,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<PeriodReport, GatewayError> {
        let own = match by {
            Principal::Admin => None,
            Principal::Sender(s) => Some(s),
            Principal::Carrier => {
                return Err(GatewayError::Forbidden("reports are for the admin".into()));
            }
        };
        if from >= to {
            return Err(GatewayError::InvalidField(
                "`from` must be before `to`".into(),
            ));
        }
        let (mut rows, mut platform) = self.store.period_figures(from, to)?;
        if let Some(own) = own {
            rows.retain(|r| r.sender_id == own);
            platform = ::complaints::PlatformFigures::default();
        }
        Ok(PeriodReport::new(from, to, rows, platform))
    }
}

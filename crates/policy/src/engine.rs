//! The compiled policy and its one entry point, [`Policy::decide`].

use domain::{Category, Msisdn, Region, SenderId, Timestamp};
use ledger::IndexAnswer;

use crate::config::{ConfigError, PolicyConfig, QuietAction, RateCaps};
use crate::rules;
use crate::zones::{LocalClock, LocalTime, Zones};
use crate::{Decision, Reason};

/// A message as submitted.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The recipient, or `None` if the given number did not parse.
    pub to: Option<Msisdn>,
    /// The text.
    pub text: &'a str,
    /// The category the sender declared.
    pub category: Category,
}

/// What the policy needs to know about the sender.
#[derive(Debug, Clone, Copy)]
pub struct SenderFacts<'a> {
    /// Who.
    pub id: SenderId,
    /// The registered signature, e.g. 【某某旗舰店】.
    pub signature: &'a str,
    /// Whether enforcement has suspended it.
    pub suspended: bool,
}

/// Messages already accepted for this recipient, counted by the gateway for the rules that
/// cap volume. All counts exclude the message being decided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Marketing from this sender to this recipient on the recipient's local day.
    pub sender_marketing_today: u32,
    /// Marketing from any sender to this recipient on the recipient's local day.
    pub recipient_marketing_today: u32,
    /// Messages of this (non-marketing) category from this sender to this recipient, last 60 s.
    pub category_last_minute: u32,
    /// Same, last hour.
    pub category_last_hour: u32,
    /// Same, local day.
    pub category_today: u32,
}

/// Everything the gateway gathered for one decision.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The sender.
    pub sender: SenderFacts<'a>,
    /// The ledger's answer for (recipient, sender).
    pub consent: IndexAnswer,
    /// Recent volume.
    pub counts: Counts,
    /// Whether the same text reached the same recipient within the duplicate window.
    pub duplicate: bool,
    /// The clock reading the decision is made at.
    pub now: Timestamp,
}

/// The recipient-independent part of a decision; see [`Policy::prepare`].
#[derive(Debug, Clone)]
pub struct Prepared {
    category: Category,
    content: Vec<Reason>,
    /// The classifier's reading, handed on to each decision.
    scores: Option<std::sync::Arc<str>>,
}

impl Prepared {
    /// The category the text was prepared for.
    #[must_use]
    pub fn category(&self) -> Category {
        self.category
    }
}

/// A [`PolicyConfig`] compiled for fast decisions.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) config: PolicyConfig,
    pub(crate) region: Region,
    pub(crate) zones: Zones,
    pub(crate) quiet_start: LocalTime,
    pub(crate) quiet_end: LocalTime,
    pub(crate) signature_for: [bool; 3],
    /// Opt-out phrases, lower-cased with spaces removed.
    pub(crate) optout_phrases: Vec<String>,
}

pub(crate) fn category_slot(c: Category) -> usize {
    match c {
        Category::Marketing => 0,
        Category::Transactional => 1,
        Category::Verification => 2,
    }
}

impl Policy {
    /// Checks and compiles the configuration.
    pub fn new(config: &PolicyConfig) -> Result<Self, ConfigError> {
        let region: Region = config
            .default_region
            .parse()
            .map_err(|_| ConfigError::BadRegion(config.default_region.clone()))?;
        let mut signature_for = [false; 3];
        for name in &config.signature_required_for {
            let c: Category = name
                .parse()
                .map_err(|_| ConfigError::BadCategory(name.clone()))?;
            signature_for[category_slot(c)] = true;
        }
        Ok(Policy {
            region,
            zones: Zones::new(&config.default_timezone, &config.timezones)?,
            quiet_start: LocalTime::parse("quiet_hours_start", &config.quiet_hours_start)?,
            quiet_end: LocalTime::parse("quiet_hours_end", &config.quiet_hours_end)?,
            signature_for,
            optout_phrases: config
                .optout_phrases
                .iter()
                .map(|p| rules::content::squash(p))
                .filter(|p| !p.is_empty())
                .collect(),
            config: config.clone(),
        })
    }

    /// The configuration this policy was compiled from.
    #[must_use]
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// The region numbers without a country code are read in.
    #[must_use]
    pub fn region(&self) -> Region {
        self.region
    }

    /// `phone`'s local day and time at `now` (daily caps are per local day).
    #[must_use]
    pub fn local(&self, phone: Msisdn, now: Timestamp) -> LocalClock {
        self.zones.local(phone, now)
    }

    /// Whether a local clock reading falls inside the quiet window (which may wrap midnight).
    #[must_use]
    pub fn is_quiet(&self, local: LocalClock) -> bool {
        let (start, end) = (self.quiet_start.0, self.quiet_end.0);
        let t = local.time_of_day;
        match start.cmp(&end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => t >= start && t < end,
            std::cmp::Ordering::Greater => t >= start || t < end,
        }
    }

    /// The rate caps of a non-marketing category.
    #[must_use]
    pub fn rate_caps(&self, category: Category) -> Option<RateCaps> {
        match category {
            Category::Marketing => None,
            Category::Transactional => Some(self.config.transactional),
            Category::Verification => Some(self.config.verification),
        }
    }

    /// Decides one message. Pure: same inputs, same decision.
    #[must_use]
    pub fn decide(&self, msg: &Message<'_>, ctx: &Context<'_>) -> Decision {
        let prepared = self.prepare(msg.text, msg.category, &ctx.sender);
        self.decide_prepared(&prepared, msg.to, ctx, None)
    }

    /// Runs the rules that depend only on the text, the category and the sender (signature,
    /// refusal instruction). A campaign sends one text to many recipients: it prepares once.
    #[must_use]
    pub fn prepare(&self, text: &str, category: Category, sender: &SenderFacts<'_>) -> Prepared {
        self.prepare_checked(text, category, sender, None)
    }

    /// [`Policy::prepare`] with the content classifier's reading of the text: a declared
    /// notice that reads as marketing is prepared (and then decided) as marketing, fraud is
    /// refused; see [`rules::classified`].
    #[must_use]
    pub fn prepare_checked(
        &self,
        text: &str,
        declared: Category,
        sender: &SenderFacts<'_>,
        check: Option<&rules::classified::ContentCheck>,
    ) -> Prepared {
        let mut content = Vec::new();
        let category = match check {
            Some(check) => rules::classified::check(declared, check, &mut content),
            None => declared,
        };
        if category == Category::Marketing {
            rules::content::check_optout_text(self, text, &mut content);
        }
        rules::content::check_signature(self, text, category, sender, &mut content);
        Prepared {
            category,
            content,
            scores: check.and_then(|c| c.record.clone()),
        }
    }

    /// Decides one recipient of a prepared text. `local` is the recipient's local clock at
    /// `ctx.now` if the caller already computed it (it needs the local day for the counts).
    #[must_use]
    pub fn decide_prepared(
        &self,
        prepared: &Prepared,
        to: Option<Msisdn>,
        ctx: &Context<'_>,
        local: Option<LocalClock>,
    ) -> Decision {
        let category = prepared.category;
        let mut reasons: Vec<Reason> = Vec::new();
        let mut release_at = None;
        let Some(to) = to else {
            rules::number::check(&mut reasons);
            let mut d = Decision::from_reasons(reasons, None, false, category);
            d.content_scores.clone_from(&prepared.scores);
            return d;
        };
        rules::suspension::check(ctx, &mut reasons);
        if category == Category::Marketing {
            rules::consent::check(ctx, &mut reasons);
            let local = local.unwrap_or_else(|| self.zones.local(to, ctx.now));
            release_at = rules::quiet_hours::check(self, to, ctx.now, local, &mut reasons);
            // A message deferred past quiet hours is decided again at release, on the day it
            // would actually go; today's caps say nothing about tomorrow's.
            let deferring =
                release_at.is_some() && self.config.quiet_hours_action == QuietAction::Defer;
            if !deferring {
                rules::caps::check(self, ctx, &mut reasons);
            }
        } else {
            rules::rates::check(self, category, ctx, &mut reasons);
        }
        reasons.extend(prepared.content.iter().cloned());
        rules::duplicate::check(ctx, &mut reasons);
        let defer = self.config.quiet_hours_action == QuietAction::Defer;
        let mut d = Decision::from_reasons(reasons, release_at, defer, category);
        d.content_scores.clone_from(&prepared.scores);
        d
    }
}

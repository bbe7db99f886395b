//! `/console`: today and the last 30 days at a glance — decisions by status and blocked
//! messages by reason, opt-outs, complaints and suspensions — as server-drawn charts. A
//! merchant sees its own figures only.

use std::collections::BTreeMap;

use axum::extract::State;
use complaints::PeriodReport;
use jiff::SignedDuration;
use maud::{Markup, html};
use policy::Verdict;

use super::charts::bars;
use super::i18n::Lang;
use super::layout::{Failure, Page, page};
use super::session::User;
use crate::AppState;

fn figures(lang: Lang, title: &str, r: &PeriodReport, decisions: &[(Verdict, u64)]) -> Markup {
    let sum =
        |f: &dyn Fn(&complaints::SenderFigures) -> u64| -> u64 { r.senders.iter().map(f).sum() };
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for s in &r.senders {
        for (code, n) in &s.blocked_by_reason {
            *by_reason.entry(code.clone()).or_insert(0) += n;
        }
    }
    let status: Vec<(String, u64)> = [Verdict::Accepted, Verdict::Deferred, Verdict::Rejected]
        .iter()
        .map(|v| {
            let n = decisions
                .iter()
                .find(|(d, _)| d == v)
                .map_or(0, |(_, n)| *n);
            (lang.t(v.as_str()).to_string(), n)
        })
        .collect();
    let sent = vec![
        (lang.t("sent").to_string(), sum(&|s| s.sent)),
        (lang.t("blocked").to_string(), sum(&|s| s.blocked)),
    ];
    let mut reasons: Vec<(String, u64)> = by_reason.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let other = vec![
        (lang.t("opt_outs").to_string(), sum(&|s| s.opt_outs)),
        (lang.t("complaints").to_string(), sum(&|s| s.complaints)),
        (lang.t("suspensions").to_string(), sum(&|s| s.suspensions)),
    ];
    html! {
        section aria-label=(title) {
            h2 { (title) }
            div.charts {
                (bars(lang.t("decisions_by_status"), &status))
                (bars(lang.t("sent_and_blocked"), &sent))
                (bars(lang.t("blocked_by_reason"), &reasons))
                (bars(lang.t("enforcement"), &other))
            }
        }
    }
}

/// `GET /console`.
pub(crate) async fn show(State(state): State<AppState>, user: User) -> Result<Page, Failure> {
    let by = user.user.principal();
    let (today, month) = state
        .run(move |gw| {
            let now = gw.clock().now();
            let midnight = now
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .start_of_day()
                .map_or(now, |z| z.timestamp());
            let end = now
                .saturating_add(SignedDuration::from_secs(1))
                .unwrap_or(now);
            let month_from = now
                .saturating_sub(SignedDuration::from_hours(24 * 30))
                .unwrap_or(now);
            Ok((
                (
                    gw.sender_report(by, midnight, end)?,
                    gw.decision_counts(by, midnight, end)?,
                ),
                (
                    gw.sender_report(by, month_from, end)?,
                    gw.decision_counts(by, month_from, end)?,
                ),
            ))
        })
        .await
        .map_err(|e| Failure::from_api(user.lang, e))?;
    let lang = user.lang;
    let body = html! {
        (figures(lang, lang.t("today"), &today.0, &today.1))
        (figures(lang, lang.t("last_30_days"), &month.0, &month.1))
    };
    Ok(page(&user, lang.t("dashboard"), body))
}

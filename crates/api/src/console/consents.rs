//! `/console/consents?phone=&at=`: a phone's consent timeline and the answer to "was there
//! consent at T?" per sender, each answer with the ledger event that decided it (highlighted
//! in the timeline). Staff only: the ledger names every shop a person dealt with.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use maud::html;
use serde::Deserialize;

use super::layout::{Failure, Page, page, when};
use super::session::User;
use crate::AppState;

/// The question: a phone and an instant (empty: now).
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Ask {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    at: String,
}

/// Reads `at`: RFC 3339, `YYYY-MM-DD` (midnight UTC), or the `YYYY-MM-DDTHH:MM` a
/// `datetime-local` field sends (taken as UTC, as the page says).
fn instant(at: &str) -> Option<jiff::Timestamp> {
    let at = at.trim();
    if let Ok(t) = at.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    // A civil date-time before a bare date: jiff reads "2026-11-11T10:31" as a date too,
    // dropping the time, which would answer the question for midnight instead.
    if at.contains(['T', 't', ' ']) {
        let civil: jiff::civil::DateTime = at.parse().ok()?;
        return civil.in_tz("UTC").ok().map(|z| z.timestamp());
    }
    complaints::report::parse_bound(at).ok()
}

/// `GET /console/consents`.
pub(crate) async fn timeline(
    State(state): State<AppState>,
    user: User,
    q: Result<Query<Ask>, QueryRejection>,
) -> Result<Page, Failure> {
    user.staff()?;
    let lang = user.lang;
    let Query(ask) =
        q.map_err(|_| Failure::new(lang, StatusCode::UNPROCESSABLE_ENTITY, "error"))?;
    let at = match ask.at.trim() {
        "" => None,
        s => Some(
            instant(s)
                .ok_or_else(|| Failure::new(lang, StatusCode::UNPROCESSABLE_ENTITY, "at_hint"))?,
        ),
    };
    let form = html! {
        form.filters method="get" action="/console/consents" role="search" {
            div { label for="phone" { (lang.t("phone")) } input #phone name="phone" value=(ask.phone) inputmode="tel" required maxlength="32"; }
            div {
                label for="at" { (lang.t("at_time")) }
                input #at name="at" value=(ask.at) maxlength="40" aria-describedby="at-hint" placeholder="2026-11-11T10:31:00Z";
                br; small #at-hint { (lang.t("at_hint")) }
            }
            button type="submit" { (lang.t("ask")) }
        }
    };
    if ask.phone.trim().is_empty() {
        return Ok(page(&user, lang.t("timeline"), form));
    }
    let by = user.user.principal();
    let phone = ask.phone.trim().to_string();
    let view = state
        .run(move |gw| gw.consents(by, &phone, at))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    // The platform-wide refusal in force at T is the latest platform event up to T (the
    // ledger's fold: a later platform opt-in would have lifted it).
    let platform_event = view
        .platform_opted_out
        .then(|| {
            view.history
                .iter()
                .filter(|e| e.scope == domain::Scope::Platform && e.at <= view.at)
                .max_by_key(|e| (e.at, e.seq))
                .map(|e| e.seq)
        })
        .flatten();
    let mut deciding: Vec<u64> = view.senders.iter().filter_map(|s| s.decided_by).collect();
    deciding.extend(platform_event);
    let body = html! {
        (form)
        h2 { (lang.t("consent_at")) " " (when(view.at)) }
        @if view.platform_opted_out {
            p.error {
                (lang.t("platform_opted_out"))
                @if let Some(seq) = platform_event { " · " (lang.t("deciding_event")) " " a href={ "#e" (seq) } { "#" (seq) } }
            }
        }
        @if view.senders.is_empty() && !view.platform_opted_out { p { (lang.t("no_consent")) } }
        @else {
            table {
                thead { tr { th { (lang.t("sender")) } th { (lang.t("status")) } th { (lang.t("deciding_event")) } th { (lang.t("since")) } } }
                tbody {
                    @for s in &view.senders {
                        tr {
                            td { a href={ "/console/senders/" (s.sender_id) } { "#" (s.sender_id) } " " (s.name.as_deref().unwrap_or("")) }
                            td { span.tag.(s.state) { (lang.t(s.state)) } }
                            td { @if let Some(seq) = s.decided_by { a href={ "#e" (seq) } { "#" (seq) } } @else { "—" } }
                            td { @if let Some(t) = s.since { (when(t)) } @else { "—" } }
                        }
                    }
                }
            }
        }
        h2 { (lang.t("events")) }
        table {
            thead { tr {
                th.num { "#" } th { (lang.t("time")) } th { (lang.t("action")) } th { (lang.t("scope")) }
                th { (lang.t("sender")) } th { (lang.t("source")) } th { (lang.t("actor")) }
                th { (lang.t("evidence")) } th { (lang.t("recorded_at")) }
            } }
            tbody {
                @for e in &view.history {
                    tr #{ "e" (e.seq) } class=[deciding.contains(&e.seq).then_some("mark")] {
                        td.num { (e.seq) } td { (when(e.at)) } td { (e.action.to_string()) }
                        td { (e.scope.to_string()) }
                        td { @if let Some(s) = e.sender { "#" (s) } @else { "—" } }
                        td { (e.source.to_string()) } td { (e.actor) } td { (e.evidence) }
                        td { (when(e.recorded_at)) }
                    }
                }
            }
        }
    };
    Ok(page(&user, lang.t("timeline"), body))
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_read_three_ways() {
        let want: jiff::Timestamp = "2026-11-11T10:31:00Z".parse().unwrap();
        assert_eq!(super::instant("2026-11-11T10:31:00Z"), Some(want));
        assert_eq!(super::instant("2026-11-11T10:31"), Some(want));
        let midnight: jiff::Timestamp = "2026-11-11T00:00:00Z".parse().unwrap();
        assert_eq!(super::instant("2026-11-11"), Some(midnight));
        assert_eq!(super::instant("2026-11-11 10:31"), Some(want));
        assert_eq!(super::instant("yesterday"), None);
    }
}

//! `/console/senders/{id}/consents`: a merchant's consent summary — how many phones consented,
//! refused it, refused every shop — and its latest recorded changes. Staff see any merchant's;
//! a merchant its own only (another's id is 404).

use axum::extract::State;
use domain::SenderId;
use maud::html;

use super::layout::{Failure, Page, page, when};
use super::session::User;
use crate::AppState;
use crate::path::{ApiPath, id_or_not_found};

/// `GET /console/senders/{id}/consents`.
pub(crate) async fn show(
    State(state): State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
) -> Result<Page, Failure> {
    let lang = user.lang;
    let id = SenderId(id_or_not_found("sender", &id).map_err(|e| Failure::from_api(lang, e))?);
    let by = user.user.principal();
    let s = state
        .run(move |gw| gw.consent_summary(by, id))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    let name = state.gateway.sender(id).map(|s| s.name).unwrap_or_default();
    let body = html! {
        p { "#" (s.sender_id) " " (name) }
        table.summary {
            tbody {
                tr { th { (lang.t("phones_known")) } td.num data-count="phones" { (s.phones) } }
                tr { th { (lang.t("consented")) } td.num data-count="consented" { (s.consented) } }
                tr { th { (lang.t("opted_out")) } td.num data-count="refused" { (s.refused) } }
                tr { th { (lang.t("platform_opted_out")) } td.num data-count="refused_all" { (s.refused_all) } }
                @if s.no_consent > 0 {
                    tr { th { (lang.t("no_consent")) } td.num data-count="no_consent" { (s.no_consent) } }
                }
            }
        }
        h2 { (lang.t("recent_changes")) }
        @if s.recent.is_empty() { p { (lang.t("no_results")) } }
        @else {
            table {
                thead { tr {
                    th { (lang.t("time")) } th { (lang.t("phone")) } th { (lang.t("action")) }
                    th { (lang.t("source")) } th { (lang.t("actor")) } th { (lang.t("recorded_at")) }
                } }
                tbody {
                    @for e in &s.recent {
                        tr {
                            td { (when(e.at)) }
                            td { (e.phone) }
                            td { (e.action.as_str()) }
                            td { (e.source.as_str()) }
                            td { (e.actor) }
                            td { (when(e.recorded_at)) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&user, lang.t("consents_summary"), body))
}

//! `/console/audit`: the audit chain's head, and a "verify now" button that recomputes every
//! record digest and block hash and names the first broken record, if any.

use axum::extract::State;
use maud::{Markup, html};
use store::{AuditHead, AuditLog, AuditReport};

use super::i18n::Lang;
use super::layout::{Failure, Page, page};
use super::session::{Fields, User};
use crate::AppState;

fn body(lang: Lang, csrf: &str, head: &AuditHead, report: Option<&AuditReport>) -> Markup {
    html! {
        h2 { (lang.t("audit_head")) }
        table {
            tr { th { (lang.t("blocks")) } td { (head.blocks) } }
            tr { th { (lang.t("records")) } td { (head.records) } }
            tr { th { (lang.t("hash")) } td { code #head-hash { (head.hash) } } }
        }
        form.card method="post" action="/console/audit/verify" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (lang.t("verify_now")) }
        }
        @if let Some(r) = report {
            div.card role="status" #verify-result {
                @match &r.broken {
                    None => p.ok { (lang.t("chain_intact")) ": " (r.blocks) " " (lang.t("blocks")) ", " (r.records) " " (lang.t("records")) },
                    Some(b) => {
                        p.error { (lang.t("chain_broken")) }
                        p { (lang.t("first_broken")) ": " code { (b.to_string()) } }
                    }
                }
                p { (lang.t("hash")) ": " code { (r.head) } }
            }
        }
    }
}

/// `GET /console/audit` (staff).
pub(crate) async fn page_get(State(state): State<AppState>, user: User) -> Result<Page, Failure> {
    user.staff()?;
    let lang = user.lang;
    let head = state
        .run(|gw| Ok(gw.store().audit_head()?))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    Ok(page(
        &user,
        lang.t("audit"),
        body(lang, &user.user.session.csrf, &head, None),
    ))
}

/// `POST /console/audit/verify`: runs the check (a read; auditors may run it too).
pub(crate) async fn verify(
    State(state): State<AppState>,
    user: User,
    form: Fields,
) -> Result<Page, Failure> {
    user.staff()?;
    user.check(&form, false)?;
    let lang = user.lang;
    let (head, report) = state
        .run(|gw| Ok((gw.store().audit_head()?, gw.store().verify_audit()?)))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    Ok(page(
        &user,
        lang.t("audit"),
        body(lang, &user.user.session.csrf, &head, Some(&report)),
    ))
}

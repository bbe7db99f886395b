//! `/console/accounts`: the operator's list of console accounts, and disabling or enabling
//! one. A disabled account cannot sign in, and disabling it ends its sessions at once (they
//! are rows in the shared store, so on every node). Operators only: an auditor is refused
//! (403), a merchant does not see the page (404).

use axum::extract::State;
use axum::http::StatusCode;
use maud::html;
use store::AccountRole;

use super::layout::{Failure, Page, page, role_name, when};
use super::session::{Fields, User};
use crate::AppState;
use crate::path::{ApiPath, id_or_not_found};

fn operator_only(user: &User) -> Result<(), Failure> {
    user.staff()?;
    if user.user.account.role == AccountRole::Operator {
        Ok(())
    } else {
        Err(Failure::new(user.lang, StatusCode::FORBIDDEN, "forbidden"))
    }
}

/// `GET /console/accounts`.
pub(crate) async fn list(State(state): State<AppState>, user: User) -> Result<Page, Failure> {
    operator_only(&user)?;
    let lang = user.lang;
    let accounts = state
        .run(|gw| gw.accounts())
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    let me = user.user.account.id;
    let body = html! {
        table {
            thead { tr {
                th.num { (lang.t("id")) } th { (lang.t("name")) } th { (lang.t("role")) }
                th { (lang.t("created")) } th { (lang.t("status")) } th { "" }
            } }
            tbody {
                @for a in &accounts {
                    tr data-account=(a.name) {
                        td.num { (a.id) }
                        td { (a.name) }
                        td {
                            (role_name(lang, a.role))
                            @if let Some(s) = a.role.sender() { " " a href={ "/console/senders/" (s) } { "#" (s) } }
                        }
                        td { (when(a.created_at)) }
                        td {
                            @if a.disabled { span.tag.suspended { (lang.t("disabled")) } }
                            @else { span.tag.active { (lang.t("enabled")) } }
                        }
                        td {
                            @if a.id != me || a.disabled {
                                form.inline method="post" action={ "/console/accounts/" (a.id) "/disabled" } {
                                    input type="hidden" name="csrf" value=(user.user.session.csrf);
                                    input type="hidden" name="disabled" value=(if a.disabled { "0" } else { "1" });
                                    button type="submit" {
                                        (lang.t(if a.disabled { "enable" } else { "disable" }))
                                        span.visually-hidden { " " (a.name) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        p { (lang.t("accounts_hint")) }
    };
    Ok(page(&user, lang.t("accounts"), body))
}

/// `POST /console/accounts/{id}/disabled` with `disabled=1` (disable) or `0` (enable).
pub(crate) async fn set_disabled(
    State(state): State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
    form: Fields,
) -> Result<Page, Failure> {
    operator_only(&user)?;
    user.check(&form, true)?;
    let lang = user.lang;
    let id: u64 = id_or_not_found("account", &id).map_err(|e| Failure::from_api(lang, e))?;
    let disabled = match form.get("disabled") {
        Some("1") => true,
        Some("0") => false,
        _ => {
            return Err(Failure::new(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                "error",
            ));
        }
    };
    let by = user.user.account.clone();
    state
        .run(move |gw| gw.set_account_disabled(&by, id, disabled))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    list(State(state), user).await
}

//! The operator's changes to a sender from its console page: its name and signature (a
//! chained edit, under the registration's duplicate rule), and new SMPP and CMPP secrets
//! (chained credential changes), each secret shown once. Staff only, CSRF-checked like every
//! other form.

use domain::SenderId;
use maud::{Markup, html};
use store::SenderRecord;

use super::layout::{Failure, Page};
use super::senders::{secret_rows, sender_page};
use super::session::{Fields, User};
use crate::AppState;
use crate::path::{ApiPath, id_or_not_found};

/// The forms on a sender's page (the caller shows them to staff who may change things).
pub(crate) fn forms(user: &User, s: &SenderRecord) -> Markup {
    let lang = user.lang;
    let csrf = &user.user.session.csrf;
    html! {
        h2 { (lang.t("edit_sender")) }
        form.card method="post" action={ "/console/senders/" (s.id) "/edit" } {
            input type="hidden" name="csrf" value=(csrf);
            label for="edit-name" { (lang.t("name")) }
            input #edit-name name="name" required maxlength="100" value=(s.name);
            label for="edit-signature" { (lang.t("signature")) }
            input #edit-signature name="signature" maxlength="40" value=(s.signature);
            p { button type="submit" { (lang.t("save")) } }
        }
        h2 { (lang.t("set_smpp_password")) " / " (lang.t("set_cmpp_secret")) }
        div.card {
            p { (lang.t("secret_warning")) }
            form method="post" action={ "/console/senders/" (s.id) "/smpp-password" } {
                input type="hidden" name="csrf" value=(csrf);
                button.danger type="submit" { (lang.t("set_smpp_password")) }
            }
            form method="post" action={ "/console/senders/" (s.id) "/cmpp-secret" } {
                input type="hidden" name="csrf" value=(csrf);
                button.danger type="submit" { (lang.t("set_cmpp_secret")) }
            }
        }
    }
}

fn sender_id(user: &User, id: &str) -> Result<SenderId, Failure> {
    Ok(SenderId(
        id_or_not_found("sender", id).map_err(|e| Failure::from_api(user.lang, e))?,
    ))
}

/// `POST /console/senders/{id}/edit`: a new name and signature.
pub(crate) async fn edit(
    axum::extract::State(state): axum::extract::State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
    form: Fields,
) -> Result<Page, Failure> {
    user.staff()?;
    user.check(&form, true)?;
    let lang = user.lang;
    let id = sender_id(&user, &id)?;
    let name = form.get("name").unwrap_or("").to_string();
    let signature = form.get("signature").unwrap_or("").to_string();
    let actor = format!("console:{}", user.user.account.name);
    state
        .run(move |gw| gw.edit_sender(id, &name, &signature, &actor))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    sender_page(&state, &user, id, None).await
}

/// What a secret reset shows once: two (label key, value) rows.
type SecretRows = [(&'static str, String); 2];

/// Runs `reset` for the sender and shows its page with the new secret's rows, once.
async fn new_secret<F>(
    state: AppState,
    user: User,
    id: String,
    form: Fields,
    reset: F,
) -> Result<Page, Failure>
where
    F: FnOnce(&gateway::Gateway, SenderId) -> Result<SecretRows, gateway::GatewayError>
        + Send
        + 'static,
{
    user.staff()?;
    user.check(&form, true)?;
    let lang = user.lang;
    let id = sender_id(&user, &id)?;
    let rows = state
        .run(move |gw| reset(gw, id))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    let shown: Vec<(&str, &str)> = rows.iter().map(|(k, v)| (lang.t(k), v.as_str())).collect();
    let notice = secret_rows(lang, &shown);
    sender_page(&state, &user, id, Some(notice)).await
}

/// `POST /console/senders/{id}/smpp-password`: new SMPP credentials, shown once.
pub(crate) async fn smpp_password(
    axum::extract::State(state): axum::extract::State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
    form: Fields,
) -> Result<Page, Failure> {
    new_secret(state, user, id, form, |gw, id| {
        let c = gw.reset_smpp_password(id)?;
        Ok([
            ("smpp_system_id", c.system_id),
            ("smpp_password", c.password),
        ])
    })
    .await
}

/// `POST /console/senders/{id}/cmpp-secret`: a new CMPP secret, shown once.
pub(crate) async fn cmpp_secret(
    axum::extract::State(state): axum::extract::State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
    form: Fields,
) -> Result<Page, Failure> {
    new_secret(state, user, id, form, |gw, id| {
        let c = gw.reset_cmpp_secret(id)?;
        Ok([
            ("cmpp_source_addr", c.source_addr),
            ("cmpp_secret", c.secret),
        ])
    })
    .await
}

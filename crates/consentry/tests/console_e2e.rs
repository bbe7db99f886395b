//! The web console over real HTTP without a browser: sessions, CSRF, roles, the attempt
//! limits, idle expiry and a merchant's view. (`console_browser.rs` drives the same pages in
//! Chromium.)
#![allow(clippy::unwrap_used)]

mod common;

use jiff::SignedDuration;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode, redirect};
use store::AccountRole;

/// A browser in miniature: keeps the console's cookies, never follows redirects.
struct Browser {
    base: String,
    http: Client,
    cookies: Vec<(String, String)>,
    /// The last `Set-Cookie` headers, as sent.
    set: Vec<String>,
}

fn csrf_of(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a csrf field");
    let rest = &html[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

impl Browser {
    fn new(base: &str) -> Self {
        Browser {
            base: base.to_string(),
            http: Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
            set: Vec::new(),
        }
    }

    fn keep(&mut self, resp: &reqwest::Response) {
        self.set = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for c in &self.set {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !v.is_empty() {
                self.cookies.push((k.to_string(), v.to_string()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("accept-language", "en-US")
            .send()
            .await
            .unwrap();
        self.keep(&resp);
        let status = resp.status();
        let location = resp
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_string());
        let body = resp.text().await.unwrap();
        (status, location.unwrap_or(body))
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("accept-language", "en-US")
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&resp);
        let status = resp.status();
        let location = resp
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_string());
        let body = resp.text().await.unwrap();
        (status, location.unwrap_or(body))
    }

    async fn sign_in(&mut self, name: &str, password: &str) -> StatusCode {
        let (_, page) = self.get("/console/signin").await;
        let csrf = csrf_of(&page);
        self.post(
            "/console/signin",
            &[("csrf", &csrf), ("name", name), ("password", password)],
        )
        .await
        .0
    }

    /// The CSRF token of the session (from any console page's sign-out form).
    async fn csrf(&mut self) -> String {
        let (s, page) = self.get("/console").await;
        assert_eq!(s, StatusCode::OK, "{page}");
        csrf_of(&page)
    }
}

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn an_operator_signs_in_with_a_strict_cookie_and_every_form_needs_the_session_token() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    srv.gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    let mut b = Browser::new(&srv.base);

    assert_eq!(
        b.get("/console").await,
        (StatusCode::SEE_OTHER, "/console/signin".into())
    );
    // The sign-in form itself needs its token.
    b.get("/console/signin").await;
    let (s, _) = b
        .post("/console/signin", &[("name", "li"), ("password", PASSWORD)])
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    assert_eq!(b.sign_in("li", PASSWORD).await, StatusCode::SEE_OTHER);
    let session = b
        .set
        .iter()
        .find(|c| c.starts_with("cs_session="))
        .unwrap()
        .clone();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(
        !session.contains("Secure"),
        "plain HTTP: a Secure cookie would be dropped"
    );

    let (s, page) = b.get("/console").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("<svg") && page.contains("Decisions by status"),
        "{page}"
    );
    let csrf = b.csrf().await;

    // A form without the token, or with another, is refused and changes nothing.
    let before = srv.gateway.senders().len();
    for bad in ["", "0000"] {
        let (s, _) = b
            .post("/console/senders", &[("csrf", bad), ("name", "Evil")])
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    assert_eq!(srv.gateway.senders().len(), before);

    let (s, page) = b
        .post(
            "/console/senders",
            &[
                ("csrf", &csrf),
                ("name", "茶叶旗舰店"),
                ("signature", "【茶叶】"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("cs_live_"), "the key is shown once: {page}");
    let id = srv.gateway.senders().last().unwrap().id;

    // Suspend with a reason, then lift: the sender's record says so.
    let path = format!("/console/senders/{id}/suspension");
    let (s, page) = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("action", "suspend"),
                ("reason", "complaints under review"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(srv.gateway.sender(id).unwrap().suspended);
    assert!(
        page.contains("console:li"),
        "the change names the person: {page}"
    );
    let (s, _) = b
        .post(
            &path,
            &[("csrf", &csrf), ("action", "lift"), ("reason", "reviewed")],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(!srv.gateway.sender(id).unwrap().suspended);

    // Sign-out ends the session: the old cookie opens nothing.
    let old = b.cookies.clone();
    let (s, _) = b.post("/console/signout", &[("csrf", &csrf)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    b.cookies = old;
    assert_eq!(b.get("/console").await.0, StatusCode::SEE_OTHER);

    // Behind a TLS proxy the cookie is Secure.
    let resp = Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/console/signin", srv.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let c = resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(c.contains("Secure"), "{c}");
    let csp = resp
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
}

#[tokio::test]
async fn ten_wrong_passwords_lock_the_account_for_the_window_even_for_the_right_one() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    srv.gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    let mut b = Browser::new(&srv.base);
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(b.sign_in("li", "wrong password!").await);
    }
    assert_eq!(&statuses[..5], &[StatusCode::UNAUTHORIZED; 5]);
    assert_eq!(&statuses[5..], &[StatusCode::TOO_MANY_REQUESTS; 5]);
    assert_eq!(
        b.sign_in("li", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Unknown names are counted the same way and answer like a wrong password.
    assert_eq!(
        b.sign_in("nobody", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    // After the window the right password works again.
    srv.clock.advance(SignedDuration::from_mins(16));
    assert_eq!(b.sign_in("li", PASSWORD).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_session_ends_after_thirty_idle_minutes() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    srv.gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    let mut b = Browser::new(&srv.base);
    assert_eq!(b.sign_in("li", PASSWORD).await, StatusCode::SEE_OTHER);
    srv.clock.advance(SignedDuration::from_mins(20));
    assert_eq!(
        b.get("/console").await.0,
        StatusCode::OK,
        "used within the idle time"
    );
    srv.clock.advance(SignedDuration::from_mins(25));
    assert_eq!(
        b.get("/console").await.0,
        StatusCode::OK,
        "idle time counts from the last use"
    );
    srv.clock.advance(SignedDuration::from_mins(31));
    assert_eq!(
        b.get("/console").await,
        (StatusCode::SEE_OTHER, "/console/signin".into())
    );
}

#[tokio::test]
async fn an_auditor_reads_every_page_and_is_refused_every_change() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    let (id, _key) = srv.shop("Tea").await;
    srv.gateway
        .create_account("regulator", AccountRole::Auditor, PASSWORD)
        .unwrap();
    let mut b = Browser::new(&srv.base);
    assert_eq!(
        b.sign_in("regulator", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    for page in [
        "/console",
        "/console/senders",
        "/console/messages",
        "/console/audit",
        "/console/consents?phone=13800138000",
    ] {
        assert_eq!(b.get(page).await.0, StatusCode::OK, "{page}");
    }
    let csrf = b.csrf().await;
    for (path, form) in [
        ("/console/senders".to_string(), vec![("name", "X")]),
        (
            format!("/console/senders/{id}/suspension"),
            vec![("action", "suspend"), ("reason", "r")],
        ),
        (format!("/console/senders/{id}/key"), vec![]),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form);
        assert_eq!(b.post(&path, &f).await.0, StatusCode::FORBIDDEN, "{path}");
    }
    assert!(
        !srv.gateway
            .sender(domain::SenderId(u32::try_from(id).unwrap()))
            .unwrap()
            .suspended
    );
    // Verifying the audit chain only reads: the auditor may.
    let (s, page) = b.post("/console/audit/verify", &[("csrf", &csrf)]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("intact"), "{page}");
}

/// An operator renames a sender and sets new SMPP and CMPP secrets from its page (each secret
/// shown once, each change chained); the duplicate rule holds, an auditor may do none of it,
/// and the chain verifies afterwards.
#[tokio::test]
async fn an_operator_edits_a_sender_and_sets_new_secrets_from_its_page() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    let (id, _) = srv.shop("Tea").await;
    srv.shop("Coffee").await;
    srv.gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    srv.gateway
        .create_account("regulator", AccountRole::Auditor, PASSWORD)
        .unwrap();
    let mut b = Browser::new(&srv.base);
    assert_eq!(b.sign_in("li", PASSWORD).await, StatusCode::SEE_OTHER);
    let (s, page) = b.get(&format!("/console/senders/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Edit name and signature"), "{page}");
    let csrf = b.csrf().await;
    let edit = format!("/console/senders/{id}/edit");
    let (s, _) = b
        .post(&edit, &[("name", "Green Tea"), ("signature", "【绿茶】")])
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no token, no change");
    let (s, page) = b
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("name", "Green Tea"),
                ("signature", "【绿茶】"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("Green Tea") && page.contains("【绿茶】"),
        "{page}"
    );
    let sender = srv
        .gateway
        .sender(domain::SenderId(u32::try_from(id).unwrap()))
        .unwrap();
    assert_eq!(sender.name, "Green Tea");
    let (s, _) = b
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("name", "Coffee"),
                ("signature", "【Coffee】"),
            ],
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "another sender's name and signature"
    );

    let (s, page) = b
        .post(
            &format!("/console/senders/{id}/smpp-password"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("SMPP password") && page.contains("Shown only this once"),
        "{page}"
    );
    let (s, page) = b
        .post(
            &format!("/console/senders/{id}/cmpp-secret"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("CMPP secret") && page.contains("Shown only this once"),
        "{page}"
    );
    let (s, page) = b.post("/console/audit/verify", &[("csrf", &csrf)]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("intact"), "{page}");

    let mut a = Browser::new(&srv.base);
    assert_eq!(
        a.sign_in("regulator", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let (_, page) = a.get(&format!("/console/senders/{id}")).await;
    assert!(!page.contains("Edit name and signature"), "{page}");
    let csrf = a.csrf().await;
    for path in ["edit", "smpp-password", "cmpp-secret"] {
        let (s, _) = a
            .post(
                &format!("/console/senders/{id}/{path}"),
                &[("csrf", &csrf), ("name", "Mine"), ("signature", "")],
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        srv.gateway
            .sender(domain::SenderId(u32::try_from(id).unwrap()))
            .unwrap()
            .name,
        "Green Tea"
    );
}

#[tokio::test]
async fn a_merchant_sets_up_with_its_key_once_and_sees_only_its_own_messages() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    let (_a, key_a) = srv.shop("Alpha").await;
    let (_b, key_b) = srv.shop("Beta").await;
    let own = srv
        .send(
            &key_a,
            "13800138000",
            "【Alpha】您的订单已发货",
            "transactional",
        )
        .await;
    let other = srv
        .send(
            &key_b,
            "13800138000",
            "【Beta】您的订单已发货",
            "transactional",
        )
        .await;
    let (own, other) = (own["id"].as_u64().unwrap(), other["id"].as_u64().unwrap());

    let mut b = Browser::new(&srv.base);
    let (_, page) = b.get("/console/setup").await;
    let csrf = csrf_of(&page);
    let (s, _) = b
        .post(
            "/console/setup",
            &[
                ("csrf", &csrf),
                ("api_key", "cs_live_wrong"),
                ("name", "alpha"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, to) = b
        .post(
            "/console/setup",
            &[
                ("csrf", &csrf),
                ("api_key", &key_a),
                ("name", "alpha"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (s, to.as_str()),
        (StatusCode::SEE_OTHER, "/console/signin?created=1")
    );
    // Once: the key cannot make a second account.
    let (s, _) = b
        .post(
            "/console/setup",
            &[
                ("csrf", &csrf),
                ("api_key", &key_a),
                ("name", "alpha2"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    assert_eq!(b.sign_in("alpha", PASSWORD).await, StatusCode::SEE_OTHER);
    let (s, page) = b.get("/console/messages").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains(&format!("/console/messages/{own}\"")),
        "{page}"
    );
    assert!(
        !page.contains(&format!("/console/messages/{other}\"")),
        "{page}"
    );
    // Asking for the other sender's messages still shows only its own.
    let (_, page) = b.get("/console/messages?sender=2").await;
    assert!(
        !page.contains(&format!("/console/messages/{other}\"")),
        "{page}"
    );
    assert_eq!(
        b.get(&format!("/console/messages/{own}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        b.get(&format!("/console/messages/{other}")).await.0,
        StatusCode::NOT_FOUND
    );
    for staff_only in [
        "/console/senders",
        "/console/senders/2",
        "/console/audit",
        "/console/consents",
    ] {
        assert_eq!(
            b.get(staff_only).await.0,
            StatusCode::NOT_FOUND,
            "{staff_only}"
        );
    }
    // Its own key rotates; the old one stops working.
    let csrf = b.csrf().await;
    let (s, page) = b.post("/console/senders/1/key", &[("csrf", &csrf)]).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let (s, _) = srv.get(&format!("/v1/messages/{own}"), &key_a).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let _ = key_b;
}

#[tokio::test]
async fn the_message_search_and_key_rotation_have_api_routes() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    let (a, key_a) = srv.shop("Alpha").await;
    let (_b, key_b) = srv.shop("Beta").await;
    for i in 0..3 {
        srv.send(
            &key_a,
            "13800138000",
            &format!("【Alpha】订单{i}已发货"),
            "transactional",
        )
        .await;
    }
    srv.send(&key_b, "13800138000", "【Beta】订单已发货", "transactional")
        .await;
    let (s, v) = srv
        .get("/v1/messages?phone=13800138000&limit=2", &srv.admin)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["messages"].as_array().unwrap().len(), 2);
    let next = v["next_before"].as_u64().unwrap();
    let (_, v) = srv
        .get(
            &format!("/v1/messages?phone=13800138000&before={next}"),
            &srv.admin,
        )
        .await;
    assert_eq!(v["messages"].as_array().unwrap().len(), 2);
    assert!(v["next_before"].is_null());
    // A sender finds only its own, whatever it asks for.
    let (_, v) = srv.get("/v1/messages?sender=2", &key_a).await;
    assert!(
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["sender_id"] == a),
        "{v}"
    );
    let (s, v) = srv.get("/v1/messages?status=maybe", &srv.admin).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_query"))
    );

    let (s, v) = srv
        .post(
            &format!("/v1/senders/{a}/key"),
            &key_b,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "another sender's key is not its to rotate: {v}"
    );
    let (s, v) = srv
        .post(
            &format!("/v1/senders/{a}/key"),
            &srv.admin,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let new = v["api_key"].as_str().unwrap();
    assert_eq!(
        srv.get("/v1/messages", &key_a).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(srv.get("/v1/messages", new).await.0, StatusCode::OK);
    let (_, doc) = srv
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert!(doc["paths"]["/v1/senders/{id}/key"]["post"].is_object());
    assert!(doc["paths"]["/v1/messages"]["get"].is_object());
}

/// 11:00 in Shanghai: outside quiet hours, so marketing goes out.
const MORNING: &str = "2026-11-11T03:00:00Z";

fn ad(shop: &str) -> String {
    format!("【{shop}】双11狂欢，全场5折起，点击领券，回T退订")
}

/// Marketing from `key` to `to` on a consent the shop recorded itself, handed to the loopback
/// carrier; its id.
async fn sent_ad(srv: &common::Server, key: &str, shop: &str, to: &str) -> u64 {
    srv.consent(key, to, "opt_in", "sender").await;
    let d = srv.send(key, to, &ad(shop), "marketing").await;
    assert_eq!(d["status"], "accepted", "{d}");
    let inbox = srv.inbox(to).await;
    assert!(inbox.iter().any(|m| m["id"] == d["id"]), "{inbox:?}");
    d["id"].as_u64().unwrap()
}

/// Files a complaint as the admin; its id and verdict.
async fn filed(srv: &common::Server, body: serde_json::Value) -> (u64, String) {
    let (s, v) = srv.post("/v1/complaints", &srv.admin, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (
        v["complaint"]["id"].as_u64().unwrap(),
        v["complaint"]["adjudication"]["verdict"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// Complaints of each verdict: Beta's disputed self-asserted consent (violation), a complaint
/// of kind `other` about Alpha's message (no violation), and one naming Alpha about a phone it
/// never sent to (unverified).
async fn three_complaints(srv: &common::Server) -> ((u64, String), (u64, String), [u64; 3]) {
    let (a, key_a) = srv.shop("Alpha").await;
    let (b, key_b) = srv.shop("Beta").await;
    let m_a = sent_ad(srv, &key_a, "Alpha", "13800000001").await;
    let m_b = sent_ad(srv, &key_b, "Beta", "13800000002").await;
    srv.clock.advance(SignedDuration::from_hours(1));
    let (violation, v) = filed(
        srv,
        serde_json::json!({"phone": "13800000002", "message_id": m_b, "kind": "unwanted_marketing"}),
    )
    .await;
    assert_eq!(v, "violation");
    let (lawful, v) = filed(
        srv,
        serde_json::json!({"phone": "13800000001", "message_id": m_a, "kind": "other",
                           "note": "the complainant's own words"}),
    )
    .await;
    assert_eq!(v, "no_violation");
    let (unverified, v) = filed(
        srv,
        serde_json::json!({"phone": "13800000003", "sender_id": a, "kind": "unwanted_marketing"}),
    )
    .await;
    assert_eq!(v, "unverified");
    ((a, key_a), (b, key_b), [violation, lawful, unverified])
}

/// The ids of the complaints a queue page links to, in order.
fn complaint_links(page: &str) -> Vec<u64> {
    page.match_indices("href=\"/console/complaints/")
        .filter_map(|(at, m)| {
            let rest = &page[at + m.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

#[tokio::test]
async fn the_complaints_queue_filters_by_verdict_and_sender_and_a_complaint_downloads_its_evidence()
{
    let srv = common::start(MORNING).await;
    let ((a, _), (b, _), [violation, lawful, unverified]) = three_complaints(&srv).await;
    srv.gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    let mut op = Browser::new(&srv.base);
    assert_eq!(op.sign_in("li", PASSWORD).await, StatusCode::SEE_OTHER);

    let (s, page) = op.get("/console/complaints").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(complaint_links(&page), [unverified, lawful, violation]);
    let (_, page) = op.get("/console/complaints?verdict=violation").await;
    assert_eq!(complaint_links(&page), [violation]);
    let (_, page) = op.get(&format!("/console/complaints?sender={a}")).await;
    assert_eq!(complaint_links(&page), [unverified, lawful]);
    let (_, page) = op
        .get(&format!(
            "/console/complaints?sender={a}&verdict=no_violation"
        ))
        .await;
    assert_eq!(complaint_links(&page), [lawful]);
    let (_, page) = op.get(&format!("/console/complaints?sender={b}")).await;
    assert_eq!(complaint_links(&page), [violation]);
    // Paging: everything older than the newest.
    let (_, page) = op
        .get(&format!("/console/complaints?before={unverified}"))
        .await;
    assert_eq!(complaint_links(&page), [lawful, violation]);
    for bad in [
        "/console/complaints?verdict=guilty",
        "/console/complaints?sender=x",
        "/console/complaints?before=-1",
    ] {
        let (s, page) = op.get(bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(page.contains("(invalid_query)"), "{bad}: {page}");
    }

    let (s, page) = op.get(&format!("/console/complaints/{violation}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("tag violation"), "{page}");
    assert!(page.contains("asserted_consent_disputed"), "{page}");
    assert!(
        page.contains("13800000002"),
        "the operator sees the phone: {page}"
    );
    assert!(
        page.contains(&format!("/console/complaints/{violation}/evidence")),
        "{page}"
    );
    let (_, page) = op.get(&format!("/console/complaints/{lawful}")).await;
    assert!(page.contains("the complainant's own words"), "{page}");
    assert_eq!(
        op.get("/console/complaints/999999").await.0,
        StatusCode::NOT_FOUND
    );

    let resp = op
        .http
        .get(format!(
            "{}/console/complaints/{violation}/evidence",
            srv.base
        ))
        .header(COOKIE, op.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-disposition"],
        format!("attachment; filename=\"complaint-{violation}-evidence.json\"").as_str()
    );
    let bundle: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(bundle["format"], gateway::EVIDENCE_FORMAT);
    assert_eq!(bundle["complaint"]["id"], violation);
    assert!(!bundle["audit"]["proofs"].as_array().unwrap().is_empty());
    // Without a session the bundle is not handed out.
    let resp = op
        .http
        .get(format!(
            "{}/console/complaints/{violation}/evidence",
            srv.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_merchant_sees_only_the_complaints_against_it_and_an_auditor_reads_but_cannot_act() {
    let srv = common::start(MORNING).await;
    let ((a, _), (b, _), [violation, lawful, unverified]) = three_complaints(&srv).await;
    let alpha = domain::SenderId(u32::try_from(a).unwrap());
    srv.gateway
        .create_account("alpha", AccountRole::Merchant(alpha), PASSWORD)
        .unwrap();
    let mut m = Browser::new(&srv.base);
    assert_eq!(m.sign_in("alpha", PASSWORD).await, StatusCode::SEE_OTHER);
    let (s, page) = m.get("/console/complaints").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    // Its own lawful one; not Beta's, not the unverified one naming it.
    assert_eq!(complaint_links(&page), [lawful]);
    let (_, page) = m.get(&format!("/console/complaints?sender={b}")).await;
    assert_eq!(
        complaint_links(&page),
        [lawful],
        "the filter is not its to widen"
    );
    let (s, page) = m.get(&format!("/console/complaints/{lawful}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        !page.contains("own words"),
        "a merchant never reads the note: {page}"
    );
    assert!(!page.contains("13800000001"), "nor the phone: {page}");
    for other in [
        format!("/console/complaints/{violation}"),
        format!("/console/complaints/{violation}/evidence"),
        format!("/console/complaints/{unverified}"),
    ] {
        assert_eq!(m.get(&other).await.0, StatusCode::NOT_FOUND, "{other}");
    }
    // The merchant's evidence hides the complainant's number everywhere, chained records
    // included; those proofs say so and still sit in their blocks.
    let (s, bundle) = m
        .get(&format!("/console/complaints/{lawful}/evidence"))
        .await;
    assert_eq!(s, StatusCode::OK, "{bundle}");
    assert!(!bundle.contains("13800000001"), "{bundle}");
    let bundle: serde_json::Value = serde_json::from_str(&bundle).unwrap();
    assert_eq!(bundle["complaint"]["phone"], "+*********0001");
    assert_eq!(bundle["redacted"]["complainant_phone"], "+*********0001");
    let proofs: Vec<store::AuditProof> =
        serde_json::from_value(bundle["audit"]["proofs"].clone()).unwrap();
    assert!(proofs.iter().any(|p| p.redacted), "{bundle}");
    for p in &proofs {
        store::audit::offline::check_proof(p).unwrap();
    }
    // And the whole masked bundle holds offline against the published head, saying so.
    let (_, head) = srv
        .call(reqwest::Method::GET, "/v1/audit/head", None, None)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("evidence.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["evidence", "verify"])
        .arg(&file)
        .args(["--head", &head.to_string()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("masked for a merchant"), "{said}");
    // The operator's copy is whole.
    let (_, whole) = srv
        .get(&format!("/v1/complaints/{lawful}/evidence"), &srv.admin)
        .await;
    assert_eq!(whole["complaint"]["phone"], "+8613800000001");
    assert!(whole.get("redacted").is_none());

    srv.gateway
        .create_account("regulator", AccountRole::Auditor, PASSWORD)
        .unwrap();
    let mut r = Browser::new(&srv.base);
    assert_eq!(
        r.sign_in("regulator", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    for page in [
        "/console/complaints".to_string(),
        format!("/console/complaints/{violation}"),
        format!("/console/complaints/{violation}/evidence"),
        "/console/reports".to_string(),
        "/console/reports/csv".to_string(),
    ] {
        assert_eq!(r.get(&page).await.0, StatusCode::OK, "{page}");
    }
    // Acting on what the complaint shows — suspending the sender — is the operator's.
    let csrf = r.csrf().await;
    let (s, _) = r
        .post(
            &format!("/console/senders/{b}/suspension"),
            &[
                ("csrf", &csrf),
                ("action", "suspend"),
                ("reason", "complaint"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        r.post("/console/complaints", &[("csrf", &csrf)]).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn the_sender_report_page_draws_charts_exports_csv_and_reads_a_time_of_day() {
    let srv = common::start(MORNING).await;
    let ((a, _), (_b, _), _) = three_complaints(&srv).await;
    srv.gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    let mut op = Browser::new(&srv.base);
    assert_eq!(op.sign_in("li", PASSWORD).await, StatusCode::SEE_OTHER);
    let (s, page) = op
        .get("/console/reports?from=2026-11-11&to=2026-11-12")
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("<svg"), "{page}");
    assert!(page.contains("Alpha") && page.contains("Beta"), "{page}");
    assert!(
        page.contains("Unverified complaints (counted against no sender): 1"),
        "{page}"
    );
    // A datetime-local value keeps its time of day (it used to read as midnight).
    let (_, page) = op
        .get("/console/reports?from=2026-11-11T10%3A31&to=2026-11-12")
        .await;
    assert!(page.contains("2026-11-11 10:31:00 UTC"), "{page}");
    for bad in [
        "/console/reports?from=yesterday",
        "/console/reports?from=2026-11-12&to=2026-11-11",
    ] {
        assert_eq!(
            op.get(bad).await.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }

    let resp = op
        .http
        .get(format!(
            "{}/console/reports/csv?from=2026-11-11&to=2026-11-12",
            srv.base
        ))
        .header(COOKIE, op.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("sender_id,name,sent,"), "{csv}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{a},Alpha,1,1,"))),
        "{csv}"
    );
    assert!(lines.iter().any(|l| l.contains(",Beta,")), "{csv}");

    // A merchant's report is its own row.
    srv.gateway
        .create_account(
            "alpha",
            AccountRole::Merchant(domain::SenderId(u32::try_from(a).unwrap())),
            PASSWORD,
        )
        .unwrap();
    let mut m = Browser::new(&srv.base);
    assert_eq!(m.sign_in("alpha", PASSWORD).await, StatusCode::SEE_OTHER);
    let (s, page) = m.get("/console/reports").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("Alpha") && !page.contains("Beta"), "{page}");
    let (_, csv) = m.get("/console/reports/csv").await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(!csv.contains("Beta"), "{csv}");
}

/// A portal session for `phone`: asks for a code, reads it from the handset, exchanges it.
async fn portal_login(srv: &common::Server, phone: &str) -> String {
    let (s, v) = srv
        .call(
            reqwest::Method::POST,
            "/v1/portal/code",
            None,
            Some(serde_json::json!({"phone": phone})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let inbox = srv.inbox(phone).await;
    let text = inbox
        .iter()
        .rev()
        .find(|m| m["category"] == "verification")
        .and_then(|m| m["text"].as_str())
        .expect("a verification SMS")
        .to_string();
    let code = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("six digits");
    let (s, v) = srv
        .call(
            reqwest::Method::POST,
            "/v1/portal/session",
            None,
            Some(serde_json::json!({"phone": phone, "code": code})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_consumer_files_a_complaint_about_a_message_sent_to_their_number() {
    let srv = common::start(MORNING).await;
    let (a, key_a) = srv.shop("Alpha").await;
    let own = sent_ad(&srv, &key_a, "Alpha", "13800000001").await;
    let elsewhere = sent_ad(&srv, &key_a, "Alpha", "13800000002").await;
    let token = portal_login(&srv, "13800000001").await;

    let (s, v) = srv.get("/v1/portal/messages", &token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let listed = v["messages"].as_array().unwrap();
    // The shop's message, not the portal's own code SMS, not another number's.
    assert_eq!(listed.len(), 1, "{v}");
    assert_eq!(listed[0]["id"], own);
    assert_eq!(listed[0]["sender_id"], a);
    assert_eq!(listed[0]["sender_name"], "Alpha");

    let complaint = |body: serde_json::Value| {
        let (srv, token) = (&srv, token.clone());
        async move { srv.post("/v1/portal/complaints", &token, body).await }
    };
    let (s, v) = complaint(
        serde_json::json!({"message_id": own, "kind": "unwanted_marketing",
                                              "note": "从未同意"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["verdict"], "violation", "{v}");
    assert_eq!(v["message_id"], own);
    let id = v["id"].as_u64().unwrap();
    // Recorded as the consumer's own, on their proven number.
    let (_, c) = srv.get(&format!("/v1/complaints/{id}"), &srv.admin).await;
    assert_eq!(c["filed_by"], "consumer", "{c}");
    assert_eq!(c["phone"], "+8613800000001", "{c}");
    assert_eq!(c["note"], "从未同意");

    let (s, v) = complaint(serde_json::json!({"message_id": own, "kind": "fraud"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate_complaint")),
        "{v}"
    );
    let (s, v) = complaint(serde_json::json!({"message_id": elsewhere, "kind": "fraud"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_message")),
        "another number's message: {v}"
    );
    let (s, _) = complaint(serde_json::json!({"message_id": own, "kind": "spam"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = complaint(serde_json::json!({"kind": "fraud"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) =
        complaint(serde_json::json!({"message_id": own, "kind": "fraud", "phone": "13800000002"}))
            .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the number is the session's, not the body's"
    );
    let (s, _) = srv.get("/v1/portal/messages", "not-a-session").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = srv
        .post(
            "/v1/portal/complaints",
            "not-a-session",
            serde_json::json!({"message_id": own, "kind": "fraud"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");

    let (_, doc) = srv
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert!(doc["paths"]["/v1/portal/complaints"]["post"].is_object());
    assert!(doc["paths"]["/v1/portal/messages"]["get"].is_object());
    assert!(doc["paths"]["/v1/portal/complaints/pasted"]["post"].is_object());
    // The page signs the consumer in first (its forms: crates/consentry/tests/portal_pages).
    let (_, html) = srv.call(reqwest::Method::GET, "/portal", None, None).await;
    let html = html.as_str().unwrap();
    assert!(
        html.contains(r#"action="/portal/code""#) && html.contains("举报"),
        "{html}"
    );
}

#[tokio::test]
async fn the_complaints_api_filters_by_verdict_and_pages_with_next_before() {
    let srv = common::start(MORNING).await;
    let ((_, key_a), _, [violation, lawful, unverified]) = three_complaints(&srv).await;
    let ids = |v: &serde_json::Value| -> Vec<u64> {
        v["complaints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_u64().unwrap())
            .collect()
    };
    let (s, v) = srv
        .get("/v1/complaints?verdict=violation", &srv.admin)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), [violation]);
    let (_, v) = srv.get("/v1/complaints?limit=2", &srv.admin).await;
    assert_eq!(ids(&v), [unverified, lawful]);
    let next = v["next_before"].as_u64().unwrap();
    let (_, v) = srv
        .get(&format!("/v1/complaints?limit=2&before={next}"), &srv.admin)
        .await;
    assert_eq!(ids(&v), [violation]);
    assert!(v["next_before"].is_null(), "{v}");
    // A sender: its own, never the unverified ones.
    let (_, v) = srv.get("/v1/complaints", &key_a).await;
    assert_eq!(ids(&v), [lawful]);
    let (s, v) = srv.get("/v1/complaints?verdict=guilty", &srv.admin).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_query"))
    );
}

/// #12 "every list is paginated and sortable": the complaints queue sorts by filing, sender
/// and verdict either way in the store, through `/v1/complaints` (documented, `invalid_sort`
/// on a word it does not know, pages of other orders by `next_offset`) and the console's
/// column headers.
#[tokio::test]
async fn the_complaints_queue_sorts_by_filed_sender_and_verdict_both_ways() {
    let srv = common::start(MORNING).await;
    let ((_, key_a), _, [violation, lawful, unverified]) = three_complaints(&srv).await;
    let ids = |v: &serde_json::Value| -> Vec<u64> {
        v["complaints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_u64().unwrap())
            .collect()
    };
    // Alpha (lawful, unverified) was registered before Beta (violation); verdicts order as
    // no_violation < unverified < violation.
    for (q, want) in [
        ("sort=filed&dir=asc", [violation, lawful, unverified]),
        ("sort=filed", [unverified, lawful, violation]),
        ("sort=sender&dir=asc", [lawful, unverified, violation]),
        ("sort=sender&dir=desc", [violation, unverified, lawful]),
        ("sort=verdict&dir=asc", [lawful, unverified, violation]),
        ("sort=verdict", [violation, unverified, lawful]),
    ] {
        let (s, v) = srv.get(&format!("/v1/complaints?{q}"), &srv.admin).await;
        assert_eq!(s, StatusCode::OK, "{q}: {v}");
        assert_eq!(ids(&v), want, "{q}");
    }
    // Other orders page by offset.
    let (_, v) = srv
        .get("/v1/complaints?sort=verdict&limit=2", &srv.admin)
        .await;
    assert_eq!(ids(&v), [violation, unverified]);
    assert!(v["next_before"].is_null(), "{v}");
    assert_eq!(v["next_offset"], 2, "{v}");
    let (_, v) = srv
        .get("/v1/complaints?sort=verdict&limit=2&offset=2", &srv.admin)
        .await;
    assert_eq!(ids(&v), [lawful]);
    assert!(v["next_offset"].is_null(), "{v}");
    // Filters and sorts together; a merchant sorts its own (never the unverified).
    let (_, v) = srv
        .get(
            "/v1/complaints?verdict=unverified&sort=sender&dir=asc",
            &srv.admin,
        )
        .await;
    assert_eq!(ids(&v), [unverified]);
    let (_, v) = srv.get("/v1/complaints?sort=verdict&dir=asc", &key_a).await;
    assert_eq!(ids(&v), [lawful]);
    for (q, code) in [
        ("sort=text", "invalid_sort"),
        ("sort=filed&dir=up", "invalid_sort"),
        ("offset=10001", "invalid_filter"),
    ] {
        let (s, v) = srv.get(&format!("/v1/complaints?{q}"), &srv.admin).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{q}: {v}"
        );
    }
    let (_, doc) = srv
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    let get = &doc["paths"]["/v1/complaints"]["get"];
    let sort = get["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sort")
        .unwrap_or_else(|| panic!("{get}"));
    assert_eq!(
        sort["schema"]["enum"],
        serde_json::json!(["", "filed", "sender", "verdict"])
    );
    assert!(get["responses"]["400"].is_object(), "{get}");

    // The console: header links that sort, keeping the filters.
    srv.gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    let mut op = Browser::new(&srv.base);
    assert_eq!(op.sign_in("li", PASSWORD).await, StatusCode::SEE_OTHER);
    let (s, page) = op.get("/console/complaints?sort=sender&dir=asc").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(complaint_links(&page), [lawful, unverified, violation]);
    assert!(page.contains(r#"aria-sort="ascending""#), "{page}");
    assert!(
        page.contains("/console/complaints?verdict=&amp;sender=&amp;sort=sender&amp;dir=desc"),
        "the active header turns the order: {page}"
    );
    assert!(
        page.contains("/console/complaints?verdict=&amp;sender=&amp;sort=verdict&amp;dir=desc"),
        "{page}"
    );
    let (_, page) = op
        .get("/console/complaints?verdict=violation&sort=verdict")
        .await;
    assert_eq!(complaint_links(&page), [violation]);
    assert!(
        page.contains("verdict=violation&amp;sender=&amp;sort=filed"),
        "the filters stay in the sort links: {page}"
    );
    for q in ["sort=bogus", "dir=sideways"] {
        let (s, page) = op.get(&format!("/console/complaints?{q}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
        assert!(page.contains("(invalid_sort)"), "{q}: {page}");
    }
}

/// Regression (#12, item 5): the sender report's figures said other than they meant — the
/// rate counted cleared complaints against the limit, `reclassified_marketing` stood among
/// block reasons, the platform's own notices made an unnamed sender `0` row, a platform-wide
/// refusal counted nowhere, a suspension's `since` was the window start; two shops could share
/// a name and signature; a browser on `/reports/senders` got 401 JSON.
#[tokio::test]
async fn the_sender_report_counts_what_it_says() {
    let srv = common::start(MORNING).await;
    let ((a, _), (b, _), _) = three_complaints(&srv).await;
    let alpha_number = srv
        .gateway
        .sender(domain::SenderId(u32::try_from(a).unwrap()))
        .unwrap()
        .source_number;
    // A verification code hiding a sale: marketing rules apply (reclassified_marketing) and
    // refuse it for want of consent (no_consent).
    let classifier = gateway::ContentClassifier::from_config(&gateway::ClassifyConfig::default())
        .unwrap()
        .unwrap();
    assert!(srv.gateway.set_classifier(classifier));
    let (good, key_good) = srv.shop("好店").await;
    let d = srv
        .send(
            &key_good,
            "13800000009",
            "【好店】验证码001，双11全场5折，点击领取优惠券",
            "verification",
        )
        .await;
    let codes = common::codes(&d);
    assert!(
        codes.contains(&"reclassified_marketing".to_string())
            && codes.contains(&"no_consent".to_string()),
        "{d}"
    );
    // The operator records a refusal of every shop; a consumer replies T to Alpha, and the
    // platform confirms in its own name.
    let (s, v) = srv
        .post(
            "/v1/consents",
            &srv.admin,
            serde_json::json!({"phone": "13800000008", "action": "opt_out", "scope": "platform",
                               "source": "hotline", "evidence": "refused all shop marketing by phone"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let dir = tempfile::tempdir().unwrap();
    let carrier = srv
        .gateway
        .ensure_key(
            store::KeyRole::Carrier,
            "cs_carrier_",
            &dir.path().join("carrier.token"),
        )
        .unwrap()
        .unwrap();
    let (s, v) = srv
        .post(
            "/v1/inbound",
            &carrier,
            serde_json::json!({"from": "13800000001", "to": alpha_number, "text": "T"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["notice"].is_u64(), "a confirmation was queued: {v}");
    assert_eq!(
        srv.inbox("13800000001").await.len(),
        2,
        "the ad and the notice"
    );

    let (s, r) = srv
        .get(
            "/v1/reports/senders?from=2026-11-11&to=2026-11-12",
            &srv.admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let rows = r["senders"].as_array().unwrap();
    assert!(
        rows.iter().all(|x| x["sender_id"] != 0 && x["name"] != ""),
        "no unnamed platform row: {r}"
    );
    assert_eq!(r["platform_notices_sent"], 1, "{r}");
    assert_eq!(r["platform_opt_outs"], 1, "{r}");
    assert_eq!(r["unverified_complaints"], 1, "{r}");
    let row = |id: u64| rows.iter().find(|x| x["sender_id"] == id).unwrap();
    // Alpha's only counted complaint was cleared (no_violation): nothing against the limit.
    assert_eq!(
        (
            &row(a)["complaints"],
            &row(a)["upheld_phones"],
            &row(a)["complaint_rate_per_10k"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(0),
            &serde_json::json!(0.0)
        ),
        "{r}"
    );
    assert_eq!(row(a)["opt_outs"], 1, "{r}");
    assert_eq!(row(good)["blocked_by_reason"]["no_consent"], 1, "{r}");
    assert!(
        row(good)["blocked_by_reason"]
            .get("reclassified_marketing")
            .is_none(),
        "{r}"
    );
    assert_eq!(row(b)["upheld_phones"], 1, "{r}");
    assert_eq!(row(b)["complaint_rate_per_10k"], 10_000.0, "{r}");

    // A suspension's `since` is when it happened, not the window's start.
    let (_, v) = srv
        .get(&format!("/v1/senders/{b}/suspension"), &srv.admin)
        .await;
    assert!(v["since"].is_null(), "not suspended: {v}");
    srv.clock.advance(SignedDuration::from_hours(2));
    let (s, v) = srv
        .post(
            &format!("/v1/senders/{b}/suspension"),
            &srv.admin,
            serde_json::json!({"action": "suspend", "reason": "complaints under review"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let at = domain::Clock::now(&srv.clock);
    srv.clock.advance(SignedDuration::from_hours(5));
    let (_, v) = srv
        .get(&format!("/v1/senders/{b}/suspension"), &srv.admin)
        .await;
    assert_eq!(v["since"], serde_json::json!(at), "{v}");
    assert_ne!(v["record_since"], v["since"], "{v}");

    // A second shop with the same name and signature is refused, naming the first.
    let (s, v) = srv
        .post(
            "/v1/senders",
            &srv.admin,
            serde_json::json!({"name": " alpha ", "signature": "【Alpha】"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "duplicate_sender", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("sender {a}")),
        "{v}"
    );
    let (s, v) = srv
        .post(
            "/v1/senders",
            &srv.admin,
            serde_json::json!({"name": "Alpha", "signature": "【Alpha 二店】"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CREATED,
        "another signature is another shop: {v}"
    );

    // A browser on the regulator's page is sent to the console's report; a wrong key is 401.
    let mut anon = Browser::new(&srv.base);
    let (s, to) = anon
        .get("/reports/senders?from=2026-11-11&to=2026-11-12&format=json")
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(to, "/console/reports?from=2026-11-11&to=2026-11-12");
    let resp = srv
        .http
        .get(format!("{}/reports/senders", srv.base))
        .bearer_auth("cs_live_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // The console's report and sender page say the same.
    srv.gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    let mut op = Browser::new(&srv.base);
    assert_eq!(op.sign_in("li", PASSWORD).await, StatusCode::SEE_OTHER);
    let (s, page) = op
        .get("/console/reports?from=2026-11-11&to=2026-11-12")
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("Platform-wide opt-outs (stop every sender; counted against none): 1"),
        "{page}"
    );
    assert!(
        page.contains("in its own name (opt-out confirmations, help answers): 1"),
        "{page}"
    );
    assert!(!page.contains("reclassified_marketing"), "{page}");
    let (_, page) = op.get(&format!("/console/senders/{b}")).await;
    assert!(page.contains("since 2026-11-11 06:00:00 UTC"), "{page}");
    let csrf = op.csrf().await;
    let (s, page) = op
        .post(
            "/console/senders",
            &[("csrf", &csrf), ("name", "Beta"), ("signature", "【Beta】")],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("duplicate_sender"), "{page}");
}

/// The message ids linked from a console messages page, in the order shown.
fn message_links(page: &str) -> Vec<u64> {
    page.split("href=\"/console/messages/")
        .skip(1)
        .filter_map(|rest| rest[..rest.find('"')?].parse().ok())
        .collect()
}

fn api_ids(v: &serde_json::Value) -> Vec<u64> {
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn message_lists_sort_both_ways_filter_by_reason_category_and_day_and_refuse_bad_values() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    let (a, key_a) = srv.shop("Alpha").await;
    let (b, key_b) = srv.shop("Beta").await;
    let id = |v: serde_json::Value| v["id"].as_u64().unwrap();
    // Two notices from Alpha, then marketing from Beta and Alpha with no consent on record.
    let n1 = id(srv
        .send(
            &key_a,
            "13800138000",
            "【Alpha】您的订单已发货",
            "transactional",
        )
        .await);
    let n2 = id(srv
        .send(
            &key_a,
            "13800138001",
            "【Alpha】您的订单已签收",
            "transactional",
        )
        .await);
    let m_b = srv
        .send(&key_b, "13900139000", &ad("Beta"), "marketing")
        .await;
    assert_eq!(common::codes(&m_b), ["no_consent"], "{m_b}");
    let m_b = id(m_b);
    let m_a = id(srv
        .send(&key_a, "13800138000", &ad("Alpha"), "marketing")
        .await);

    let ask = |q: &str| {
        let q = q.to_string();
        let srv = &srv;
        async move {
            let (s, v) = srv.get(&format!("/v1/messages?{q}"), &srv.admin).await;
            assert_eq!(s, StatusCode::OK, "{q}: {v}");
            v
        }
    };
    assert_eq!(api_ids(&ask("").await), [m_a, m_b, n2, n1], "newest first");
    assert_eq!(
        api_ids(&ask("sort=id&dir=asc").await),
        [n1, n2, m_b, m_a],
        "oldest first"
    );
    assert_eq!(
        api_ids(&ask("sort=sender&dir=asc").await),
        [n1, n2, m_a, m_b],
        "by sender, ties by id"
    );
    assert_eq!(
        api_ids(&ask("sort=sender&dir=desc").await),
        [m_b, m_a, n2, n1],
        "by sender, the other way"
    );
    assert_eq!(
        api_ids(&ask("sort=status&dir=asc").await),
        [n1, n2, m_b, m_a],
        "accepted before rejected"
    );
    assert_eq!(
        api_ids(&ask("sort=phone&dir=desc").await),
        [m_b, n2, m_a, n1],
        "by phone, largest first"
    );
    // Pages of a sort other than newest first go by offset.
    let v = ask("sort=sender&dir=asc&limit=3").await;
    assert_eq!(api_ids(&v), [n1, n2, m_a]);
    assert!(v["next_before"].is_null(), "{v}");
    assert_eq!(v["next_offset"], 3, "{v}");
    let v = ask("sort=sender&dir=asc&limit=3&offset=3").await;
    assert_eq!(api_ids(&v), [m_b]);
    assert!(v["next_offset"].is_null(), "{v}");

    assert_eq!(api_ids(&ask("reason=no_consent").await), [m_a, m_b]);
    assert!(api_ids(&ask("reason=quiet_hours").await).is_empty());
    assert_eq!(
        api_ids(&ask("category=marketing&from=2026-12-01&to=2026-12-02").await),
        [m_a, m_b],
        "by category and day"
    );
    assert!(
        api_ids(&ask("category=marketing&from=2026-12-02").await).is_empty(),
        "the next day has none"
    );
    assert_eq!(
        api_ids(&ask(&format!("sender={a}&category=transactional")).await),
        [n2, n1]
    );
    // A sender's own only, sorted too.
    let (_, v) = srv
        .get("/v1/messages?sort=id&dir=asc&reason=no_consent", &key_b)
        .await;
    assert_eq!(api_ids(&v), [m_b]);

    for (q, code) in [
        ("sort=text", "invalid_sort"),
        ("sort=id&dir=up", "invalid_sort"),
        ("reason=nope", "invalid_filter"),
        ("category=spam", "invalid_filter"),
        ("from=yesterday", "invalid_filter"),
        ("to=2026-13-45", "invalid_filter"),
        ("offset=10001", "invalid_filter"),
    ] {
        let (s, v) = srv.get(&format!("/v1/messages?{q}"), &srv.admin).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{q}: {v}"
        );
    }
    let (_, doc) = srv
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert!(
        doc["paths"]["/v1/messages"]["get"]["responses"]["400"].is_object(),
        "{}",
        doc["paths"]["/v1/messages"]["get"]
    );
    let codes = &doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"];
    for code in ["invalid_sort", "invalid_filter"] {
        assert!(
            codes.as_array().unwrap().iter().any(|c| c == code),
            "{code}"
        );
    }

    // The console: the same words, sortable column headers that work without script.
    srv.gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    let mut op = Browser::new(&srv.base);
    assert_eq!(op.sign_in("li", PASSWORD).await, StatusCode::SEE_OTHER);
    let (s, page) = op.get("/console/messages").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(message_links(&page), [m_a, m_b, n2, n1]);
    // Each sortable header links to its order; the current one says so and links the other way.
    assert!(page.contains(r#"aria-sort="descending""#), "{page}");
    assert!(page.contains("sort=id&amp;dir=asc"), "{page}");
    assert!(page.contains("sort=sender&amp;dir=desc"), "{page}");
    let (_, page) = op.get("/console/messages?sort=sender&dir=asc").await;
    assert_eq!(message_links(&page), [n1, n2, m_a, m_b]);
    assert!(page.contains(r#"aria-sort="ascending""#), "{page}");
    assert!(page.contains("sort=sender&amp;dir=desc"), "{page}");
    let (_, page) = op.get("/console/messages?sort=sender&dir=desc").await;
    assert_eq!(message_links(&page), [m_b, m_a, n2, n1]);
    let (_, page) = op
        .get("/console/messages?reason=no_consent&category=marketing&from=2026-12-01&to=2026-12-02")
        .await;
    assert_eq!(message_links(&page), [m_a, m_b]);
    // The filters stay in the sort links, so sorting a search keeps the search.
    assert!(
        page.contains("reason=no_consent&amp;category=marketing"),
        "{page}"
    );
    for (q, code) in [
        ("sort=bogus", "invalid_sort"),
        ("dir=sideways", "invalid_sort"),
        ("reason=bogus", "invalid_filter"),
    ] {
        let (s, page) = op.get(&format!("/console/messages?{q}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
        assert!(page.contains(&format!("({code})")), "{q}: {page}");
    }
    // The senders list sorts too.
    let sender_links = |page: &str| -> Vec<u64> {
        page.split("<td><a href=\"/console/senders/")
            .skip(1)
            .filter_map(|rest| rest[..rest.find('"')?].parse().ok())
            .collect()
    };
    let (s, page) = op.get("/console/senders?sort=name&dir=desc").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(sender_links(&page), [b, a], "Beta before Alpha: {page}");
    assert!(page.contains("sort=name&amp;dir=asc"), "{page}");
    let (_, page) = op.get("/console/senders?sort=id").await;
    assert_eq!(sender_links(&page), [a, b]);
    let (s, page) = op.get("/console/senders?sort=signature").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(page.contains("(invalid_sort)"), "{page}");
}

#[tokio::test]
async fn a_merchant_reads_its_consent_summary_and_another_merchants_is_404() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    let (a, key_a) = srv.shop("Alpha").await;
    let (b, key_b) = srv.shop("Beta").await;
    for phone in ["13800138000", "13800138001", "13800138002"] {
        srv.consent(&key_a, phone, "opt_in", "sender").await;
    }
    srv.consent(&key_a, "13800138001", "opt_out", "sender")
        .await;
    srv.consent(&srv.admin, "13800138002", "opt_out", "platform")
        .await;
    srv.consent(&key_b, "13900139000", "opt_in", "sender").await;

    let (s, v) = srv.get(&format!("/v1/senders/{a}/consents"), &key_a).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            &v["phones"],
            &v["consented"],
            &v["refused"],
            &v["refused_all"]
        ),
        (
            &serde_json::json!(3),
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(1)
        ),
        "{v}"
    );
    let recent = v["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 4, "its own events only: {v}");
    assert_eq!(recent[0]["action"], "opt_out", "the latest first: {v}");
    // Another merchant's summary does not exist for it; the operator reads any.
    let (s, v) = srv.get(&format!("/v1/senders/{b}/consents"), &key_a).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{v}"
    );
    let (s, v) = srv
        .get(&format!("/v1/senders/{b}/consents"), &srv.admin)
        .await;
    assert_eq!(
        (s, &v["consented"]),
        (StatusCode::OK, &serde_json::json!(1))
    );
    for bad in ["999", "x"] {
        let (s, _) = srv
            .get(&format!("/v1/senders/{bad}/consents"), &srv.admin)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    }

    // The console page: its own, and another's id is 404.
    let sender_a = domain::SenderId(u32::try_from(a).unwrap());
    srv.gateway
        .create_account("alpha", AccountRole::Merchant(sender_a), PASSWORD)
        .unwrap();
    let mut m = Browser::new(&srv.base);
    assert_eq!(m.sign_in("alpha", PASSWORD).await, StatusCode::SEE_OTHER);
    let (s, page) = m.get("/console").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains(&format!("href=\"/console/senders/{a}/consents\"")),
        "the merchant's menu links its consents: {page}"
    );
    let (s, page) = m.get(&format!("/console/senders/{a}/consents")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    for (count, n) in [
        ("phones", 3),
        ("consented", 1),
        ("refused", 1),
        ("refused_all", 1),
    ] {
        assert!(
            page.contains(&format!(r#"data-count="{count}">{n}<"#)),
            "{count}: {page}"
        );
    }
    assert!(page.contains("+8613800138001"), "{page}");
    assert!(
        !page.contains("+8613900139000"),
        "another shop's phone: {page}"
    );
    assert_eq!(
        m.get(&format!("/console/senders/{b}/consents")).await.0,
        StatusCode::NOT_FOUND
    );
}

/// #12: the operator's page of a sender links to that merchant's consent summary (and its
/// messages and complaints), and the link opens the summary.
#[tokio::test]
async fn an_operators_sender_page_links_to_the_merchants_consents() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    let (a, key_a) = srv.shop("Alpha").await;
    let (b, _) = srv.shop("Beta").await;
    srv.consent(&key_a, "13800138000", "opt_in", "sender").await;
    srv.gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    let mut op = Browser::new(&srv.base);
    assert_eq!(op.sign_in("li", PASSWORD).await, StatusCode::SEE_OTHER);
    let (s, page) = op.get(&format!("/console/senders/{a}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    for link in [
        format!("href=\"/console/senders/{a}/consents\""),
        format!("href=\"/console/messages?sender={a}\""),
        format!("href=\"/console/complaints?sender={a}\""),
    ] {
        assert!(page.contains(&link), "{link}: {page}");
    }
    assert!(
        !page.contains(&format!("/console/senders/{b}/consents")),
        "{page}"
    );
    let (s, page) = op.get(&format!("/console/senders/{a}/consents")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains(r#"data-count="consented">1<"#), "{page}");
    // The list the sender was found in searches in the store, ignoring case; a page past the
    // end shows the last one.
    let linked = |page: &str| -> Vec<u64> {
        page.split("<td><a href=\"/console/senders/")
            .skip(1)
            .filter_map(|rest| rest[..rest.find('"')?].parse().ok())
            .collect()
    };
    let (s, page) = op.get("/console/senders?q=BET").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(linked(&page), [b]);
    let (_, page) = op
        .get("/console/senders?page=99&sort=created&dir=desc")
        .await;
    assert_eq!(linked(&page), [b, a], "{page}");
    assert!(page.contains("1 / 1"), "{page}");
}

#[tokio::test]
async fn an_operator_disables_an_account_its_session_ends_and_it_cannot_sign_in_until_enabled() {
    let srv = common::start("2026-12-01T09:00:00Z").await;
    let li = srv
        .gateway
        .create_account("li", AccountRole::Operator, PASSWORD)
        .unwrap();
    let wang = srv
        .gateway
        .create_account("wang", AccountRole::Operator, PASSWORD)
        .unwrap();
    srv.gateway
        .create_account("regulator", AccountRole::Auditor, PASSWORD)
        .unwrap();
    let mut op = Browser::new(&srv.base);
    let mut other = Browser::new(&srv.base);
    let mut auditor = Browser::new(&srv.base);
    for (b, name) in [
        (&mut op, "li"),
        (&mut other, "wang"),
        (&mut auditor, "regulator"),
    ] {
        assert_eq!(
            b.sign_in(name, PASSWORD).await,
            StatusCode::SEE_OTHER,
            "{name}"
        );
    }
    let (s, page) = op.get("/console/accounts").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains(r#"data-account="wang""#), "{page}");
    assert!(
        page.contains(r#"href="/console/accounts""#),
        "in the menu: {page}"
    );
    // The auditor reads no account list and changes nothing.
    assert_eq!(
        auditor.get("/console/accounts").await.0,
        StatusCode::FORBIDDEN
    );
    let csrf = auditor.csrf().await;
    let path = format!("/console/accounts/{}/disabled", wang.id);
    let (s, _) = auditor
        .post(&path, &[("csrf", &csrf), ("disabled", "1")])
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // No token, nothing changes.
    let (s, _) = op.post(&path, &[("disabled", "1")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(other.get("/console").await.0, StatusCode::OK);

    let csrf = op.csrf().await;
    let (s, page) = op.post(&path, &[("csrf", &csrf), ("disabled", "1")]).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    // Its open session ended at once, and the right password opens no new one.
    assert_eq!(
        other.get("/console").await,
        (StatusCode::SEE_OTHER, "/console/signin".into())
    );
    assert_eq!(other.sign_in("wang", PASSWORD).await, StatusCode::FORBIDDEN);
    // An operator cannot lock themselves out.
    let (s, _) = op
        .post(
            &format!("/console/accounts/{}/disabled", li.id),
            &[("csrf", &csrf), ("disabled", "1")],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = op
        .post(
            "/console/accounts/999/disabled",
            &[("csrf", &csrf), ("disabled", "1")],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = op.post(&path, &[("csrf", &csrf), ("disabled", "0")]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(other.sign_in("wang", PASSWORD).await, StatusCode::SEE_OTHER);
    assert_eq!(other.get("/console").await.0, StatusCode::OK);
}

//! The server-rendered portal (`/portal`) as a browser without JavaScript uses it: a client
//! that keeps cookies by hand (so their attributes are checked), follows no redirects on its
//! own, and posts forms with the hidden fields the pages carry.

use std::collections::BTreeMap;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common;
use crate::{PHONE, ad, code_from_inbox};

/// A page as the browser got it.
pub struct Got {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub csp: Option<String>,
    pub html: String,
}

impl Got {
    /// The first CSRF token in the page's forms.
    pub fn csrf(&self) -> String {
        let (_, rest) = self
            .html
            .split_once(r#"name="csrf" value=""#)
            .unwrap_or_else(|| panic!("no csrf field in:\n{}", self.html));
        rest.split('"').next().unwrap().to_string()
    }
}

/// A browser's cookie jar and forms, by hand.
pub struct Browser<'a> {
    srv: &'a common::Server,
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl<'a> Browser<'a> {
    pub fn new(srv: &'a common::Server) -> Self {
        Browser {
            srv,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    async fn request(&mut self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Got {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.srv.base));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(COOKIE, jar.join("; "));
        }
        if let Some(fields) = form {
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            req = req
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.join("&"));
        }
        let resp = req.send().await.unwrap();
        let header = |name| {
            resp.headers()
                .get(name)
                .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
        };
        let location = header(LOCATION);
        let csp = header(reqwest::header::CONTENT_SECURITY_POLICY);
        let set_cookies: Vec<String> = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for c in &set_cookies {
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let status = resp.status();
        Got {
            status,
            location,
            set_cookies,
            csp,
            html: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Got {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Got {
        self.request(Method::POST, path, Some(form)).await
    }

    /// Posts and, on a redirect, opens where it leads (as a browser does).
    pub async fn submit(&mut self, path: &str, form: &[(&str, &str)]) -> (Got, Option<Got>) {
        let first = self.post(path, form).await;
        let next = match (first.status, first.location.clone()) {
            (StatusCode::SEE_OTHER, Some(to)) => Some(self.get(&to).await),
            _ => None,
        };
        (first, next)
    }

    /// Number, code from the handset, session: returns the consumer's own page.
    pub async fn sign_in(&mut self) -> Got {
        let page = self.get("/portal").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.csrf();
        let (sent, code_page) = self
            .submit("/portal/code", &[("csrf", &csrf), ("phone", PHONE)])
            .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
        let code_page = code_page.unwrap();
        let code = code_from_inbox(self.srv).await;
        let csrf = code_page.csrf();
        let (signed, own) = self
            .submit(
                "/portal/session",
                &[("csrf", &csrf), ("phone", PHONE), ("code", &code)],
            )
            .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.html);
        own.unwrap()
    }
}

/// The one shop card of `name` in a page (its state, form and history).
fn card<'h>(html: &'h str, name: &str) -> &'h str {
    let at = html
        .find(&format!(">{name}</h3>"))
        .unwrap_or_else(|| panic!("no card for {name} in:\n{html}"));
    let rest = &html[at..];
    &rest[..rest.find("</article>").unwrap_or(rest.len())]
}

/// A hidden field's value in a chunk of a page.
fn field<'h>(chunk: &'h str, name: &str) -> &'h str {
    let (_, rest) = chunk
        .split_once(&format!(r#"name="{name}" value=""#))
        .unwrap_or_else(|| panic!("no {name} field in:\n{chunk}"));
    rest.split('"').next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_signs_in_with_a_code_refuses_a_shop_and_allows_it_again_without_script() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (shop_id, shop) = srv.shop("好店").await;
    srv.consent(&shop, PHONE, "opt_in", "sender").await;
    let mut b = Browser::new(&srv);

    // The first page: Chinese, no script allowed or present, a sign-in token in a cookie.
    let first = b.get("/portal").await;
    assert_eq!(first.status, StatusCode::OK);
    let csp = first.csp.clone().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert!(!first.html.contains("<script"), "no script at all");
    assert!(first.html.contains(r#"<html lang="zh-CN">"#));
    assert!(first.html.contains("发送验证码"));
    assert!(b.cookies.contains_key("cp_signin"));

    // Number → code by SMS → session cookie (HttpOnly, SameSite=Strict, Path=/portal).
    let own = b.sign_in().await;
    let session = b
        .cookies
        .get("cp_session")
        .cloned()
        .expect("a session cookie");
    assert!(session.starts_with("cs_consumer_"), "{session}");
    assert_eq!(own.status, StatusCode::OK, "{}", own.html);
    assert!(
        !b.cookies.contains_key("cp_signin"),
        "the sign-in token is spent"
    );

    // The shop in words, its history naming the shop's own record.
    let shop_card = card(&own.html, "好店");
    assert!(shop_card.contains(">已同意<"), "{shop_card}");
    assert!(!own.html.contains(">consented<"), "no raw state");
    assert!(
        shop_card.contains("商家记录") && shop_card.contains("网页表单"),
        "{shop_card}"
    );
    assert!(shop_card.contains("checkbox on order page"), "{shop_card}");

    // Refuse the shop: the send path obeys, the page says so, the history says it was mine.
    let csrf = own.csrf();
    let (done, page) = b
        .submit(
            "/portal/consents",
            &[
                ("csrf", &csrf),
                ("sender_id", &shop_id.to_string()),
                ("action", "opt_out"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let page = page.unwrap();
    assert!(
        page.html.contains("已拒收这家商家的营销短信"),
        "{}",
        page.html
    );
    let shop_card = card(&page.html, "好店");
    assert!(shop_card.contains(">已退订<"), "{shop_card}");
    assert!(
        shop_card.contains("您本人的选择") && shop_card.contains("本页面"),
        "{shop_card}"
    );
    assert_eq!(
        field(shop_card, "action"),
        "opt_in",
        "the card offers to allow again"
    );
    srv.clock.advance(jiff::SignedDuration::from_secs(2));
    let d = srv.send(&shop, PHONE, &ad("好店"), "marketing").await;
    assert_eq!(common::codes(&d), vec!["opted_out"]);

    // Allow it again: the consumer's own consent, recorded as theirs.
    let (done, page) = b
        .submit(
            "/portal/consents",
            &[
                ("csrf", &csrf),
                ("sender_id", &shop_id.to_string()),
                ("action", "opt_in"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let page = page.unwrap();
    assert!(card(&page.html, "好店").contains(">已同意<"));
    srv.clock.advance(jiff::SignedDuration::from_secs(2));
    assert_eq!(
        srv.send(&shop, PHONE, &ad("好店"), "marketing").await["status"],
        "accepted"
    );
    let (_, ledger) = srv.get(&format!("/v1/consents/{PHONE}"), &srv.admin).await;
    let last = ledger["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            last["action"].as_str(),
            last["actor"].as_str(),
            last["source"].as_str()
        ),
        (Some("opt_in"), Some("consumer"), Some("portal")),
        "{last}"
    );

    // Refuse every shop, then sign out: the session no longer opens anything.
    let (done, page) = b
        .submit(
            "/portal/consents",
            &[("csrf", &csrf), ("action", "opt_out")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(page.unwrap().html.contains("您已拒收全部商家的营销短信"));
    let (out, page) = b.submit("/portal/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(page.unwrap().html.contains("您已退出"));
    assert!(srv.gateway.portal_session(&session).is_none());
    b.cookies.insert("cp_session".into(), session);
    let stale = b
        .post("/portal/consents", &[("csrf", &csrf), ("action", "opt_in")])
        .await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    assert!(stale.html.contains("登录已过期"), "{}", stale.html);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_forms_without_their_csrf_token_are_refused_and_change_nothing() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (shop_id, shop) = srv.shop("好店").await;
    srv.consent(&shop, PHONE, "opt_in", "sender").await;
    let mut b = Browser::new(&srv);

    // The number form without its token sends no code.
    b.get("/portal").await;
    let forged = b.post("/portal/code", &[("phone", PHONE)]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.html.contains("未做任何更改"), "{}", forged.html);
    assert!(srv.gateway.portal_tables().codes == 0, "no code was sent");

    let own = b.sign_in().await;
    let id = shop_id.to_string();
    for csrf in [
        None,
        Some("0".repeat(64)),
        Some(own.csrf()[1..].to_string()),
    ] {
        let mut form = vec![("sender_id", id.as_str()), ("action", "opt_out")];
        if let Some(c) = csrf.as_deref() {
            form.push(("csrf", c));
        }
        let got = b.post("/portal/consents", &form).await;
        assert_eq!(got.status, StatusCode::FORBIDDEN, "{csrf:?}");
        let got = b
            .post(
                "/portal/complaints/pasted",
                &[("text", &ad("好店")), ("kind", "fraud")],
            )
            .await;
        assert_eq!(got.status, StatusCode::FORBIDDEN);
    }
    // Nothing changed: consent stands, no complaint was filed.
    let (_, ledger) = srv.get(&format!("/v1/consents/{PHONE}"), &srv.admin).await;
    assert_eq!(ledger["senders"][0]["state"], "consented", "{ledger}");
    let (_, complaints) = srv.get("/v1/complaints", &srv.admin).await;
    assert_eq!(
        complaints["complaints"].as_array().map(Vec::len),
        Some(0),
        "{complaints}"
    );
    // Another consumer's token (the form of another session) does not pass either.
    let csrf = own.csrf();
    let mut other = Browser::new(&srv);
    srv.clock.advance(jiff::SignedDuration::from_secs(61));
    other.sign_in().await;
    let got = other
        .post(
            "/portal/consents",
            &[("csrf", &csrf), ("sender_id", &id), ("action", "opt_out")],
        )
        .await;
    assert_eq!(
        got.status,
        StatusCode::FORBIDDEN,
        "a token belongs to its session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_reports_a_picked_and_a_pasted_message_as_their_own_complaints() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (shop_id, shop) = srv.shop("好店").await;
    let (_, other) = srv.shop("别家").await;
    // 好店 has consent on record and sends two offers; 别家 never had any: its offer is
    // refused, its parcel notice goes out.
    srv.consent(&shop, PHONE, "opt_in", "sender").await;
    for text in [
        ad("好店"),
        "【好店】新品上市，会员专享八折，回T退订".to_string(),
    ] {
        let d = srv.send(&shop, PHONE, &text, "marketing").await;
        assert_eq!(d["status"], "accepted", "{d}");
        // One marketing message a day per shop and phone (the default cap).
        srv.clock.advance(jiff::SignedDuration::from_hours(24));
    }
    let sent = srv
        .send(
            &other,
            PHONE,
            "【别家】会员日全场满299减100，回T退订",
            "marketing",
        )
        .await;
    assert_eq!(sent["status"], "rejected", "{sent}");
    let received = srv
        .send(
            &other,
            PHONE,
            "【别家】您的快递已到驿站，取件码 1234",
            "transactional",
        )
        .await;
    srv.inbox(PHONE).await;
    let mut b = Browser::new(&srv);
    let own = b.sign_in().await;

    // A shop that only wrote is listed too (never agreed), and its message can be picked.
    let other_card = card(&own.html, "别家");
    assert!(other_card.contains(">从未同意<"), "{other_card}");
    let message = received["id"].as_u64().unwrap().to_string();
    assert!(
        own.html.contains(&format!(r#"<option value="{message}">"#)),
        "{}",
        own.html
    );
    let csrf = own.csrf();
    let (done, page) = b
        .submit(
            "/portal/complaints",
            &[
                ("csrf", &csrf),
                ("message_id", &message),
                ("kind", "unwanted_marketing"),
                ("note", "我从未同意"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let to = done.location.unwrap();
    assert!(to.starts_with("/portal?done=filed&id="), "{to}");
    assert!(page.unwrap().html.contains("举报已提交"));
    let picked: u64 = to
        .split("id=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .unwrap()
        .parse()
        .unwrap();
    let (_, c) = srv
        .get(&format!("/v1/complaints/{picked}"), &srv.admin)
        .await;
    assert_eq!(c["filed_by"], "consumer", "{c}");
    assert_eq!(c["message_id"].as_u64(), received["id"].as_u64(), "{c}");
    // Twice is refused, in the page's words.
    let again = b
        .post(
            "/portal/complaints",
            &[("csrf", &csrf), ("message_id", &message), ("kind", "fraud")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.html.contains("您已举报过这条短信"), "{}", again.html);

    // Pasted with the shop's signature: attributed to it, matched to its message.
    let (done, _) = b
        .submit(
            "/portal/complaints/pasted",
            &[
                ("csrf", &csrf),
                ("text", &ad("好店")),
                ("kind", "unwanted_marketing"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let to = done.location.unwrap();
    let pasted: u64 = to
        .split("id=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .unwrap()
        .parse()
        .unwrap();
    let (_, c) = srv
        .get(&format!("/v1/complaints/{pasted}"), &srv.admin)
        .await;
    assert_eq!(c["filed_by"], "consumer", "{c}");
    assert_eq!(c["text"], ad("好店"), "{c}");
    assert!(
        c["message_id"].is_u64(),
        "matched to the shop's message: {c}"
    );

    // No signature, no message like it: 422 unattributed_complaint, in Chinese on the page.
    let nobody = b
        .post(
            "/portal/complaints/pasted",
            &[
                ("csrf", &csrf),
                ("text", "恭喜您中奖了，请点击链接领取"),
                ("kind", "fraud"),
            ],
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nobody.html.contains("无法确定这条短信来自哪家商家"),
        "{}",
        nobody.html
    );

    // The JSON API: the same attribution, the same stable code.
    let token = crate::login_again(&srv).await;
    let (s, v) = srv
        .call(
            Method::POST,
            "/v1/portal/complaints/pasted",
            Some(&token),
            Some(json!({"text": "恭喜您中奖了，请点击链接领取", "kind": "fraud"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unattributed_complaint")
        ),
        "{v}"
    );
    // A forwarded text that lost its signature still reads like the shop's message.
    let (s, v) = srv
        .call(
            Method::POST,
            "/v1/portal/complaints/pasted",
            Some(&token),
            Some(json!({"text": "新品上市，会员专享八折，回T退订", "kind": "unwanted_marketing", "note": "转发的"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, c) = srv
        .get(&format!("/v1/complaints/{}", v["id"]), &srv.admin)
        .await;
    assert_eq!(c["sender"].as_u64(), Some(shop_id), "{c}");
    assert_eq!(c["filed_by"], "consumer", "{c}");
    let (s, v) = srv
        .call(
            Method::POST,
            "/v1/portal/complaints/pasted",
            Some(&token),
            Some(json!({"text": "  ", "kind": "other"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field"))
    );
    let (s, _) = srv
        .call(
            Method::POST,
            "/v1/portal/complaints/pasted",
            None,
            Some(json!({"text": ad("好店"), "kind": "other"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_speaks_english_when_asked_and_remembers_it() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (_, shop) = srv.shop("Tea Shop").await;
    srv.consent(&shop, PHONE, "opt_out", "sender").await;
    let mut b = Browser::new(&srv);

    let en = b.get("/portal?lang=en").await;
    assert!(en.html.contains(r#"<html lang="en">"#), "{}", en.html);
    assert!(en.html.contains("Send code") && !en.html.contains("发送验证码"));
    assert!(
        en.set_cookies
            .iter()
            .any(|c| c.starts_with("cp_lang=en;") && c.contains("Path=/portal")),
        "{:?}",
        en.set_cookies
    );
    // Remembered: the next page, without ?lang, is English; errors too.
    let csrf = en.csrf();
    let bad = b
        .post("/portal/code", &[("csrf", &csrf), ("phone", "12345")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.html.contains("That is not a valid phone number."),
        "{}",
        bad.html
    );
    let own = b.sign_in().await;
    let shop_card = card(&own.html, "Tea Shop");
    assert!(shop_card.contains(">Refused<"), "{shop_card}");
    assert!(shop_card.contains("recorded by the shop"), "{shop_card}");
    assert!(own.html.contains("Report a message I received"));
    assert!(
        !own.html.contains("举报"),
        "no Chinese left on the English page"
    );
    // And back to Chinese.
    let zh = b.get("/portal?lang=zh").await;
    assert!(card(&zh.html, "Tea Shop").contains(">已退订<"));
    let wrong = b.get("/portal/code?phone=13800138000").await;
    let csrf = wrong.csrf();
    let bad = b
        .post(
            "/portal/session",
            &[("csrf", &csrf), ("phone", PHONE), ("code", "12")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.html.contains("验证码错误或已过期"), "{}", bad.html);
}

/// Two shops may share a signature (under different names): a pasted message bearing it is
/// the one that wrote to this number; when neither did, it names no one shop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_two_shops_share_names_the_one_that_wrote_to_the_number() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let mut shops = Vec::new();
    for name in ["好店", "好店二号"] {
        let (s, v) = srv
            .post(
                "/v1/senders",
                &srv.admin,
                json!({"name": name, "signature": "【好店】"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        shops.push((
            v["id"].as_u64().unwrap(),
            v["api_key"].as_str().unwrap().to_string(),
        ));
    }
    let token = crate::login_again(&srv).await;
    let pasted = json!({"text": "【好店】您的订单已发货", "kind": "other"});
    let (s, v) = srv
        .call(
            Method::POST,
            "/v1/portal/complaints/pasted",
            Some(&token),
            Some(pasted.clone()),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unattributed_complaint")
        ),
        "neither wrote: {v}"
    );
    let (second, key) = &shops[1];
    srv.send(key, PHONE, "【好店】您的订单已发货", "transactional")
        .await;
    srv.inbox(PHONE).await;
    let (s, v) = srv
        .call(
            Method::POST,
            "/v1/portal/complaints/pasted",
            Some(&token),
            Some(pasted),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, c) = srv
        .get(&format!("/v1/complaints/{}", v["id"]), &srv.admin)
        .await;
    assert_eq!(c["sender"].as_u64(), Some(*second), "{c}");
    assert!(c["message_id"].is_u64(), "{c}");
}

/// #12: a pasted complaint bearing a shop's signature is that shop's only if the shop sent to
/// this number (in the last 90 days), and it is filed about that shop's message — the one
/// like the text, else its latest; otherwise 422 `unattributed_complaint`, telling the
/// consumer in their language to pick the message from the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_signature_names_a_shop_only_if_it_sent_to_the_number() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (shop_id, shop) = srv.shop("好店").await;
    // It writes to another number only.
    srv.send(
        &shop,
        "13900139000",
        "【好店】您的订单已发货",
        "transactional",
    )
    .await;
    let token = crate::login_again(&srv).await;
    let paste = |text: &str, lang: Option<&'static str>| {
        let mut req = srv
            .http
            .post(format!("{}/v1/portal/complaints/pasted", srv.base))
            .bearer_auth(&token)
            .json(&json!({"text": text, "kind": "unwanted_marketing"}));
        if let Some(l) = lang {
            req = req.header(reqwest::header::ACCEPT_LANGUAGE, l);
        }
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            (status, resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    let forged = "【好店】恭喜您获得iPhone，点击领取";
    let (s, v) = paste(forged, None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unattributed_complaint")
        ),
        "the shop never wrote to this number: {v}"
    );
    let zh = v["error"]["message"].as_str().unwrap();
    assert!(zh.contains("从列表中选择"), "Chinese by default: {zh}");
    let (_, v) = paste(forged, Some("en-US,en;q=0.9")).await;
    let en = v["error"]["message"].as_str().unwrap();
    assert!(
        en.contains("Pick it from the list") && en.contains("90 days"),
        "{en}"
    );
    let (_, list) = srv.get("/v1/complaints", &srv.admin).await;
    assert_eq!(list["complaints"], json!([]), "nothing was filed: {list}");

    // It writes to this number twice: a text like the first is filed about the first; a text
    // like neither, about its latest.
    let first = srv
        .send(
            &shop,
            PHONE,
            "【好店】您的订单已发货，单号 SF123",
            "transactional",
        )
        .await;
    let latest = srv
        .send(&shop, PHONE, "【好店】您的积分即将到期", "transactional")
        .await;
    srv.inbox(PHONE).await;
    let filed_about = |v: &serde_json::Value| v["message_id"].as_u64();
    let (s, v) = paste("【好店】您的订单已发货，单号 SF123", None).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(filed_about(&v), first["id"].as_u64(), "{v}");
    let (s, v) = paste(forged, None).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(filed_about(&v), latest["id"].as_u64(), "{v}");
    let (_, c) = srv
        .get(&format!("/v1/complaints/{}", v["id"]), &srv.admin)
        .await;
    assert_eq!(c["sender"].as_u64(), Some(shop_id), "{c}");
    assert_eq!(c["filed_by"], "consumer", "{c}");
    assert_eq!(c["text"], forged, "the pasted text is kept: {c}");

    // Ninety-one days on, its messages are out of reach: unattributed again.
    srv.clock.advance(jiff::SignedDuration::from_hours(24 * 91));
    let token = crate::login_again(&srv).await;
    let (s, v) = srv
        .call(
            Method::POST,
            "/v1/portal/complaints/pasted",
            Some(&token),
            Some(json!({"text": "【好店】又一条广告", "kind": "other"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unattributed_complaint")
        ),
        "{v}"
    );
}

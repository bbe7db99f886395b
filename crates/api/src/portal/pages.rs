//! The portal's pages: the frame, signing in (number, then code), and the consumer's own page
//! (every shop with its state, history and forms; the complaint forms).

use axum::http::{HeaderMap, StatusCode};
use domain::Msisdn;
use gateway::{ConsentsView, ReceivedMessage};
use maud::{DOCTYPE, Markup, html};

use super::history;
use super::i18n::t;
use super::session::{Consumer, signin_token};
use crate::console::i18n::Lang;
use crate::console::layout::Page;

/// A line at the top of a page after an action: done (already worded) or an error (a key).
#[derive(Debug, Clone)]
pub(crate) enum Notice {
    /// What was done, in the page's language.
    Done(String),
    /// What went wrong: a key of the table.
    Error(&'static str),
}

/// `href` with `lang=` set to the other language.
fn switch_href(here: &str, lang: Lang) -> String {
    let other = match lang {
        Lang::Zh => "en",
        Lang::En => "zh",
    };
    let sep = if here.contains('?') { '&' } else { '?' };
    format!("{here}{sep}lang={other}")
}

/// The whole document around `body`. `here` is the page's address without `lang` (the
/// language switch links to it).
pub(crate) fn document(
    lang: Lang,
    here: &str,
    consumer: Option<&Consumer>,
    notice: Option<&Notice>,
    body: Markup,
) -> Markup {
    let other_code = match lang {
        Lang::Zh => "en",
        Lang::En => "zh-CN",
    };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                meta name="robots" content="noindex";
                title { (t(lang, "title")) }
                link rel="stylesheet" href="/portal/static/portal.css";
            }
            body {
                a.skip href="#main" { (t(lang, "skip")) }
                header {
                    strong.brand { (t(lang, "title")) }
                    a.lang href=(switch_href(here, lang)) hreflang=(other_code) lang=(other_code) {
                        (t(lang, "other_lang"))
                    }
                }
                main #main {
                    h1 { (t(lang, "title")) }
                    @if let Some(c) = consumer {
                        div.who {
                            span { (t(lang, "signed_in_as")) " " strong { (c.phone.to_string()) } }
                            form method="post" action="/portal/signout" {
                                input type="hidden" name="csrf" value=(c.csrf());
                                button.quiet type="submit" { (t(lang, "sign_out")) }
                            }
                        }
                    }
                    @match notice {
                        Some(Notice::Done(text)) => p.ok role="status" { (text) },
                        Some(Notice::Error(key)) => p.error role="alert" { (t(lang, key)) },
                        None => {},
                    }
                    (body)
                }
            }
        }
    }
}

/// The first step: the consumer's number.
pub(crate) fn signed_out_page(
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    notice: Option<Notice>,
) -> Page {
    phone_page(headers, lang, status, notice, "")
}

/// The number form, with what was typed kept.
pub(crate) fn phone_page(
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    notice: Option<Notice>,
    typed: &str,
) -> Page {
    let (token, set) = signin_token(headers);
    let body = html! {
        p { (t(lang, "intro")) }
        form.card method="post" action="/portal/code" {
            input type="hidden" name="csrf" value=(token);
            label for="phone" { (t(lang, "phone")) }
            input #phone name="phone" type="tel" inputmode="tel" autocomplete="tel" required
                maxlength="32" value=(typed) aria-describedby="phone-hint" autofocus;
            p.hint #phone-hint { (t(lang, "phone_hint")) }
            button type="submit" { (t(lang, "send_code")) }
        }
    };
    Page {
        status,
        markup: document(lang, "/portal", None, notice.as_ref(), body),
        cookies: set.into_iter().collect(),
    }
}

/// The second step: the code sent to `phone`.
pub(crate) fn code_page(
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    notice: Option<Notice>,
    phone: &str,
) -> Page {
    let (token, set) = signin_token(headers);
    let here = format!("/portal/code?phone={}", super::actions::encode(phone));
    let sent = t(lang, "code_sent").replace("{phone}", phone);
    let body = html! {
        p role="status" { (sent) }
        form.card method="post" action="/portal/session" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="phone" value=(phone);
            label for="code" { (t(lang, "code")) }
            input #code name="code" inputmode="numeric" autocomplete="one-time-code" required
                pattern="[0-9]{6}" maxlength="6" autofocus;
            button type="submit" { (t(lang, "verify")) }
        }
        p { a href="/portal" { (t(lang, "other_number")) } }
    };
    Page {
        status,
        markup: document(lang, &here, None, notice.as_ref(), body),
        cookies: set.into_iter().collect(),
    }
}

/// What the consumer's own page shows.
pub(crate) struct Own {
    pub(crate) view: ConsentsView,
    pub(crate) received: Vec<ReceivedMessage>,
}

/// One shop as the page lists it.
struct Shop<'a> {
    id: u32,
    name: String,
    state: &'static str,
    since: Option<domain::Timestamp>,
    events: Vec<&'a ledger::ConsentEvent>,
}

/// Every shop in the ledger, then every other shop that sent to the number (never agreed).
fn shops(own: &Own) -> Vec<Shop<'_>> {
    let mut shops: Vec<Shop<'_>> = own
        .view
        .senders
        .iter()
        .map(|l| Shop {
            id: l.sender_id.0,
            name: l
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("#{}", l.sender_id)),
            state: l.state,
            since: l.since,
            events: own
                .view
                .history
                .iter()
                .filter(|e| e.sender == Some(l.sender_id))
                .collect(),
        })
        .collect();
    for m in &own.received {
        if !shops.iter().any(|s| s.id == m.sender_id) {
            shops.push(Shop {
                id: m.sender_id,
                name: if m.sender_name.is_empty() {
                    format!("#{}", m.sender_id)
                } else {
                    m.sender_name.clone()
                },
                state: "no_consent",
                since: None,
                events: Vec::new(),
            });
        }
    }
    shops
}

/// A received message as the list offers it: when, which shop, the start of its text.
fn message_label(phone: Msisdn, m: &ReceivedMessage) -> String {
    let text: String = m.text.chars().take(40).collect();
    let more = if m.text.chars().count() > 40 {
        "…"
    } else {
        ""
    };
    let shop = if m.sender_name.is_empty() {
        format!("#{}", m.sender_id)
    } else {
        m.sender_name.clone()
    };
    format!(
        "{} · {shop} · {text}{more}",
        history::when_short(phone, m.sent_at)
    )
}

/// The kinds a consumer may complain of, for a `<select>`.
fn kind_options(lang: Lang) -> Markup {
    html! {
        @for k in ["unwanted_marketing", "after_optout", "fraud", "other"] {
            option value=(k) { (t(lang, k)) }
        }
    }
}

/// The consumer's own page.
pub(crate) fn own_page(
    c: &Consumer,
    own: &Own,
    status: StatusCode,
    notice: Option<Notice>,
) -> Page {
    let lang = c.lang;
    let csrf = c.csrf();
    let phone = c.phone;
    let shops = shops(own);
    let platform_events: Vec<&ledger::ConsentEvent> = own
        .view
        .history
        .iter()
        .filter(|e| e.sender.is_none())
        .collect();
    let body = html! {
        section aria-labelledby="shops-h" {
            h2 #shops-h { (t(lang, "shops")) }
            @if shops.is_empty() { p { (t(lang, "no_shops")) } }
            @for s in &shops {
                article.card.shop aria-labelledby={ "shop-" (s.id) } {
                    h3 #{ "shop-" (s.id) } { (s.name) }
                    p {
                        span class={ "tag " (s.state) } { (t(lang, s.state)) }
                        @if let Some(since) = s.since {
                            " " span.since { (t(lang, "since")) " " (history::when(phone, since)) }
                        }
                    }
                    form method="post" action="/portal/consents" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="sender_id" value=(s.id);
                        @if s.state == "opted_out" {
                            input type="hidden" name="action" value="opt_in";
                            p.hint { (t(lang, "allow_hint")) }
                            button type="submit" aria-describedby={ "shop-" (s.id) } { (t(lang, "allow")) }
                        } @else {
                            input type="hidden" name="action" value="opt_out";
                            button.danger type="submit" aria-describedby={ "shop-" (s.id) } { (t(lang, "refuse")) }
                        }
                    }
                    @if !s.events.is_empty() {
                        details {
                            summary { (t(lang, "history")) }
                            (history::table(lang, phone, &s.events))
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="all-h" {
            h2 #all-h { (t(lang, "all_shops")) }
            @if own.view.platform_opted_out {
                p { span.tag.opted_out { (t(lang, "opted_out")) } " " (t(lang, "all_refused")) }
            } @else {
                p { (t(lang, "all_open")) }
            }
            form method="post" action="/portal/consents" {
                input type="hidden" name="csrf" value=(csrf);
                @if own.view.platform_opted_out {
                    input type="hidden" name="action" value="opt_in";
                    button type="submit" { (t(lang, "lift_all")) }
                } @else {
                    input type="hidden" name="action" value="opt_out";
                    button.danger type="submit" { (t(lang, "refuse_all")) }
                }
            }
            @if !platform_events.is_empty() {
                details {
                    summary { (t(lang, "history_all")) }
                    (history::table(lang, phone, &platform_events))
                }
            }
        }
        section aria-labelledby="report-h" #report {
            h2 #report-h { (t(lang, "report")) }
            @if own.received.is_empty() {
                p { (t(lang, "no_messages")) }
            } @else {
                form.card method="post" action="/portal/complaints" aria-labelledby="pick-h" {
                    h3 #pick-h { (t(lang, "report_pick")) }
                    input type="hidden" name="csrf" value=(csrf);
                    label for="pick-message" { (t(lang, "message")) }
                    select #pick-message name="message_id" required {
                        @for m in &own.received {
                            option value=(m.id) { (message_label(phone, m)) }
                        }
                    }
                    label for="pick-kind" { (t(lang, "reason")) }
                    select #pick-kind name="kind" { (kind_options(lang)) }
                    label for="pick-note" { (t(lang, "note")) }
                    textarea #pick-note name="note" maxlength="2000" rows="2" {}
                    button type="submit" { (t(lang, "file")) }
                }
            }
            form.card method="post" action="/portal/complaints/pasted" aria-labelledby="paste-h" {
                h3 #paste-h { (t(lang, "report_paste")) }
                input type="hidden" name="csrf" value=(csrf);
                label for="paste-text" { (t(lang, "pasted_text")) }
                textarea #paste-text name="text" required maxlength="1000" rows="3"
                    aria-describedby="paste-hint" {}
                p.hint #paste-hint { (t(lang, "pasted_hint")) }
                label for="paste-kind" { (t(lang, "reason")) }
                select #paste-kind name="kind" { (kind_options(lang)) }
                label for="paste-note" { (t(lang, "note")) }
                textarea #paste-note name="note" maxlength="2000" rows="2" {}
                button type="submit" { (t(lang, "file")) }
            }
        }
    };
    Page {
        status,
        markup: document(lang, "/portal", Some(c), notice.as_ref(), body),
        cookies: Vec::new(),
    }
}

/// A page that only says what went wrong (a refused form), with the way back.
pub(crate) fn message_page(lang: Lang, status: StatusCode, key: &'static str) -> Page {
    let body = html! {
        p { a href="/portal" { (t(lang, "back")) } }
    };
    Page {
        status,
        markup: document(lang, "/portal", None, Some(&Notice::Error(key)), body),
        cookies: Vec::new(),
    }
}

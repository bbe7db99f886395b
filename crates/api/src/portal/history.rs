//! A shop's history as the consumer reads it: when, what, how, and whose word it was — the
//! shop's record or the consumer's own choice (`ledger::by_consumer`, read from who recorded
//! the event, never from the `source` the recorder filled in).

use domain::{ConsentAction, Msisdn, Scope, Timestamp};
use ledger::ConsentEvent;
use maud::{Markup, html};

use super::i18n::t;
use crate::console::i18n::Lang;

/// Times in the consumer's own clock: Beijing time for Chinese numbers (all the platform's
/// consumers today), UTC otherwise, named either way.
fn local(phone: Msisdn, at: Timestamp) -> (jiff::ZonedDateTime, &'static str) {
    if phone.country_code() == 86 {
        let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
        (at.to_zoned_datetime(tz), "UTC+8")
    } else {
        (at.to_zoned_datetime(jiff::tz::TimeZone::UTC), "UTC")
    }
}

/// A time to the minute, with its zone.
pub(crate) fn when(phone: Msisdn, at: Timestamp) -> String {
    let (z, name) = local(phone, at);
    format!("{} {name}", z.strftime("%Y-%m-%d %H:%M"))
}

/// A time to the minute, without the zone (a table names it once, in its header).
fn when_plain(phone: Msisdn, at: Timestamp) -> String {
    local(phone, at).0.strftime("%Y-%m-%d %H:%M").to_string()
}

/// A time to the minute, without the zone or year (in a list where every line has the same).
pub(crate) fn when_short(phone: Msisdn, at: Timestamp) -> String {
    local(phone, at).0.strftime("%m-%d %H:%M").to_string()
}

/// What an event did, in words.
fn what(e: &ConsentEvent) -> &'static str {
    match (e.scope, e.action) {
        (Scope::Sender, ConsentAction::OptIn) => "ev_opt_in",
        (Scope::Sender, ConsentAction::OptOut) => "ev_opt_out",
        (Scope::Platform, ConsentAction::OptIn) => "ev_opt_in_all",
        (Scope::Platform, ConsentAction::OptOut) => "ev_opt_out_all",
    }
}

/// Whose word an event is: the consumer's own (portal, reply, link), the platform recording
/// what the consumer asked for (a hotline call), or the shop's record.
pub(crate) fn whose(e: &ConsentEvent) -> &'static str {
    match e.actor.as_str() {
        "admin" | "platform" => "by_platform",
        actor if ledger::by_consumer(actor) => "by_you",
        _ => "by_shop",
    }
}

/// The table of `events`, oldest first. Whose word each event was comes third, before how it
/// came and its evidence: on a phone the table scrolls sideways, and that is the column the
/// consumer came to read.
pub(crate) fn table(lang: Lang, phone: Msisdn, events: &[&ConsentEvent]) -> Markup {
    let mut events = events.to_vec();
    events.sort_by_key(|e| e.order_key());
    let zone = local(phone, Timestamp::UNIX_EPOCH).1;
    html! {
        table {
            thead { tr {
                th scope="col" { (t(lang, "when")) " (" (zone) ")" }
                th scope="col" { (t(lang, "what")) }
                th scope="col" { (t(lang, "by_whom")) }
                th scope="col" { (t(lang, "how")) }
                th scope="col" { (t(lang, "evidence")) }
            } }
            tbody {
                @for e in &events {
                    tr class=(whose(e)) {
                        td { (when_plain(phone, e.at)) }
                        td { (t(lang, what(e))) }
                        td { (t(lang, whose(e))) }
                        td { (t(lang, &format!("src_{}", e.source.as_str()))) }
                        td { (e.evidence) }
                    }
                }
            }
        }
    }
}

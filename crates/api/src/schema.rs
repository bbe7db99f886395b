//! Field schemas for `/openapi.json` that are as strict as the server: the wire names of the
//! domain's enumerations (read from their `ALL`, so a new value appears here by itself), and
//! the lengths, patterns and formats the handlers enforce.
//!
//! utoipa derives a field's schema from its Rust type; for `String` fields the server narrows
//! by parsing (a phone number, a timestamp, an enumeration), so the narrowing is stated here
//! and each field points at it with `#[schema(schema_with = ...)]`.

use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr, Schema};

/// Holds a character that Rust's `str::trim` keeps: the characters with Unicode's
/// `White_Space` property spelled out, since a regex `\S` differs between engines (Python's
/// counts U+001C–U+001F as space, Rust's `trim` does not).
const NOT_BLANK: &str =
    "[^\\t\\n\\x0B\\x0C\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";

/// A string limited to `values`.
/// A search filter: one of `values`, or empty, which reads as no filter (what the console's
/// forms send for a field left blank).
fn filter_of<'a>(values: impl IntoIterator<Item = &'a str>, description: &str) -> Object {
    one_of(std::iter::once("").chain(values), description)
}

fn one_of<'a>(values: impl IntoIterator<Item = &'a str>, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description))
        .build()
}

/// A phone number as people write it: digits with an optional `+` or `00` prefix, spaces and
/// dashes between; the server also checks that it is a valid number for its country
/// (`invalid_number` otherwise), which no pattern can say.
pub fn phone() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(64))
        .pattern(Some(r"^[0-9+ ().-]+$"))
        .examples(["+8613800138000"])
        .description(Some(
            "A phone number (E.164 or national, read in the default region); it must be a valid \
             number for its country (`invalid_number`).",
        ))
        .build()
}

/// A recipient of `POST /v1/messages`: 1–32 characters (`invalid_field` otherwise). Not a
/// pattern: a recipient that is no valid number is decided `rejected` (`invalid_number`) and
/// recorded, so that one bad entry does not refuse a whole batch.
pub fn recipient() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(32))
        .examples(["+8613800138000"])
        .description(Some(
            "The recipient's number (at most 32 characters); a number that is not valid for its \
             country is decided `rejected` with reason `invalid_number`.",
        ))
        .build()
}

/// The batch's recipients: 1 … `gateway.max_batch` (default 10,000).
pub fn recipients() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(recipient())
        .min_items(Some(1))
        .max_items(Some(10_000))
        .description(Some(
            "Recipients, at least one and at most `[gateway] max_batch` (default 10,000: \
             `batch_too_large` beyond).",
        ))
        .into()
}

/// Message text: not empty; its length in SMS segments is checked by the server.
pub fn text() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .description(Some(
            "The text, not empty (`empty_text`) and at most `[policy] max_segments` SMS segments \
             (`text_too_long`).",
        ))
        .build()
}

/// An RFC 3339 instant.
pub fn timestamp() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .examples(["2026-12-01T09:30:00Z"])
        .build()
}

/// An optional RFC 3339 instant.
pub fn timestamp_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .examples(["2026-12-01T09:30:00Z"])
        .build()
}

/// A bounded free text that may be absent.
fn bounded_text(max: usize, nullable: bool) -> Object {
    let t = if nullable {
        utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])
    } else {
        utoipa::openapi::schema::SchemaType::new(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(t)
        .max_length(Some(max))
        .build()
}

/// Evidence of a consent event: ≤ 2000 characters.
pub fn evidence() -> Object {
    bounded_text(2000, false)
}

/// A complaint's note: ≤ 2000 characters.
pub fn note() -> Object {
    bounded_text(2000, true)
}

/// The text a consumer saw: ≤ 1000 characters.
pub fn seen_text() -> Object {
    bounded_text(1000, true)
}

/// A sender's display name: 1–100 characters.
pub fn sender_name() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(100))
        .pattern(Some(NOT_BLANK))
        .build()
}

/// Why a suspension changed: 1–500 characters.
pub fn reason() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(500))
        .pattern(Some(NOT_BLANK))
        .build()
}

/// A portal one-time code: six digits.
pub fn portal_code() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[0-9]{6}$"))
        .build()
}

macro_rules! wire_enum_schema {
    ($(#[$meta:meta])* $fn:ident, $ty:path) => {
        $(#[$meta])*
        pub fn $fn() -> Object {
            one_of(<$ty>::ALL.iter().map(|v| v.as_str()), stringify!($ty))
        }
    };
}

wire_enum_schema!(
    /// `marketing`, `transactional` or `verification`.
    category, domain::Category
);
wire_enum_schema!(
    /// `opt_in` or `opt_out`.
    consent_action, domain::ConsentAction
);
wire_enum_schema!(
    /// `sender` or `platform`.
    scope, domain::Scope
);
wire_enum_schema!(
    /// Where a consent event came from.
    consent_source, domain::ConsentSource
);
wire_enum_schema!(
    /// What a complaint says happened.
    complaint_kind, complaints::ComplaintKind
);
wire_enum_schema!(
    /// A complaint's verdict.
    complaint_verdict, complaints::ComplaintVerdict
);
wire_enum_schema!(
    /// `suspend`, `lift` or `confirm`.
    suspension_action, complaints::SuspensionAction
);

/// The current decision of a message.
pub fn verdict() -> Object {
    one_of(["accepted", "deferred", "rejected"], "the current decision")
}

/// A reason code, as a filter.
pub fn reason_code() -> Object {
    filter_of(
        policy::ReasonCode::ALL.iter().map(|c| c.as_str()),
        "a reason code of the current decision",
    )
}

/// A category, as a filter.
pub fn category_filter() -> Object {
    filter_of(
        domain::Category::ALL.iter().map(|c| c.as_str()),
        "the declared category",
    )
}

/// A time bound of a search: what [`report_bound`] reads (a date that does not exist, such
/// as `2026-02-30`, is refused with `invalid_filter` — the calendar's rule, not a pattern's).
pub fn time_bound() -> Object {
    // Empty reads as no bound: what the console's date fields send when left blank.
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(
            r"^\s*$|^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9:.]+([Zz]|[+-][0-9:]+)?)?\s*$",
        ))
        .examples(["2026-11-01"])
        .build()
}

/// An offset into a sorted list: at most [`store::MAX_OFFSET`].
pub fn list_offset() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(store::MAX_OFFSET))
        .description(Some(
            "rows of the order to skip (`next_offset` of the previous page)",
        ))
        .build()
}

/// A message list's sort column.
pub fn message_sort() -> Object {
    filter_of(
        store::MessageColumn::ALL.map(store::MessageColumn::as_str),
        "the column to order by (ties by id)",
    )
}

/// The complaints queue's sort column.
pub fn complaint_sort() -> Object {
    filter_of(
        store::ComplaintColumn::ALL.map(store::ComplaintColumn::as_str),
        "the column to order by (`filed`: the order of filing; ties by id)",
    )
}

/// A sort direction.
pub fn sort_dir() -> Object {
    filter_of(["asc", "desc"], "`asc` or `desc`")
}

/// A report's format.
pub fn report_format() -> Object {
    one_of(["json", "csv"], "`json` (default) or `csv`")
}

/// A page size: the server clamps it to 1–500.
pub fn page_limit() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(u32::MAX))
        .description(Some(
            "page size; values outside 1–500 are clamped to that range",
        ))
        .build()
}

/// The signature a sender's texts carry: ≤ 40 characters.
pub fn signature() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(40))
        .examples(["【某某旗舰店】"])
        .build()
}

/// The number a consumer replied to: 3–24 digits, an optional `+`, spaces, dashes, dots and
/// brackets between.
pub fn service_number() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^\s*\+?([ .()-]*[0-9]){3,24}[ .()-]*\s*$"))
        .examples(["10690000123450001"])
        .build()
}

/// A report's period bound: an RFC 3339 instant, a `YYYY-MM-DDTHH:MM` date-time (UTC) or a
/// `YYYY-MM-DD` date; a date that does not exist is `invalid_query`.
pub fn report_bound() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(
            r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9:.]+([Zz]|[+-][0-9:]+)?)?\s*$",
        ))
        .examples(["2026-11-01"])
        .build()
}

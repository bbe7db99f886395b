//! What the lists of the API and the console share: reading a sort (column and direction)
//! and the filters of a message search, with one stable code per kind of mistake —
//! `invalid_sort` for a column or direction the list does not sort by, `invalid_filter` for a
//! filter value that does not read (400 both: the request is malformed, not the resource).
//! The API and the console read the same words, so a console URL works against the API.

use axum::http::StatusCode;
use domain::Category;
use policy::ReasonCode;
use store::{ComplaintColumn, ComplaintSort, MAX_OFFSET, MessageColumn, MessageSort};

use crate::error::ApiError;

/// The first characters of a rejected value, for the message (never the whole input).
fn shown(s: &str) -> String {
    s.chars().take(32).collect()
}

/// A 400 `invalid_filter`.
pub(crate) fn invalid_filter(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_filter", message)
}

/// A 400 `invalid_sort`.
pub(crate) fn invalid_sort(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_sort", message)
}

/// A direction: `asc` or `desc`; `None` (absent or empty) is `default_desc`.
pub(crate) fn descending(dir: Option<&str>, default_desc: bool) -> Result<bool, ApiError> {
    match dir.map(str::trim) {
        None | Some("") => Ok(default_desc),
        Some("desc") => Ok(true),
        Some("asc") => Ok(false),
        Some(other) => Err(invalid_sort(format!(
            "dir {:?}: expected asc or desc",
            shown(other)
        ))),
    }
}

/// The sort of a message list: `sort` one of [`MessageColumn::ALL`] (default `id`, newest
/// first), `dir` `asc` or `desc` (default `desc`).
pub(crate) fn message_sort(sort: Option<&str>, dir: Option<&str>) -> Result<MessageSort, ApiError> {
    let column = match sort.map(str::trim) {
        None | Some("") => MessageColumn::Id,
        Some(s) => MessageColumn::parse(s).ok_or_else(|| {
            invalid_sort(format!(
                "sort {:?}: expected one of {}",
                shown(s),
                MessageColumn::ALL.map(MessageColumn::as_str).join(", ")
            ))
        })?,
    };
    Ok(MessageSort {
        column,
        descending: descending(dir, true)?,
    })
}

/// The sort of the complaints queue: `sort` one of [`ComplaintColumn::ALL`] (default
/// `filed`, newest first), `dir` `asc` or `desc` (default `desc`).
pub(crate) fn complaint_sort(
    sort: Option<&str>,
    dir: Option<&str>,
) -> Result<ComplaintSort, ApiError> {
    let column = match sort.map(str::trim) {
        None | Some("") => ComplaintColumn::Filed,
        Some(s) => ComplaintColumn::parse(s).ok_or_else(|| {
            invalid_sort(format!(
                "sort {:?}: expected one of {}",
                shown(s),
                ComplaintColumn::ALL.map(ComplaintColumn::as_str).join(", ")
            ))
        })?,
    };
    Ok(ComplaintSort {
        column,
        descending: descending(dir, true)?,
    })
}

/// A reason code filter; empty is none.
pub(crate) fn reason(s: Option<&str>) -> Result<Option<ReasonCode>, ApiError> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => ReasonCode::parse(r).map(Some).ok_or_else(|| {
            invalid_filter(format!(
                "reason {:?}: expected one of {}",
                shown(r),
                ReasonCode::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }),
    }
}

/// A category filter; empty is none.
pub(crate) fn category(s: Option<&str>) -> Result<Option<Category>, ApiError> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(c) => c
            .parse::<Category>()
            .map(Some)
            .map_err(|e| invalid_filter(format!("category: {e}"))),
    }
}

/// A time bound (`from`, `to`): RFC 3339, `YYYY-MM-DDTHH:MM` (UTC) or `YYYY-MM-DD` (midnight
/// UTC); empty is none.
pub(crate) fn bound(name: &str, s: Option<&str>) -> Result<Option<jiff::Timestamp>, ApiError> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => complaints::report::parse_bound(v)
            .map(Some)
            .map_err(|e| invalid_filter(format!("{name}: {e}"))),
    }
}

/// An offset into a sorted list, at most [`MAX_OFFSET`].
pub(crate) fn offset(n: Option<u32>) -> Result<u32, ApiError> {
    match n {
        Some(n) if n > MAX_OFFSET => Err(invalid_filter(format!(
            "offset {n}: at most {MAX_OFFSET}; narrow the search instead"
        ))),
        n => Ok(n.unwrap_or(0)),
    }
}

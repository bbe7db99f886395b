//! The complaints queue as a query: filters (sender, verdict, what a merchant may see), an
//! order (filing, sender or verdict, either way) and a page (by id or by offset).
//!
//! Every combination of filter and order the queue offers is answered by an index whose
//! entries come in the order asked for, so a page reads its rows and stops — a rare verdict
//! costs no more than a common one. The indexes are in the SQLite schema and PostgreSQL
//! migration 0008; `sqlite_plans` in the store's tests checks each combination's plan.

use complaints::ComplaintVerdict;
use domain::SenderId;

use crate::MAX_OFFSET;
use crate::console::SearchValue;

/// What the queue can be ordered by; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ComplaintColumn {
    /// The order of filing: ids are given as complaints are filed (one at a time), so this is
    /// the id.
    #[default]
    Filed,
    /// The sender complained about; complaints naming none come first in ascending order.
    Sender,
    /// The verdict's stored name (`no_violation`, `unverified`, `violation`).
    Verdict,
}

impl ComplaintColumn {
    /// Every column, for forms and errors.
    pub const ALL: [ComplaintColumn; 3] = [
        ComplaintColumn::Filed,
        ComplaintColumn::Sender,
        ComplaintColumn::Verdict,
    ];

    /// The wire name (`filed`, `sender`, `verdict`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintColumn::Filed => "filed",
            ComplaintColumn::Sender => "sender",
            ComplaintColumn::Verdict => "verdict",
        }
    }

    /// From the wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A column and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplaintSort {
    /// The column.
    pub column: ComplaintColumn,
    /// Largest (latest) first.
    pub descending: bool,
}

impl Default for ComplaintSort {
    /// Newest first: the queue as staff work it.
    fn default() -> Self {
        ComplaintSort {
            column: ComplaintColumn::Filed,
            descending: true,
        }
    }
}

/// A page of the complaints queue.
#[derive(Debug, Clone, Default)]
pub struct ComplaintQuery {
    /// Only complaints about this sender.
    pub sender: Option<SenderId>,
    /// Only complaints with this verdict.
    pub verdict: Option<ComplaintVerdict>,
    /// Leave out the unverified ones (what a merchant reads of its own queue).
    pub hide_unverified: bool,
    /// Only ids below this one (the next newest-first page starts below the last id shown).
    pub before: Option<u64>,
    /// The order.
    pub sort: ComplaintSort,
    /// Rows of the order to skip, capped at [`MAX_OFFSET`].
    pub offset: u32,
    /// At most this many (capped at 500).
    pub limit: u32,
}

impl ComplaintQuery {
    /// The statement selecting `columns` of the page, with numbered placeholders (`?N` for
    /// SQLite, `$N` for PostgreSQL), and the values that fill them in order.
    pub(crate) fn select(&self, columns: &str, mark: char) -> (String, Vec<SearchValue>) {
        let mut conds = Vec::new();
        let mut values = Vec::new();
        if let Some(s) = self.sender {
            values.push(SearchValue::Int(i64::from(s.0)));
            conds.push(format!("sender_id = {mark}{}", values.len()));
        }
        if let Some(v) = self.verdict {
            values.push(SearchValue::Text(v.as_str()));
            conds.push(format!("verdict = {mark}{}", values.len()));
        } else if self.hide_unverified {
            // Written as the partial indexes' predicate, literally, so that both planners
            // match them.
            conds.push("verdict <> 'unverified'".to_string());
        }
        if let Some(b) = self.before {
            values.push(SearchValue::Int(i64::try_from(b).unwrap_or(i64::MAX)));
            conds.push(format!("id < {mark}{}", values.len()));
        }
        let clause = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let sql = format!(
            "SELECT {columns} FROM complaints {clause} ORDER BY {} LIMIT {} OFFSET {}",
            self.order_by(),
            self.limit.clamp(1, 500),
            self.offset.min(MAX_OFFSET)
        );
        (sql, values)
    }

    /// The `ORDER BY` clause. A column the filters fix (the sender's queue sorted by sender)
    /// orders by id alone: the same rows in the same order, and an index that serves it.
    fn order_by(&self) -> String {
        let dir = if self.sort.descending { "DESC" } else { "ASC" };
        let fixed = match self.sort.column {
            ComplaintColumn::Filed => true,
            ComplaintColumn::Sender => self.sender.is_some(),
            ComplaintColumn::Verdict => self.verdict.is_some(),
        };
        if fixed {
            return format!("id {dir}");
        }
        match self.sort.column {
            // NULL sorts first in SQLite and last in PostgreSQL: no sender reads as 0 in both.
            ComplaintColumn::Sender => format!("coalesce(sender_id, 0) {dir}, id {dir}"),
            _ => format!("verdict {dir}, id {dir}"),
        }
    }
}

//! The console's senders list as a query: free text over id, name, signature and number, an
//! order (id, name, registration, either way) and a page, answered by the store with
//! `ORDER BY … LIMIT … OFFSET` rather than by sorting the whole registry in memory.
//!
//! A sender's name and signature are its latest chained edit's (see
//! [`crate::values::SENDER_NAME`]), so the listing reads them through a subquery; registries
//! hold hundreds or thousands of shops, and the page is cut in the database either way.

use crate::MAX_OFFSET;
use crate::complaints::LAST_SUSPENSION_ACTION;
use crate::console::SearchValue;
use crate::values::{SENDER_NAME, SENDER_SIGNATURE};

/// What the senders list can be ordered by; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SenderColumn {
    /// Id, the order of registration.
    #[default]
    Id,
    /// The current name, ignoring case as the search does, by code point.
    Name,
    /// When registered.
    Created,
}

impl SenderColumn {
    /// Every column, for forms and errors.
    pub const ALL: [SenderColumn; 3] =
        [SenderColumn::Id, SenderColumn::Name, SenderColumn::Created];

    /// The wire name (`id`, `name`, `created`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SenderColumn::Id => "id",
            SenderColumn::Name => "name",
            SenderColumn::Created => "created",
        }
    }

    /// From the wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A page of the senders list.
#[derive(Debug, Clone, Default)]
pub struct SenderQuery {
    /// Free text: a sender whose id is it, or whose name, signature or number contains it
    /// (ignoring case: ASCII case only on SQLite, whose `lower` knows no other); blank is
    /// every sender.
    pub text: String,
    /// The order.
    pub column: SenderColumn,
    /// Largest first.
    pub descending: bool,
    /// Rows of the order to skip, capped at [`MAX_OFFSET`].
    pub offset: u32,
    /// At most this many (capped at 500).
    pub limit: u32,
}

/// What both backends read: the sender's columns as the registry reports them.
const ROWS: &str = "SELECT id, {NAME} AS name, {SIGNATURE} AS signature, source_number, \
                    {LAST} AS last_action, created_at FROM senders";

impl SenderQuery {
    /// The `FROM … WHERE` part and its values, with numbered placeholders (`?N` or `$N`).
    fn matching(&self, mark: char) -> (String, Vec<SearchValue>) {
        let rows = ROWS
            .replace("{NAME}", SENDER_NAME)
            .replace("{SIGNATURE}", SENDER_SIGNATURE)
            .replace("{LAST}", LAST_SUSPENSION_ACTION);
        let text = self.text.trim().to_lowercase();
        if text.is_empty() {
            return (format!("FROM ({rows}) s"), Vec::new());
        }
        // `strpos` (PostgreSQL) and `instr` (SQLite) match the text as it is: no wildcard in a
        // search for `50%` or `_`.
        let find = if mark == '$' { "strpos" } else { "instr" };
        let mut values = vec![SearchValue::Owned(text.clone())];
        let mut conds = ["name", "signature", "source_number"]
            .map(|c| format!("{find}(lower({c}), {mark}1) > 0"))
            .to_vec();
        if let Ok(id) = text.parse::<u32>() {
            values.push(SearchValue::Int(i64::from(id)));
            conds.push(format!("id = {mark}2"));
        }
        (
            format!("FROM ({rows}) s WHERE {}", conds.join(" OR ")),
            values,
        )
    }

    /// The page's statement (columns: id, name, signature, source_number, last_action,
    /// created_at) and the count of every match, with their values.
    pub(crate) fn select(&self, mark: char) -> (String, String, Vec<SearchValue>) {
        let (from, values) = self.matching(mark);
        let dir = if self.descending { "DESC" } else { "ASC" };
        // Code-point order in both backends (PostgreSQL would otherwise use its locale).
        let collate = if mark == '$' { " COLLATE \"C\"" } else { "" };
        let order = match self.column {
            SenderColumn::Id => format!("id {dir}"),
            SenderColumn::Name => format!("lower(name){collate} {dir}, id {dir}"),
            SenderColumn::Created => format!("created_at {dir}, id {dir}"),
        };
        let page = format!(
            "SELECT id, name, signature, source_number, last_action, created_at {from} \
             ORDER BY {order} LIMIT {} OFFSET {}",
            self.limit.clamp(1, 500),
            self.offset.min(MAX_OFFSET)
        );
        let count = format!("SELECT count(*) {from}");
        (page, count, values)
    }
}

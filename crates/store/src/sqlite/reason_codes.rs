//! `message_reasons`: the reason codes of each message's current decision, one row per code,
//! written in the transaction that records or changes the decision. The message search by
//! reason reads the code's range of this table's key instead of matching every candidate
//! row's reasons JSON (`console::search_where`).

use policy::Reason;
use rusqlite::{Transaction, params};

use crate::StoreError;

/// Records the codes of message `id`'s first decision.
pub(crate) fn insert(tx: &Transaction<'_>, id: i64, reasons: &[Reason]) -> Result<(), StoreError> {
    if reasons.is_empty() {
        return Ok(());
    }
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO message_reasons (code, message_id) VALUES (?1, ?2)",
    )?;
    for r in reasons {
        stmt.execute(params![r.code.as_str(), id])?;
    }
    Ok(())
}

/// Replaces message `id`'s codes with those of its new decision. The table is keyed by code
/// first (the search's order), so the old rows are found by probing every code the policy
/// has, each one key lookup, rather than through a second index paid on every send.
pub(crate) fn replace(tx: &Transaction<'_>, id: i64, reasons: &[Reason]) -> Result<(), StoreError> {
    tx.prepare_cached(&format!(
        "DELETE FROM message_reasons WHERE message_id = ?1 AND code IN ({})",
        crate::values::every_reason_code()
    ))?
    .execute([id])?;
    insert(tx, id, reasons)
}

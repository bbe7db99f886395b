//! `message_reasons`: the reason codes of each message's current decision, one row per code,
//! written in the transaction that records or changes the decision (see the SQLite file of
//! the same name, and migration 0009).

use deadpool_postgres::Transaction;
use policy::Reason;

use super::pg_err;
use crate::StoreError;

/// Records the codes of first decisions: `reasons[i]` are message `ids[i]`'s. One statement
/// for the batch, none when no message has a reason.
pub(crate) async fn insert(
    tx: &Transaction<'_>,
    ids: &[i64],
    reasons: &[&[Reason]],
) -> Result<(), StoreError> {
    let mut codes: Vec<&str> = Vec::new();
    let mut messages: Vec<i64> = Vec::new();
    for (id, rs) in ids.iter().zip(reasons) {
        for r in *rs {
            codes.push(r.code.as_str());
            messages.push(*id);
        }
    }
    if codes.is_empty() {
        return Ok(());
    }
    let insert = tx
        .prepare_cached(
            "INSERT INTO message_reasons (code, message_id)
             SELECT DISTINCT code, message_id FROM unnest($1::text[], $2::bigint[]) AS x(code, message_id)
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(pg_err)?;
    tx.execute(&insert, &[&codes, &messages])
        .await
        .map_err(pg_err)?;
    Ok(())
}

/// Replaces message `id`'s codes with those of its new decision (the old rows found by
/// probing every code the policy has: the key is code first, for the search).
pub(crate) async fn replace(
    tx: &Transaction<'_>,
    id: i64,
    reasons: &[Reason],
) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "DELETE FROM message_reasons WHERE message_id = $1 AND code IN ({})",
            crate::values::every_reason_code()
        ),
        &[&id],
    )
    .await
    .map_err(pg_err)?;
    insert(tx, &[id], &[reasons]).await
}

//! [`TrafficLog`] on SQLite.

use domain::{SenderId, Timestamp};
use rusqlite::params;

use super::{SqliteStore, micros};
use crate::StoreError;
use crate::traffic::{Traffic, TrafficLog};
use crate::values::u64_of;

impl TrafficLog for SqliteStore {
    fn sender_traffic(
        &self,
        sender: SenderId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Traffic, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT count(*), count(DISTINCT phone),
                    coalesce(sum(delivery IN ('submitted', 'delivered')), 0),
                    coalesce(sum(delivery = 'pending'), 0),
                    coalesce(sum(delivery IN ('failed', 'not_sent')), 0)
             FROM messages WHERE sender_id = ?1 AND decided_at >= ?2 AND decided_at < ?3",
        )?;
        Ok(
            stmt.query_row(params![sender.0, micros(from), micros(to)], |r| {
                Ok(Traffic {
                    messages: u64_of(r.get(0)?),
                    phones: u64_of(r.get(1)?),
                    sent: u64_of(r.get(2)?),
                    waiting: u64_of(r.get(3)?),
                    failed: u64_of(r.get(4)?),
                })
            })?,
        )
    }
}

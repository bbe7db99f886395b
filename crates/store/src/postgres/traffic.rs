//! [`TrafficLog`] on PostgreSQL.

use domain::{SenderId, Timestamp};

use super::{PgStore, micros, pg_err};
use crate::StoreError;
use crate::traffic::{Traffic, TrafficLog};
use crate::values::u64_of;

impl TrafficLog for PgStore {
    fn sender_traffic(
        &self,
        sender: SenderId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Traffic, StoreError> {
        self.run(async |c| {
            let row = c
                .query_one(
                    "SELECT count(*), count(DISTINCT phone),
                            count(*) FILTER (WHERE delivery IN ('submitted', 'delivered')),
                            count(*) FILTER (WHERE delivery = 'pending'),
                            count(*) FILTER (WHERE delivery IN ('failed', 'not_sent'))
                     FROM messages WHERE sender_id = $1 AND decided_at >= $2 AND decided_at < $3",
                    &[&i64::from(sender.0), &micros(from), &micros(to)],
                )
                .await
                .map_err(pg_err)?;
            Ok(Traffic {
                messages: u64_of(row.get(0)),
                phones: u64_of(row.get(1)),
                sent: u64_of(row.get(2)),
                waiting: u64_of(row.get(3)),
                failed: u64_of(row.get(4)),
            })
        })
    }
}

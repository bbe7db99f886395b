//! The cmpp_accounts table.

use domain::{SenderId, Timestamp};

use super::credentials::record_credentials;
use super::{PgStore, corrupt, micros, pg_err};
use crate::audit::credentials::{Credential, ISSUED};
use crate::{AuditKind, CmppRegistry, StoreError};

impl CmppRegistry for PgStore {
    fn put_cmpp_account(
        &self,
        source_addr: &str,
        sender: SenderId,
        secret: &str,
    ) -> Result<(), StoreError> {
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            let now = Timestamp::now();
            tx.execute(
                "DELETE FROM cmpp_accounts WHERE sender_id = $1 OR source_addr = $2",
                &[&i64::from(sender.0), &source_addr],
            )
            .await
            .map_err(pg_err)?;
            tx.execute(
                "INSERT INTO cmpp_accounts (source_addr, sender_id, secret, created_at)
                 VALUES ($1, $2, $3, $4)",
                &[&source_addr, &i64::from(sender.0), &secret, &micros(now)],
            )
            .await
            .map_err(pg_err)?;
            let change = Credential::cmpp(source_addr, i64::from(sender.0), secret);
            let rows = record_credentials(&tx, &[(ISSUED, change)], now).await?;
            self.chain_records(&tx, AuditKind::Credential, &rows, now)
                .await?;
            tx.commit().await.map_err(pg_err)
        })
    }

    fn cmpp_account(&self, source_addr: &str) -> Result<Option<(SenderId, String)>, StoreError> {
        self.run(async |c| {
            let row = c
                .query_opt(
                    "SELECT sender_id, secret FROM cmpp_accounts WHERE source_addr = $1",
                    &[&source_addr],
                )
                .await
                .map_err(pg_err)?;
            row.map(|r| {
                let id: i64 = r.get(0);
                Ok((
                    SenderId(u32::try_from(id).map_err(|e| corrupt("cmpp_accounts", id, e))?),
                    r.get(1),
                ))
            })
            .transpose()
        })
    }
}

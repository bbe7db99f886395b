//! The cmpp_accounts table.

use domain::{SenderId, Timestamp};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, micros};
use crate::audit::credentials::{Credential, ISSUED};
use crate::{AuditKind, CmppRegistry, StoreError};

impl CmppRegistry for SqliteStore {
    fn put_cmpp_account(
        &self,
        source_addr: &str,
        sender: SenderId,
        secret: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let now = Timestamp::now();
        tx.execute(
            "DELETE FROM cmpp_accounts WHERE sender_id = ?1 OR source_addr = ?2",
            params![sender.0, source_addr],
        )?;
        tx.execute(
            "INSERT INTO cmpp_accounts (source_addr, sender_id, secret, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![source_addr, sender.0, secret, micros(now)],
        )?;
        let change = Credential::cmpp(source_addr, i64::from(sender.0), secret);
        let rows = super::keys::record_credentials(&tx, &[(ISSUED, change)], now)?;
        let chain = self.chain_records(&tx, AuditKind::Credential, &rows, now)?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok(())
    }

    fn cmpp_account(&self, source_addr: &str) -> Result<Option<(SenderId, String)>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn
            .prepare_cached("SELECT sender_id, secret FROM cmpp_accounts WHERE source_addr = ?1")?;
        Ok(stmt
            .query_row([source_addr], |r| {
                Ok((SenderId(r.get::<_, u32>(0)?), r.get::<_, String>(1)?))
            })
            .optional()?)
    }
}

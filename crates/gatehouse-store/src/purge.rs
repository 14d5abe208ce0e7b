//! Deleting what can no longer be used, in bounded batches: expired authorization codes (kept
//! an hour past expiry so a replay is still recognised, RFC 6749 §4.1.2), expired refresh
//! tokens, expired sessions, expired entries of the revoked-token list (RFC 7009) and of the
//! assertion replay cache (RFC 7523 §3 `jti`), expired device authorizations (RFC 8628), and
//! — only when an operator sets a retention — audit events older than it.
//!
//! Every row goes by its own expiry column compared with `now`, so nothing still valid is
//! touched. Each batch is one short `DELETE … WHERE key IN (SELECT key … LIMIT n)`, so a large
//! backlog never holds a long write lock or a large transaction; batches run until one comes
//! back short.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query};

use crate::{Error, Store, db_time};

/// The default number of rows one `DELETE` removes.
pub const DEFAULT_PURGE_BATCH: u64 = 1000;

/// What to purge beyond expired rows, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgePolicy {
    /// Rows per `DELETE` (at least 1).
    pub batch_size: u64,
    /// Audit events recorded before this instant are deleted; `None` keeps them all.
    pub audit_before: Option<DateTime<Utc>>,
}

impl Default for PurgePolicy {
    fn default() -> Self {
        Self {
            batch_size: DEFAULT_PURGE_BATCH,
            audit_before: None,
        }
    }
}

/// How many rows of each kind a purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    pub codes: u64,
    pub refresh_tokens: u64,
    pub sessions: u64,
    pub revoked_tokens: u64,
    pub replay_entries: u64,
    pub device_authorizations: u64,
    pub audit_events: u64,
}

impl Store {
    /// Deletes every expired row (see the module documentation) as of `now`.
    pub async fn purge(
        &self,
        now: DateTime<Utc>,
        policy: PurgePolicy,
    ) -> Result<PurgeReport, Error> {
        let n = Ord::max(policy.batch_size, 1);
        let purged = self.delete_expired_in_batches(now, n).await?;
        let audit_events = match policy.audit_before {
            Some(before) => {
                self.delete_in_batches("audit_events", "id", "at", before, n)
                    .await?
            }
            None => 0,
        };
        Ok(PurgeReport {
            codes: purged.codes,
            refresh_tokens: purged.refresh_tokens,
            sessions: purged.sessions,
            revoked_tokens: self
                .delete_in_batches("revoked_tokens", "jti", "expires_at", now, n)
                .await?,
            replay_entries: self
                .delete_in_batches("assertion_replays", "key_hash", "expires_at", now, n)
                .await?,
            device_authorizations: self
                .delete_in_batches(
                    "device_authorizations",
                    "device_code_hash",
                    "expires_at",
                    now,
                    n,
                )
                .await?,
            audit_events,
        })
    }

    /// Deletes the rows of `table` whose `column` is before `before`, `batch` rows (by their
    /// primary key `key`) per statement; returns how many went.
    pub(crate) async fn delete_in_batches(
        &self,
        table: &'static str,
        key: &'static str,
        column: &'static str,
        before: DateTime<Utc>,
        batch: u64,
    ) -> Result<u64, Error> {
        let mut total = 0;
        loop {
            let keys = Query::select()
                .column(key)
                .from(table)
                .and_where(Expr::col(column).lt(db_time(before)))
                .limit(batch)
                .take();
            let delete = Query::delete()
                .from_table(table)
                .and_where(Expr::col(key).in_subquery(keys))
                .take();
            let gone = self.db().execute(&delete).await?.rows_affected();
            total += gone;
            if gone < batch {
                return Ok(total);
            }
        }
    }
}

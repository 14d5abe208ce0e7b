//! `[database]`, `[housekeeping]` and `[audit]`: how the database is reached and migrated,
//! how expired rows are purged, and how long the audit trail is kept.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[database]`: connecting and migrating (the URL is `database_url`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Seconds to wait for a connection (opening one, or a free one from the pool) before
    /// failing with the host, port and cause.
    pub connect_timeout: u64,
    /// Whether `serve` applies pending migrations at start-up. Off (`serve --no-migrate`): a
    /// server refuses to start while migrations are pending (`gatehouse migrate` runs them).
    pub migrate_on_start: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            connect_timeout: 5,
            migrate_on_start: true,
        }
    }
}

impl DatabaseSettings {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout)
    }

    fn check(&self) -> Result<(), String> {
        if !(1..=300).contains(&self.connect_timeout) {
            return Err("database.connect_timeout must be between 1 and 300 seconds".into());
        }
        Ok(())
    }
}

/// `[housekeeping]`: the background purge of expired rows on every node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HousekeepingSettings {
    /// Seconds between two purges (the key-reload period rounds it).
    pub interval: u64,
    /// Rows deleted per statement.
    pub batch_size: u64,
}

impl Default for HousekeepingSettings {
    fn default() -> Self {
        Self {
            interval: 600,
            batch_size: 1000,
        }
    }
}

impl HousekeepingSettings {
    fn check(&self) -> Result<(), String> {
        if !(10..=86_400).contains(&self.interval) {
            return Err("housekeeping.interval must be between 10 and 86400 seconds".into());
        }
        if !(1..=100_000).contains(&self.batch_size) {
            return Err("housekeeping.batch_size must be between 1 and 100000".into());
        }
        Ok(())
    }
}

/// `[audit]`: retention of the audit trail.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// Days an audit event is kept; 0 (default) keeps every event forever.
    pub retention_days: u32,
}

impl AuditSettings {
    /// Events older than this many days go at the next purge; `None` = keep forever.
    pub fn retention(&self) -> Option<chrono::Duration> {
        (self.retention_days > 0).then(|| chrono::Duration::days(i64::from(self.retention_days)))
    }

    fn check(&self) -> Result<(), String> {
        if self.retention_days > 36_500 {
            return Err("audit.retention_days must be at most 36500 (0 keeps forever)".into());
        }
        Ok(())
    }
}

/// Checks the three sections.
pub(super) fn check(
    db: &DatabaseSettings,
    hk: &HousekeepingSettings,
    audit: &AuditSettings,
) -> Result<(), String> {
    db.check()?;
    hk.check()?;
    audit.check()
}

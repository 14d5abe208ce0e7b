//! `[cache]`: how long a node answers clients, tenants and revocation checks from memory
//! before it asks the database whether they changed (`gatehouse_store::cache`, issue 9).

use serde::{Deserialize, Serialize};

/// Longest accepted check interval: a disabled tenant must stop within it on every node.
const MAX_CHECK_INTERVAL_MS: u64 = 5_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    /// Milliseconds between two checks of the cache generations (one read of two rows);
    /// a change written on another node (or by the CLI) is honoured within this time. 0 checks
    /// before every cached read.
    pub check_interval_ms: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            check_interval_ms: 100,
        }
    }
}

impl CacheSettings {
    /// Checks the interval's bound.
    pub fn check(&self) -> Result<(), String> {
        if self.check_interval_ms > MAX_CHECK_INTERVAL_MS {
            return Err(format!(
                "cache.check_interval_ms must be at most {MAX_CHECK_INTERVAL_MS}"
            ));
        }
        Ok(())
    }

    pub fn interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.check_interval_ms)
    }
}

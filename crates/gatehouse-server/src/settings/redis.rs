//! `[redis]`: a Redis server shared by several nodes, for the rate limits that must hold
//! across them (the sign-in throttle and the API-key classes). Optional: without it each node
//! limits on its own.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `[redis]` (`GATEHOUSE_REDIS_URL` wins over the file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://[:password@]host:port[/db]` or `rediss://…`; empty (default): no Redis.
    pub url: RedisUrl,
    /// Prepended to every key, so several deployments can share one Redis.
    pub key_prefix: String,
    /// Longest wait for an answer, in milliseconds, before the node falls back to its own
    /// limits (and tries Redis again a few seconds later).
    pub timeout_ms: u64,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: RedisUrl::default(),
            key_prefix: "gatehouse".into(),
            timeout_ms: 250,
        }
    }
}

impl RedisSettings {
    /// Checks the URL scheme and the ranges.
    pub fn check(&self) -> Result<(), String> {
        let url = self.url.expose();
        if !(url.is_empty() || url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err("redis.url must start with redis:// or rediss://".into());
        }
        if !(1..=10_000).contains(&self.timeout_ms) {
            return Err("redis.timeout_ms must be between 1 and 10000".into());
        }
        if self.key_prefix.is_empty() || self.key_prefix.len() > 64 {
            return Err("redis.key_prefix must be 1 to 64 characters".into());
        }
        Ok(())
    }
}

/// The Redis URL, which may hold a password: `Debug` shows only whether one is set.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RedisUrl(String);

impl RedisUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { "<set>" } else { "<unset>" })
    }
}

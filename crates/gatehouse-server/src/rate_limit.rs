//! Rate limits (GCRA, with `governor`): admin-API calls per API key by the key's rate-limit
//! class (reads and writes counted apart, as platforms publish them: "N reads / M writes per
//! minute, per key"). Password sign-ins are not rate-limited here: their failures are
//! throttled by `gatehouse_core::throttle` (see [`crate::throttle`]).
//!
//! With `[redis]` (`GATEHOUSE_REDIS_URL`) the counts are shared by every node
//! ([`crate::shared_limits`]), so the limit holds for the cluster. Without it — or while Redis
//! does not answer — state is in this node's memory: with several nodes behind a load balancer
//! the effective limit is then at most the configured one times the number of nodes. Idle keys
//! are pruned by the housekeeping task, so the maps do not grow without bound.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

pub use crate::settings::DEFAULT_CLASS;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::shared_limits::SharedRedis;

/// One keyed limit of `per_minute` events, bursting up to the same number.
pub struct Limit {
    limiter: DefaultKeyedRateLimiter<String>,
    per_minute: u32,
}

/// A refusal: how long to wait, in whole seconds (for `Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: u64,
}

impl Limit {
    /// `None` when `per_minute` is 0 (unlimited).
    pub fn per_minute(per_minute: u32) -> Option<Self> {
        let n = NonZeroU32::new(per_minute)?;
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
            per_minute,
        })
    }

    /// Counts one event for `key`.
    pub fn check(&self, key: &str) -> Result<(), Limited> {
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                use governor::clock::{Clock, DefaultClock};
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Limited {
                    retry_after: wait.as_secs().max(1),
                }
            })
    }

    pub fn per_minute_value(&self) -> u32 {
        self.per_minute
    }

    fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Reads and writes of one API-key class.
pub struct ClassLimits {
    pub read: Option<Limit>,
    pub write: Option<Limit>,
}

/// Every limit of the server.
pub struct RateLimits {
    /// By class name; keys without a class use `default`.
    pub api_key_classes: BTreeMap<String, ClassLimits>,
    /// The Redis every node counts in, when configured.
    pub shared: Option<Arc<SharedRedis>>,
}

impl RateLimits {
    pub fn from_settings(s: &crate::settings::Settings, shared: Option<Arc<SharedRedis>>) -> Self {
        Self {
            shared,
            api_key_classes: s
                .api_keys
                .rate_limit_classes
                .iter()
                .map(|(name, c)| {
                    (
                        name.clone(),
                        ClassLimits {
                            read: Limit::per_minute(c.reads_per_minute),
                            write: Limit::per_minute(c.writes_per_minute),
                        },
                    )
                })
                .collect(),
        }
    }

    /// Counts an admin-API call by the key `key_id` of class `class` (`None` = default): in
    /// the shared Redis when there is one and it answers, else on this node.
    pub async fn check_api_key(
        &self,
        key_id: &str,
        class: Option<&str>,
        write: bool,
    ) -> Result<(), Limited> {
        let result = match (&self.shared, self.limit_of(class, write)) {
            (_, None) => Ok(()),
            (Some(redis), Some(limit)) => {
                let key = format!(
                    "rl:{}:{}:{key_id}",
                    class.unwrap_or(DEFAULT_CLASS),
                    if write { 'w' } else { 'r' }
                );
                match redis.gcra(&key, limit.per_minute).await {
                    Some(shared) => shared,
                    None => limit.check(key_id),
                }
            }
            (None, Some(limit)) => limit.check(key_id),
        };
        if result.is_err() {
            crate::telemetry::rate_limited(if write {
                "api_key_write"
            } else {
                "api_key_read"
            });
        }
        result
    }

    /// The limit counting calls of `class` (`None` = default; an unknown class falls back to
    /// the default), reads or writes; `None` when unlimited.
    fn limit_of(&self, class: Option<&str>, write: bool) -> Option<&Limit> {
        let class = class.unwrap_or(DEFAULT_CLASS);
        let limits = self
            .api_key_classes
            .get(class)
            .or_else(|| self.api_key_classes.get(DEFAULT_CLASS))?;
        if write {
            limits.write.as_ref()
        } else {
            limits.read.as_ref()
        }
    }

    /// Forgets keys that have not been limited lately (housekeeping).
    pub fn prune(&self) {
        for c in self.api_key_classes.values() {
            for l in [&c.read, &c.write].into_iter().flatten() {
                l.prune();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_limit_is_refused_per_key() {
        let l = Limit::per_minute(3).unwrap();
        for _ in 0..3 {
            assert!(l.check("a").is_ok());
        }
        let refused = l.check("a").unwrap_err();
        assert!((1..=60).contains(&refused.retry_after), "{refused:?}");
        // Another key has its own budget.
        assert!(l.check("b").is_ok());
        assert!(Limit::per_minute(0).is_none());
    }

    #[tokio::test]
    async fn api_key_classes_count_reads_and_writes_apart() {
        let mut classes = BTreeMap::new();
        classes.insert(
            DEFAULT_CLASS.to_owned(),
            ClassLimits {
                read: Limit::per_minute(2),
                write: Limit::per_minute(1),
            },
        );
        classes.insert(
            "bulk".to_owned(),
            ClassLimits {
                read: Limit::per_minute(10),
                write: None,
            },
        );
        let limits = RateLimits {
            api_key_classes: classes,
            shared: None,
        };
        assert!(limits.check_api_key("k1", None, true).await.is_ok());
        assert!(limits.check_api_key("k1", None, true).await.is_err());
        assert!(limits.check_api_key("k1", None, false).await.is_ok());
        assert!(limits.check_api_key("k1", None, false).await.is_ok());
        assert!(limits.check_api_key("k1", None, false).await.is_err());
        // An unknown class falls back to the default; a class without a write limit has none.
        assert!(limits.check_api_key("k2", Some("gone"), true).await.is_ok());
        assert!(
            limits
                .check_api_key("k2", Some("gone"), true)
                .await
                .is_err()
        );
        for _ in 0..5 {
            assert!(limits.check_api_key("k3", Some("bulk"), true).await.is_ok());
        }
    }
}

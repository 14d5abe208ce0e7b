//! Per-key and per-client rate limits by method class, with the IETF rate-limit headers.
//!
//! - Classes: `read` (GET, HEAD, OPTIONS), `create` (POST), `update` (PUT, PATCH; or counted as
//!   `create` when configured so), `delete` (DELETE); any other method counts as `create`, the
//!   stricter write class. Defaults per minute: 1200 / 120 / 120 / 30, overridden per class by
//!   the limits the authorization server publishes for an API key's rate-limit class
//!   (introspection's `rate_limits`). 0 means unlimited.
//! - Who is counted: [`crate::Claims::rate_limit_identity`] — the API key (presented, or
//!   exchanged for the token), else the OAuth client.
//! - Algorithm: GCRA (a leaky bucket stored as one timestamp per identity and class): a full
//!   minute's quota may be used at once, then it refills evenly. In memory (bounded map) or in
//!   Redis (an atomic Lua script on the server's clock, so instances sharing one Redis enforce
//!   one limit). When Redis cannot be reached the limiter falls back to its local state and logs
//!   a warning: it neither fails open silently nor refuses service.
//! - Headers: `RateLimit-Policy` and `RateLimit` as in draft-ietf-httpapi-ratelimit-headers-10
//!   (structured-field lists; `q` quota and `w` window in seconds; `r` remaining and `t`
//!   seconds until the quota is whole again), plus `Retry-After` (RFC 9110 §10.2.3) on 429.

mod local;
#[cfg(feature = "redis")]
mod redis;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::claims::Claims;
use crate::clock::{Clock, SharedClock, SystemClock, unix_micros};
use crate::error::BuildError;

/// A rate-limit class of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodClass {
    Read,
    Create,
    Update,
    Delete,
}

impl MethodClass {
    /// The policy name in the headers.
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// How PUT and PATCH are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdatePolicy {
    /// Their own `update` class.
    Own,
    /// Together with POST in `create`.
    AsCreate,
}

/// Limits per class and window as published for an API key's class; `None` = not published
/// (the local default applies), `Some(0)` = unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct ClassLimits {
    pub read: Option<u32>,
    pub create: Option<u32>,
    pub update: Option<u32>,
    pub delete: Option<u32>,
}

impl ClassLimits {
    fn get(&self, class: MethodClass) -> Option<u32> {
        match class {
            MethodClass::Read => self.read,
            MethodClass::Create => self.create,
            MethodClass::Update => self.update,
            MethodClass::Delete => self.delete,
        }
    }
}

/// Configuration of a [`RateLimiter`].
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    /// The window the limits are counted over (default one minute).
    pub window: Duration,
    /// Default limits per window; 0 = unlimited.
    pub read: u32,
    pub create: u32,
    pub update: u32,
    pub delete: u32,
    pub updates: UpdatePolicy,
    /// Most identities × classes tracked in memory.
    pub capacity: usize,
    /// `redis://host:port/db` to share limits between instances (feature `redis`).
    pub redis_url: Option<String>,
    /// Prefix of the Redis keys.
    pub redis_prefix: String,
    /// Longest wait for Redis before falling back to local limits.
    pub redis_timeout: Duration,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            read: 1200,
            create: 120,
            update: 120,
            delete: 30,
            updates: UpdatePolicy::Own,
            capacity: 100_000,
            redis_url: None,
            redis_prefix: "gatehouse-verify:rl".into(),
            redis_timeout: Duration::from_millis(250),
        }
    }
}

impl RateLimitConfig {
    /// The class of an HTTP method.
    pub fn class_of(&self, method: &str) -> MethodClass {
        match method {
            "GET" | "HEAD" | "OPTIONS" => MethodClass::Read,
            "DELETE" => MethodClass::Delete,
            "PUT" | "PATCH" if self.updates == UpdatePolicy::Own => MethodClass::Update,
            _ => MethodClass::Create,
        }
    }

    fn default_limit(&self, class: MethodClass) -> u32 {
        match class {
            MethodClass::Read => self.read,
            MethodClass::Create => self.create,
            MethodClass::Update => self.update,
            MethodClass::Delete => self.delete,
        }
    }
}

/// The outcome of counting one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateDecision {
    pub class: MethodClass,
    /// The quota of the window (`q`).
    pub limit: u32,
    pub window_secs: u64,
    /// Requests left now (`r`).
    pub remaining: u32,
    /// Seconds until the quota is whole again (`t`).
    pub reset_secs: u64,
    /// Set when refused: seconds until a request would be allowed.
    pub retry_after: Option<u64>,
}

impl RateDecision {
    pub fn allowed(&self) -> bool {
        self.retry_after.is_none()
    }

    /// `RateLimit-Policy`, `RateLimit` and, when refused, `Retry-After`.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let name = self.class.name();
        let mut h = vec![
            (
                "RateLimit-Policy",
                format!("\"{name}\";q={};w={}", self.limit, self.window_secs),
            ),
            (
                "RateLimit",
                format!("\"{name}\";r={};t={}", self.remaining, self.reset_secs),
            ),
        ];
        if let Some(s) = self.retry_after {
            h.push(("Retry-After", s.to_string()));
        }
        h
    }
}

/// GCRA state change for one request: `tat` is the stored theoretical arrival time (µs), or
/// `None` for a fresh identity. Returns the new `tat` to store (none when refused) and the
/// decision's numbers (remaining, µs to reset, µs to retry).
pub(crate) fn gcra(tat: Option<u64>, now: u64, limit: u32, window: u64) -> (Option<u64>, Outcome) {
    let interval = (window / u64::from(limit)).max(1);
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    if new_tat > now + window {
        let out = Outcome {
            remaining: 0,
            reset_us: tat - now,
            retry_us: Some(new_tat - window - now),
        };
        return (None, out);
    }
    let remaining = u32::try_from((now + window - new_tat) / interval).unwrap_or(u32::MAX);
    let out = Outcome {
        remaining,
        reset_us: new_tat - now,
        retry_us: None,
    };
    (Some(new_tat), out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub remaining: u32,
    pub reset_us: u64,
    pub retry_us: Option<u64>,
}

fn ceil_secs(us: u64) -> u64 {
    us.div_ceil(1_000_000)
}

/// Counts requests per identity and class; cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    config: RateLimitConfig,
    clock: SharedClock,
    local: local::LocalGcra,
    #[cfg(feature = "redis")]
    redis: Option<redis::RedisGcra>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Result<Self, BuildError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A limiter on an injected clock (the Redis backend uses the Redis server's clock).
    pub fn with_clock(config: RateLimitConfig, clock: Arc<dyn Clock>) -> Result<Self, BuildError> {
        if config.window.as_secs() == 0 {
            return Err(BuildError("rate limit window: at least one second".into()));
        }
        #[cfg(feature = "redis")]
        let redis = match &config.redis_url {
            Some(url) => Some(redis::RedisGcra::new(url, &config)?),
            None => None,
        };
        #[cfg(not(feature = "redis"))]
        if config.redis_url.is_some() {
            return Err(BuildError(
                "redis_url: this build lacks the `redis` feature".into(),
            ));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                local: local::LocalGcra::new(config.capacity),
                config,
                clock,
                #[cfg(feature = "redis")]
                redis,
            }),
        })
    }

    pub fn config(&self) -> &RateLimitConfig {
        &self.inner.config
    }

    /// Counts one request of `method` by the holder of `claims`. `None` when the class is
    /// unlimited.
    pub async fn check(&self, claims: &Claims, method: &str) -> Option<RateDecision> {
        let class = self.inner.config.class_of(method);
        let limit = claims
            .api_key
            .as_ref()
            .and_then(|k| k.rate_limits)
            .and_then(|l| l.get(class))
            .unwrap_or_else(|| self.inner.config.default_limit(class));
        self.check_identity(&claims.rate_limit_identity(), class, limit)
            .await
    }

    /// Counts one request of `class` for `identity` against `limit` per window.
    pub async fn check_identity(
        &self,
        identity: &str,
        class: MethodClass,
        limit: u32,
    ) -> Option<RateDecision> {
        if limit == 0 {
            return None;
        }
        let window = u64::try_from(self.inner.config.window.as_micros()).unwrap_or(u64::MAX);
        let key = format!("{}:{}", class.name(), identity);
        let outcome = self.count(&key, limit, window).await;
        Some(RateDecision {
            class,
            limit,
            window_secs: self.inner.config.window.as_secs(),
            remaining: outcome.remaining,
            reset_secs: ceil_secs(outcome.reset_us),
            retry_after: outcome.retry_us.map(|us| ceil_secs(us).max(1)),
        })
    }

    async fn count(&self, key: &str, limit: u32, window: u64) -> Outcome {
        #[cfg(feature = "redis")]
        if let Some(r) = &self.inner.redis
            && let Some(out) = r.count(key, limit, window).await
        {
            return out;
        }
        let now = unix_micros(self.inner.clock.now());
        self.inner.local.count(key, now, limit, window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_allows_a_full_window_then_refills_evenly() {
        let w = 60_000_000;
        let mut tat = None;
        for i in 0..30 {
            let (next, out) = gcra(tat, 0, 30, w);
            assert_eq!(out.remaining, 29 - i);
            tat = next;
        }
        let (none, out) = gcra(tat, 0, 30, w);
        assert_eq!(none, None);
        assert_eq!(out.retry_us, Some(2_000_000));
        assert_eq!(out.reset_us, 60_000_000);
        // Two seconds later exactly one more fits.
        let (next, out) = gcra(tat, 2_000_000, 30, w);
        assert!(next.is_some());
        assert_eq!(out.remaining, 0);
    }

    #[test]
    fn methods_map_to_classes() {
        let mut c = RateLimitConfig::default();
        assert_eq!(c.class_of("GET"), MethodClass::Read);
        assert_eq!(c.class_of("HEAD"), MethodClass::Read);
        assert_eq!(c.class_of("POST"), MethodClass::Create);
        assert_eq!(c.class_of("DELETE"), MethodClass::Delete);
        assert_eq!(c.class_of("PATCH"), MethodClass::Update);
        assert_eq!(c.class_of("BREW"), MethodClass::Create);
        c.updates = UpdatePolicy::AsCreate;
        assert_eq!(c.class_of("PUT"), MethodClass::Create);
    }
}

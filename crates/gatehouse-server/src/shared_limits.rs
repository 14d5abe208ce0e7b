//! Rate-limit state shared by every node through Redis (`[redis]`, `GATEHOUSE_REDIS_URL`), so
//! that N nodes behind a load balancer allow the configured limit, not N times it.
//!
//! Two uses, each an atomic step on the Redis server:
//! - API-key classes: a GCRA step as one Lua script, timed by Redis's own clock (`TIME`), so
//!   nodes with skewed clocks still agree ([`SharedRedis::gcra`]);
//! - the sign-in throttle's counters (`gatehouse_core::throttle::FailureStore`): a read and a
//!   compare-and-set script, retried on a lost race ([`SharedRedis::compare_and_set`]).
//!
//! Every key expires when it has no effect any more, so Redis holds only active identities.
//! When Redis does not answer within `redis.timeout_ms` the caller uses this node's own
//! limits: the call returns `None`, a warning is logged (at most every 30 s), the metric
//! `gatehouse_shared_limits_fallback_total` counts it and `gatehouse_redis_up` drops to 0.
//! Redis is then left alone for a few seconds before it is tried again. Service is never
//! refused because Redis is down, and limits never silently stop.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::rate_limit::Limited;
use crate::settings::RedisSettings;

/// GCRA over one key: `ARGV[1]` the emission interval and `ARGV[2]` the window (burst), both in
/// microseconds. Returns 0 when the event is allowed, else the microseconds to wait.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - now > window then
  return next_tat - now - window
end
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
return 0
";

/// Compare-and-set: replaces `KEYS[1]` by `ARGV[2]` (expiring in `ARGV[3]` ms) only if it
/// still holds `ARGV[1]` (`''` standing for no value). Returns 1 when written.
const CAS: &str = r"
local current = redis.call('GET', KEYS[1])
if current == false then current = '' end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
";

/// After a failure, how long this node uses its own limits before it tries Redis again.
const BACKOFF: Duration = Duration::from_secs(3);
/// The fallback warning is logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// The connection to the shared Redis and its failure state.
pub struct SharedRedis {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    prefix: String,
    timeout: Duration,
    down_until: Mutex<Option<Instant>>,
    last_warning: Mutex<Option<Instant>>,
    gcra: redis::Script,
    cas: redis::Script,
}

impl SharedRedis {
    /// The shared store of `[redis]`, or `None` when no URL is set.
    pub fn from_settings(s: &RedisSettings) -> Result<Option<Arc<Self>>, String> {
        if !s.url.is_set() {
            return Ok(None);
        }
        let client = redis::Client::open(s.url.expose()).map_err(|e| {
            format!("redis.url: {e} (the URL is not shown: it may hold a password)")
        })?;
        Ok(Some(Arc::new(Self {
            client,
            conn: tokio::sync::Mutex::new(None),
            prefix: s.key_prefix.clone(),
            timeout: Duration::from_millis(s.timeout_ms),
            down_until: Mutex::new(None),
            last_warning: Mutex::new(None),
            gcra: redis::Script::new(GCRA),
            cas: redis::Script::new(CAS),
        })))
    }

    /// The full key of `name` (`prefix:name`).
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// One GCRA step for `key` under `per_minute` events a minute (burst: the same number).
    /// `None`: Redis is unavailable, use the local limit.
    pub async fn gcra(&self, key: &str, per_minute: u32) -> Option<Result<(), Limited>> {
        let window: u64 = 60_000_000;
        let interval = (window / u64::from(per_minute.max(1))).max(1);
        let key = self.key(key);
        let wait_us: i64 = self
            .call("api_key", async |conn| {
                self.gcra
                    .key(&key)
                    .arg(interval)
                    .arg(window)
                    .invoke_async(conn)
                    .await
            })
            .await?;
        Some(if wait_us <= 0 {
            Ok(())
        } else {
            Err(Limited {
                retry_after: u64::try_from(wait_us)
                    .unwrap_or(0)
                    .div_ceil(1_000_000)
                    .max(1),
            })
        })
    }

    /// The value of `key` (already prefixed), for the sign-in throttle.
    pub async fn get(&self, key: &str) -> Option<Option<String>> {
        self.call("sign_in", async |conn| {
            redis::cmd("GET").arg(key).query_async(conn).await
        })
        .await
    }

    /// Writes `new` to `key` (already prefixed), expiring in `ttl_ms`, if it still holds
    /// `expected` (`None`: no value). `Some(false)`: another node wrote first.
    pub async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        new: &str,
        ttl_ms: u64,
    ) -> Option<bool> {
        let written: i64 = self
            .call("sign_in", async |conn| {
                self.cas
                    .key(key)
                    .arg(expected.unwrap_or(""))
                    .arg(new)
                    .arg(ttl_ms.max(1))
                    .invoke_async(conn)
                    .await
            })
            .await?;
        Some(written == 1)
    }

    /// Deletes `key` (already prefixed).
    pub async fn delete(&self, key: &str) -> Option<()> {
        self.call("sign_in", async |conn| {
            redis::cmd("DEL").arg(key).query_async::<i64>(conn).await
        })
        .await
        .map(|_| ())
    }

    /// Runs `op` on the shared connection within the timeout; `None` (and the fallback
    /// bookkeeping) when Redis is resting after a failure, fails, or is too slow.
    async fn call<T, F>(&self, used_for: &'static str, op: F) -> Option<T>
    where
        F: AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<T>,
    {
        if lock(&self.down_until).is_some_and(|t| Instant::now() < t) {
            crate::telemetry::shared_limits_fallback(used_for);
            return None;
        }
        let attempt = async {
            let mut conn = self.connection().await?;
            op(&mut conn).await
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(v)) => {
                crate::telemetry::redis_answered();
                Some(v)
            }
            Ok(Err(e)) => self.failed(used_for, &e.to_string()),
            Err(_) => self.failed(used_for, "no answer within redis.timeout_ms"),
        }
    }

    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let c = ConnectionManager::new_with_config(self.client.clone(), config).await?;
        *slot = Some(c.clone());
        Ok(c)
    }

    fn failed<T>(&self, used_for: &'static str, why: &str) -> Option<T> {
        let now = Instant::now();
        *lock(&self.down_until) = Some(now + BACKOFF);
        crate::telemetry::shared_limits_fallback(used_for);
        let mut last = lock(&self.last_warning);
        if last.is_none_or(|t| now.duration_since(t) >= WARN_EVERY) {
            *last = Some(now);
            tracing::warn!(
                error = why,
                "shared rate limits: Redis unavailable, enforcing this node's own limits"
            );
        }
        None
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

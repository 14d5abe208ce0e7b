//! Limits shared through Redis: the GCRA step as one Lua script (atomic on the server, timed by
//! the server's clock via `TIME`, so instances with skewed clocks still agree). Each key
//! expires when its bucket is full again, so Redis holds only active identities.
//!
//! When Redis cannot be reached (or answers slower than `redis_timeout`) the caller falls back
//! to local limits for a few seconds and a warning is logged at most every 30 seconds.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use super::{Outcome, RateLimitConfig};
use crate::error::BuildError;

const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local new_tat = tat + interval
if new_tat > now + window then
  return {0, 0, tat - now, new_tat - window - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, math.floor((now + window - new_tat) / interval), new_tat - now, 0}
";

/// After a failure, how long local limits are used before Redis is tried again.
const BACKOFF: Duration = Duration::from_secs(5);
const WARN_EVERY: Duration = Duration::from_secs(30);

pub(super) struct RedisGcra {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    down_until: Mutex<Option<Instant>>,
    last_warning: Mutex<Option<Instant>>,
}

impl RedisGcra {
    pub(super) fn new(url: &str, config: &RateLimitConfig) -> Result<Self, BuildError> {
        let client = redis::Client::open(url).map_err(|e| BuildError(format!("redis_url: {e}")))?;
        Ok(Self {
            client,
            conn: tokio::sync::Mutex::new(None),
            script: redis::Script::new(SCRIPT),
            prefix: config.redis_prefix.clone(),
            timeout: config.redis_timeout,
            down_until: Mutex::new(None),
            last_warning: Mutex::new(None),
        })
    }

    /// The shared decision, or `None` when Redis is unavailable (use local limits).
    pub(super) async fn count(&self, key: &str, limit: u32, window: u64) -> Option<Outcome> {
        if lock(&self.down_until).is_some_and(|t| Instant::now() < t) {
            return None;
        }
        let interval = (window / u64::from(limit)).max(1);
        let attempt = async {
            let mut conn = self.connection().await?;
            self.script
                .key(format!("{}:{key}", self.prefix))
                .arg(interval)
                .arg(window)
                .invoke_async::<Vec<i64>>(&mut conn)
                .await
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(v)) if v.len() == 4 => {
                let n = |i: usize| u64::try_from(v[i]).unwrap_or(0);
                Some(Outcome {
                    remaining: u32::try_from(n(1)).unwrap_or(u32::MAX),
                    reset_us: n(2),
                    retry_us: (v[0] == 0).then(|| n(3)),
                })
            }
            Ok(Ok(_)) => self.failed("unexpected script answer"),
            Ok(Err(e)) => self.failed(&e.to_string()),
            Err(_) => self.failed("timed out"),
        }
    }

    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = ConnectionManager::new(self.client.clone()).await?;
        *slot = Some(c.clone());
        Ok(c)
    }

    fn failed(&self, why: &str) -> Option<Outcome> {
        let now = Instant::now();
        *lock(&self.down_until) = Some(now + BACKOFF);
        let mut last = lock(&self.last_warning);
        if last.is_none_or(|t| now.duration_since(t) >= WARN_EVERY) {
            *last = Some(now);
            tracing::warn!(
                error = why,
                "rate limits: Redis unavailable, enforcing local per-instance limits"
            );
        }
        None
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

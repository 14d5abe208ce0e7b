//! The sign-in failure counters (the policy is `gatehouse_core::throttle`; this is its
//! [`FailureStore`]): [`SignInFailures`] keeps them in the shared Redis when one is configured
//! ([`crate::shared_limits`]), so every node counts the same failures, and in this node's
//! memory ([`MemoryFailures`]) otherwise or while Redis does not answer.
//!
//! Bounded: at most `capacity` keys are kept. Keys are 32-byte digests, so a full table is a
//! few MiB whatever usernames are tried. A record whose `forget_at` has passed is dropped by
//! housekeeping, and when the table is full the record that would be forgotten soonest goes
//! first (a linear scan: it only happens on a failure, which has just cost a password hash).
//! Per node: with N nodes behind a load balancer an attacker gets up to N times the allowance
//! unless a shared store implements the same port.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gatehouse_core::StoreError;
use gatehouse_core::ports::Clock;
use gatehouse_core::throttle::{FailureRecord, FailureStore, ThrottleKey};

use crate::shared_limits::SharedRedis;

/// How often a compare-and-set that lost a race to another node is retried before this node
/// counts the failure locally.
const CAS_ATTEMPTS: usize = 8;

/// The counters of the sign-in throttle: shared through Redis when configured, else local.
pub struct SignInFailures {
    local: MemoryFailures,
    shared: Option<Arc<SharedRedis>>,
    clock: Arc<dyn Clock>,
}

impl SignInFailures {
    pub fn new(
        local: MemoryFailures,
        shared: Option<Arc<SharedRedis>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            local,
            shared,
            clock,
        }
    }

    /// The local table (for housekeeping).
    pub fn local(&self) -> &MemoryFailures {
        &self.local
    }

    fn shared_key(redis: &SharedRedis, key: &ThrottleKey) -> String {
        redis.key(&format!("throttle:{}", key.to_hex()))
    }

    /// `update` through Redis; `None` when Redis failed (count locally instead).
    async fn shared_update(
        &self,
        redis: &SharedRedis,
        key: &ThrottleKey,
        update: &(dyn Fn(Option<FailureRecord>) -> FailureRecord + Sync),
    ) -> Option<()> {
        let k = Self::shared_key(redis, key);
        for _ in 0..CAS_ATTEMPTS {
            let current = redis.get(&k).await?;
            let record = update(current.as_deref().and_then(decode));
            let ttl = (record.forget_at - self.clock.now())
                .num_milliseconds()
                .max(1);
            let written = redis
                .compare_and_set(&k, current.as_deref(), &encode(&record), ttl.unsigned_abs())
                .await?;
            if written {
                return Some(());
            }
        }
        None
    }
}

impl FailureStore for SignInFailures {
    async fn get(&self, key: &ThrottleKey) -> Result<Option<FailureRecord>, StoreError> {
        if let Some(redis) = &self.shared
            && let Some(v) = redis.get(&Self::shared_key(redis, key)).await
        {
            return Ok(v.as_deref().and_then(decode));
        }
        self.local.get(key).await
    }

    async fn update(
        &self,
        key: &ThrottleKey,
        update: &(dyn Fn(Option<FailureRecord>) -> FailureRecord + Sync),
    ) -> Result<(), StoreError> {
        if let Some(redis) = &self.shared
            && self.shared_update(redis, key, update).await.is_some()
        {
            return Ok(());
        }
        self.local.update(key, update).await
    }

    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        if let Some(redis) = &self.shared {
            redis.delete(&Self::shared_key(redis, key)).await;
        }
        self.local.clear(key).await
    }
}

/// A record as stored in Redis: `v1 score at blocked forget`, times in Unix microseconds
/// (`-` for no block).
fn encode(r: &FailureRecord) -> String {
    let blocked = r
        .blocked_until
        .map_or_else(|| "-".to_owned(), |b| b.timestamp_micros().to_string());
    format!(
        "v1 {} {} {blocked} {}",
        r.score_milli,
        r.at.timestamp_micros(),
        r.forget_at.timestamp_micros()
    )
}

/// The record of [`encode`]; `None` for anything else (treated as no record).
fn decode(s: &str) -> Option<FailureRecord> {
    let mut parts = s.split(' ');
    let time = |p: Option<&str>| {
        p.and_then(|v| v.parse::<i64>().ok())
            .and_then(chrono::DateTime::from_timestamp_micros)
    };
    if parts.next()? != "v1" {
        return None;
    }
    let score_milli = parts.next()?.parse().ok()?;
    let at = time(parts.next())?;
    let blocked_until = match parts.next()? {
        "-" => None,
        b => Some(time(Some(b))?),
    };
    let forget_at = time(parts.next())?;
    Some(FailureRecord {
        score_milli,
        at,
        blocked_until,
        forget_at,
    })
}

pub struct MemoryFailures {
    records: Mutex<HashMap<ThrottleKey, FailureRecord>>,
    capacity: usize,
    clock: Arc<dyn Clock>,
}

impl MemoryFailures {
    pub fn new(capacity: usize, clock: Arc<dyn Clock>) -> Self {
        Self {
            records: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            clock,
        }
    }

    fn lock(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, HashMap<ThrottleKey, FailureRecord>>, StoreError> {
        self.records
            .lock()
            .map_err(|_| StoreError::Poisoned("the sign-in failure table"))
    }

    /// Drops the records that no longer have any effect (housekeeping).
    pub fn prune(&self) {
        let now = self.clock.now();
        if let Ok(mut m) = self.records.lock() {
            m.retain(|_, r| r.forget_at > now);
            m.shrink_to_fit();
        }
    }

    /// How many keys are tracked.
    pub fn len(&self) -> usize {
        self.records.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Makes room for one more key in a table of `capacity`: first the records without effect,
/// else the one that would be forgotten soonest.
fn make_room(
    m: &mut HashMap<ThrottleKey, FailureRecord>,
    capacity: usize,
    now: chrono::DateTime<chrono::Utc>,
) {
    m.retain(|_, r| r.forget_at > now);
    if m.len() < capacity {
        return;
    }
    if let Some(first) = m.iter().min_by_key(|(_, r)| r.forget_at).map(|(k, _)| *k) {
        m.remove(&first);
    }
}

impl FailureStore for MemoryFailures {
    async fn get(&self, key: &ThrottleKey) -> Result<Option<FailureRecord>, StoreError> {
        Ok(self.lock()?.get(key).copied())
    }

    async fn update(
        &self,
        key: &ThrottleKey,
        update: &(dyn Fn(Option<FailureRecord>) -> FailureRecord + Sync),
    ) -> Result<(), StoreError> {
        let mut m = self.lock()?;
        let current = m.get(key).copied();
        if current.is_none() && m.len() >= self.capacity {
            make_room(&mut m, self.capacity, self.clock.now());
        }
        m.insert(*key, update(current));
        Ok(())
    }

    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        self.lock()?.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::ports::SystemClock;
    use gatehouse_core::throttle::{Subject, ThrottlePolicy, check, record_failure};

    #[tokio::test]
    async fn the_table_never_grows_beyond_its_capacity() {
        let store = MemoryFailures::new(10, Arc::new(SystemClock));
        let policy = ThrottlePolicy::default();
        let now = SystemClock.now();
        for i in 0..100 {
            let s = Subject::new(&format!("user{i}"), Some([10, 0, 0, i].into()));
            record_failure(&store, &policy, &s, now).await.unwrap();
        }
        assert!(store.len() <= 10, "{}", store.len());
    }

    #[tokio::test]
    async fn a_full_table_keeps_the_records_that_matter_longest() {
        let store = MemoryFailures::new(4, Arc::new(SystemClock));
        let policy = ThrottlePolicy::default();
        let now = SystemClock.now();
        let attacker = Subject::new("alice", Some([203, 0, 113, 9].into()));
        for _ in 0..8 {
            record_failure(&store, &policy, &attacker, now)
                .await
                .unwrap();
        }
        // Single typos elsewhere do not push the attacker's records out.
        for i in 0..20 {
            let s = Subject::new("bob", Some([192, 0, 2, i].into()));
            record_failure(&store, &policy, &s, now).await.unwrap();
        }
        assert!(check(&store, &attacker, now).await.unwrap().is_some());
    }

    #[test]
    fn records_survive_their_redis_form() {
        let now = SystemClock.now();
        let policy = ThrottlePolicy::default();
        let first = policy.after_failure(&policy.per_address, None, now);
        let mut r = first;
        for _ in 0..30 {
            r = policy.after_failure(&policy.per_address, Some(r), now);
        }
        for rec in [first, r] {
            let back = decode(&encode(&rec)).unwrap();
            assert_eq!(back.score_milli, rec.score_milli);
            assert_eq!(back.at.timestamp_micros(), rec.at.timestamp_micros());
            assert_eq!(
                back.blocked_until.map(|b| b.timestamp_micros()),
                rec.blocked_until.map(|b| b.timestamp_micros())
            );
        }
        assert!(r.blocked_until.is_some());
        for junk in ["", "v2 1 2 - 3", "v1 x 2 - 3", "v1 1 2 - ", "v1 1 2"] {
            assert!(decode(junk).is_none(), "{junk}");
        }
    }

    #[tokio::test]
    async fn pruning_drops_what_has_drained() {
        let store = MemoryFailures::new(10, Arc::new(SystemClock));
        let policy = ThrottlePolicy::default();
        let long_ago = SystemClock.now() - chrono::Duration::days(1);
        let s = Subject::new("carol", Some([192, 0, 2, 1].into()));
        record_failure(&store, &policy, &s, long_ago).await.unwrap();
        assert_eq!(store.len(), 2);
        store.prune();
        assert!(store.is_empty());
    }
}

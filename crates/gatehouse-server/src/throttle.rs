//! The sign-in failure counters of this node, in memory (the policy is
//! `gatehouse_core::throttle`; this is its [`FailureStore`]).
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

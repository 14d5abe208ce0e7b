//! A bounded map whose entries expire: the API-key introspection cache and the DPoP `jti`
//! replay cache. Memory stays bounded whatever callers send: at capacity, expired entries are
//! swept (at most once a second, so a full cache does not turn every insert into a scan), then
//! the caller's [`Full`] policy decides between evicting a live entry and refusing the insert.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// What to do when the cache is full of live entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// Drop some live entry: right for a cache, where a miss only costs a lookup.
    Evict,
    /// Refuse the insert: right for a replay cache, where forgetting an entry would let its
    /// value be used again.
    Refuse,
}

struct Inner<K, V> {
    map: HashMap<K, (V, SystemTime)>,
    last_sweep: Option<SystemTime>,
}

pub(crate) struct TtlCache<K, V> {
    inner: Mutex<Inner<K, V>>,
    capacity: usize,
    when_full: Full,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub(crate) fn new(capacity: usize, when_full: Full) -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                last_sweep: None,
            }),
            capacity: capacity.max(1),
            when_full,
        }
    }

    /// The value under `key` if it has not expired at `now`.
    pub(crate) fn get(&self, key: &K, now: SystemTime) -> Option<V> {
        let mut inner = self.lock();
        match inner.map.get(key) {
            Some((v, until)) if *until > now => Some(v.clone()),
            Some(_) => {
                inner.map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores `value` until `until`. `false` when the key is already live (nothing changes)
    /// or, with [`Full::Refuse`], when there is no room.
    pub(crate) fn insert_new(&self, key: K, value: V, until: SystemTime, now: SystemTime) -> bool {
        let mut inner = self.lock();
        if let Some((_, t)) = inner.map.get(&key)
            && *t > now
        {
            return false;
        }
        if !self.make_room(&mut inner, now) {
            return false;
        }
        inner.map.insert(key, (value, until));
        true
    }

    /// Stores `value` until `until`, replacing any previous value.
    pub(crate) fn insert(&self, key: K, value: V, until: SystemTime, now: SystemTime) {
        let mut inner = self.lock();
        if !inner.map.contains_key(&key) && !self.make_room(&mut inner, now) {
            return;
        }
        inner.map.insert(key, (value, until));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }

    fn make_room(&self, inner: &mut Inner<K, V>, now: SystemTime) -> bool {
        if inner.map.len() < self.capacity {
            return true;
        }
        let swept_recently = inner
            .last_sweep
            .is_some_and(|t| now.duration_since(t).unwrap_or_default() < Duration::from_secs(1));
        if !swept_recently {
            inner.map.retain(|_, (_, until)| *until > now);
            inner.last_sweep = Some(now);
            if inner.map.len() < self.capacity {
                return true;
            }
        }
        match self.when_full {
            Full::Refuse => false,
            Full::Evict => {
                if let Some(k) = inner.map.keys().next().cloned() {
                    inner.map.remove(&k);
                }
                true
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_capacity_is_a_hard_bound() {
        let t0 = SystemTime::now();
        let later = t0 + Duration::from_secs(10);
        let c = TtlCache::new(2, Full::Evict);
        c.insert(1, "a", later, t0);
        c.insert(2, "b", later, t0);
        c.insert(3, "c", later, t0);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&3, t0), Some("c"));
        assert_eq!(c.get(&3, later), None);
    }

    #[test]
    fn a_full_replay_cache_refuses_rather_than_forgets() {
        let t0 = SystemTime::now();
        let later = t0 + Duration::from_secs(10);
        let c = TtlCache::new(2, Full::Refuse);
        assert!(c.insert_new("j1", (), later, t0));
        assert!(!c.insert_new("j1", (), later, t0));
        assert!(c.insert_new("j2", (), later, t0));
        assert!(!c.insert_new("j3", (), later, t0));
        // Once the old entries expire there is room again.
        assert!(c.insert_new("j3", (), later + Duration::from_secs(1), later));
    }
}

//! The in-memory GCRA store: one timestamp per identity and class, bounded. An entry whose
//! timestamp has passed is the same as no entry (a full bucket), so sweeping those loses
//! nothing; only when the map is full of busy identities is one evicted, which can only give
//! that identity a fresh bucket — memory stays bounded whatever the traffic.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Outcome, gcra};

pub(super) struct LocalGcra {
    map: Mutex<HashMap<String, u64>>,
    capacity: usize,
}

impl LocalGcra {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    pub(super) fn count(&self, key: &str, now: u64, limit: u32, window: u64) -> Outcome {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let (next, out) = gcra(map.get(key).copied(), now, limit, window);
        if let Some(tat) = next {
            if let Some(slot) = map.get_mut(key) {
                *slot = tat;
            } else {
                if map.len() >= self.capacity {
                    map.retain(|_, t| *t > now);
                    if map.len() >= self.capacity
                        && let Some(k) = map.keys().next().cloned()
                    {
                        map.remove(&k);
                    }
                }
                map.insert(key.to_owned(), tat);
            }
        }
        out
    }
}

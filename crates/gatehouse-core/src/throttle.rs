//! Throttling of password sign-ins: slow down guessing without locking out the people whose
//! accounts are guessed at (RFC 6819 §4.4.3.6 online guessing, NIST SP 800-63B §5.2.2 rate
//! limiting, the OWASP Authentication and Credential Stuffing cheat sheets).
//!
//! Only **failures** count, never successful sign-ins, so a busy office behind one address is
//! not slowed by its own sign-ins. Failures are counted under two keys:
//! - the username (case-insensitive) *at* the client address — guessing one account;
//! - the client address alone — spraying many accounts from one place.
//!
//! Both keys contain the address, so failures from elsewhere never refuse a correct password
//! from an address that has not been failing: nobody can lock a user out by typing wrong
//! passwords for them. IPv6 addresses count by their /64, the smallest block one customer
//! usually gets, so hopping inside one's own prefix does not reset the count.
//!
//! Each key keeps a failure *score*: a failure adds one, and the score drains by one every
//! `decay_seconds` (quiet periods forget failures; failing slower than that never builds up;
//! a partly drained failure still counts).
//! While the score is above the rule's `free_failures`, every new failure makes the key wait
//! `initial_wait × 2^(score − free − 1)` seconds, capped at `max_wait`, before it may try again.
//! Attempts during a wait are refused *before any password is hashed*. A successful sign-in
//! clears its username-at-address key (not the address key: otherwise one valid account would
//! let an attacker reset their spraying count). In the long run a key gets at most one failure
//! per `decay_seconds`; in a burst `free_failures` plus a few exponentially spaced ones.
//!
//! The counters live behind the small async port [`FailureStore`]; the server keeps them in
//! memory (bounded), and a shared store can be plugged in for several nodes.

// Used only by our own generic code on actix workers; see `ports`.
#![allow(async_fn_in_trait)]

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::error::StoreError;

/// One key kind's allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    /// Failures allowed before any wait.
    pub free_failures: u32,
    /// Seconds after which one failure is forgotten.
    pub decay_seconds: u32,
}

/// The whole throttling policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures for one username from one address.
    pub per_user_and_address: ThrottleRule,
    /// Failures from one address, whatever the username.
    pub per_address: ThrottleRule,
    /// The first wait, in seconds; it doubles with every further failure.
    pub initial_wait: u32,
    /// The longest wait, in seconds.
    pub max_wait: u32,
}

impl Default for ThrottlePolicy {
    /// The defaults documented in `docs/security.md`.
    fn default() -> Self {
        Self {
            per_user_and_address: ThrottleRule {
                free_failures: 5,
                decay_seconds: 600,
            },
            per_address: ThrottleRule {
                free_failures: 20,
                decay_seconds: 120,
            },
            initial_wait: 2,
            max_wait: 900,
        }
    }
}

/// Which counter a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    UserAtAddress,
    Address,
}

/// A counter's key: its kind and a SHA-256 of what it counts (so no username is kept in
/// memory or in a shared store, and every key has the same small size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThrottleKey {
    pub kind: KeyKind,
    pub digest: [u8; 32],
}

impl ThrottleKey {
    fn new(kind: KeyKind, parts: &[&str]) -> Self {
        let mut h = Sha256::new();
        h.update(match kind {
            KeyKind::UserAtAddress => b"gatehouse-throttle:user-at-address".as_slice(),
            KeyKind::Address => b"gatehouse-throttle:address".as_slice(),
        });
        for p in parts {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            h.update((p.len() as u64).to_be_bytes());
            h.update(p.as_bytes());
        }
        Self {
            kind,
            digest: h.finalize().into(),
        }
    }

    /// A printable form for stores that key by text.
    pub fn to_hex(&self) -> String {
        let kind = match self.kind {
            KeyKind::UserAtAddress => 'u',
            KeyKind::Address => 'a',
        };
        let mut s = String::with_capacity(65);
        s.push(kind);
        for b in self.digest {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

/// The two keys of one sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    pub user_at_address: ThrottleKey,
    pub address: ThrottleKey,
}

impl Subject {
    /// The keys for `username` (letter case ignored) from `address` (`None`: no address known,
    /// which counts as one shared address).
    pub fn new(username: &str, address: Option<IpAddr>) -> Self {
        let addr = address_bucket(address);
        Self {
            user_at_address: ThrottleKey::new(
                KeyKind::UserAtAddress,
                &[&username.to_lowercase(), &addr],
            ),
            address: ThrottleKey::new(KeyKind::Address, &[&addr]),
        }
    }
}

/// The address as counted: IPv4 as is, IPv6 by its /64 (an IPv4-mapped IPv6 address is IPv4).
fn address_bucket(address: Option<IpAddr>) -> String {
    match address.map(|a| a.to_canonical()) {
        None => "unknown".into(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// What a counter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureRecord {
    /// The failure score in thousandths, as of `at`.
    pub score_milli: u64,
    /// When the score was last computed (the latest failure).
    pub at: DateTime<Utc>,
    /// Attempts are refused until then.
    pub blocked_until: Option<DateTime<Utc>>,
    /// When the record has no effect any more (the score has drained and no wait is left):
    /// a store may drop it then.
    pub forget_at: DateTime<Utc>,
}

/// Where the counters live. Small and async so that a shared store (e.g. Redis) can implement
/// it; `update` must apply the function atomically per key.
pub trait FailureStore {
    async fn get(&self, key: &ThrottleKey) -> Result<Option<FailureRecord>, StoreError>;
    /// Replaces the record of `key` by `update(current)`.
    async fn update(
        &self,
        key: &ThrottleKey,
        update: &(dyn Fn(Option<FailureRecord>) -> FailureRecord + Sync),
    ) -> Result<(), StoreError>;
    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError>;
}

impl ThrottleRule {
    /// The score of `rec` at `now`, after draining.
    fn score_at(&self, rec: &FailureRecord, now: DateTime<Utc>) -> u64 {
        let elapsed_ms = (now - rec.at).num_milliseconds().max(0) as u64;
        let drained = elapsed_ms / u64::from(self.decay_seconds.max(1));
        rec.score_milli.saturating_sub(drained)
    }
}

impl ThrottlePolicy {
    /// The record after one more failure at `now`.
    pub fn after_failure(
        &self,
        rule: &ThrottleRule,
        current: Option<FailureRecord>,
        now: DateTime<Utc>,
    ) -> FailureRecord {
        let score = current.map_or(0, |r| rule.score_at(&r, now)) + 1000;
        // A failure counts until it has drained completely.
        let over = score
            .div_ceil(1000)
            .saturating_sub(u64::from(rule.free_failures));
        let blocked_until = (over > 0).then(|| {
            let doubling = u32::try_from(over - 1).unwrap_or(u32::MAX).min(31);
            let wait = u64::from(self.initial_wait)
                .saturating_mul(1u64 << doubling)
                .min(u64::from(self.max_wait));
            now + Duration::seconds(wait as i64)
        });
        let drained_at =
            now + Duration::milliseconds((score * u64::from(rule.decay_seconds.max(1))) as i64);
        FailureRecord {
            score_milli: score,
            at: now,
            blocked_until,
            forget_at: blocked_until.map_or(drained_at, |b| b.max(drained_at)),
        }
    }

    fn rule(&self, kind: KeyKind) -> &ThrottleRule {
        match kind {
            KeyKind::UserAtAddress => &self.per_user_and_address,
            KeyKind::Address => &self.per_address,
        }
    }
}

/// Seconds to wait before `rec` allows another attempt (rounded up), if any.
pub fn retry_after(rec: &FailureRecord, now: DateTime<Utc>) -> Option<u64> {
    let until = rec.blocked_until?;
    let ms = (until - now).num_milliseconds();
    (ms > 0).then(|| (ms as u64).div_ceil(1000))
}

/// Whether `subject` must wait: the longest wait of its keys, in seconds.
pub async fn check<F: FailureStore>(
    store: &F,
    subject: &Subject,
    now: DateTime<Utc>,
) -> Result<Option<u64>, StoreError> {
    let mut wait = None;
    for key in [&subject.user_at_address, &subject.address] {
        if let Some(rec) = store.get(key).await? {
            wait = wait.max(retry_after(&rec, now));
        }
    }
    Ok(wait)
}

/// Counts a failed sign-in of `subject` under both keys.
pub async fn record_failure<F: FailureStore>(
    store: &F,
    policy: &ThrottlePolicy,
    subject: &Subject,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for key in [&subject.user_at_address, &subject.address] {
        let rule = policy.rule(key.kind);
        store
            .update(key, &|current| policy.after_failure(rule, current, now))
            .await?;
    }
    Ok(())
}

/// A successful sign-in of `subject`: its username-at-address failures are forgotten.
pub async fn record_success<F: FailureStore>(
    store: &F,
    subject: &Subject,
) -> Result<(), StoreError> {
    store.clear(&subject.user_at_address).await
}

/// An in-memory fake of the port, for the unit tests of this crate.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Counters(std::sync::Mutex<std::collections::HashMap<ThrottleKey, FailureRecord>>);

#[cfg(test)]
impl FailureStore for Counters {
    async fn get(&self, key: &ThrottleKey) -> Result<Option<FailureRecord>, StoreError> {
        Ok(self.0.lock().unwrap().get(key).copied())
    }
    async fn update(
        &self,
        key: &ThrottleKey,
        update: &(dyn Fn(Option<FailureRecord>) -> FailureRecord + Sync),
    ) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        let next = update(m.get(key).copied());
        m.insert(*key, next);
        Ok(())
    }
    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
            .unwrap()
            .to_utc()
    }

    async fn fail_times(c: &Counters, p: &ThrottlePolicy, s: &Subject, n: u32, now: DateTime<Utc>) {
        for _ in 0..n {
            record_failure(c, p, s, now).await.unwrap();
        }
    }

    #[tokio::test]
    async fn free_failures_pass_then_waits_double_up_to_the_cap() {
        let (c, p) = (Counters::default(), ThrottlePolicy::default());
        let s = Subject::new("alice", ip("198.51.100.7"));
        fail_times(&c, &p, &s, 5, t0()).await;
        assert_eq!(check(&c, &s, t0()).await.unwrap(), None);
        let mut waits = Vec::new();
        for _ in 0..10 {
            record_failure(&c, &p, &s, t0()).await.unwrap();
            waits.push(check(&c, &s, t0()).await.unwrap().unwrap());
        }
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 512, 900]);
    }

    #[tokio::test]
    async fn a_success_clears_its_own_account_but_not_the_address() {
        let (c, p) = (Counters::default(), ThrottlePolicy::default());
        let alice = Subject::new("alice", ip("198.51.100.7"));
        fail_times(&c, &p, &alice, 7, t0()).await;
        assert!(check(&c, &alice, t0()).await.unwrap().is_some());
        record_success(&c, &alice).await.unwrap();
        assert_eq!(check(&c, &alice, t0()).await.unwrap(), None);
        // The address score is kept: 7 of its 20 free failures are used.
        let rec = c.get(&alice.address).await.unwrap().unwrap();
        assert_eq!(rec.score_milli, 7000);
    }

    #[tokio::test]
    async fn failures_elsewhere_never_refuse_a_clean_address() {
        let (c, p) = (Counters::default(), ThrottlePolicy::default());
        let attacker = Subject::new("alice", ip("203.0.113.66"));
        fail_times(&c, &p, &attacker, 200, t0()).await;
        assert!(check(&c, &attacker, t0()).await.unwrap().is_some());
        let victim = Subject::new("Alice", ip("198.51.100.7"));
        assert_eq!(check(&c, &victim, t0()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn spraying_many_accounts_from_one_address_is_slowed() {
        let (c, p) = (Counters::default(), ThrottlePolicy::default());
        for i in 0..20 {
            let s = Subject::new(&format!("user{i}"), ip("203.0.113.66"));
            assert_eq!(check(&c, &s, t0()).await.unwrap(), None);
            record_failure(&c, &p, &s, t0()).await.unwrap();
        }
        let s = Subject::new("user20", ip("203.0.113.66"));
        assert_eq!(check(&c, &s, t0()).await.unwrap(), None);
        record_failure(&c, &p, &s, t0()).await.unwrap();
        // Every username from that address now waits, a fresh one included.
        let fresh = Subject::new("someone-else", ip("203.0.113.66"));
        assert_eq!(check(&c, &fresh, t0()).await.unwrap(), Some(2));
    }

    #[tokio::test]
    async fn quiet_periods_forget_failures_one_decay_interval_at_a_time() {
        let (c, p) = (Counters::default(), ThrottlePolicy::default());
        let s = Subject::new("bob", ip("198.51.100.9"));
        fail_times(&c, &p, &s, 6, t0()).await;
        assert_eq!(check(&c, &s, t0()).await.unwrap(), Some(2));
        // Two decay intervals later the score is 4: the next failure is free again.
        let later = t0() + Duration::seconds(1200);
        assert_eq!(check(&c, &s, later).await.unwrap(), None);
        record_failure(&c, &p, &s, later).await.unwrap();
        assert_eq!(check(&c, &s, later).await.unwrap(), None);
        // A typo every quarter of an hour never builds up.
        let mut now = later;
        for _ in 0..50 {
            now += Duration::seconds(900);
            record_failure(&c, &p, &s, now).await.unwrap();
            assert_eq!(check(&c, &s, now).await.unwrap(), None);
        }
    }

    #[test]
    fn a_partly_drained_failure_still_counts() {
        let p = ThrottlePolicy::default();
        let rule = &p.per_user_and_address;
        let mut r = None;
        let mut now = t0();
        for _ in 0..6 {
            r = Some(p.after_failure(rule, r, now));
            now += Duration::seconds(30);
        }
        // Six failures three minutes apart in all: less than one drained, so the sixth waits.
        assert_eq!(r.unwrap().blocked_until, Some(now - Duration::seconds(28)));
    }

    #[test]
    fn a_record_is_forgotten_when_drained_and_unblocked() {
        let p = ThrottlePolicy::default();
        let r = p.after_failure(&p.per_address, None, t0());
        assert_eq!(r.forget_at, t0() + Duration::seconds(120));
        assert_eq!(r.blocked_until, None);
        let mut r = None;
        for _ in 0..30 {
            r = Some(p.after_failure(&p.per_user_and_address, r, t0()));
        }
        let r = r.unwrap();
        assert_eq!(r.blocked_until, Some(t0() + Duration::seconds(900)));
        assert_eq!(r.forget_at, t0() + Duration::seconds(30 * 600));
    }

    #[test]
    fn letter_case_is_one_account_and_ipv6_counts_by_its_64() {
        let a = Subject::new("Zoe", ip("2001:db8:1:2::1"));
        let b = Subject::new("zOE", ip("2001:db8:1:2:ffff::9"));
        assert_eq!(a, b);
        let other_prefix = Subject::new("zoe", ip("2001:db8:1:3::1"));
        assert_ne!(a.address, other_prefix.address);
        let mapped = Subject::new("zoe", ip("::ffff:192.0.2.1"));
        assert_eq!(mapped, Subject::new("zoe", ip("192.0.2.1")));
        assert_ne!(
            a.user_at_address,
            Subject::new("zoe2", ip("2001:db8:1:2::1")).user_at_address
        );
        assert_eq!(a.address.to_hex().len(), 65);
    }
}

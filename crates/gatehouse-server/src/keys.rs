//! Signing keys at run time: created on first start, parsed once into an in-memory
//! [`KeyRing`], reloaded from the database every few seconds (`[keys] reload_interval`) so that
//! a key rotated by `gatehouse key rotate`, by the admin API, by the scheduler, or by another
//! node is used without a restart.
//!
//! No valid token is ever rejected by a node of the cluster: every new key is published (as
//! `next`) before it signs — for `keys.prepublish` by the scheduler, for
//! `keys.propagation_delay` (at least two reloads) after a rotation by hand — and a node that
//! meets an unknown `kid` reloads its ring at once ([`KeyCache::ensure_kid`], at most once per
//! [`FORCED_RELOAD_GAP`]) before it answers. A `next` key whose time has come signs on every
//! node from its next reload, whichever node records the transition in the database.
//!
//! Scheduled rotation ([`scheduler_tick`]): when the active key of an algorithm has signed for
//! `keys.rotation_interval` minus `keys.prepublish`, a `next` key is generated and published in
//! the JWKS (RFC 7517 §5) without signing; at its `activates_at` it becomes the signing key and
//! the old one is retired. A retired key stays published until every token it signed has
//! expired ([`Schedule::retired_window`]), then it is deleted. Each transition is decided in a
//! locked transaction (see `gatehouse_store::signing_keys`), so several nodes may all run the
//! scheduler.
//!
//! Private keys are encrypted at rest with the master key ([`MasterKey`],
//! `GATEHOUSE_MASTER_KEY`) when one is configured; without one they are stored in plaintext,
//! marked as such, and every start logs a warning. Key material is never logged. Generating,
//! sealing, opening and rotating a stored key is `gatehouse_admin::signing_keys`, which the
//! operator actions share; this module keeps what only a running server does.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use gatehouse_admin::signing_keys::{
    MASTER_KEY_ENV, check_master_key, create_first_key, generate, private_pkcs8,
};
use gatehouse_core::SigningAlg;
use gatehouse_jose::{KeyEntry, KeyRing, MasterKey, SigningKey};
use gatehouse_store::{KeyStatus, Store};

use crate::settings::Settings;

/// The shortest time between two reloads forced by an unknown `kid`, so that tokens with
/// made-up key ids cannot turn into a stream of database reads.
pub const FORCED_RELOAD_GAP: std::time::Duration = std::time::Duration::from_secs(1);

/// The rotation schedule, from `[keys]` and the token lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// `None`: no scheduled rotation.
    pub rotation_interval: Option<Duration>,
    pub prepublish: Duration,
    /// The least time any new key is published before it signs (`keys.propagation_delay`).
    pub propagation: Duration,
    /// How long a retired key stays published: the longest lifetime of a token it can have
    /// signed (access tokens, which a client may extend to a day, and ID tokens) plus 5 minutes.
    pub retired_window: Duration,
}

impl Schedule {
    pub fn from_settings(s: &Settings) -> Schedule {
        let longest_token = s
            .tokens
            .access_token_ttl
            .max(s.tokens.id_token_ttl)
            .max(86_400);
        Schedule {
            rotation_interval: (s.keys.rotation_interval > 0)
                .then(|| Duration::seconds(s.keys.rotation_interval)),
            prepublish: Duration::seconds(s.keys.prepublish),
            propagation: s.keys.propagation(),
            retired_window: Duration::seconds(longest_token + 300),
        }
    }
}

/// Start-up: checks the master key against the stored keys, encrypts keys still stored in
/// plaintext when a master key is configured, or warns loudly when none is.
pub async fn prepare(store: &Store, master: Option<&MasterKey>) -> Result<(), String> {
    check_master_key(store, master)
        .await
        .map_err(|e| e.to_string())?;
    let Some(master) = master else {
        tracing::warn!(
            "NO MASTER KEY CONFIGURED: private signing keys are stored UNENCRYPTED in the \
             database. Fine for development; in production set {MASTER_KEY_ENV} (32 bytes, \
             hex or base64) or [keys] master_key_file."
        );
        return Ok(());
    };
    let keys = store.list_signing_keys().await.map_err(|e| e.to_string())?;
    for k in keys.iter().filter(|k| !k.encrypted) {
        let sealed = master
            .seal(&k.kid, &k.private_key)
            .map_err(|e| e.to_string())?;
        if store
            .store_encrypted_private_key(&k.kid, sealed)
            .await
            .map_err(|e| e.to_string())?
        {
            tracing::info!(kid = %k.kid, "encrypted a stored signing key with the master key");
        }
    }
    Ok(())
}

/// Creates an RS256 and an ES256 key when none is active (first start). Nodes starting
/// together on one empty database agree on one key per algorithm (the store decides under its
/// key-transition lock).
pub async fn ensure_signing_keys(
    store: &Store,
    master: Option<&MasterKey>,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let keys = store.list_signing_keys().await.map_err(|e| e.to_string())?;
    for alg in SigningAlg::ALL {
        if !keys.iter().any(|k| k.alg == alg && k.active) {
            let made = create_first_key(store, alg, master, now)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(k) = made {
                tracing::info!(kid = %k.kid, alg = %alg, "created signing key");
            }
        }
    }
    Ok(())
}

/// One run of the rotation scheduler at `now`: activates due `next` keys, pre-publishes a
/// `next` key for every algorithm whose active key is due for rotation within
/// `schedule.prepublish`, and deletes retired keys past their window. Safe to run on every node
/// at once: the store decides each transition under a lock, and a losing node's freshly
/// generated key is simply dropped.
pub async fn scheduler_tick(
    store: &Store,
    schedule: &Schedule,
    master: Option<&MasterKey>,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let keys = store.list_signing_keys().await.map_err(|e| e.to_string())?;
    for alg in SigningAlg::ALL {
        let of_alg = || keys.iter().filter(move |k| k.alg == alg);
        let next = of_alg().find(|k| k.status == KeyStatus::Next);
        if next.is_some_and(|n| n.activated_at() <= now) {
            if let Some(kid) = store
                .activate_next_key(alg, now)
                .await
                .map_err(|e| e.to_string())?
            {
                tracing::info!(kid = %kid, alg = %alg, "scheduled key rotation: new signing key");
            }
            continue;
        }
        let (Some(interval), None) = (schedule.rotation_interval, next) else {
            continue;
        };
        let Some(active) = of_alg().find(|k| k.status == KeyStatus::Active) else {
            continue;
        };
        let due = active.activated_at() + interval;
        if now < due - schedule.prepublish {
            continue;
        }
        // Overdue (e.g. the servers were down): still publish for the whole window first, and
        // never for less than the propagation delay.
        let activates_at = due.max(now + schedule.prepublish.max(schedule.propagation));
        let key = generate(alg, master, now)
            .await
            .map_err(|e| e.to_string())?;
        if store
            .insert_next_key(&key, activates_at, &active.kid)
            .await
            .map_err(|e| e.to_string())?
        {
            tracing::info!(kid = %key.kid, alg = %alg, activates_at = %activates_at,
                "published the next signing key");
        }
    }
    let cutoff = now - schedule.retired_window;
    if keys
        .iter()
        .any(|k| k.status == KeyStatus::Retired && k.retired_at.is_some_and(|r| r < cutoff))
    {
        let n = store
            .delete_keys_retired_before(cutoff)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(count = n, "deleted retired signing keys past their window");
    }
    Ok(())
}

/// The current key ring, swapped atomically on reload.
pub struct KeyCache {
    ring: RwLock<Arc<KeyRing>>,
    /// Parsed keys by kid, so a reload never parses (or decrypts) a key twice.
    parsed: RwLock<HashMap<String, Arc<SigningKey>>>,
    /// Since when each algorithm's signing key signs (for the key-age metric).
    signing_since: RwLock<Vec<(SigningAlg, DateTime<Utc>)>>,
    /// When a reload was last forced by an unknown `kid`; held while one runs, so concurrent
    /// requests carrying the same new `kid` wait for one reload instead of each starting one.
    forced: tokio::sync::Mutex<Option<std::time::Instant>>,
    /// How many reloads an unknown `kid` has forced.
    forced_count: std::sync::atomic::AtomicU64,
    /// Retired keys stay published this long (longer than any token they signed lives).
    retired_window: Duration,
    master: Option<MasterKey>,
}

impl KeyCache {
    pub fn new(retired_window: Duration, master: Option<MasterKey>) -> Self {
        Self {
            ring: RwLock::new(Arc::new(KeyRing::new(Vec::new()))),
            parsed: RwLock::new(HashMap::new()),
            signing_since: RwLock::new(Vec::new()),
            forced: tokio::sync::Mutex::new(None),
            forced_count: std::sync::atomic::AtomicU64::new(0),
            retired_window,
            master,
        }
    }

    pub fn retired_window(&self) -> Duration {
        self.retired_window
    }

    pub fn current(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Whether `k` is published at `now`, and if so whether it signs.
    fn publication(&self, k: &gatehouse_store::StoredKey, now: DateTime<Utc>) -> Option<bool> {
        match k.status {
            KeyStatus::Active => Some(true),
            KeyStatus::Next => Some(k.activated_at() <= now),
            KeyStatus::Retired => k
                .retired_at
                .is_some_and(|r| r + self.retired_window > now)
                .then_some(false),
        }
    }

    /// How many reloads an unknown `kid` has forced so far.
    pub fn forced_reloads(&self) -> u64 {
        self.forced_count.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Since when the signing key of each algorithm signs.
    pub fn signing_since(&self) -> Vec<(SigningAlg, DateTime<Utc>)> {
        match self.signing_since.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Makes sure the ring knows `kid` if the database does: when it is unknown, reloads once
    /// (unless a forced reload ran less than [`FORCED_RELOAD_GAP`] ago). A token signed on
    /// another node with a key this node has not loaded yet is then verified, not rejected.
    pub async fn ensure_kid(&self, store: &Store, kid: &str, now: DateTime<Utc>) {
        if self.current().get(kid).is_some() {
            return;
        }
        let mut last = self.forced.lock().await;
        // Another request may have loaded it while this one waited.
        if self.current().get(kid).is_some() {
            return;
        }
        if last.is_some_and(|t| t.elapsed() < FORCED_RELOAD_GAP) {
            return;
        }
        *last = Some(std::time::Instant::now());
        self.forced_count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let result = self.reload(store, now).await;
        crate::telemetry::key_reload("unknown_kid", result.is_ok());
        if let Err(e) = result {
            tracing::warn!(error = %e, "reloading signing keys for an unknown kid failed");
        }
    }

    /// Loads the published keys (active, next, and retired within the window) from storage and
    /// swaps in a new ring. A `next` key whose `activates_at` has come signs from now on, even
    /// before a scheduler records the transition. On error the previous ring stays in use.
    pub async fn reload(&self, store: &Store, now: DateTime<Utc>) -> Result<(), String> {
        let stored = store.list_signing_keys().await.map_err(|e| e.to_string())?;
        let mut due_next = Vec::new();
        let mut entries = Vec::new();
        let mut since: Vec<(SigningAlg, DateTime<Utc>)> = Vec::new();
        let mut parsed = match self.parsed.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        for k in stored {
            let Some(signs) = self.publication(&k, now) else {
                continue;
            };
            let key = match parsed.get(&k.kid) {
                Some(key) => key.clone(),
                None => {
                    let der = private_pkcs8(&k, self.master.as_ref()).map_err(|e| e.to_string())?;
                    let key = Arc::new(
                        SigningKey::from_pkcs8(k.alg, &der)
                            .map_err(|e| format!("key {}: {e}", k.kid))?,
                    );
                    parsed.insert(k.kid.clone(), key.clone());
                    key
                }
            };
            let entry = KeyEntry { key, active: signs };
            // The ring signs with the first active entry of an algorithm: a due `next` key
            // goes before the active key it replaces.
            if signs && k.status == KeyStatus::Next {
                since.retain(|(a, _)| *a != k.alg);
                since.push((k.alg, k.activated_at()));
                due_next.push(entry);
            } else {
                if signs && !since.iter().any(|(a, _)| *a == k.alg) {
                    since.push((k.alg, k.activated_at()));
                }
                entries.push(entry);
            }
        }
        due_next.extend(entries);
        let ring = Arc::new(KeyRing::new(due_next));
        drop(parsed);
        match self.ring.write() {
            Ok(mut g) => *g = ring,
            Err(p) => *p.into_inner() = ring,
        }
        match self.signing_since.write() {
            Ok(mut g) => *g = since,
            Err(p) => *p.into_inner() = since,
        }
        Ok(())
    }
}

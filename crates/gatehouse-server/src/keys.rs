//! Signing keys at run time: created on first start, parsed once into an in-memory
//! [`KeyRing`], and reloaded from the database every few seconds so that a key rotated by
//! `gatehouse key rotate` (or by another node) is used without a restart.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use gatehouse_core::SigningAlg;
use gatehouse_jose::{KeyEntry, KeyRing, SigningKey};
use gatehouse_store::{Store, StoredKey};

/// How often a running server looks for rotated keys (the contract promises 10 s).
pub const RELOAD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Generates a key of `alg` and makes it the active signing key for that algorithm; the
/// previous active key is retired but stays published.
pub async fn rotate(
    store: &Store,
    alg: SigningAlg,
    now: DateTime<Utc>,
) -> Result<StoredKey, String> {
    let generated = gatehouse_jose::generate_key(alg).map_err(|e| e.to_string())?;
    let key = StoredKey {
        kid: generated.kid.clone(),
        alg,
        private_pkcs8_der: generated.private_pkcs8_der.clone(),
        public_jwk: generated.public_jwk.clone(),
        created_at: now,
        active: true,
        retired_at: None,
    };
    store
        .insert_active_key(&key, now)
        .await
        .map_err(|e| e.to_string())?;
    Ok(key)
}

/// Creates an RS256 and an ES256 key when none is active (first start).
pub async fn ensure_signing_keys(store: &Store, now: DateTime<Utc>) -> Result<(), String> {
    let keys = store.list_signing_keys().await.map_err(|e| e.to_string())?;
    for alg in SigningAlg::ALL {
        if !keys.iter().any(|k| k.alg == alg && k.active) {
            let k = rotate(store, alg, now).await?;
            tracing::info!(kid = %k.kid, alg = %alg, "created signing key");
        }
    }
    Ok(())
}

/// The current key ring, swapped atomically on reload.
pub struct KeyCache {
    ring: RwLock<Arc<KeyRing>>,
    /// Parsed keys by kid, so a reload never parses a key twice.
    parsed: RwLock<HashMap<String, Arc<SigningKey>>>,
    /// Retired keys stay published this long (longer than any token they signed lives).
    retired_window: chrono::Duration,
}

impl KeyCache {
    pub fn new(retired_window: chrono::Duration) -> Self {
        Self {
            ring: RwLock::new(Arc::new(KeyRing::new(Vec::new()))),
            parsed: RwLock::new(HashMap::new()),
            retired_window,
        }
    }

    pub fn retired_window(&self) -> chrono::Duration {
        self.retired_window
    }

    pub fn current(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Loads the published keys from storage and swaps in a new ring.
    pub async fn reload(&self, store: &Store, now: DateTime<Utc>) -> Result<(), String> {
        let stored = store.list_signing_keys().await.map_err(|e| e.to_string())?;
        let mut entries = Vec::new();
        let mut parsed = match self.parsed.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        for k in stored {
            let published = k.active || k.retired_at.is_some_and(|r| r + self.retired_window > now);
            if !published {
                continue;
            }
            let key = match parsed.get(&k.kid) {
                Some(key) => key.clone(),
                None => {
                    let key = Arc::new(
                        SigningKey::from_pkcs8(k.alg, &k.private_pkcs8_der)
                            .map_err(|e| format!("key {}: {e}", k.kid))?,
                    );
                    parsed.insert(k.kid.clone(), key.clone());
                    key
                }
            };
            entries.push(KeyEntry {
                key,
                active: k.active,
            });
        }
        let ring = Arc::new(KeyRing::new(entries));
        drop(parsed);
        match self.ring.write() {
            Ok(mut g) => *g = ring,
            Err(p) => *p.into_inner() = ring,
        }
        Ok(())
    }
}

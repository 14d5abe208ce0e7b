//! The authorization server's public keys (JWKS, RFC 7517 §5), cached.
//!
//! - Each key is **pinned to one algorithm** when the set is read: its `alg` member, or, when
//!   absent, the only algorithm its type allows (EC P-256 → ES256, P-384 → ES384, Ed25519 →
//!   EdDSA, RSA → RS256). Tokens are verified with that algorithm only; the token header's `alg`
//!   must equal it. Symmetric (`oct`) keys, keys for encryption (`use` ≠ `sig`) and RSA keys
//!   under 2048 bits are ignored, so "HMAC keyed with the public key" cannot happen.
//! - **Refresh**: in the background before the set's age runs out (`Cache-Control: max-age`,
//!   clamped to the configured bounds), and on demand for an unknown `kid` — at most once per
//!   cool-down, single-flight, so a flood of random `kid`s costs the authorization server at most
//!   one request per cool-down.
//! - **Stale-if-error**: when the server cannot be reached the last set stays in use up to
//!   `jwks_max_stale` past its age; after that, verification answers "unavailable".

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::VerifyError;
use crate::clock::SharedClock;
use crate::discovery::Discovery;
use crate::fetch::Fetcher;

/// A verification key and the one algorithm it may be used with.
pub(crate) struct PinnedKey {
    pub alg: Algorithm,
    pub key: DecodingKey,
}

struct KeySet {
    keys: HashMap<String, Arc<PinnedKey>>,
    /// When the set's age runs out (a refresh is due before then).
    expires_at: SystemTime,
    /// When the background task refreshes it.
    refresh_at: SystemTime,
    generation: u64,
}

/// Age bounds and timing of the cache.
#[derive(Debug, Clone)]
pub(crate) struct KeyPolicy {
    pub cooldown: Duration,
    pub min_ttl: Duration,
    pub max_ttl: Duration,
    pub default_ttl: Duration,
    pub max_stale: Duration,
}

pub(crate) struct KeyStore {
    fetcher: Fetcher,
    discovery: Arc<Discovery>,
    clock: SharedClock,
    policy: KeyPolicy,
    set: RwLock<Option<Arc<KeySet>>>,
    fetch_lock: tokio::sync::Mutex<()>,
    last_on_demand: Mutex<Option<SystemTime>>,
    background: AtomicBool,
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

impl KeyStore {
    pub(crate) fn new(
        fetcher: Fetcher,
        discovery: Arc<Discovery>,
        clock: SharedClock,
        policy: KeyPolicy,
    ) -> Self {
        Self {
            fetcher,
            discovery,
            clock,
            policy,
            set: RwLock::new(None),
            fetch_lock: tokio::sync::Mutex::new(()),
            last_on_demand: Mutex::new(None),
            background: AtomicBool::new(false),
        }
    }

    /// The key named `kid`, fetching the set when it is unknown (within the cool-down).
    pub(crate) async fn key(self: &Arc<Self>, kid: &str) -> Result<Arc<PinnedKey>, VerifyError> {
        let now = self.clock.now();
        let seen = self.current();
        if let Some(set) = &seen
            && let Some(k) = set.keys.get(kid)
            && now < set.expires_at + self.policy.max_stale
        {
            return Ok(k.clone());
        }
        self.refresh_on_demand(seen.map(|s| s.generation)).await?;
        let set = self
            .current()
            .ok_or_else(|| VerifyError::Unavailable("no keys".into()))?;
        if now >= set.expires_at + self.policy.max_stale {
            return Err(VerifyError::Unavailable(
                "key set too old and no refresh".into(),
            ));
        }
        set.keys
            .get(kid)
            .cloned()
            .ok_or(VerifyError::InvalidToken("signed by an unknown key"))
    }

    fn current(&self) -> Option<Arc<KeySet>> {
        self.set.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn refresh_on_demand(self: &Arc<Self>, seen: Option<u64>) -> Result<(), VerifyError> {
        let _guard = self.fetch_lock.lock().await;
        let current = self.current();
        // Another request refreshed the set while this one waited: use that.
        if current.as_ref().map(|s| s.generation) != seen {
            return Ok(());
        }
        let now = self.clock.now();
        {
            let mut last = self
                .last_on_demand
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(t) = *last
                && now.duration_since(t).unwrap_or_default() < self.policy.cooldown
            {
                return match current {
                    Some(_) => Ok(()),
                    None => Err(VerifyError::Unavailable("key set not fetched yet".into())),
                };
            }
            *last = Some(now);
        }
        match self.fetch_and_store().await {
            Ok(()) => Ok(()),
            Err(e) if current.is_some() => {
                tracing::warn!(error = %e, "JWKS refresh failed; keeping the previous key set");
                Ok(())
            }
            Err(e) => Err(VerifyError::Unavailable(e)),
        }
    }

    async fn fetch_and_store(self: &Arc<Self>) -> Result<(), String> {
        let endpoints = self.discovery.endpoints().await?;
        let fetched = self.fetcher.get_json::<RawSet>(&endpoints.jwks_uri).await?;
        let keys = pin_keys(fetched.value.keys);
        let ttl = fetched
            .max_age
            .unwrap_or(self.policy.default_ttl)
            .clamp(self.policy.min_ttl, self.policy.max_ttl);
        let now = self.clock.now();
        let mut slot = self.set.write().unwrap_or_else(|e| e.into_inner());
        let generation = slot.as_ref().map_or(1, |s| s.generation + 1);
        *slot = Some(Arc::new(KeySet {
            keys,
            expires_at: now + ttl,
            refresh_at: now + ttl * 3 / 4,
            generation,
        }));
        drop(slot);
        if !self.background.swap(true, Ordering::SeqCst) {
            spawn_background(Arc::downgrade(self));
        }
        Ok(())
    }
}

/// Refreshes the set before its age runs out, until the store is dropped. Failures are
/// retried after the cool-down (the old set stays in use meanwhile).
fn spawn_background(store: Weak<KeyStore>) {
    tokio::spawn(async move {
        loop {
            let wait = {
                let Some(s) = store.upgrade() else { return };
                let now = s.clock.now();
                s.current()
                    .and_then(|set| set.refresh_at.duration_since(now).ok())
                    .unwrap_or(s.policy.cooldown)
                    .max(Duration::from_secs(1))
            };
            tokio::time::sleep(wait).await;
            let Some(s) = store.upgrade() else { return };
            let _guard = s.fetch_lock.lock().await;
            if let Err(e) = s.fetch_and_store().await {
                tracing::warn!(error = %e, "background JWKS refresh failed; will retry");
                // Push the next attempt out by the cool-down rather than spinning.
                let retry_at = s.clock.now() + s.policy.cooldown.max(Duration::from_secs(1));
                let mut slot = s.set.write().unwrap_or_else(|e| e.into_inner());
                if let Some(set) = slot.as_ref() {
                    *slot = Some(Arc::new(KeySet {
                        keys: set.keys.clone(),
                        expires_at: set.expires_at,
                        refresh_at: retry_at,
                        generation: set.generation,
                    }));
                }
            }
        }
    });
}

/// The usable keys of a JWKS, each pinned to its algorithm; others are skipped.
fn pin_keys(raw: Vec<serde_json::Value>) -> HashMap<String, Arc<PinnedKey>> {
    let mut out = HashMap::new();
    for v in raw {
        let Some(kid) = v.get("kid").and_then(|k| k.as_str()).map(str::to_owned) else {
            continue;
        };
        if v.get("use").is_some_and(|u| u != "sig") {
            continue;
        }
        let Ok(jwk) = serde_json::from_value::<Jwk>(v) else {
            continue;
        };
        let Some(pinned) = pin(&jwk) else { continue };
        if out.contains_key(&kid) {
            tracing::warn!(%kid, "JWKS lists a kid twice; using the first key");
            continue;
        }
        out.insert(kid, Arc::new(pinned));
    }
    out
}

/// The algorithm a public JWK may verify, or `None` for keys we never use.
pub(crate) fn pin(jwk: &Jwk) -> Option<PinnedKey> {
    let declared = match jwk.common.key_algorithm {
        None => None,
        Some(KeyAlgorithm::UNKNOWN_ALGORITHM) => return None,
        Some(a) => Some(Algorithm::try_from(a).ok()?),
    };
    let alg = match (&jwk.algorithm, declared) {
        (AlgorithmParameters::RSA(p), a) => {
            let n = URL_SAFE_NO_PAD.decode(&p.n).ok()?;
            let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
            if bits < 2048 {
                return None;
            }
            match a.unwrap_or(Algorithm::RS256) {
                a @ (Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512) => a,
                _ => return None,
            }
        }
        (AlgorithmParameters::EllipticCurve(p), a) => {
            let fits = match p.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                _ => return None,
            };
            if a.is_some_and(|a| a != fits) {
                return None;
            }
            fits
        }
        (AlgorithmParameters::OctetKeyPair(p), a) => {
            if p.curve != EllipticCurve::Ed25519 || a.is_some_and(|a| a != Algorithm::EdDSA) {
                return None;
            }
            Algorithm::EdDSA
        }
        // Symmetric and unknown key types are never used to verify.
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(PinnedKey { alg, key })
}

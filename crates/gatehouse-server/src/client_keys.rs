//! The [`AssertionVerifier`] port of `gatehouse-core`: verifies client assertions and JWT bearer
//! grant assertions (RFC 7523 §3, OIDC Core §9) with `gatehouse-jose`, against an inline JWKS or
//! one fetched from a client's `jwks_uri`; and the [`RequestObjectVerifier`] port, the
//! signatures of request objects (RFC 9101 §6.1) against the same keys.
//!
//! Fetching is defensive, since the URL is supplied by a client registration and the fetch is
//! triggered by unauthenticated requests:
//! - only `https`, or `http` to a loopback address (for local tests);
//! - no internal networks (SSRF): a URI naming a private, link-local (cloud metadata), shared
//!   (CGNAT), unique-local, multicast or unspecified address is refused at registration, and
//!   host names are resolved by our own resolver, which drops such addresses, and loopback
//!   ones unless the name is `localhost`, so a name cannot be pointed inward later (DNS
//!   rebinding). `client_auth.allow_internal_jwks_uri = true` lifts this for deployments that
//!   host JWKS documents internally. The URI rule itself is `gatehouse_jose::jwks_uri`, which
//!   registration applies too;
//! - 5 s timeout, no redirects, at most 64 KiB read;
//! - fetched sets are cached for [`CACHE_TTL`]; an assertion naming an unknown `kid` triggers a
//!   refresh (the client rotated its keys), but at most one such forced refresh per URI per
//!   [`MIN_REFETCH_INTERVAL`], so forged `kid`s cannot cause fetch storms. A failed fetch is
//!   remembered for the same interval.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gatehouse_core::client_auth::{
    AssertionRejected, AssertionRules, AssertionVerifier, KeySource, VerifiedAssertion,
};
use gatehouse_core::request_object::RequestObjectVerifier;
use gatehouse_jose::client_assertion::{
    AssertionCheck, AssertionError, hmac_secret_label, parse_public_jwks, verify_assertion,
    verify_hmac_assertion, verify_signature,
};
use gatehouse_jose::jwks_uri::{check_jwks_uri_with, is_internal};
use jsonwebtoken::jwk::JwkSet;

/// How long a fetched JWKS is used without refetching.
pub const CACHE_TTL: Duration = Duration::from_secs(300);
/// The least time between two fetches of the same URI.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// Timeout of one fetch.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest JWKS document we read.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Most URIs kept in the cache (beyond it, the cache is cleared).
const MAX_CACHED_URIS: usize = 1024;

struct Entry {
    /// `None` when the last fetch failed.
    keys: Option<JwkSet>,
    fetched: Instant,
    /// When an unknown `kid` last forced a refetch.
    last_forced: Option<Instant>,
}

/// Verifies assertions; caches fetched JWKS documents in memory (per node).
pub struct KeyVerifier {
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Entry>>,
    /// Opens the sealed secrets of `client_secret_jwt` clients; without it they cannot
    /// authenticate.
    master: Option<gatehouse_jose::MasterKey>,
    /// `client_auth.allow_internal_jwks_uri`.
    allow_internal: bool,
}

/// Resolves host names for `jwks_uri` fetches, dropping addresses a client must not make us
/// reach (see [`is_internal`]); loopback survives only for `localhost`.
pub(crate) struct OutwardResolver;

impl reqwest::dns::Resolve for OutwardResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let localhost = host.eq_ignore_ascii_case("localhost");
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| {
                    let ip = a.ip();
                    !is_internal(ip) && (localhost || !ip.is_loopback())
                })
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no address we may fetch from").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

impl KeyVerifier {
    /// A verifier without a master key that never fetches from internal addresses.
    pub fn new() -> Result<Self, reqwest::Error> {
        Self::with_options(None, false)
    }

    /// A verifier that can open `client_secret_jwt` secrets sealed under `master`, and that
    /// fetches from internal addresses only when `allow_internal`.
    /// Fails only when the HTTP client cannot be built (no TLS backend): the server then does
    /// not start, rather than fetching without our resolver.
    pub fn with_options(
        master: Option<gatehouse_jose::MasterKey>,
        allow_internal: bool,
    ) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if !allow_internal {
            builder = builder.dns_resolver(std::sync::Arc::new(OutwardResolver));
        }
        Ok(Self {
            http: builder.build()?,
            cache: Mutex::new(HashMap::new()),
            master,
            allow_internal,
        })
    }

    /// The cached set for `uri`, if fresh (or if a refresh is not allowed yet).
    fn cached(&self, uri: &str, want_refresh: bool) -> Option<Option<JwkSet>> {
        let cache = self.cache.lock().ok()?;
        let e = cache.get(uri)?;
        let age = e.fetched.elapsed();
        let usable = if want_refresh {
            e.last_forced
                .is_some_and(|t| t.elapsed() < MIN_REFETCH_INTERVAL)
        } else {
            age < CACHE_TTL && (e.keys.is_some() || age < MIN_REFETCH_INTERVAL)
        };
        usable.then(|| e.keys.clone())
    }

    fn store(&self, uri: &str, keys: Option<JwkSet>, forced: bool) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED_URIS && !cache.contains_key(uri) {
                cache.clear();
            }
            let now = Instant::now();
            let last_forced = if forced {
                Some(now)
            } else {
                cache.get(uri).and_then(|e| e.last_forced)
            };
            cache.insert(
                uri.to_owned(),
                Entry {
                    keys,
                    fetched: now,
                    last_forced,
                },
            );
        }
    }

    /// The keys at `uri`: from the cache, or fetched (at most once per interval).
    async fn keys_at(&self, uri: &str, refresh: bool) -> Result<JwkSet, AssertionRejected> {
        let unavailable = || AssertionRejected("the client's jwks_uri could not be used".into());
        if let Some(cached) = self.cached(uri, refresh) {
            return cached.ok_or_else(unavailable);
        }
        let fetched = self.fetch(uri).await;
        if let Err(e) = &fetched {
            tracing::warn!(jwks_uri = %uri, error = %e, "fetching a client's JWKS failed");
        }
        let keys = fetched.ok();
        self.store(uri, keys.clone(), refresh);
        keys.ok_or_else(unavailable)
    }

    async fn fetch(&self, uri: &str) -> Result<JwkSet, String> {
        check_jwks_uri_with(uri, self.allow_internal).map_err(|e| e.to_string())?;
        let mut resp = self
            .http
            .get(uri)
            .header("accept", "application/jwk-set+json, application/json")
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("status {}", resp.status()));
        }
        if resp
            .content_length()
            .is_some_and(|l| l > MAX_JWKS_BYTES as u64)
        {
            return Err("document too large".into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("read: {e}"))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err("document too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| "not JSON".to_owned())?;
        parse_public_jwks(&v).map_err(str::to_owned)
    }
}

impl AssertionVerifier for KeyVerifier {
    async fn verify(
        &self,
        keys: &KeySource,
        assertion: &str,
        rules: &AssertionRules,
        now: DateTime<Utc>,
    ) -> Result<VerifiedAssertion, AssertionRejected> {
        let check = AssertionCheck {
            audiences: &rules.audiences,
            now: now.timestamp(),
            max_lifetime: rules.max_lifetime,
            skew: rules.skew,
        };
        let reject = |e: AssertionError| AssertionRejected(e.to_string());
        let claims = match keys {
            KeySource::Jwks(v) => {
                let set = parse_public_jwks(v)
                    .map_err(|_| AssertionRejected("the registered keys are unusable".into()))?;
                verify_assertion(assertion, &set, &check).map_err(reject)?
            }
            KeySource::Uri(uri) => {
                let set = self.keys_at(uri, false).await?;
                match verify_assertion(assertion, &set, &check) {
                    Err(AssertionError::UnknownKid) => {
                        // Key rotation: refetch (rate-limited) and try once more.
                        let set = self.keys_at(uri, true).await?;
                        verify_assertion(assertion, &set, &check).map_err(reject)?
                    }
                    other => other.map_err(reject)?,
                }
            }
            KeySource::SealedSecret(sealed) => {
                let unusable = || AssertionRejected("the client secret cannot be used".into());
                let master = self.master.as_ref().ok_or_else(unusable)?;
                let secret = master
                    .open(
                        &hmac_secret_label(sealed.client_id.as_str()),
                        &sealed.envelope,
                    )
                    .map_err(|_| {
                        tracing::error!(
                            "a client_secret_jwt secret does not open with the master key"
                        );
                        unusable()
                    })?;
                verify_hmac_assertion(assertion, &secret, &check).map_err(reject)?
            }
        };
        Ok(VerifiedAssertion {
            exp: DateTime::from_timestamp(claims.exp, 0)
                .ok_or_else(|| AssertionRejected("the assertion's exp is out of range".into()))?,
            iss: claims.iss,
            sub: claims.sub,
            jti: claims.jti,
        })
    }
}

impl RequestObjectVerifier for KeyVerifier {
    async fn verify_request_object(
        &self,
        keys: &KeySource,
        jws: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, AssertionRejected> {
        // The jose messages speak of "the assertion"; say what was sent.
        let reject = |e: AssertionError| {
            AssertionRejected(match e {
                AssertionError::UnknownKid => {
                    "the request object's kid names no registered key".to_owned()
                }
                AssertionError::Invalid(m) => m.replace("the assertion", "the request object"),
            })
        };
        let payload = match keys {
            KeySource::Jwks(v) => {
                let set = parse_public_jwks(v)
                    .map_err(|_| AssertionRejected("the registered keys are unusable".into()))?;
                verify_signature(jws, &set).map_err(reject)?
            }
            KeySource::Uri(uri) => {
                let set = self.keys_at(uri, false).await?;
                match verify_signature(jws, &set) {
                    Err(AssertionError::UnknownKid) => {
                        let set = self.keys_at(uri, true).await?;
                        verify_signature(jws, &set).map_err(reject)?
                    }
                    other => other.map_err(reject)?,
                }
            }
            // A shared secret would let the server forge the client's requests: public keys
            // only (and HMAC is not among the advertised algorithms).
            KeySource::SealedSecret(_) => {
                return Err(AssertionRejected(
                    "request objects must be signed with the client's registered public keys"
                        .into(),
                ));
            }
        };
        match payload {
            serde_json::Value::Object(m) => Ok(m),
            _ => Err(AssertionRejected(
                "the request object's claims are not a JSON object".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;
    use std::str::FromStr;

    #[tokio::test]
    async fn the_resolver_keeps_loopback_only_for_localhost() {
        let name = reqwest::dns::Name::from_str("localhost").unwrap();
        let addrs: Vec<_> = OutwardResolver.resolve(name).await.unwrap().collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
        // A name that resolves only to internal or loopback addresses yields nothing to fetch.
        let name = reqwest::dns::Name::from_str("127.0.0.1.").unwrap();
        assert!(OutwardResolver.resolve(name).await.is_err());
    }
}

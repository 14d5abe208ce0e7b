//! API keys, introspected (RFC 7662 §2) and cached.
//!
//! The resource server authenticates as a confidential client (`client_secret_basic`). The
//! cache is keyed by SHA-256 of the key (the secret itself is never kept), bounded in size,
//! and bounded in age: an active answer is reused for at most `api_key_cache_ttl` (and never
//! past the key's `exp`), so a revoked key stops within that age; an inactive answer is reused
//! for `api_key_negative_ttl`. At most `max_concurrent_introspections` requests are in flight.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::VerifyError;
use crate::cache::{Full, TtlCache};
use crate::claims::{ApiKeyInfo, Claims, CredentialKind};
use crate::clock::{SharedClock, unix_secs};
use crate::config::{IntrospectionClient, VerifierConfig};
use crate::discovery::Discovery;
use crate::fetch::Fetcher;
use crate::ratelimit::ClassLimits;
use crate::scope::ScopeSet;

/// `None` = the key was inactive.
type Entry = Option<Arc<Claims>>;

pub(crate) struct Introspector {
    fetcher: Fetcher,
    discovery: Arc<Discovery>,
    client: Option<IntrospectionClient>,
    issuer: String,
    clock: SharedClock,
    cache: TtlCache<[u8; 32], Entry>,
    ttl: Duration,
    negative_ttl: Duration,
    permits: tokio::sync::Semaphore,
}

#[derive(Deserialize)]
struct Answer {
    active: bool,
    token_type: Option<String>,
    sub: Option<String>,
    scope: Option<String>,
    tenant: Option<String>,
    client_id: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    iss: Option<String>,
    name: Option<String>,
    environment: Option<String>,
    #[serde(default)]
    allowed_ips: Vec<String>,
    rate_limit_class: Option<String>,
    rate_limits: Option<ClassLimits>,
}

impl Introspector {
    pub(crate) fn new(
        fetcher: Fetcher,
        discovery: Arc<Discovery>,
        clock: SharedClock,
        config: &VerifierConfig,
    ) -> Self {
        Self {
            fetcher,
            discovery,
            client: config.introspection_client.clone(),
            issuer: config.issuer.clone(),
            clock,
            cache: TtlCache::new(config.api_key_cache_capacity, Full::Evict),
            ttl: config.api_key_cache_ttl,
            negative_ttl: config.api_key_negative_ttl,
            permits: tokio::sync::Semaphore::new(config.max_concurrent_introspections),
        }
    }

    /// The claims of a well-formed API key, from the cache or the authorization server.
    pub(crate) async fn verify(&self, key: &str) -> Result<Arc<Claims>, VerifyError> {
        let inactive = VerifyError::InvalidToken("unknown, expired or revoked API key");
        let id: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        if let Some(entry) = self.cached(&id) {
            return entry.ok_or(inactive);
        }
        let client = self
            .client
            .as_ref()
            .ok_or(VerifyError::InvalidToken("API keys are not accepted here"))?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| VerifyError::Unavailable("introspection closed".into()))?;
        // Another request may have asked while this one waited.
        if let Some(entry) = self.cached(&id) {
            return entry.ok_or(inactive);
        }
        let endpoint = self
            .discovery
            .endpoints()
            .await
            .map_err(VerifyError::Unavailable)?
            .introspection_endpoint
            .ok_or_else(|| VerifyError::Unavailable("no introspection endpoint".into()))?;
        let answer: Answer = self
            .fetcher
            .introspect(&endpoint, client, key)
            .await
            .map_err(VerifyError::Unavailable)?;
        let now = self.clock.now();
        let entry = self.judge(answer, unix_secs(now));
        let until = match &entry {
            Some(c) => {
                let fresh_until = now + self.ttl;
                UNIX_EPOCH
                    .checked_add(secs(c.expires_at))
                    .map_or(fresh_until, |exp| fresh_until.min(exp))
            }
            None => now + self.negative_ttl,
        };
        self.cache.insert(id, entry.clone(), until, now);
        entry.ok_or(inactive)
    }

    fn cached(&self, id: &[u8; 32]) -> Option<Entry> {
        self.cache.get(id, self.clock.now())
    }

    /// An introspection answer as claims, or `None` when it does not describe a live key of
    /// our issuer.
    fn judge(&self, a: Answer, now: i64) -> Entry {
        if !a.active
            || a.token_type.as_deref().is_some_and(|t| t != "api_key")
            || a.iss.as_deref().is_some_and(|i| i != self.issuer)
            || a.exp.is_some_and(|e| e <= now)
        {
            return None;
        }
        let sub = a.sub?;
        Some(Arc::new(Claims {
            kind: CredentialKind::ApiKey,
            issuer: self.issuer.clone(),
            subject: sub.clone(),
            client_id: a.client_id,
            tenant: a.tenant,
            scopes: ScopeSet::parse(a.scope.as_deref().unwrap_or("")),
            audiences: Vec::new(),
            expires_at: a.exp.unwrap_or(i64::MAX),
            issued_at: a.iat,
            jti: None,
            dpop_jkt: None,
            actor: None,
            api_key: Some(ApiKeyInfo {
                id: sub,
                name: a.name,
                environment: a.environment,
                rate_limit_class: a.rate_limit_class,
                rate_limits: a.rate_limits,
                allowed_ips: a.allowed_ips,
            }),
        }))
    }
}

fn secs(t: i64) -> Duration {
    Duration::from_secs(u64::try_from(t).unwrap_or(0))
}

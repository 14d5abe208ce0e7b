//! [`Verifier`]: one value per resource server holding the caches (metadata, keys,
//! introspection answers, DPoP `jti`s) and the policy, and verifying bearer credentials:
//! a value in the API-key format is checked offline and introspected; anything else is verified
//! as a JWT access token.

use std::net::IpAddr;
use std::sync::Arc;

use crate::apikey::{KeyForm, ip_allowed, key_form};
use crate::claims::Claims;
use crate::clock::{Clock, SharedClock, SystemClock};
use crate::config::VerifierConfig;
use crate::discovery::Discovery;
use crate::dpop::{DpopRequest, DpopVerifier};
use crate::error::{BuildError, VerifyError};
use crate::fetch::Fetcher;
use crate::introspection::Introspector;
use crate::jwt::{self, JwtPolicy};
use crate::keys::{KeyPolicy, KeyStore};

/// Verifies access tokens, API keys and DPoP proofs. Cheap to clone; clones share caches.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    config: VerifierConfig,
    clock: SharedClock,
    keys: Arc<KeyStore>,
    jwt: JwtPolicy,
    introspector: Introspector,
    dpop: DpopVerifier,
}

impl Verifier {
    /// A verifier on the system clock. Nothing is fetched until the first verification.
    pub fn new(config: VerifierConfig) -> Result<Self, BuildError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A verifier on an injected clock (tests move time instead of sleeping).
    pub fn with_clock(config: VerifierConfig, clock: Arc<dyn Clock>) -> Result<Self, BuildError> {
        config.validate()?;
        let fetcher = Fetcher::new(config.http_timeout).map_err(BuildError)?;
        let discovery = Arc::new(Discovery::new(fetcher.clone(), clock.clone(), &config));
        let keys = Arc::new(KeyStore::new(
            fetcher.clone(),
            discovery.clone(),
            clock.clone(),
            KeyPolicy {
                cooldown: config.jwks_refresh_cooldown,
                min_ttl: config.jwks_min_ttl,
                max_ttl: config.jwks_max_ttl,
                default_ttl: config.jwks_default_ttl,
                max_stale: config.jwks_max_stale,
            },
        ));
        let leeway = i64::try_from(config.leeway.as_secs()).unwrap_or(300);
        let jwt = JwtPolicy::new(&config.issuer, &config.audiences, leeway);
        let introspector = Introspector::new(fetcher, discovery, clock.clone(), &config);
        let dpop = DpopVerifier::new(config.dpop.clone(), clock.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                clock,
                keys,
                jwt,
                introspector,
                dpop,
            }),
        })
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.inner.config
    }

    /// Verifies a JWT access token (RFC 9068).
    pub async fn verify_access_token(&self, token: &str) -> Result<Arc<Claims>, VerifyError> {
        let i = &self.inner;
        jwt::verify(&i.keys, &i.jwt, &i.clock, token)
            .await
            .map(Arc::new)
    }

    /// Verifies an API key: format and checksum offline, then introspection (cached), then
    /// the key's IP allowlist against `client_ip`. A key with an allowlist is refused when the
    /// caller's address is unknown.
    pub async fn verify_api_key(
        &self,
        key: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<Arc<Claims>, VerifyError> {
        if key_form(key, &self.inner.config.api_key_prefixes) != KeyForm::WellFormed {
            return Err(VerifyError::InvalidToken("malformed API key"));
        }
        let claims = self.inner.introspector.verify(key).await?;
        let allowlist = claims
            .api_key
            .as_ref()
            .map(|k| k.allowed_ips.as_slice())
            .unwrap_or_default();
        if !allowlist.is_empty() && !client_ip.is_some_and(|ip| ip_allowed(allowlist, ip)) {
            return Err(VerifyError::InvalidToken(
                "API key not allowed from this address",
            ));
        }
        Ok(claims)
    }

    /// Verifies a bearer credential of either kind, told apart by the API-key prefix.
    pub async fn verify_bearer(
        &self,
        credential: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<Arc<Claims>, VerifyError> {
        match key_form(credential, &self.inner.config.api_key_prefixes) {
            KeyForm::NotAKey => self.verify_access_token(credential).await,
            _ => self.verify_api_key(credential, client_ip).await,
        }
    }

    /// Verifies a DPoP proof for a request made with a DPoP-bound token.
    pub fn verify_dpop_proof(&self, req: &DpopRequest<'_>) -> Result<(), VerifyError> {
        self.inner.dpop.verify(req)
    }

    /// The DPoP nonce clients must currently use (when nonces are required).
    pub fn dpop_nonce(&self) -> String {
        self.inner.dpop.nonce()
    }
}

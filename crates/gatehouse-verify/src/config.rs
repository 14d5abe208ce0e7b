//! What a resource server configures: who it trusts (the issuer), who it is (its audiences and
//! resource identifier), how it authenticates at introspection, and the cache bounds.
//! Every field has a safe default; [`VerifierConfig::validate`] refuses settings that cannot
//! work or would loosen security.

use std::fmt;
use std::time::Duration;

use crate::error::BuildError;

/// The resource server's own client credentials for RFC 7662 introspection
/// (`client_secret_basic`, RFC 6749 §2.3.1). The secret has no `Debug`/`Display`.
#[derive(Clone)]
pub struct IntrospectionClient {
    pub client_id: String,
    secret: String,
}

impl IntrospectionClient {
    pub fn new(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            secret: secret.into(),
        }
    }

    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for IntrospectionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionClient")
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// DPoP (RFC 9449) proof checks.
#[derive(Debug, Clone)]
pub struct DpopConfig {
    /// How old a proof's `iat` may be.
    pub max_age: Duration,
    /// How far in the future a proof's `iat` may be (clock skew).
    pub future_skew: Duration,
    /// Require a server-provided nonce (RFC 9449 §9). The nonce rotates every `max_age`.
    pub require_nonce: bool,
    /// Most `jti` values remembered at once; when full of live entries new proofs are refused
    /// (never accepted without a replay check).
    pub replay_capacity: usize,
}

impl Default for DpopConfig {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(300),
            future_skew: Duration::from_secs(5),
            require_nonce: false,
            replay_capacity: 100_000,
        }
    }
}

/// Configuration of a [`crate::Verifier`].
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The authorization server's issuer identifier, exactly as in its metadata and tokens.
    pub issuer: String,
    /// Accepted `aud` values; a token must name at least one. Default: the issuer (what
    /// Gatehouse puts in access tokens today); add resource URIs for RFC 8707 audiences.
    pub audiences: Vec<String>,
    /// Tolerance for `exp`/`nbf`/`iat` (default 30 s, at most 5 min).
    pub leeway: Duration,
    /// Where the keys are; default: `jwks_uri` from discovery.
    pub jwks_uri: Option<String>,
    /// Where to introspect API keys; default: `introspection_endpoint` from discovery.
    pub introspection_endpoint: Option<String>,
    /// Needed to accept API keys.
    pub introspection_client: Option<IntrospectionClient>,
    /// Secret prefixes of API keys (`[api_keys] live_prefix` / `test_prefix` of the server).
    pub api_key_prefixes: Vec<String>,
    /// How long an active introspection answer is reused: a revoked key stops within this.
    pub api_key_cache_ttl: Duration,
    /// How long an inactive answer is reused (a flood of the same bad key costs one call).
    pub api_key_negative_ttl: Duration,
    /// Most API keys cached at once.
    pub api_key_cache_capacity: usize,
    /// Most introspection requests in flight at once (bounds connections to the AS).
    pub max_concurrent_introspections: usize,
    /// Least time between two JWKS fetches caused by unknown `kid`s.
    pub jwks_refresh_cooldown: Duration,
    /// Bounds on a JWKS `Cache-Control: max-age`, and the age used without one.
    pub jwks_min_ttl: Duration,
    pub jwks_max_ttl: Duration,
    pub jwks_default_ttl: Duration,
    /// How long past its age a JWKS is still used while the AS cannot be reached.
    pub jwks_max_stale: Duration,
    /// Timeout of each request to the AS.
    pub http_timeout: Duration,
    /// Allow `http://` URLs on hosts other than loopback (never in production).
    pub allow_insecure_http: bool,
    pub dpop: DpopConfig,
}

impl VerifierConfig {
    /// Defaults for an issuer.
    pub fn new(issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        Self {
            audiences: vec![issuer.clone()],
            issuer,
            leeway: Duration::from_secs(30),
            jwks_uri: None,
            introspection_endpoint: None,
            introspection_client: None,
            api_key_prefixes: vec!["gh_live_".into(), "gh_test_".into()],
            api_key_cache_ttl: Duration::from_secs(60),
            api_key_negative_ttl: Duration::from_secs(10),
            api_key_cache_capacity: 10_000,
            max_concurrent_introspections: 32,
            jwks_refresh_cooldown: Duration::from_secs(5),
            jwks_min_ttl: Duration::from_secs(60),
            jwks_max_ttl: Duration::from_secs(24 * 3600),
            jwks_default_ttl: Duration::from_secs(300),
            jwks_max_stale: Duration::from_secs(3600),
            http_timeout: Duration::from_secs(5),
            allow_insecure_http: false,
            dpop: DpopConfig::default(),
        }
    }

    /// Replaces the accepted audiences.
    pub fn audiences<I: IntoIterator<Item = S>, S: Into<String>>(mut self, auds: I) -> Self {
        self.audiences = auds.into_iter().map(Into::into).collect();
        self
    }

    /// Enables API keys, introspected with these client credentials.
    pub fn introspection_client(
        mut self,
        id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.introspection_client = Some(IntrospectionClient::new(id, secret));
        self
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), BuildError> {
        let bad = |m: &str| Err(BuildError(m.to_owned()));
        check_url("issuer", &self.issuer, self.allow_insecure_http)?;
        for (what, u) in [
            ("jwks_uri", &self.jwks_uri),
            ("introspection_endpoint", &self.introspection_endpoint),
        ] {
            if let Some(u) = u {
                check_url(what, u, self.allow_insecure_http)?;
            }
        }
        if self.audiences.is_empty() || self.audiences.iter().any(String::is_empty) {
            return bad("audiences: at least one non-empty audience is needed");
        }
        if self.leeway > Duration::from_secs(300) {
            return bad("leeway: at most 300 seconds");
        }
        for p in &self.api_key_prefixes {
            if p.is_empty()
                || p.len() > 32
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return bad("api_key_prefixes: each is 1 to 32 of a-z, 0-9 and _");
            }
        }
        if self.jwks_min_ttl > self.jwks_max_ttl {
            return bad("jwks_min_ttl: must not exceed jwks_max_ttl");
        }
        if self.api_key_cache_capacity == 0 || self.max_concurrent_introspections == 0 {
            return bad("api_key_cache_capacity and max_concurrent_introspections: at least 1");
        }
        Ok(())
    }
}

/// `https://`, or `http://` on a loopback host (or anywhere when explicitly allowed).
pub(crate) fn check_url(what: &str, s: &str, allow_http: bool) -> Result<url::Url, BuildError> {
    let u = url::Url::parse(s).map_err(|_| BuildError(format!("{what}: not a URL: {s:?}")))?;
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    };
    match u.scheme() {
        "https" => Ok(u),
        "http" if loopback || allow_http => Ok(u),
        _ => Err(BuildError(format!(
            "{what}: must be https (http only on loopback): {s:?}"
        ))),
    }
}

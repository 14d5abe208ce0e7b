//! Authorization server metadata (RFC 8414 §3; OpenID Connect Discovery 1.0 §4 as fallback):
//! where the keys (`jwks_uri`) and the introspection endpoint are. Fetched on first need and
//! re-read once a day; the `issuer` in the document must equal the configured one exactly
//! (RFC 8414 §3.3), so a document served for another issuer is never trusted.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::clock::SharedClock;
use crate::config::check_url;
use crate::fetch::Fetcher;

/// How long discovered endpoints are used before the document is read again.
const REREAD_AFTER: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub jwks_uri: String,
    pub introspection_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: Option<String>,
    introspection_endpoint: Option<String>,
}

pub(crate) struct Discovery {
    fetcher: Fetcher,
    clock: SharedClock,
    issuer: String,
    jwks_uri: Option<String>,
    introspection_endpoint: Option<String>,
    allow_http: bool,
    cached: tokio::sync::Mutex<Option<(Endpoints, SystemTime)>>,
}

impl Discovery {
    pub(crate) fn new(
        fetcher: Fetcher,
        clock: SharedClock,
        config: &crate::VerifierConfig,
    ) -> Self {
        Self {
            fetcher,
            clock,
            issuer: config.issuer.clone(),
            jwks_uri: config.jwks_uri.clone(),
            introspection_endpoint: config.introspection_endpoint.clone(),
            allow_http: config.allow_insecure_http,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The endpoints: the configured ones, completed from the metadata document when needed.
    pub(crate) async fn endpoints(&self) -> Result<Endpoints, String> {
        if let (Some(j), Some(i)) = (&self.jwks_uri, &self.introspection_endpoint) {
            return Ok(Endpoints {
                jwks_uri: j.clone(),
                introspection_endpoint: Some(i.clone()),
            });
        }
        let now = self.clock.now();
        let mut cached = self.cached.lock().await;
        if let Some((e, at)) = cached.as_ref()
            && now.duration_since(*at).unwrap_or_default() < REREAD_AFTER
        {
            return Ok(e.clone());
        }
        let meta = self.fetch().await?;
        let jwks_uri = match (&self.jwks_uri, meta.jwks_uri) {
            (Some(j), _) => j.clone(),
            (None, Some(j)) => self.checked("jwks_uri", j)?,
            (None, None) => return Err("metadata has no jwks_uri".into()),
        };
        let introspection_endpoint =
            match (&self.introspection_endpoint, meta.introspection_endpoint) {
                (Some(i), _) => Some(i.clone()),
                (None, Some(i)) => Some(self.checked("introspection_endpoint", i)?),
                (None, None) => None,
            };
        let e = Endpoints {
            jwks_uri,
            introspection_endpoint,
        };
        *cached = Some((e.clone(), now));
        Ok(e)
    }

    fn checked(&self, what: &str, u: String) -> Result<String, String> {
        check_url(what, &u, self.allow_http).map_err(|e| e.0)?;
        Ok(u)
    }

    async fn fetch(&self) -> Result<Metadata, String> {
        let mut last_err = String::new();
        for url in well_known_urls(&self.issuer) {
            match self.fetcher.get_json::<Metadata>(&url).await {
                Ok(f) if f.value.issuer == self.issuer => return Ok(f.value),
                Ok(_) => return Err(format!("{url}: issuer differs from the configured one")),
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }
}

/// RFC 8414 §3.1 (the well-known segment goes before any issuer path), then OIDC Discovery
/// §4 (appended to the issuer).
fn well_known_urls(issuer: &str) -> Vec<String> {
    let trimmed = issuer.trim_end_matches('/');
    let mut out = Vec::with_capacity(2);
    if let Ok(u) = url::Url::parse(trimmed) {
        let path = u.path().trim_end_matches('/');
        let origin = u.origin().ascii_serialization();
        out.push(format!(
            "{origin}/.well-known/oauth-authorization-server{path}"
        ));
    }
    out.push(format!("{trimmed}/.well-known/openid-configuration"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_urls_follow_rfc8414_then_oidc() {
        assert_eq!(
            well_known_urls("https://id.example.com"),
            [
                "https://id.example.com/.well-known/oauth-authorization-server",
                "https://id.example.com/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            well_known_urls("https://example.com/tenant1"),
            [
                "https://example.com/.well-known/oauth-authorization-server/tenant1",
                "https://example.com/tenant1/.well-known/openid-configuration"
            ]
        );
    }
}

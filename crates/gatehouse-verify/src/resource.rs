//! [`ResourceServer`]: the whole check for one request, framework-neutral — credentials from
//! the `Authorization` header (RFC 6750 §2.1, RFC 9449 §7.1), verification, DPoP binding, the
//! rate limit — producing either [`Access`] (claims plus headers for the response) or a
//! [`Rejection`]. The actix-web and tower adapters are thin translations of this.

use std::net::IpAddr;
use std::sync::Arc;

use crate::claims::Claims;
use crate::dpop::{DPOP_ALGS, DpopRequest};
use crate::error::{BuildError, VerifyError};
use crate::metadata::{ProtectedResourceMetadata, location};
use crate::ratelimit::RateLimiter;
use crate::rejection::{ChallengeParams, Rejection, Scheme};
use crate::verifier::Verifier;

/// Who this resource server is, for the metadata document and challenges.
#[derive(Debug, Clone)]
pub struct ResourceConfig {
    /// The resource identifier (RFC 9728 §1.2), e.g. `https://api.example.com`: its origin is
    /// also the base of DPoP `htu` comparisons.
    pub resource: String,
    pub scopes_supported: Vec<String>,
    pub resource_name: Option<String>,
    pub resource_documentation: Option<String>,
}

impl ResourceConfig {
    pub fn new(resource: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            scopes_supported: Vec::new(),
            resource_name: None,
            resource_documentation: None,
        }
    }
}

/// The parts of a request the check reads.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    pub method: &'a str,
    /// The request path, without query.
    pub path: &'a str,
    /// Every `Authorization` header value (more than one is refused).
    pub authorization: &'a [&'a str],
    /// Every `DPoP` header value.
    pub dpop: &'a [&'a str],
    /// The caller's address, for API-key allowlists.
    pub client_ip: Option<IpAddr>,
}

/// A request that may proceed.
#[derive(Debug, Clone)]
pub struct Access {
    pub claims: Arc<Claims>,
    /// Headers to add to the response (the rate-limit state).
    pub headers: Vec<(&'static str, String)>,
}

/// Verification, rate limiting and metadata for one protected API. Cheap to clone.
#[derive(Clone)]
pub struct ResourceServer {
    inner: Arc<Inner>,
}

struct Inner {
    verifier: Verifier,
    limiter: Option<RateLimiter>,
    origin: String,
    metadata_path: String,
    metadata_json: String,
    challenge: ChallengeParams,
}

impl ResourceServer {
    /// `limiter: None` disables rate limiting.
    pub fn new(
        verifier: Verifier,
        limiter: Option<RateLimiter>,
        config: ResourceConfig,
    ) -> Result<Self, BuildError> {
        let (metadata_path, metadata_url) = location(&config.resource)?;
        let origin = url::Url::parse(&config.resource)
            .map_err(|_| BuildError("resource: not a URL".into()))?
            .origin()
            .ascii_serialization();
        let metadata = ProtectedResourceMetadata {
            resource: config.resource.clone(),
            authorization_servers: vec![verifier.config().issuer.clone()],
            scopes_supported: config.scopes_supported.clone(),
            bearer_methods_supported: vec!["header".into()],
            resource_name: config.resource_name.clone(),
            resource_documentation: config.resource_documentation.clone(),
            dpop_signing_alg_values_supported: DPOP_ALGS.iter().map(|s| (*s).to_owned()).collect(),
            dpop_bound_access_tokens_required: false,
        };
        let metadata_json =
            serde_json::to_string(&metadata).map_err(|e| BuildError(format!("metadata: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                verifier,
                limiter,
                origin,
                metadata_path,
                metadata_json,
                challenge: ChallengeParams {
                    resource_metadata: metadata_url,
                    dpop_algs: DPOP_ALGS.join(" "),
                },
            }),
        })
    }

    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// Path of the metadata document (serve it with [`ResourceServer::metadata_json`]).
    pub fn metadata_path(&self) -> &str {
        &self.inner.metadata_path
    }

    /// The RFC 9728 document, as JSON.
    pub fn metadata_json(&self) -> &str {
        &self.inner.metadata_json
    }

    /// Authenticates and rate-limits a request.
    pub async fn authorize(&self, req: &RequestInfo<'_>) -> Result<Access, Rejection> {
        let scheme = scheme_of(req.authorization);
        let claims = self
            .authenticate(req)
            .await
            .map_err(|e| self.reject(&e, scheme))?;
        let mut headers = Vec::new();
        if let Some(limiter) = &self.inner.limiter
            && let Some(d) = limiter.check(&claims, req.method).await
        {
            if !d.allowed() {
                return Err(Rejection::rate_limited(&d));
            }
            headers = d.headers();
        }
        Ok(Access { claims, headers })
    }

    /// `Ok` when `claims` carry every scope of the space-separated `scope`; else the 403
    /// `insufficient_scope` answer naming it.
    pub fn require_scope(&self, claims: &Claims, scope: &str) -> Result<(), Rejection> {
        if claims.scopes.contains_all(scope) {
            return Ok(());
        }
        let scheme = if claims.dpop_jkt.is_some() {
            Scheme::DPoP
        } else {
            Scheme::Bearer
        };
        Err(self.reject(&VerifyError::InsufficientScope(scope.to_owned()), scheme))
    }

    /// The answer for an error found outside [`ResourceServer::authorize`].
    pub fn reject(&self, err: &VerifyError, scheme: Scheme) -> Rejection {
        Rejection::from_error(err, scheme, &self.inner.challenge)
    }

    async fn authenticate(&self, req: &RequestInfo<'_>) -> Result<Arc<Claims>, VerifyError> {
        let (scheme, token) = credentials(req.authorization)?;
        let v = &self.inner.verifier;
        let claims = v.verify_bearer(token, req.client_ip).await?;
        match (scheme, claims.dpop_jkt.as_deref()) {
            (Scheme::Bearer, None) => Ok(claims),
            (Scheme::Bearer, Some(_)) => Err(VerifyError::InvalidToken(
                "DPoP-bound token presented as a bearer token",
            )),
            (Scheme::DPoP, None) => Err(VerifyError::InvalidToken("token is not DPoP-bound")),
            (Scheme::DPoP, Some(jkt)) => {
                let [proof] = req.dpop else {
                    return Err(VerifyError::InvalidDpopProof(
                        "exactly one DPoP header needed",
                    ));
                };
                let url = format!("{}{}", self.inner.origin, req.path);
                v.verify_dpop_proof(&DpopRequest {
                    proof,
                    method: req.method,
                    url: &url,
                    access_token: token,
                    jkt,
                })?;
                Ok(claims)
            }
        }
    }
}

fn scheme_of(authorization: &[&str]) -> Scheme {
    match authorization.first().and_then(|h| h.split_once(' ')) {
        Some((s, _)) if s.eq_ignore_ascii_case("dpop") => Scheme::DPoP,
        _ => Scheme::Bearer,
    }
}

/// The scheme and credential of the one `Authorization` header.
fn credentials<'a>(authorization: &[&'a str]) -> Result<(Scheme, &'a str), VerifyError> {
    let value = match authorization {
        [] => return Err(VerifyError::Missing),
        [v] => *v,
        _ => {
            return Err(VerifyError::InvalidRequest(
                "more than one Authorization header",
            ));
        }
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return Err(VerifyError::Missing);
    };
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::DPoP
    } else {
        // Another scheme (Basic, ...) is no credential of ours: answer as for none.
        return Err(VerifyError::Missing);
    };
    let token = token.trim_start_matches(' ');
    if !is_b64token(token) {
        return Err(VerifyError::InvalidRequest("malformed credentials"));
    }
    Ok((scheme, token))
}

/// RFC 6750 §2.1 `b64token`.
fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_parsed_strictly() {
        assert_eq!(credentials(&[]), Err(VerifyError::Missing));
        assert_eq!(credentials(&["Basic abc"]), Err(VerifyError::Missing));
        assert_eq!(
            credentials(&["bearer abc.def"]),
            Ok((Scheme::Bearer, "abc.def"))
        );
        assert_eq!(credentials(&["DPoP abc"]), Ok((Scheme::DPoP, "abc")));
        assert_eq!(
            credentials(&["Bearer a", "Bearer b"]),
            Err(VerifyError::InvalidRequest(
                "more than one Authorization header"
            ))
        );
        assert_eq!(
            credentials(&["Bearer a b"]),
            Err(VerifyError::InvalidRequest("malformed credentials"))
        );
    }
}

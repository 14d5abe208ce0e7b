//! Refusals as HTTP answers, independent of any web framework: status, headers, JSON body.
//!
//! - `WWW-Authenticate` (RFC 6750 §3): `Bearer` with `resource_metadata` (RFC 9728 §5.1, which
//!   the MCP authorization specification relies on), and `error`, `error_description` and, for
//!   `insufficient_scope`, the `scope` needed. No error code when credentials are missing
//!   (§3.1). A request made with the DPoP scheme, or failing a DPoP check, gets a `DPoP`
//!   challenge with `algs` (RFC 9449 §7.1), plus `DPoP-Nonce` for `use_dpop_nonce` (§9).
//! - `429` with `Retry-After` and the rate-limit headers; `503` with `Retry-After` when the
//!   authorization server cannot be reached.

use serde_json::json;

use crate::error::VerifyError;
use crate::ratelimit::RateDecision;

/// An HTTP answer refusing a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// A JSON document.
    pub body: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request refused with HTTP {}", self.status)
    }
}

/// Which authentication scheme the challenge names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    DPoP,
}

/// What every challenge of a resource server carries.
#[derive(Debug, Clone)]
pub(crate) struct ChallengeParams {
    pub resource_metadata: String,
    pub dpop_algs: String,
}

impl Rejection {
    pub(crate) fn from_error(err: &VerifyError, scheme: Scheme, p: &ChallengeParams) -> Self {
        let scheme = match err {
            VerifyError::InvalidDpopProof(_) | VerifyError::UseDpopNonce(_) => Scheme::DPoP,
            _ => scheme,
        };
        let mut headers = Vec::new();
        if let VerifyError::Unavailable(detail) = err {
            tracing::warn!(error = %detail, "authorization server unavailable");
            headers.push(("Retry-After", "5".to_owned()));
            let body = json!({"error": "temporarily_unavailable"}).to_string();
            return Self {
                status: 503,
                headers,
                body,
            };
        }
        let mut challenge = match scheme {
            Scheme::Bearer => format!(
                "Bearer resource_metadata=\"{}\"",
                quote(&p.resource_metadata)
            ),
            Scheme::DPoP => format!(
                "DPoP algs=\"{}\", resource_metadata=\"{}\"",
                p.dpop_algs,
                quote(&p.resource_metadata)
            ),
        };
        let mut body = serde_json::Map::new();
        if let Some(code) = err.code() {
            challenge.push_str(&format!(", error=\"{code}\""));
            body.insert("error".into(), code.into());
        }
        if let Some(d) = err.description() {
            challenge.push_str(&format!(", error_description=\"{}\"", quote(d)));
            body.insert("error_description".into(), d.into());
        }
        if let VerifyError::InsufficientScope(scope) = err {
            challenge.push_str(&format!(", scope=\"{}\"", quote(scope)));
            body.insert("scope".into(), scope.clone().into());
        }
        if let VerifyError::UseDpopNonce(nonce) = err {
            headers.push(("DPoP-Nonce", nonce.clone()));
        }
        headers.insert(0, ("WWW-Authenticate", challenge));
        Self {
            status: err.status(),
            headers,
            body: serde_json::Value::Object(body).to_string(),
        }
    }

    pub(crate) fn rate_limited(d: &RateDecision) -> Self {
        Self {
            status: 429,
            headers: d.headers(),
            body: json!({
                "error": "rate_limited",
                "error_description": format!("too many {} requests", d.class.name()),
            })
            .to_string(),
        }
    }
}

/// Escapes a quoted-string (RFC 9110 §5.6.4); values here are our own, but a configured
/// scope or URL must not be able to break the header.
fn quote(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ChallengeParams {
        ChallengeParams {
            resource_metadata: "https://api.example.com/.well-known/oauth-protected-resource"
                .into(),
            dpop_algs: "ES256 RS256".into(),
        }
    }

    #[test]
    fn missing_credentials_get_a_challenge_without_error_code() {
        let r = Rejection::from_error(&VerifyError::Missing, Scheme::Bearer, &params());
        assert_eq!(r.status, 401);
        assert_eq!(
            r.headers[0].1,
            "Bearer resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\""
        );
    }

    #[test]
    fn insufficient_scope_names_the_scope_needed() {
        let e = VerifyError::InsufficientScope("instances:write".into());
        let r = Rejection::from_error(&e, Scheme::Bearer, &params());
        assert_eq!(r.status, 403);
        assert!(r.headers[0].1.contains("error=\"insufficient_scope\""));
        assert!(r.headers[0].1.ends_with("scope=\"instances:write\""));
    }

    #[test]
    fn dpop_failures_use_the_dpop_scheme_and_send_a_nonce() {
        let e = VerifyError::UseDpopNonce("n1".into());
        let r = Rejection::from_error(&e, Scheme::Bearer, &params());
        assert!(r.headers[0].1.starts_with("DPoP algs=\"ES256 RS256\""));
        assert!(r.headers.contains(&("DPoP-Nonce", "n1".to_owned())));
    }

    #[test]
    fn quotes_cannot_break_the_header() {
        assert_eq!(quote("a\"b\\c\r\n"), "a\\\"b\\\\c");
    }
}

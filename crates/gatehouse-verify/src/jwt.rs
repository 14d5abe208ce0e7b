//! JWT access tokens (RFC 9068 §4), verified locally.
//!
//! Order of checks: size; header (`alg` neither `none` nor HMAC, no `crit`, `typ` is `at+jwt`,
//! a `kid`); the key named by `kid` and the algorithm pinned to it — the header's `alg` must
//! equal it, the token never chooses; the signature; `iss` equal to the issuer; `aud` naming an
//! accepted audience; `exp`, `nbf` and `iat` against the injected clock with a small leeway;
//! the RFC 9068 §2.2 claims present. Scopes are parsed into a set.

use std::str::FromStr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::VerifyError;
use crate::claims::{ApiKeyInfo, Claims, CredentialKind};
use crate::clock::{SharedClock, unix_secs};
use crate::keys::KeyStore;
use crate::scope::ScopeSet;

/// Longest token accepted (a Gatehouse access token is well under 2 KiB).
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Issuer, audiences and leeway, shared by every verification.
pub(crate) struct JwtPolicy {
    pub leeway: i64,
    pub validation_base: Validation,
}

impl JwtPolicy {
    pub(crate) fn new(issuer: &str, audiences: &[String], leeway: i64) -> Self {
        let mut v = Validation::new(Algorithm::RS256);
        // Time is checked below against the injected clock, not the system's.
        v.validate_exp = false;
        v.validate_nbf = false;
        v.set_required_spec_claims::<&str>(&[]);
        v.set_issuer(&[issuer]);
        v.set_audience(audiences);
        v.validate_aud = true;
        Self {
            leeway,
            validation_base: v,
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    typ: Option<String>,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Cnf {
    jkt: Option<String>,
}

/// An RFC 8693 §4.1 `act` claim; only the outermost (current) actor is read.
#[derive(Deserialize)]
struct Act {
    sub: String,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: String,
    sub: String,
    aud: OneOrMany,
    client_id: String,
    exp: f64,
    iat: f64,
    jti: String,
    nbf: Option<f64>,
    scope: Option<String>,
    tenant: Option<String>,
    cnf: Option<Cnf>,
    act: Option<Act>,
    api_key: Option<String>,
    api_key_name: Option<String>,
}

/// Verifies an access token and returns its claims.
pub(crate) async fn verify(
    keys: &Arc<KeyStore>,
    policy: &JwtPolicy,
    clock: &SharedClock,
    token: &str,
) -> Result<Claims, VerifyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::InvalidToken("token too long"));
    }
    let header = header(token)?;
    let alg_name = header
        .alg
        .as_deref()
        .ok_or(VerifyError::InvalidToken("no alg"))?;
    if alg_name.eq_ignore_ascii_case("none") || alg_name.starts_with("HS") {
        return Err(VerifyError::InvalidToken("algorithm not allowed"));
    }
    if header.crit.is_some() {
        return Err(VerifyError::InvalidToken("unsupported critical header"));
    }
    if !typ_is(header.typ.as_deref(), "at+jwt") {
        return Err(VerifyError::InvalidToken("not an access token (typ)"));
    }
    let kid = header
        .kid
        .as_deref()
        .ok_or(VerifyError::InvalidToken("no kid"))?;
    let key = keys.key(kid).await?;
    if Algorithm::from_str(alg_name).ok() != Some(key.alg) {
        return Err(VerifyError::InvalidToken(
            "algorithm does not match the key",
        ));
    }
    let mut validation = policy.validation_base.clone();
    validation.algorithms = vec![key.alg];
    let raw = jsonwebtoken::decode::<RawClaims>(token, &key.key, &validation)
        .map_err(|e| VerifyError::InvalidToken(describe(e.kind())))?
        .claims;
    check_times(&raw, unix_secs(clock.now()), policy.leeway)?;
    Ok(into_claims(raw))
}

fn header(token: &str) -> Result<Header, VerifyError> {
    let bad = VerifyError::InvalidToken("malformed token");
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad);
    };
    let bytes = URL_SAFE_NO_PAD.decode(h).map_err(|_| bad.clone())?;
    serde_json::from_slice(&bytes).map_err(|_| bad)
}

/// `typ` compared case-insensitively, with the optional `application/` prefix (RFC 7515
/// §4.1.9).
pub(crate) fn typ_is(typ: Option<&str>, want: &str) -> bool {
    let Some(t) = typ else { return false };
    let t = t.to_ascii_lowercase();
    t == want || t.strip_prefix("application/") == Some(want)
}

fn describe(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidAlgorithm => "algorithm does not match the key",
        ErrorKind::Json(_) => "missing or malformed claims",
        _ => "malformed token",
    }
}

fn check_times(c: &RawClaims, now: i64, leeway: i64) -> Result<(), VerifyError> {
    let secs = |t: f64| t.floor() as i64;
    if secs(c.exp) + leeway <= now {
        return Err(VerifyError::InvalidToken("expired"));
    }
    if c.nbf.is_some_and(|nbf| secs(nbf) - leeway > now) {
        return Err(VerifyError::InvalidToken("not yet valid"));
    }
    if secs(c.iat) - leeway > now {
        return Err(VerifyError::InvalidToken("issued in the future"));
    }
    Ok(())
}

fn into_claims(raw: RawClaims) -> Claims {
    let audiences = match raw.aud {
        OneOrMany::One(a) => vec![a],
        OneOrMany::Many(v) => v,
    };
    let api_key = raw.api_key.map(|id| ApiKeyInfo {
        id,
        name: raw.api_key_name,
        environment: None,
        rate_limit_class: None,
        rate_limits: None,
        allowed_ips: Vec::new(),
    });
    Claims {
        kind: CredentialKind::AccessToken,
        issuer: raw.iss,
        subject: raw.sub,
        client_id: Some(raw.client_id),
        tenant: raw.tenant,
        scopes: ScopeSet::parse(raw.scope.as_deref().unwrap_or("")),
        audiences,
        expires_at: raw.exp.floor() as i64,
        issued_at: Some(raw.iat.floor() as i64),
        jti: Some(raw.jti),
        dpop_jkt: raw.cnf.and_then(|c| c.jkt),
        actor: raw.act.map(|a| a.sub),
        api_key,
    }
}

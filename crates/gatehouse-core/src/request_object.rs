//! Signed request objects: JWT-Secured Authorization Requests (RFC 9101) and OIDC Core §6.1.
//!
//! A client may send its authorization parameters as a JWS in the `request` parameter, at the
//! authorization endpoint ([`expand`]) or in a pushed request (RFC 9126 §3, `crate::par`). The
//! rules, all here ([`unpack`]):
//! - the object is signed with one of the client's registered public keys (the inline JWKS or
//!   `jwks_uri` of `private_key_jwt`), with an algorithm of [`SIGNING_ALGS`] pinned to the key;
//!   `alg: none`, HMAC and `crit` are refused (RFC 9101 §6.1 requires signatures here; the
//!   verification itself is the [`RequestObjectVerifier`] port's). A client without
//!   registered public keys cannot send one;
//! - `iss` is the client_id, `aud` is (or contains) our issuer (RFC 9101 §4, §10.2);
//! - `exp` is required, not past and at most [`MAX_LIFETIME`] ahead; `nbf` and `iat`, when
//!   present, are not in the future (each with [`SKEW`] seconds of tolerance);
//! - the `client_id` claim is required and equals the request's `client_id` (§5);
//! - the object carries neither `request` nor `request_uri` (§4);
//! - a `jti`, when present, is used once (the replay store of client assertions, in its own
//!   namespace), recorded only after everything else passed;
//! - the authorization parameters are taken **only** from the object (§6.3); those outside
//!   it are ignored, except `client_id`, which must match.
//!
//! Every failure is `invalid_request_object` (RFC 9101 §6.2). At the authorization endpoint it
//! goes back to the client's redirect URI only when the parameters outside the object name a
//! known client and one of its registered redirect URIs; otherwise it is a page (RFC 6749
//! §4.1.2.1: no open redirector). `request_uri` values that are not pushed requests are not
//! fetched (`request_uri_not_supported`, see `crate::authorize`).

// As in `ports`: used only by our own generic code on actix workers, which need no `Send`.
#![allow(async_fn_in_trait)]

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::authorize::{self, AuthorizeError};
use crate::client::Client;
use crate::client_auth::{
    AssertionRejected, ClientKeyStore, JtiUse, KeySource, ReplayStore, replay_issuer,
};
use crate::error::{Error, OAuthError};
use crate::params::Params;
use crate::ports::ClientStore;
use crate::tenant::TenantStore;

/// The signing algorithms a request object may use: those the client-key verifier accepts.
pub const SIGNING_ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];
/// Longest accepted `exp` ahead of now, seconds.
pub const MAX_LIFETIME: i64 = 3600;
/// Tolerated clock skew for `exp`, `nbf` and `iat`, seconds.
pub const SKEW: i64 = 60;
/// Longest `jti` kept in the replay store.
const MAX_JTI_LEN: usize = 512;
/// The JWT claims of the object itself, which are not authorization parameters.
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "nbf", "iat", "jti"];

/// Verifies a request object's signature with a client's keys. Implemented by the server with
/// `gatehouse-jose` (and the `jwks_uri` fetcher); returns the payload, unchecked.
pub trait RequestObjectVerifier {
    async fn verify_request_object(
        &self,
        keys: &KeySource,
        jws: &str,
    ) -> Result<Map<String, Value>, AssertionRejected>;
}

/// The ports and facts checking a request object needs.
pub struct RequestObjectContext<'a, K, R, V> {
    /// Clients, tenants and their registered keys.
    pub clients: &'a K,
    /// Single use of `jti`.
    pub replay: &'a R,
    pub verifier: &'a V,
    /// Our issuer identifier: the required audience.
    pub issuer: &'a str,
    pub now: DateTime<Utc>,
}

fn bad(d: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::OAuth(OAuthError::invalid_request_object(d))
}

/// Verifies the request object `jws` of `client` and returns the authorization parameters it
/// carries (with `client_id`). Failures are `invalid_request_object`.
pub async fn unpack<K, R, V>(
    ctx: &RequestObjectContext<'_, K, R, V>,
    client: &Client,
    jws: &str,
) -> Result<Params, Error>
where
    K: ClientKeyStore,
    R: ReplayStore,
    V: RequestObjectVerifier,
{
    let keys = match ctx.clients.client_key_source(&client.id).await? {
        Some(k @ (KeySource::Jwks(_) | KeySource::Uri(_))) => k,
        _ => {
            return Err(bad(
                "the client has no registered public keys to verify request objects with",
            ));
        }
    };
    let claims = ctx
        .verifier
        .verify_request_object(&keys, jws)
        .await
        .map_err(|e| bad(e.0))?;
    let checked = check_claims(claims, client.id.as_str(), ctx.issuer, ctx.now.timestamp())
        .map_err(Error::OAuth)?;
    if let Some(jti) = &checked.jti {
        let expires = DateTime::from_timestamp(checked.exp.saturating_add(SKEW), 0)
            .ok_or_else(|| bad("the request object's exp is out of range"))?;
        let issuer = replay_issuer("request_object", client.id.as_str());
        if ctx.replay.use_jti(&issuer, jti, expires, ctx.now).await? == JtiUse::Replayed {
            return Err(bad("the request object has already been used (jti)"));
        }
    }
    Ok(checked.params)
}

/// The parameters of an authorization request that may carry a request object by value:
/// unchanged without one, else those of the object (RFC 9101 §6.3). Errors are a redirect
/// only when the parameters outside the object resolve to a known client and a registered
/// redirect URI, else a page.
pub async fn expand<K, R, V>(
    ctx: &RequestObjectContext<'_, K, R, V>,
    params: Params,
) -> Result<Params, AuthorizeError>
where
    K: ClientStore + TenantStore + ClientKeyStore,
    R: ReplayStore,
    V: RequestObjectVerifier,
{
    let Some(jws) = params.get("request") else {
        return Ok(params);
    };
    let client = authorize::known_client(ctx.clients, &params).await?;
    let result = if params.get("request_uri").is_some() {
        Err(bad("request and request_uri must not be sent together"))
    } else {
        unpack(ctx, &client, jws).await
    };
    match result {
        Ok(inner) => Ok(inner),
        Err(Error::OAuth(error)) => match authorize::resolve_client(ctx.clients, &params).await {
            Ok(resolved) => Err(AuthorizeError::Redirect {
                target: resolved.target,
                error,
            }),
            Err(AuthorizeError::Internal(e)) => Err(AuthorizeError::Internal(e)),
            Err(_) => Err(AuthorizeError::Page(error)),
        },
        Err(e) => Err(AuthorizeError::Internal(e)),
    }
}

/// A request object's claims after the checks of [`check_claims`].
#[derive(Debug)]
struct Checked {
    params: Params,
    jti: Option<String>,
    exp: i64,
}

/// The claim rules (RFC 9101 §4, §5, §6.3; OIDC Core §6.1), at `now` (Unix seconds).
fn check_claims(
    claims: Map<String, Value>,
    client_id: &str,
    issuer: &str,
    now: i64,
) -> Result<Checked, OAuthError> {
    let bad = |d: String| OAuthError::invalid_request_object(d);
    if claims.get("iss").and_then(Value::as_str) != Some(client_id) {
        return Err(bad("the request object's iss must be the client_id".into()));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == issuer,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad(
            "the request object's aud must be this server's issuer".into()
        ));
    }
    let time = |name: &str| -> Result<Option<i64>, OAuthError> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| bad(format!("the request object's {name} is not a number"))),
        }
    };
    let exp = time("exp")?.ok_or_else(|| bad("the request object needs an exp claim".into()))?;
    if exp.saturating_add(SKEW) <= now {
        return Err(bad("the request object has expired".into()));
    }
    if exp.saturating_sub(now) > MAX_LIFETIME.saturating_add(SKEW) {
        return Err(bad(
            "the request object's exp is too far in the future".into()
        ));
    }
    for name in ["nbf", "iat"] {
        if time(name)?.is_some_and(|t| t > now.saturating_add(SKEW)) {
            return Err(bad(format!("the request object's {name} is in the future")));
        }
    }
    match claims.get("client_id").and_then(Value::as_str) {
        Some(id) if id == client_id => {}
        Some(_) => {
            return Err(bad(
                "the request object's client_id is not the request's".into()
            ));
        }
        None => return Err(bad("the request object needs a client_id claim".into())),
    }
    if claims.contains_key("request") || claims.contains_key("request_uri") {
        return Err(bad(
            "a request object must not contain request or request_uri".into(),
        ));
    }
    let jti = match claims.get("jti") {
        None => None,
        Some(Value::String(j)) if !j.is_empty() && j.len() <= MAX_JTI_LEN => Some(j.clone()),
        Some(_) => return Err(bad("the request object's jti is not a usable string".into())),
    };
    Ok(Checked {
        params: parameters(claims)?,
        jti,
        exp,
    })
}

/// The authorization parameters of a request object: string members as they are, numbers
/// and booleans as text (`max_age`), objects as JSON text (`claims`, OIDC Core §5.5), arrays
/// of strings as repeated values (`resource`, RFC 8707 §2); `null` is omitted. [`Params`]
/// applies the usual limits (no repeats but `resource`, sizes, count).
fn parameters(claims: Map<String, Value>) -> Result<Params, OAuthError> {
    let mut pairs = Vec::new();
    for (name, value) in claims {
        if JWT_CLAIMS.contains(&name.as_str()) {
            continue;
        }
        match value {
            Value::Null => {}
            Value::String(s) => pairs.push((name, s)),
            Value::Number(n) => pairs.push((name, n.to_string())),
            Value::Bool(b) => pairs.push((name, b.to_string())),
            Value::Object(_) => pairs.push((name, value.to_string())),
            Value::Array(items) => {
                for item in items {
                    let Value::String(s) = item else {
                        return Err(OAuthError::invalid_request_object(format!(
                            "the request object's {name} holds a non-string value"
                        )));
                    };
                    pairs.push((name.clone(), s));
                }
            }
        }
    }
    Params::new(pairs).map_err(|e| OAuthError::invalid_request_object(e.description))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const ISS: &str = "https://issuer.example";

    fn claims(extra: Value) -> Map<String, Value> {
        let mut c = json!({
            "iss": "c1", "aud": ISS, "exp": NOW + 300, "client_id": "c1",
            "response_type": "code", "scope": "openid", "redirect_uri": "https://rp/cb",
        });
        if let (Some(c), Value::Object(extra)) = (c.as_object_mut(), extra) {
            for (k, v) in extra {
                if v.is_null() {
                    c.remove(&k);
                } else {
                    c.insert(k, v);
                }
            }
        }
        match c {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn run(extra: Value) -> Result<Checked, OAuthError> {
        check_claims(claims(extra), "c1", ISS, NOW)
    }

    #[test]
    fn the_parameters_come_from_the_object_rfc9101_6_3() {
        let c = run(
            json!({"max_age": 60, "claims": {"userinfo": {"email": null}},
                            "resource": ["https://a", "https://b"], "jti": "j"}),
        )
        .unwrap();
        assert_eq!(c.params.get("scope"), Some("openid"));
        assert_eq!(c.params.get("client_id"), Some("c1"));
        assert_eq!(c.params.get("max_age"), Some("60"));
        assert_eq!(
            c.params.get("claims"),
            Some(r#"{"userinfo":{"email":null}}"#)
        );
        assert_eq!(c.params.get_all("resource").count(), 2);
        for jwt in JWT_CLAIMS {
            assert!(c.params.get(jwt).is_none(), "{jwt}");
        }
        assert_eq!((c.jti.as_deref(), c.exp), (Some("j"), NOW + 300));
    }

    #[test]
    fn iss_aud_and_client_id_are_the_clients_and_ours_rfc9101_4_5() {
        assert!(run(json!({"aud": [ISS, "https://other"]})).is_ok());
        for bad in [
            json!({"iss": "c2"}),
            json!({"iss": null}),
            json!({"aud": "https://other"}),
            json!({"aud": ["https://other"]}),
            json!({"aud": null}),
            json!({"client_id": "c2"}),
            json!({"client_id": null}),
            json!({"request_uri": "https://x"}),
            json!({"request": "a.b.c"}),
            json!({"scope": ["openid", 5]}),
            json!({"jti": 5}),
        ] {
            let e = run(bad.clone()).unwrap_err();
            assert_eq!(e.code.as_str(), "invalid_request_object", "{bad}");
        }
    }

    #[test]
    fn exp_is_required_and_bounded_and_nbf_iat_not_in_the_future() {
        assert!(run(json!({"exp": null})).is_err());
        assert!(run(json!({"exp": "soon"})).is_err());
        assert!(run(json!({"exp": NOW - SKEW})).is_err());
        assert!(run(json!({"exp": NOW - 10})).is_ok(), "within the skew");
        assert!(run(json!({"exp": NOW + MAX_LIFETIME})).is_ok());
        assert!(run(json!({"exp": NOW + MAX_LIFETIME + SKEW + 1})).is_err());
        assert!(run(json!({"nbf": NOW + 30, "iat": NOW})).is_ok());
        assert!(run(json!({"nbf": NOW + 600})).is_err());
        assert!(run(json!({"iat": NOW + 600})).is_err());
    }
}

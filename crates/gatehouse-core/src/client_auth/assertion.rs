//! Signed-JWT authentication: `private_key_jwt` and `client_secret_jwt` client authentication
//! (OIDC Core §9, RFC 7523 §2.2 and §3) and the ports the JWT bearer grant
//! (`crate::grant::jwt_bearer`) shares with it.
//!
//! The protocol steps live here; the I/O lives behind ports:
//! - [`AssertionVerifier`] checks a JWS against a [`KeySource`] (an inline JWKS or a `jwks_uri`
//!   the server fetches and caches) and the time and audience rules of [`AssertionRules`];
//! - [`ClientKeyStore`] finds a client's registered key source;
//! - [`ReplayStore`] records each `jti` once (RFC 7523 §3 item 7), atomically.
//!
//! Order matters: the signature and claims are checked before the `jti` is recorded, so an
//! attacker without the key cannot burn a legitimate client's `jti` values.

// As in `ports`: used only by our own generic code on actix workers, which need no `Send`.
#![allow(async_fn_in_trait)]

use chrono::{DateTime, Utc};

use crate::client::{AuthMethod, Client};
use crate::error::{Error, OAuthError, StoreError};
use crate::values::ClientId;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE_JWT: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Where the keys that verify an assertion live.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource {
    /// A JWKS registered inline (RFC 7517 §5).
    Jwks(serde_json::Value),
    /// A `jwks_uri` (RFC 7591 §2) the server fetches, caches and refreshes.
    Uri(String),
    /// The client secret of a `client_secret_jwt` client, sealed under the master key.
    SealedSecret(SealedSecret),
}

/// An AES-256-GCM envelope holding a client secret (the HS256 key of `client_secret_jwt`),
/// bound to its client. Opaque here: only the server, which holds the master key, opens it.
/// Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub client_id: ClientId,
    pub envelope: Vec<u8>,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedSecret(..)")
    }
}

/// The rules every assertion must meet besides its signature.
#[derive(Debug, Clone)]
pub struct AssertionRules {
    /// Acceptable `aud` values: the issuer and the token endpoint URL (RFC 7523 §3 item 3).
    pub audiences: Vec<String>,
    /// Longest accepted lifetime (`exp` ahead of now), seconds.
    pub max_lifetime: i64,
    /// Tolerated clock skew, seconds.
    pub skew: i64,
}

/// The claims of an assertion whose signature, `aud` and times have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub iss: String,
    pub sub: String,
    pub jti: String,
    pub exp: DateTime<Utc>,
}

/// Why an assertion was refused (bad signature, unknown key, expired, unreachable `jwks_uri`,
/// ...). Shown to the client as the `error_description` of `invalid_client` / `invalid_grant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionRejected(pub String);

/// Verifies assertions. Implemented by the server with `gatehouse-jose` and an HTTP client.
pub trait AssertionVerifier {
    async fn verify(
        &self,
        keys: &KeySource,
        assertion: &str,
        rules: &AssertionRules,
        now: DateTime<Utc>,
    ) -> Result<VerifiedAssertion, AssertionRejected>;
}

/// The registered key source of `private_key_jwt` clients.
pub trait ClientKeyStore {
    async fn client_key_source(&self, id: &ClientId) -> Result<Option<KeySource>, StoreError>;
}

/// The outcome of recording a `jti`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JtiUse {
    /// First use.
    Fresh,
    /// Seen before and not yet expired: a replay.
    Replayed,
}

/// Single use of assertion ids (RFC 7523 §3 item 7).
pub trait ReplayStore {
    /// Records `jti` of `issuer` until `expires_at`, atomically: of two concurrent calls with
    /// the same pair exactly one gets [`JtiUse::Fresh`]. A record whose `expires_at` is not after
    /// `now` no longer counts.
    async fn use_jti(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<JtiUse, StoreError>;
}

/// Namespaces of the replay store, so a client id can never collide with a trusted issuer.
pub(crate) fn replay_issuer(kind: &str, iss: &str) -> String {
    format!("{kind}:{iss}")
}

/// Checks a `private_key_jwt` or `client_secret_jwt` assertion for `client` (OIDC Core §9):
/// signature with the client's keys (or its sealed secret), `iss` = `sub` = client_id, then
/// single use of `jti`.
pub(crate) async fn authenticate_assertion<K, R, V>(
    keys: &K,
    replay: &R,
    verifier: &V,
    rules: &AssertionRules,
    now: DateTime<Utc>,
    client: &Client,
    assertion: &str,
) -> Result<(), Error>
where
    K: ClientKeyStore,
    R: ReplayStore,
    V: AssertionVerifier,
{
    let bad = |d: String| Error::OAuth(OAuthError::invalid_client(d));
    let source = keys
        .client_key_source(&client.id)
        .await?
        .ok_or_else(|| bad("the client has no registered keys".into()))?;
    // The method registered decides which kind of key may verify (RFC 8725 §3.1).
    let matches = matches!(
        (&client.auth_method, &source),
        (
            AuthMethod::PrivateKeyJwt,
            KeySource::Jwks(_) | KeySource::Uri(_)
        ) | (AuthMethod::ClientSecretJwt, KeySource::SealedSecret(_))
    );
    if !matches {
        return Err(bad("client authentication failed".into()));
    }
    let claims = verifier
        .verify(&source, assertion, rules, now)
        .await
        .map_err(|e| bad(e.0))?;
    if claims.iss != client.id.as_str() || claims.sub != client.id.as_str() {
        return Err(bad(
            "the assertion's iss and sub must both be the client_id".into(),
        ));
    }
    let expires = claims.exp + chrono::Duration::seconds(rules.skew);
    let issuer = replay_issuer("client", client.id.as_str());
    match replay.use_jti(&issuer, &claims.jti, expires, now).await? {
        JtiUse::Fresh => Ok(()),
        JtiUse::Replayed => Err(bad("the assertion has already been used".into())),
    }
}

/// Reads string claims of a compact JWS without verifying it, to find out whose keys verify it.
/// Returns `None` for anything that is not a small, well-formed JWS with a JSON object payload.
pub fn peek_claim(token: &str, name: &str) -> Option<String> {
    use base64::Engine;
    if token.len() > 8 * 1024 {
        return None;
    }
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get(name)?.as_str().map(str::to_owned)
}

//! Signed-JWT authentication: `private_key_jwt` client authentication (OIDC Core §9,
//! RFC 7523 §2.2 and §3) and the ports the JWT bearer grant ([`crate::jwt_bearer`]) shares with it.
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

/// What [`crate::token::authenticate_client`] needs to check a client assertion.
pub struct AssertionContext<'a, V> {
    pub verifier: &'a V,
    pub rules: &'a AssertionRules,
    pub now: DateTime<Utc>,
}

/// Namespaces of the replay store, so a client id can never collide with a trusted issuer.
pub(crate) fn replay_issuer(kind: &str, iss: &str) -> String {
    format!("{kind}:{iss}")
}

/// Checks a `private_key_jwt` or `client_secret_jwt` assertion for `client` (OIDC Core §9):
/// signature with the client's keys (or its sealed secret), `iss` = `sub` = client_id, then
/// single use of `jti`.
pub(crate) async fn authenticate_assertion<S, V>(
    store: &S,
    ctx: &AssertionContext<'_, V>,
    client: &Client,
    assertion: &str,
) -> Result<(), Error>
where
    S: ClientKeyStore + ReplayStore,
    V: AssertionVerifier,
{
    let bad = |d: String| Error::OAuth(OAuthError::invalid_client(d));
    let keys = store
        .client_key_source(&client.id)
        .await?
        .ok_or_else(|| bad("the client has no registered keys".into()))?;
    // The method registered decides which kind of key may verify (RFC 8725 §3.1).
    let matches = matches!(
        (&client.auth_method, &keys),
        (
            AuthMethod::PrivateKeyJwt,
            KeySource::Jwks(_) | KeySource::Uri(_)
        ) | (AuthMethod::ClientSecretJwt, KeySource::SealedSecret(_))
    );
    if !matches {
        return Err(bad("client authentication failed".into()));
    }
    let claims = ctx
        .verifier
        .verify(&keys, assertion, ctx.rules, ctx.now)
        .await
        .map_err(|e| bad(e.0))?;
    if claims.iss != client.id.as_str() || claims.sub != client.id.as_str() {
        return Err(bad(
            "the assertion's iss and sub must both be the client_id".into(),
        ));
    }
    let expires = claims.exp + chrono::Duration::seconds(ctx.rules.skew);
    match store
        .use_jti(
            &replay_issuer("client", client.id.as_str()),
            &claims.jti,
            expires,
            ctx.now,
        )
        .await?
    {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientRegistration, NewClient};
    use crate::params::Params;
    use crate::token::{ClientCredentials, authenticate_client};
    use crate::values::TenantId;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// A verifier that trusts a fixed set of claims for the token "good".
    struct FakeVerifier(VerifiedAssertion);

    impl AssertionVerifier for FakeVerifier {
        async fn verify(
            &self,
            _keys: &KeySource,
            assertion: &str,
            _rules: &AssertionRules,
            _now: DateTime<Utc>,
        ) -> Result<VerifiedAssertion, AssertionRejected> {
            if assertion == "good" {
                Ok(self.0.clone())
            } else {
                Err(AssertionRejected("bad signature".into()))
            }
        }
    }

    struct FakeStore {
        client: Client,
        jtis: RefCell<HashMap<(String, String), DateTime<Utc>>>,
    }

    impl crate::ports::ClientStore for FakeStore {
        async fn find_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
            Ok((id == &self.client.id).then(|| self.client.clone()))
        }
    }

    impl crate::tenant::TenantStore for FakeStore {
        async fn find_tenant(
            &self,
            id: &crate::values::TenantId,
        ) -> Result<Option<crate::tenant::Tenant>, StoreError> {
            Ok(Some(crate::fakes::enabled_tenant(id)))
        }
    }

    impl ClientKeyStore for FakeStore {
        async fn client_key_source(&self, id: &ClientId) -> Result<Option<KeySource>, StoreError> {
            Ok((id == &self.client.id).then(|| KeySource::Uri("https://c.example/jwks".into())))
        }
    }

    impl ReplayStore for FakeStore {
        async fn use_jti(
            &self,
            issuer: &str,
            jti: &str,
            expires_at: DateTime<Utc>,
            now: DateTime<Utc>,
        ) -> Result<JtiUse, StoreError> {
            let mut m = self.jtis.borrow_mut();
            let key = (issuer.to_owned(), jti.to_owned());
            match m.get(&key) {
                Some(e) if *e > now => Ok(JtiUse::Replayed),
                _ => {
                    m.insert(key, expires_at);
                    Ok(JtiUse::Fresh)
                }
            }
        }
    }

    fn setup(method: &str) -> (FakeStore, String) {
        let reg = ClientRegistration {
            name: "svc".into(),
            tenant_id: TenantId::parse("default").unwrap(),
            grant_types: vec!["client_credentials".into()],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            scope: Some("api:read".into()),
            auth_method: Some(method.into()),
            id_token_alg: None,
            access_token_ttl: None,
            pkce_optional: false,
            refresh_grace_seconds: None,
            refresh_idle_ttl: None,
            refresh_absolute_ttl: None,
        };
        let c = NewClient::validate(reg, Utc::now()).unwrap().client;
        let id = c.id.to_string();
        (
            FakeStore {
                client: c,
                jtis: RefCell::new(HashMap::new()),
            },
            id,
        )
    }

    fn rules() -> AssertionRules {
        AssertionRules {
            audiences: vec!["https://as.example".into()],
            max_lifetime: 300,
            skew: 60,
        }
    }

    fn creds(id: &str, assertion: &str) -> ClientCredentials {
        let p = Params::new(vec![
            ("client_id".into(), id.into()),
            (
                "client_assertion_type".into(),
                CLIENT_ASSERTION_TYPE_JWT.into(),
            ),
            ("client_assertion".into(), assertion.into()),
        ])
        .unwrap();
        ClientCredentials::parse(None, &p).unwrap()
    }

    fn claims(id: &str, now: DateTime<Utc>) -> VerifiedAssertion {
        VerifiedAssertion {
            iss: id.into(),
            sub: id.into(),
            jti: "jti-1".into(),
            exp: now + chrono::Duration::seconds(60),
        }
    }

    #[tokio::test]
    async fn a_verified_assertion_authenticates_once_and_its_replay_is_refused() {
        let (store, id) = setup("private_key_jwt");
        let now = Utc::now();
        let v = FakeVerifier(claims(&id, now));
        let r = rules();
        let ctx = AssertionContext {
            verifier: &v,
            rules: &r,
            now,
        };
        let c = authenticate_client(&store, &creds(&id, "good"), &ctx)
            .await
            .unwrap();
        assert_eq!(c.id.as_str(), id);
        let e = authenticate_client(&store, &creds(&id, "good"), &ctx)
            .await
            .unwrap_err();
        assert_eq!(e.to_oauth().code, crate::ErrorCode::InvalidClient);
        // After the assertion (and the skew) expired, the record no longer counts.
        let later = AssertionContext {
            verifier: &v,
            rules: &r,
            now: now + chrono::Duration::seconds(200),
        };
        assert!(
            authenticate_client(&store, &creds(&id, "good"), &later)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn iss_and_sub_must_be_the_client_and_the_method_must_be_registered() {
        let (store, id) = setup("private_key_jwt");
        let now = Utc::now();
        let r = rules();
        for (iss, sub) in [("other", id.as_str()), (id.as_str(), "other")] {
            let mut c = claims(&id, now);
            c.iss = iss.into();
            c.sub = sub.into();
            let v = FakeVerifier(c);
            let ctx = AssertionContext {
                verifier: &v,
                rules: &r,
                now,
            };
            let e = authenticate_client(&store, &creds(&id, "good"), &ctx)
                .await
                .unwrap_err();
            assert_eq!(e.to_oauth().code, crate::ErrorCode::InvalidClient);
        }
        let v = FakeVerifier(claims(&id, now));
        let ctx = AssertionContext {
            verifier: &v,
            rules: &r,
            now,
        };
        let e = authenticate_client(&store, &creds(&id, "bad"), &ctx)
            .await
            .unwrap_err();
        assert_eq!(e.to_oauth().code, crate::ErrorCode::InvalidClient);
        // A secret-based client cannot switch to an assertion, and a client_secret_jwt client
        // is never verified with public keys (the fake store only has a jwks_uri).
        for method in ["client_secret_basic", "client_secret_jwt"] {
            let (store, id) = setup(method);
            let v = FakeVerifier(claims(&id, now));
            let ctx = AssertionContext {
                verifier: &v,
                rules: &r,
                now,
            };
            let e = authenticate_client(&store, &creds(&id, "good"), &ctx)
                .await
                .unwrap_err();
            assert_eq!(
                e.to_oauth().code,
                crate::ErrorCode::InvalidClient,
                "{method}"
            );
        }
    }

    #[test]
    fn parse_requires_the_jwt_bearer_assertion_type_and_one_method() {
        let p = |pairs: &[(&str, &str)]| {
            Params::new(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
            .unwrap()
        };
        let e = ClientCredentials::parse(
            None,
            &p(&[
                ("client_assertion_type", "urn:other"),
                ("client_assertion", "x.y.z"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::InvalidClient);
        let e = ClientCredentials::parse(None, &p(&[("client_assertion", "x.y.z")])).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::InvalidClient);
        let e = ClientCredentials::parse(
            Some(("a".into(), "b".into())),
            &p(&[
                ("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT),
                ("client_assertion", "x.y.z"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::InvalidRequest);
        // Without client_id the (unverified) sub names the client.
        let c = ClientCredentials::parse(
            None,
            &p(&[
                ("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT),
                ("client_assertion", "e30.eyJzdWIiOiJjMSJ9.c2ln"),
            ]),
        )
        .unwrap();
        assert!(
            matches!(c, ClientCredentials::Assertion { ref client_id, .. } if client_id == "c1")
        );
    }
}

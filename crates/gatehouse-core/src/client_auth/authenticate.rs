//! The authentication decision (RFC 6749 §2.3, §3.2.1; OIDC Core §9): whether a request must
//! authenticate its client, and whether what it presented is valid.

// As in `ports`: used only by our own generic code on actix workers, which need no `Send`.
#![allow(async_fn_in_trait)]

use chrono::{DateTime, Utc};

use crate::client::{AuthMethod, Client};
use crate::client_auth::assertion::{
    AssertionRules, AssertionVerifier, ClientKeyStore, ReplayStore, authenticate_assertion,
};
use crate::client_auth::credentials::ClientCredentials;
use crate::error::{Error, OAuthError};
use crate::ports::ClientStore;
use crate::tenant::{TenantStore, tenant_enabled};
use crate::values::ClientId;

/// What authentication reads on every request: clients, their tenants and their registered
/// keys. Read-only, so a cache may serve it.
pub trait ClientDirectory: ClientStore + TenantStore + ClientKeyStore {}
impl<T: ClientStore + TenantStore + ClientKeyStore> ClientDirectory for T {}

/// Whether a request must authenticate its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Every grant but one (RFC 6749 §3.2.1: confidential clients must authenticate, public
    /// ones identify themselves), revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1).
    Required,
    /// The RFC 8693 exchange of an API key: the key is the credential (§2.1 leaves client
    /// authentication to the server). Credentials that are presented must still be valid.
    Optional,
}

/// The ports and facts client authentication needs.
pub struct ClientAuthContext<'a, C, R, V> {
    /// Clients, tenants and key sources (read on every request).
    pub clients: &'a C,
    /// The store: single use of assertion `jti`s (a write), and whatever else the endpoint
    /// that authenticates reads.
    pub store: &'a R,
    /// Verifies `private_key_jwt` / `client_secret_jwt` assertions.
    pub verifier: &'a V,
    /// `aud`, lifetime and skew of assertions (RFC 7523 §3).
    pub rules: &'a AssertionRules,
    /// The injected clock's reading for this request.
    pub now: DateTime<Utc>,
}

/// Authenticates the client of a request, or accepts an anonymous one where `need` allows.
///
/// Presented credentials must be valid whatever `need` says: a request cannot fall back to
/// "no client" by sending a wrong secret. The method used must be the one registered; a secret
/// must match its stored SHA-256 (constant time); an assertion must verify with the client's
/// keys and be used once. A client of a disabled tenant cannot authenticate (checked after its
/// credentials, so the answer is the same `invalid_client` as for a wrong secret).
pub async fn authenticate<C, R, V>(
    ctx: &ClientAuthContext<'_, C, R, V>,
    presented: Option<&ClientCredentials>,
    need: ClientAuth,
) -> Result<Option<Client>, Error>
where
    C: ClientDirectory,
    R: ReplayStore,
    V: AssertionVerifier,
{
    let Some(creds) = presented else {
        return match need {
            ClientAuth::Optional => Ok(None),
            ClientAuth::Required => {
                Err(OAuthError::invalid_client("client authentication is required").into())
            }
        };
    };
    let client = verify(ctx, creds).await?;
    if !tenant_enabled(ctx.clients, &client.tenant_id).await? {
        return Err(failed());
    }
    Ok(Some(client))
}

/// [`authenticate`] where a client is required (token grants, revocation, introspection).
pub async fn authenticate_required<C, R, V>(
    ctx: &ClientAuthContext<'_, C, R, V>,
    presented: Option<&ClientCredentials>,
) -> Result<Client, Error>
where
    C: ClientDirectory,
    R: ReplayStore,
    V: AssertionVerifier,
{
    authenticate(ctx, presented, ClientAuth::Required)
        .await?
        .ok_or_else(failed)
}

/// One answer for every failure, so a caller cannot tell an unknown client from a wrong secret.
fn failed() -> Error {
    Error::OAuth(OAuthError::invalid_client("client authentication failed"))
}

async fn verify<C, R, V>(
    ctx: &ClientAuthContext<'_, C, R, V>,
    creds: &ClientCredentials,
) -> Result<Client, Error>
where
    C: ClientDirectory,
    R: ReplayStore,
    V: AssertionVerifier,
{
    let id = ClientId::parse(creds.client_id()).map_err(|_| failed())?;
    let client = ctx.clients.find_client(&id).await?.ok_or_else(failed)?;
    if let ClientCredentials::Assertion { assertion, .. } = creds {
        let (keys, replay) = (ctx.clients, ctx.store);
        authenticate_assertion(
            keys,
            replay,
            ctx.verifier,
            ctx.rules,
            ctx.now,
            &client,
            assertion,
        )
        .await?;
        return Ok(client);
    }
    let ok = match (creds, client.auth_method, &client.secret_hash) {
        (ClientCredentials::Basic { secret, .. }, AuthMethod::ClientSecretBasic, Some(h))
        | (ClientCredentials::Post { secret, .. }, AuthMethod::ClientSecretPost, Some(h)) => {
            h.verify(secret)
        }
        (ClientCredentials::None { .. }, AuthMethod::None, _) => true,
        _ => false,
    };
    if ok { Ok(client) } else { Err(failed()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::client_auth::assertion::{
        AssertionRejected, CLIENT_ASSERTION_TYPE_JWT, KeySource, VerifiedAssertion,
    };
    use crate::fakes::{self, FakeStore};
    use crate::params::Params;
    use crate::secret::Secret;

    /// A verifier that trusts a fixed set of claims for the assertion "good".
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

    fn rules() -> AssertionRules {
        AssertionRules {
            audiences: vec!["https://as.example".into()],
            max_lifetime: 300,
            skew: 60,
        }
    }

    /// A store with one client registered for `method` (and a `jwks_uri` as its keys).
    fn setup(method: AuthMethod) -> (FakeStore, Client, Secret) {
        let store = FakeStore::default();
        let mut c = fakes::client("svc");
        let secret = Secret::generate();
        c.auth_method = method;
        c.secret_hash = Some(secret.hash());
        store.add_client(c.clone());
        store.set_key_source(&c.id, KeySource::Uri("https://c.example/jwks".into()));
        (store, c, secret)
    }

    fn assertion(id: &str, a: &str) -> ClientCredentials {
        let p = Params::new(vec![
            ("client_id".into(), id.into()),
            (
                "client_assertion_type".into(),
                CLIENT_ASSERTION_TYPE_JWT.into(),
            ),
            ("client_assertion".into(), a.into()),
        ])
        .unwrap();
        ClientCredentials::parse(None, &p).unwrap().unwrap()
    }

    fn claims(id: &str, now: DateTime<Utc>) -> VerifiedAssertion {
        VerifiedAssertion {
            iss: id.into(),
            sub: id.into(),
            jti: "jti-1".into(),
            exp: now + chrono::Duration::seconds(60),
        }
    }

    async fn run(
        store: &FakeStore,
        v: &FakeVerifier,
        creds: Option<&ClientCredentials>,
        need: ClientAuth,
        now: DateTime<Utc>,
    ) -> Result<Option<Client>, Error> {
        let r = rules();
        let ctx = ClientAuthContext {
            clients: store,
            store,
            verifier: v,
            rules: &r,
            now,
        };
        authenticate(&ctx, creds, need).await
    }

    fn code(r: Result<Option<Client>, Error>) -> ErrorCode {
        r.map(|_| ()).unwrap_err().to_oauth().code
    }

    #[tokio::test]
    async fn a_verified_assertion_authenticates_once_and_its_replay_is_refused_rfc7523_3() {
        let (store, c, _) = setup(AuthMethod::PrivateKeyJwt);
        let now = Utc::now();
        let v = FakeVerifier(claims(c.id.as_str(), now));
        let creds = assertion(c.id.as_str(), "good");
        let got = run(&store, &v, Some(&creds), ClientAuth::Required, now).await;
        assert_eq!(got.unwrap().unwrap().id, c.id);
        let again = run(&store, &v, Some(&creds), ClientAuth::Required, now).await;
        assert_eq!(code(again), ErrorCode::InvalidClient);
        // After the assertion (and the skew) expired, the record no longer counts.
        let later = now + chrono::Duration::seconds(200);
        assert!(
            run(&store, &v, Some(&creds), ClientAuth::Required, later)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn assertion_iss_and_sub_must_be_the_client_and_the_method_registered_oidc_9() {
        let (store, c, _) = setup(AuthMethod::PrivateKeyJwt);
        let id = c.id.as_str();
        let now = Utc::now();
        for (iss, sub) in [("other", id), (id, "other")] {
            let mut claims = claims(id, now);
            (claims.iss, claims.sub) = (iss.into(), sub.into());
            let got = run(
                &store,
                &FakeVerifier(claims),
                Some(&assertion(id, "good")),
                ClientAuth::Required,
                now,
            )
            .await;
            assert_eq!(code(got), ErrorCode::InvalidClient);
        }
        let v = FakeVerifier(claims(id, now));
        let bad = run(
            &store,
            &v,
            Some(&assertion(id, "bad")),
            ClientAuth::Required,
            now,
        )
        .await;
        assert_eq!(code(bad), ErrorCode::InvalidClient);
        // A secret-based client cannot switch to an assertion, and a client_secret_jwt client
        // is never verified with public keys (the fake store only has a jwks_uri).
        for method in [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretJwt] {
            let (store, c, _) = setup(method);
            let v = FakeVerifier(claims(c.id.as_str(), now));
            let creds = assertion(c.id.as_str(), "good");
            let got = run(&store, &v, Some(&creds), ClientAuth::Required, now).await;
            assert_eq!(code(got), ErrorCode::InvalidClient, "{method:?}");
        }
    }

    #[tokio::test]
    async fn secrets_must_match_with_the_registered_method_rfc6749_2_3_1() {
        let (store, c, secret) = setup(AuthMethod::ClientSecretBasic);
        let now = Utc::now();
        let v = FakeVerifier(claims("x", now));
        let id = c.id.to_string();
        let basic = |s: &str| ClientCredentials::Basic {
            client_id: id.clone(),
            secret: Secret::from_presented(s),
        };
        let ok = run(
            &store,
            &v,
            Some(&basic(secret.expose())),
            ClientAuth::Required,
            now,
        )
        .await;
        assert!(ok.unwrap().is_some());
        let wrong = run(&store, &v, Some(&basic("nope")), ClientAuth::Required, now).await;
        assert_eq!(code(wrong), ErrorCode::InvalidClient);
        // The right secret by the wrong method, or no secret at all: refused.
        let post = ClientCredentials::Post {
            client_id: id.clone(),
            secret: Secret::from_presented(secret.expose()),
        };
        let got = run(&store, &v, Some(&post), ClientAuth::Required, now).await;
        assert_eq!(code(got), ErrorCode::InvalidClient);
        let public = ClientCredentials::None { client_id: id };
        let got = run(&store, &v, Some(&public), ClientAuth::Required, now).await;
        assert_eq!(code(got), ErrorCode::InvalidClient);
    }

    #[tokio::test]
    async fn optional_authentication_still_refuses_bad_credentials_rfc8693_2_1() {
        let (store, c, secret) = setup(AuthMethod::ClientSecretBasic);
        let now = Utc::now();
        let v = FakeVerifier(claims("x", now));
        assert!(
            run(&store, &v, None, ClientAuth::Optional, now)
                .await
                .unwrap()
                .is_none()
        );
        let none = run(&store, &v, None, ClientAuth::Required, now).await;
        assert_eq!(code(none), ErrorCode::InvalidClient);
        let wrong = ClientCredentials::Basic {
            client_id: c.id.to_string(),
            secret: Secret::from_presented("nope"),
        };
        let got = run(&store, &v, Some(&wrong), ClientAuth::Optional, now).await;
        assert_eq!(code(got), ErrorCode::InvalidClient);
        let right = ClientCredentials::Basic {
            client_id: c.id.to_string(),
            secret,
        };
        let got = run(&store, &v, Some(&right), ClientAuth::Optional, now).await;
        assert_eq!(got.unwrap().unwrap().id, c.id);
    }

    #[tokio::test]
    async fn clients_of_a_disabled_tenant_do_not_authenticate() {
        let (store, c, secret) = setup(AuthMethod::ClientSecretBasic);
        store.disable_tenant("default");
        let now = Utc::now();
        let creds = ClientCredentials::Basic {
            client_id: c.id.to_string(),
            secret,
        };
        let got = run(
            &store,
            &FakeVerifier(claims("x", now)),
            Some(&creds),
            ClientAuth::Required,
            now,
        )
        .await;
        assert_eq!(code(got), ErrorCode::InvalidClient);
    }
}

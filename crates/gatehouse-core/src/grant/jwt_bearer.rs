//! The JWT bearer grant for service accounts (RFC 7523 §2.1, §3, §3.1).
//!
//! An operator registers a [`Trust`]: an external issuer, one subject, its public keys and the
//! scopes it may obtain. An authenticated client presents an assertion signed by that issuer
//! (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=...`) and receives an
//! access token whose `sub` is the trust's subject and whose `client_id` is the client. No
//! refresh token is issued: the service signs a new assertion instead.
//!
//! Client authentication is required for this grant (RFC 7523 §3.1 leaves it optional): an
//! assertion alone would be a bearer credential anyone who intercepts it could redeem within
//! its lifetime, and requiring a client lets the operator decide which clients may use it.

// As in `ports`: used only by our own generic code on actix workers, which need no `Send`.
#![allow(async_fn_in_trait)]

use chrono::{DateTime, Utc};

use crate::client::Client;
pub use crate::client::GRANT_TYPE_JWT_BEARER;
use crate::client_auth::{
    AssertionRules, AssertionVerifier, JtiUse, KeySource, ReplayStore, VerifiedAssertion,
    peek_claim, replay_issuer,
};
use crate::error::{Error, OAuthError, StoreError};
use crate::grant::client_credentials::USER_SCOPES;
use crate::grant::mint::{AccessTokenSubject, Issued, Minter, TokenResponse, new_jti};
use crate::params::Params;
use crate::ports::TokenSigner;
use crate::values::{ScopeSet, TenantId};

/// A registered trust: assertions by `issuer` about `subject`, verified with `jwks`.
#[derive(Debug, Clone)]
pub struct Trust {
    pub id: String,
    pub tenant_id: TenantId,
    pub issuer: String,
    pub subject: String,
    /// The public keys (a JWKS) that sign the issuer's assertions.
    pub jwks: serde_json::Value,
    /// The most an access token from this trust may carry.
    pub scopes: ScopeSet,
    pub created_at: DateTime<Utc>,
}

/// Registered trusts.
pub trait TrustStore {
    async fn find_trust(&self, issuer: &str, subject: &str) -> Result<Option<Trust>, StoreError>;
}

/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523 §2.1). The assertion is
/// a bearer credential: no `Debug` with content.
pub struct JwtBearerRequest {
    assertion: String,
    scope: Option<ScopeSet>,
}

impl std::fmt::Debug for JwtBearerRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtBearerRequest")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl JwtBearerRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            assertion: p.require("assertion")?.to_owned(),
            scope: p.scope()?,
        })
    }
}

/// Runs the grant for an authenticated client (RFC 7523 §3.1: a bad assertion is
/// `invalid_grant`).
pub async fn issue<S, V, K>(
    store: &S,
    verifier: &V,
    mint: &Minter<'_, K>,
    rules: &AssertionRules,
    client: &Client,
    req: JwtBearerRequest,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Error>
where
    S: TrustStore + ReplayStore,
    V: AssertionVerifier,
    K: TokenSigner,
{
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "this client may not use the JWT bearer grant",
        )
        .into());
    }
    let (trust, claims) = verify(store, verifier, rules, client, &req.assertion, now).await?;
    let scope = scope(&trust, client, req.scope)?;
    // Single use, recorded only now that the assertion is known to be genuine (RFC 7523 §3
    // item 7), so nobody without the issuer's key can burn its `jti`s.
    let expires = claims.exp + chrono::Duration::seconds(rules.skew);
    let issuer = replay_issuer("trust", &trust.issuer);
    if store.use_jti(&issuer, &claims.jti, expires, now).await? == JtiUse::Replayed {
        return Err(OAuthError::invalid_grant("the assertion has already been used").into());
    }
    // A client-only token: the client's tenant (the trust is of the same tenant).
    let subject = AccessTokenSubject {
        sub: &trust.subject,
        tenant: &client.tenant_id,
        scope: &scope,
        auth_time: None,
        grant_id: None,
        resource: None,
        act: None,
    };
    let jti = new_jti();
    let access_token = mint.access_token(client, &subject, &jti, now)?;
    let issued = Issued {
        grant_type: GRANT_TYPE_JWT_BEARER,
        client_id: client.id.to_string(),
        jti,
        sub: trust.subject.clone(),
        tenant: client.tenant_id.to_string(),
        grant_id: None,
    };
    let ttl = mint.access_ttl(client);
    Ok(TokenResponse::bearer(access_token, ttl, &scope, issued))
}

/// The trust of `client`'s tenant that signed `assertion`, and the verified claims. The
/// unverified `iss`/`sub` only choose the keys; everything is checked after verification.
async fn verify<S: TrustStore, V: AssertionVerifier>(
    store: &S,
    verifier: &V,
    rules: &AssertionRules,
    client: &Client,
    assertion: &str,
    now: DateTime<Utc>,
) -> Result<(Trust, VerifiedAssertion), Error> {
    let unknown =
        || OAuthError::invalid_grant("no trust is registered for this issuer and subject");
    let iss = peek_claim(assertion, "iss").ok_or_else(unknown)?;
    let sub = peek_claim(assertion, "sub").ok_or_else(unknown)?;
    let trust = store.find_trust(&iss, &sub).await?.ok_or_else(unknown)?;
    if trust.tenant_id != client.tenant_id {
        return Err(unknown().into());
    }
    let keys = KeySource::Jwks(trust.jwks.clone());
    let claims = verifier
        .verify(&keys, assertion, rules, now)
        .await
        .map_err(|e| OAuthError::invalid_grant(e.0))?;
    if claims.iss != trust.issuer || claims.sub != trust.subject {
        return Err(unknown().into());
    }
    Ok((trust, claims))
}

/// The scope of the token: what both the trust and the client are allowed, without the OIDC
/// scopes (there is no user); a request beyond that is `invalid_scope`.
fn scope(trust: &Trust, client: &Client, requested: Option<ScopeSet>) -> Result<ScopeSet, Error> {
    let outside = trust.scopes.difference(&client.allowed_scopes);
    let mut drop: Vec<&str> = outside.iter().map(String::as_str).collect();
    drop.extend(USER_SCOPES);
    let allowed = trust.scopes.without(&drop);
    match requested {
        Some(s) if !s.is_subset(&allowed) => {
            let extra = s.difference(&allowed).join(" ");
            Err(OAuthError::invalid_scope(format!("scope not allowed here: {extra}")).into())
        }
        Some(s) => Ok(s),
        None => Ok(allowed),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::ErrorCode;
    use crate::client::GrantType;
    use crate::fakes::{self, Registered, TokenHarness, answer, assertion, claims_of};

    fn trust() -> Trust {
        Trust {
            id: "t1".into(),
            tenant_id: TenantId::parse("default").unwrap(),
            issuer: "https://ci.example".into(),
            subject: "bot".into(),
            jwks: serde_json::json!({"keys": []}),
            scopes: ScopeSet::parse("openid api:read api:write").unwrap(),
            created_at: Utc::now(),
        }
    }

    fn client(
        h: &TokenHarness,
        id: &str,
        grant: GrantType,
        scope: &str,
        tenant: &str,
    ) -> Registered {
        let mut c = fakes::client(id);
        c.grant_types = vec![grant];
        c.allowed_scopes = ScopeSet::parse(scope).unwrap();
        c.tenant_id = TenantId::parse(tenant).unwrap();
        h.register(c)
    }

    fn setup() -> TokenHarness {
        let h = TokenHarness::default();
        h.store.add_trust(trust());
        h
    }

    async fn run(
        h: &TokenHarness,
        c: &Registered,
        a: &str,
        scope: Option<&str>,
    ) -> Result<serde_json::Value, ErrorCode> {
        let mut form = vec![("grant_type", GRANT_TYPE_JWT_BEARER), ("assertion", a)];
        form.extend(scope.map(|s| ("scope", s)));
        answer(&h.token(c.creds(), &form, Utc::now()).await)
    }

    #[tokio::test]
    async fn tokens_carry_the_subject_and_the_scopes_trust_and_client_allow_rfc7523_2_1() {
        let h = setup();
        let c = client(
            &h,
            "svc",
            GrantType::JwtBearer,
            "openid api:read other",
            "default",
        );
        let a = assertion("https://ci.example", "bot", "1");
        let form = [
            ("grant_type", GRANT_TYPE_JWT_BEARER),
            ("assertion", a.as_str()),
        ];
        let out = h.token(c.creds(), &form, Utc::now()).await;
        let body = answer(&out).unwrap();
        assert_eq!(body["scope"], "api:read");
        assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
        let at = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(
            (at["sub"].as_str(), at["client_id"].as_str()),
            (Some("bot"), Some("svc"))
        );
        assert_eq!(out.events[0].details["grant_type"], GRANT_TYPE_JWT_BEARER);
        assert_eq!(out.events[0].details["sub"], "bot");
        let wider = run(
            &h,
            &c,
            &assertion("https://ci.example", "bot", "2"),
            Some("api:write"),
        )
        .await;
        assert_eq!(wider, Err(ErrorCode::InvalidScope));
    }

    #[tokio::test]
    async fn replays_strangers_and_other_tenants_are_invalid_grant_rfc7523_3() {
        let h = setup();
        let c = client(&h, "svc", GrantType::JwtBearer, "api:read", "default");
        let a = assertion("https://ci.example", "bot", "1");
        assert!(run(&h, &c, &a, None).await.is_ok());
        assert_eq!(run(&h, &c, &a, None).await, Err(ErrorCode::InvalidGrant));
        let stranger = assertion("https://ci.example", "someone", "2");
        assert_eq!(
            run(&h, &c, &stranger, None).await,
            Err(ErrorCode::InvalidGrant)
        );
        assert_eq!(
            run(&h, &c, "garbage", None).await,
            Err(ErrorCode::InvalidGrant)
        );
        let acme = client(&h, "acme-svc", GrantType::JwtBearer, "api:read", "acme");
        let a = assertion("https://ci.example", "bot", "3");
        assert_eq!(run(&h, &acme, &a, None).await, Err(ErrorCode::InvalidGrant));
    }

    #[tokio::test]
    async fn only_registered_confidential_clients_may_use_the_grant_rfc7523_3_1() {
        let h = setup();
        let cc = client(
            &h,
            "cc",
            GrantType::ClientCredentials,
            "api:read",
            "default",
        );
        let a = assertion("https://ci.example", "bot", "4");
        assert_eq!(
            run(&h, &cc, &a, None).await,
            Err(ErrorCode::UnauthorizedClient)
        );
        let mut public = fakes::client("spa");
        public.grant_types = vec![GrantType::JwtBearer];
        public.auth_method = crate::client::AuthMethod::None;
        let public = h.register(public);
        let a = assertion("https://ci.example", "bot", "5");
        assert_eq!(
            run(&h, &public, &a, None).await,
            Err(ErrorCode::UnauthorizedClient)
        );
        // Without client authentication the grant is refused (our policy, see the module docs).
        let form = [
            ("grant_type", GRANT_TYPE_JWT_BEARER),
            ("assertion", a.as_str()),
        ];
        let out = h.token(None, &form, Utc::now()).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidClient));
    }
}

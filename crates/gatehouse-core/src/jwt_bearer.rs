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

use crate::client::{Client, GrantType};
use crate::client_auth::{
    AssertionRules, AssertionVerifier, JtiUse, KeySource, ReplayStore, peek_claim, replay_issuer,
};
use crate::error::{Error, OAuthError, StoreError};
use crate::params::Params;
use crate::policy::Policy;
use crate::ports::TokenSigner;
use crate::token::{Issued, TokenResponse, access_ttl, mint_access_token};
use crate::values::{ScopeSet, TenantId};

/// `grant_type` of the JWT bearer grant (RFC 7523 §2.1).
pub const GRANT_TYPE_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

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

/// A JWT bearer token request.
pub struct JwtBearerRequest {
    assertion: String,
    scope: Option<ScopeSet>,
}

impl JwtBearerRequest {
    /// Whether the request's `grant_type` is this grant.
    pub fn matches(p: &Params) -> bool {
        p.get("grant_type") == Some(GRANT_TYPE_JWT_BEARER)
    }

    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            assertion: p.require("assertion")?.to_owned(),
            scope: p
                .get("scope")
                .map(ScopeSet::parse)
                .transpose()
                .map_err(OAuthError::invalid_scope)?,
        })
    }
}

/// Runs the grant for an authenticated client (RFC 7523 §3.1: a bad assertion is
/// `invalid_grant`).
#[allow(clippy::too_many_arguments)]
pub async fn exchange<S, V, K>(
    store: &S,
    verifier: &V,
    signer: &K,
    policy: &Policy,
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
    if !client.allows_grant(GrantType::JwtBearer) || client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "this client may not use the JWT bearer grant",
        )
        .into());
    }
    let invalid = |d: String| Error::OAuth(OAuthError::invalid_grant(d));
    let unknown = || invalid("no trust is registered for this issuer and subject".into());
    // The unverified iss/sub only choose the keys; everything is checked after verification.
    let iss = peek_claim(&req.assertion, "iss").ok_or_else(unknown)?;
    let sub = peek_claim(&req.assertion, "sub").ok_or_else(unknown)?;
    let trust = store.find_trust(&iss, &sub).await?.ok_or_else(unknown)?;
    if trust.tenant_id != client.tenant_id {
        return Err(unknown());
    }
    let claims = verifier
        .verify(
            &KeySource::Jwks(trust.jwks.clone()),
            &req.assertion,
            rules,
            now,
        )
        .await
        .map_err(|e| invalid(e.0))?;
    if claims.iss != trust.issuer || claims.sub != trust.subject {
        return Err(unknown());
    }
    // The token may carry what both the trust and the client are allowed (and no OIDC scopes:
    // there is no user).
    let outside = trust.scopes.difference(&client.allowed_scopes);
    let mut drop: Vec<&str> = outside.iter().map(String::as_str).collect();
    drop.extend(["openid", "offline_access", "profile", "email"]);
    let allowed = trust.scopes.without(&drop);
    let scope = match req.scope {
        Some(s) if !s.is_subset(&allowed) => {
            let extra = s.difference(&allowed).join(" ");
            return Err(
                OAuthError::invalid_scope(format!("scope not allowed here: {extra}")).into(),
            );
        }
        Some(s) => s,
        None => allowed,
    };
    let expires = claims.exp + chrono::Duration::seconds(rules.skew);
    match store
        .use_jti(
            &replay_issuer("trust", &trust.issuer),
            &claims.jti,
            expires,
            now,
        )
        .await?
    {
        JtiUse::Fresh => {}
        JtiUse::Replayed => return Err(invalid("the assertion has already been used".into())),
    }
    // A client-only token: the client's tenant (the trust is of the same tenant).
    let (access_token, jti) = mint_access_token(
        signer,
        policy,
        client,
        &trust.subject,
        &client.tenant_id,
        &scope,
        None,
        None,
        crate::token::new_jti(),
        now,
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: access_ttl(policy, client),
        scope: scope.to_string(),
        refresh_token: None,
        id_token: None,
        issued: Issued {
            grant_type: GRANT_TYPE_JWT_BEARER,
            client_id: client.id.to_string(),
            jti,
            sub: trust.subject.clone(),
            tenant: client.tenant_id.to_string(),
            grant_id: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::client::{ClientRegistration, NewClient};
    use crate::client_auth::{AssertionRejected, VerifiedAssertion};
    use base64::Engine;
    use std::cell::RefCell;
    use std::collections::HashSet;

    struct Fakes {
        trust: Trust,
        jtis: RefCell<HashSet<String>>,
    }

    impl TrustStore for Fakes {
        async fn find_trust(&self, iss: &str, sub: &str) -> Result<Option<Trust>, StoreError> {
            Ok((iss == self.trust.issuer && sub == self.trust.subject).then(|| self.trust.clone()))
        }
    }

    impl ReplayStore for Fakes {
        async fn use_jti(
            &self,
            issuer: &str,
            jti: &str,
            _exp: DateTime<Utc>,
            _now: DateTime<Utc>,
        ) -> Result<JtiUse, StoreError> {
            Ok(
                if self.jtis.borrow_mut().insert(format!("{issuer} {jti}")) {
                    JtiUse::Fresh
                } else {
                    JtiUse::Replayed
                },
            )
        }
    }

    /// Accepts any assertion and returns its (unverified) iss/sub/jti.
    struct Trusting;

    impl AssertionVerifier for Trusting {
        async fn verify(
            &self,
            _keys: &KeySource,
            a: &str,
            _rules: &AssertionRules,
            now: DateTime<Utc>,
        ) -> Result<VerifiedAssertion, AssertionRejected> {
            let get = |n| peek_claim(a, n).ok_or_else(|| AssertionRejected("bad".into()));
            Ok(VerifiedAssertion {
                iss: get("iss")?,
                sub: get("sub")?,
                jti: get("jti")?,
                exp: now + chrono::Duration::seconds(60),
            })
        }
    }

    struct Signer;

    impl TokenSigner for Signer {
        fn sign<C: serde::Serialize>(
            &self,
            _alg: crate::SigningAlg,
            _typ: &str,
            claims: &C,
        ) -> Result<String, String> {
            serde_json::to_string(claims).map_err(|e| e.to_string())
        }
    }

    fn jwt(iss: &str, sub: &str, jti: &str) -> String {
        let b = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.c2ln",
            b(serde_json::json!({"alg": "ES256"})),
            b(serde_json::json!({"iss": iss, "sub": sub, "jti": jti}))
        )
    }

    fn client(grants: &[&str], scope: &str, tenant: &str) -> Client {
        let mut c = NewClient::validate(
            ClientRegistration {
                name: "svc".into(),
                tenant_id: TenantId::parse("default").unwrap(),
                grant_types: grants.iter().map(|g| g.to_string()).collect(),
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
                scope: Some(scope.into()),
                auth_method: None,
                id_token_alg: None,
                access_token_ttl: None,
                pkce_optional: false,
                refresh_grace_seconds: None,
                refresh_idle_ttl: None,
                refresh_absolute_ttl: None,
            },
            Utc::now(),
        )
        .unwrap()
        .client;
        c.tenant_id = TenantId::parse(tenant).unwrap();
        c
    }

    async fn run(
        f: &Fakes,
        c: &Client,
        a: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, Error> {
        let p: Vec<(String, String)> = [("grant_type", GRANT_TYPE_JWT_BEARER), ("assertion", a)]
            .iter()
            .chain(scope.map(|s| ("scope", s)).iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let p = Params::new(p).unwrap();
        assert!(JwtBearerRequest::matches(&p));
        let rules = AssertionRules {
            audiences: vec![],
            max_lifetime: 300,
            skew: 60,
        };
        let policy = Policy::new("https://as.example");
        exchange(
            f,
            &Trusting,
            &Signer,
            &policy,
            &rules,
            c,
            JwtBearerRequest::parse(&p)?,
            Utc::now(),
        )
        .await
    }

    fn fakes() -> Fakes {
        Fakes {
            trust: Trust {
                id: "t1".into(),
                tenant_id: TenantId::parse("default").unwrap(),
                issuer: "https://ci.example".into(),
                subject: "bot".into(),
                jwks: serde_json::json!({"keys": []}),
                scopes: ScopeSet::parse("openid api:read api:write").unwrap(),
                created_at: Utc::now(),
            },
            jtis: RefCell::new(HashSet::new()),
        }
    }

    fn code(r: Result<TokenResponse, Error>) -> ErrorCode {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_oauth().code,
        }
    }

    #[tokio::test]
    async fn tokens_carry_the_subject_and_the_scopes_both_trust_and_client_allow() {
        let f = fakes();
        let c = client(&[GRANT_TYPE_JWT_BEARER], "openid api:read other", "default");
        let r = run(&f, &c, &jwt("https://ci.example", "bot", "1"), None)
            .await
            .unwrap();
        assert_eq!(r.scope, "api:read");
        assert!(r.refresh_token.is_none() && r.id_token.is_none());
        let claims: serde_json::Value = serde_json::from_str(&r.access_token).unwrap();
        assert_eq!(claims["sub"], "bot");
        assert_eq!(claims["client_id"], c.id.as_str());
        let e = run(
            &f,
            &c,
            &jwt("https://ci.example", "bot", "2"),
            Some("api:write"),
        )
        .await;
        assert_eq!(code(e), ErrorCode::InvalidScope);
    }

    #[tokio::test]
    async fn replays_strangers_other_tenants_and_unregistered_clients_are_refused() {
        let f = fakes();
        let c = client(&[GRANT_TYPE_JWT_BEARER], "api:read", "default");
        let a = jwt("https://ci.example", "bot", "1");
        assert!(run(&f, &c, &a, None).await.is_ok());
        assert_eq!(code(run(&f, &c, &a, None).await), ErrorCode::InvalidGrant);
        let a = jwt("https://ci.example", "someone", "2");
        assert_eq!(code(run(&f, &c, &a, None).await), ErrorCode::InvalidGrant);
        assert_eq!(
            code(run(&f, &c, "garbage", None).await),
            ErrorCode::InvalidGrant
        );
        let other_tenant = client(&[GRANT_TYPE_JWT_BEARER], "api:read", "acme");
        let a = jwt("https://ci.example", "bot", "3");
        assert_eq!(
            code(run(&f, &other_tenant, &a, None).await),
            ErrorCode::InvalidGrant
        );
        let cc = client(&["client_credentials"], "api:read", "default");
        let a = jwt("https://ci.example", "bot", "4");
        assert_eq!(
            code(run(&f, &cc, &a, None).await),
            ErrorCode::UnauthorizedClient
        );
    }
}

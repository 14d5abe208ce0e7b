//! Token introspection (RFC 7662).
//!
//! - §2.1: the caller is a protected resource or client that authenticates as at the token
//!   endpoint; only confidential clients may introspect (a public client's "authentication"
//!   proves nothing, and RFC 7662 §4 asks to keep the endpoint from becoming a token-scanning
//!   oracle). `token_type_hint` orders the lookups, as for revocation.
//! - Access tokens (our RFC 9068 JWTs) of any client are introspectable by any confidential
//!   client: that is what resource servers do. They are active when genuine, not expired by
//!   the injected clock, their `jti` is not revoked and their grant (`gid`) is not revoked.
//! - Refresh tokens are introspectable only by the client they were issued to; for any other
//!   client they are inactive. They are active when neither rotated nor revoked, not expired,
//!   and their grant is not revoked.
//! - §2.2: an inactive token is answered with `{"active": false}` and nothing else.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::claims::AccessTokenClaims;
use crate::client::Client;
use crate::error::{Error, OAuthError};
use crate::policy::Policy;
use crate::ports::GrantStore;
use crate::revocation::{AccessTokenVerifier, PresentedToken, RevokedTokenStore};
use crate::values::GrantId;

/// The introspection response (RFC 7662 §2.2). Holds no token value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Introspection {
    /// `{"active": false}`.
    pub fn inactive() -> Self {
        Self::default()
    }
}

/// Introspects a token for an authenticated client.
pub async fn introspect<S: GrantStore + RevokedTokenStore, V: AccessTokenVerifier>(
    store: &S,
    verifier: &V,
    policy: &Policy,
    client: &Client,
    req: &PresentedToken,
    now: DateTime<Utc>,
) -> Result<Introspection, Error> {
    if client.is_public() {
        return Err(OAuthError::invalid_client("public clients cannot introspect tokens").into());
    }
    let first = if req.refresh_first() {
        refresh(store, policy, client, req, now).await?
    } else {
        access(store, verifier, req, now).await?
    };
    if let Some(found) = first {
        return Ok(found);
    }
    let second = if req.refresh_first() {
        access(store, verifier, req, now).await?
    } else {
        refresh(store, policy, client, req, now).await?
    };
    Ok(second.unwrap_or_else(Introspection::inactive))
}

/// The claims of `token` if it is one of our access tokens and is active now: genuine, not
/// expired, its `jti` not revoked, its grant not revoked.
pub async fn active_access_token<S: GrantStore + RevokedTokenStore, V: AccessTokenVerifier>(
    store: &S,
    verifier: &V,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<AccessTokenClaims>, Error> {
    let Some(claims) = verifier.verify_access_token(token) else {
        return Ok(None);
    };
    if claims.exp <= now.timestamp() || is_revoked(store, &claims).await? {
        return Ok(None);
    }
    Ok(Some(claims))
}

/// Whether a verified access token was revoked, by its `jti` or with its grant.
pub async fn is_revoked<S: GrantStore + RevokedTokenStore>(
    store: &S,
    claims: &AccessTokenClaims,
) -> Result<bool, Error> {
    if store.is_access_token_revoked(&claims.jti).await? {
        return Ok(true);
    }
    match claims.gid.as_deref() {
        None => Ok(false),
        Some(g) => match GrantId::parse(g) {
            Ok(grant) => Ok(store.is_grant_revoked(&grant).await?),
            // We never sign a malformed grant id; refuse rather than guess.
            Err(_) => Ok(true),
        },
    }
}

/// `None` when the value is not one of our access tokens (so the other type is tried).
async fn access<S: GrantStore + RevokedTokenStore, V: AccessTokenVerifier>(
    store: &S,
    verifier: &V,
    req: &PresentedToken,
    now: DateTime<Utc>,
) -> Result<Option<Introspection>, Error> {
    let Some(claims) = verifier.verify_access_token(req.token.expose()) else {
        return Ok(None);
    };
    if claims.exp <= now.timestamp() || is_revoked(store, &claims).await? {
        return Ok(Some(Introspection::inactive()));
    }
    Ok(Some(Introspection {
        active: true,
        scope: Some(claims.scope),
        client_id: Some(claims.client_id),
        sub: Some(claims.sub),
        exp: Some(claims.exp),
        iat: Some(claims.iat),
        iss: Some(claims.iss),
        aud: Some(claims.aud),
        token_type: Some("Bearer"),
        jti: Some(claims.jti),
    }))
}

/// `None` when the value is not one of our refresh tokens.
async fn refresh<S: GrantStore>(
    store: &S,
    policy: &Policy,
    client: &Client,
    req: &PresentedToken,
    now: DateTime<Utc>,
) -> Result<Option<Introspection>, Error> {
    let Some(r) = store.find_refresh(&req.token.hash()).await? else {
        return Ok(None);
    };
    let active = r.client_id == client.id
        && !r.revoked
        && r.used_at.is_none()
        && r.expires_at > now
        && !store.is_grant_revoked(&r.grant_id).await?;
    if !active {
        return Ok(Some(Introspection::inactive()));
    }
    Ok(Some(Introspection {
        active: true,
        scope: Some(r.scope.to_string()),
        client_id: Some(r.client_id.to_string()),
        sub: Some(r.user_id.to_string()),
        exp: Some(r.expires_at.timestamp()),
        iat: Some(r.issued_at.timestamp()),
        iss: Some(policy.issuer.clone()),
        aud: None,
        token_type: Some("refresh_token"),
        jti: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{self, FakeStore, FakeVerifier};
    use crate::params::Params;
    use crate::revocation::{Revoked, revoke};

    fn presented(token: &str) -> PresentedToken {
        PresentedToken::parse(&Params::new(vec![("token".into(), token.into())]).unwrap()).unwrap()
    }

    fn policy() -> Policy {
        Policy::new("https://issuer.example")
    }

    #[tokio::test]
    async fn public_clients_may_not_introspect() {
        let mut c = fakes::client("c1");
        c.auth_method = crate::client::AuthMethod::None;
        let err = introspect(
            &FakeStore::default(),
            &FakeVerifier,
            &policy(),
            &c,
            &presented("x"),
            Utc::now(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.to_oauth().code, crate::ErrorCode::InvalidClient);
    }

    #[tokio::test]
    async fn access_tokens_of_any_client_are_described_until_revoked() {
        let now = Utc::now();
        let store = FakeStore::default();
        let at = fakes::access_token("c1", Some("g1"), now);
        let rs = fakes::client("resource-server");
        let i = introspect(&store, &FakeVerifier, &policy(), &rs, &presented(&at), now)
            .await
            .unwrap();
        assert!(i.active);
        assert_eq!(i.client_id.as_deref(), Some("c1"));
        assert_eq!(i.token_type, Some("Bearer"));
        assert!(i.jti.is_some());
        let owner = fakes::client("c1");
        let r = revoke(&store, &FakeVerifier, &owner, &presented(&at), now)
            .await
            .unwrap();
        assert_eq!(r, Revoked::AccessToken);
        let i = introspect(&store, &FakeVerifier, &policy(), &rs, &presented(&at), now)
            .await
            .unwrap();
        assert_eq!(i, Introspection::inactive());
    }

    #[tokio::test]
    async fn expired_and_grant_revoked_access_tokens_are_inactive() {
        let now = Utc::now();
        let store = FakeStore::default();
        let rs = fakes::client("rs");
        let old = fakes::access_token("c1", None, now - chrono::Duration::hours(2));
        let i = introspect(&store, &FakeVerifier, &policy(), &rs, &presented(&old), now)
            .await
            .unwrap();
        assert!(!i.active);
        let at = fakes::access_token("c1", Some("g9"), now);
        store
            .revoke_grant(&GrantId::parse("g9").unwrap(), now)
            .await
            .unwrap();
        let i = introspect(&store, &FakeVerifier, &policy(), &rs, &presented(&at), now)
            .await
            .unwrap();
        assert!(!i.active);
    }

    #[tokio::test]
    async fn refresh_tokens_are_described_to_their_own_client_only() {
        let now = Utc::now();
        let store = FakeStore::default();
        let rt = store.add_refresh("c1", "g1", now);
        let i = introspect(
            &store,
            &FakeVerifier,
            &policy(),
            &fakes::client("c1"),
            &presented(&rt),
            now,
        )
        .await
        .unwrap();
        assert!(i.active);
        assert_eq!(i.token_type, Some("refresh_token"));
        assert_eq!(i.iss.as_deref(), Some("https://issuer.example"));
        let i = introspect(
            &store,
            &FakeVerifier,
            &policy(),
            &fakes::client("c2"),
            &presented(&rt),
            now,
        )
        .await
        .unwrap();
        assert_eq!(i, Introspection::inactive());
    }

    #[test]
    fn inactive_serializes_to_active_false_only() {
        assert_eq!(
            serde_json::to_value(Introspection::inactive()).unwrap(),
            serde_json::json!({ "active": false })
        );
    }
}

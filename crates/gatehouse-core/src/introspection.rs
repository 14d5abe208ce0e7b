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
//! - Every answer names the token's `tenant` (§2.2 allows extra members). A token of a disabled
//!   tenant is inactive, and so is a token exchanged from an API key (RFC 8693, see
//!   [`crate::token_exchange`]) once the key is revoked or expired or its tenant's API access
//!   is off.
//! - API keys themselves are introspectable ([`introspect_api_key`]) by a confidential client
//!   of the key's tenant; for any other client they are inactive. The IP allowlist is checked
//!   against the Gatehouse extension parameter `client_ip` (the key holder's address as the
//!   resource server saw it) when given; without it the answer carries `allowed_ips` for the
//!   resource server to enforce.
//! - §2.2: an inactive token is answered with `{"active": false}` and nothing else.
//!
//! - DPoP (RFC 9449): a proof sent with the request is verified at the edge by
//!   [`crate::dpop::verify`] for this endpoint's URL, as at the token endpoint, and a client
//!   registered "DPoP required" must send one ([`crate::dpop::check_required`]): the rule is
//!   the same wherever a client authenticates to this server (§5), whether it is a client or
//!   a resource server. A proof does not change the answer (a bound token's `cnf` is shown to
//!   any confidential caller, §6.2).
//!
//! [`introspect_request`] is the endpoint's entry: client authentication (required, as at the
//! token endpoint), the DPoP requirement, then an API key ([`introspect_api_key`]) or a token
//! ([`introspect`]).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::apikey::parse_api_key;
use crate::apikey_auth::{
    ApiKeyAuthStore, ApiKeyDenied, ApiKeyLookup, IpCheck, KeyUse, authenticate_api_key_for,
    exchanged_key_live,
};
use crate::claims::AccessTokenClaims;
use crate::client::Client;
use crate::client_auth::{
    AssertionVerifier, ClientAuthContext, ClientCredentials, ClientDirectory, ReplayStore,
    authenticate_required,
};
use crate::dpop::{self, DpopClientStore, ProofKey};
use crate::error::{Error, OAuthError, StoreError};
use crate::params::Params;
use crate::policy::Policy;
use crate::ports::GrantStore;
use crate::revocation::{AccessTokenVerifier, PresentedToken, RevokedTokenStore};
use crate::tenant::TenantStore;
use crate::values::{GrantId, TenantId};

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
    /// `Bearer` (or `DPoP` when bound) for access tokens, `refresh_token` for refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The tenant the token belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// API keys: the key's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// API keys: `live` or `test`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<&'static str>,
    /// API keys with an IP allowlist: the allowed addresses and CIDR blocks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_ips: Option<Vec<String>>,
    /// API keys: the rate-limit class resource servers count the key in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_class: Option<String>,
    /// API keys: that class's limits per minute by request kind (`read`, `create`, `update`,
    /// `delete`; 0 = unlimited). Filled in by the server, which holds the configured classes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<std::collections::BTreeMap<String, u32>>,
    /// DPoP-bound access tokens: the key's thumbprint (RFC 9449 §6.2, `token_type` `DPoP`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<crate::claims::Confirmation>,
    /// Delegated access tokens: who acts for `sub` (RFC 8693 §4.1, which names introspection
    /// responses as a place for `act`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<crate::claims::Actor>,
}

impl Introspection {
    /// `{"active": false}`.
    pub fn inactive() -> Self {
        Self::default()
    }
}

/// What introspection and the token paths read from storage.
pub trait IntrospectionStore: GrantStore + RevokedTokenStore + TenantStore + ApiKeyLookup {}
impl<T: GrantStore + RevokedTokenStore + TenantStore + ApiKeyLookup> IntrospectionStore for T {}

/// An introspection request (RFC 7662 §2.1): the token, and the Gatehouse extension
/// `client_ip` (the address of an API key's holder as the resource server saw it).
#[derive(Debug)]
pub struct IntrospectionRequest {
    pub token: PresentedToken,
    pub client_ip: Option<IpAddr>,
}

impl IntrospectionRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            token: PresentedToken::parse(p)?,
            client_ip: p
                .get("client_ip")
                .map(|ip| ip.trim().parse::<IpAddr>())
                .transpose()
                .map_err(|_| OAuthError::invalid_request("client_ip: not an IP address"))?,
        })
    }
}

/// Answers an introspection request: authenticates the client, applies the DPoP requirement
/// to the request's verified proof (`proof`, if it had one), then describes the token (a token
/// in the API-key format is introspected as an API key).
pub async fn introspect_request<C, S, V, T>(
    auth: &ClientAuthContext<'_, C, S, V>,
    tokens: &T,
    policy: &Policy,
    presented: Option<&ClientCredentials>,
    req: &IntrospectionRequest,
    request_id: Option<&str>,
    proof: Option<&ProofKey>,
) -> Result<Introspection, Error>
where
    C: ClientDirectory,
    S: IntrospectionStore + ApiKeyAuthStore + ReplayStore + DpopClientStore,
    V: AssertionVerifier,
    T: AccessTokenVerifier,
{
    let client = authenticate_required(auth, presented).await?;
    dpop::check_required(auth.store, &client.id, proof).await?;
    let token = req.token.token.expose();
    if parse_api_key(token).is_ok() {
        let (ip, now) = (req.client_ip, auth.now);
        return introspect_api_key(auth.store, policy, &client, token, ip, request_id, now).await;
    }
    introspect(auth.store, tokens, policy, &client, &req.token, auth.now).await
}

/// Introspects a token for an authenticated client.
pub async fn introspect<S: IntrospectionStore, V: AccessTokenVerifier>(
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
    let found = if req.is_refresh_shaped() {
        refresh(store, policy, client, req, now).await?
    } else {
        access(store, verifier, req, now).await?
    };
    Ok(found.unwrap_or_else(Introspection::inactive))
}

/// The claims of `token` if it is one of our access tokens and is active now: genuine, not
/// expired, its `jti` not revoked, its grant not revoked, its tenant (and API key) live.
pub async fn active_access_token<S: IntrospectionStore, V: AccessTokenVerifier>(
    store: &S,
    verifier: &V,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<AccessTokenClaims>, Error> {
    let Some(claims) = verifier.verify_access_token(token) else {
        return Ok(None);
    };
    if claims.exp <= now.timestamp()
        || is_revoked(store, &claims).await?
        || !backing_live(store, &claims, now).await?
    {
        return Ok(None);
    }
    Ok(Some(claims))
}

/// Whether what a verified access token stands on is still there: its tenant exists and is
/// enabled, and for a token exchanged from an API key, the key is live. Tokens without a
/// `tenant` claim (issued before tenants were carried) are judged by revocation alone.
pub async fn backing_live<S: TenantStore + ApiKeyLookup>(
    store: &S,
    claims: &AccessTokenClaims,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(t) = claims.tenant.as_deref() else {
        return Ok(claims.api_key.is_none());
    };
    let Ok(id) = TenantId::parse(t) else {
        return Ok(false);
    };
    let Some(tenant) = store.find_tenant(&id).await? else {
        return Ok(false);
    };
    if tenant.disabled {
        return Ok(false);
    }
    match claims.api_key.as_deref() {
        None => Ok(true),
        Some(key) => exchanged_key_live(store, key, &tenant, now).await,
    }
}

/// Introspects an API key (`token=<key>`) for an authenticated confidential client. Active
/// only for a client of the key's tenant, and only when the key authenticates (not expired,
/// revoked, or of a disabled tenant or one without API access). `client_ip`, when given, is
/// the key holder's address and is checked against the allowlist; denials are audited.
pub async fn introspect_api_key<S: ApiKeyAuthStore>(
    store: &S,
    policy: &Policy,
    client: &Client,
    presented: &str,
    client_ip: Option<std::net::IpAddr>,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Introspection, Error> {
    if client.is_public() {
        return Err(OAuthError::invalid_client("public clients cannot introspect tokens").into());
    }
    let using = KeyUse {
        ip: match client_ip {
            Some(ip) => IpCheck::Address(Some(ip)),
            None => IpCheck::Deferred,
        },
        tenant: Some(&client.tenant_id),
        request_id,
        via: "introspection",
    };
    let (key, _) = match authenticate_api_key_for(store, presented, &using, now).await {
        Ok(found) => found,
        Err(ApiKeyDenied::Store) => {
            return Err(StoreError::backend("API key lookup failed").into());
        }
        Err(_) => return Ok(Introspection::inactive()),
    };
    Ok(Introspection {
        active: true,
        scope: Some(key.scopes.to_string()),
        client_id: None,
        sub: Some(key.id),
        exp: Some(key.expires_at.timestamp()),
        iat: Some(key.created_at.timestamp()),
        iss: Some(policy.issuer.clone()),
        aud: None,
        token_type: Some("api_key"),
        jti: None,
        tenant: Some(key.tenant_id.to_string()),
        name: Some(key.name),
        environment: Some(key.environment.as_str()),
        allowed_ips: if key.allowed_ips.is_empty() {
            None
        } else {
            Some(key.allowed_ips.iter().map(ToString::to_string).collect())
        },
        rate_limit_class: key.rate_limit_class,
        rate_limits: None,
        cnf: None,
        act: None,
    })
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
async fn access<S: IntrospectionStore, V: AccessTokenVerifier>(
    store: &S,
    verifier: &V,
    req: &PresentedToken,
    now: DateTime<Utc>,
) -> Result<Option<Introspection>, Error> {
    let Some(claims) = verifier.verify_access_token(req.token.expose()) else {
        return Ok(None);
    };
    if claims.exp <= now.timestamp()
        || is_revoked(store, &claims).await?
        || !backing_live(store, &claims, now).await?
    {
        return Ok(Some(Introspection::inactive()));
    }
    // Tokens exchanged from an API key also name the key.
    let name = claims.api_key_name.clone();
    Ok(Some(Introspection {
        active: true,
        scope: Some(claims.scope),
        client_id: Some(claims.client_id),
        sub: Some(claims.sub),
        exp: Some(claims.exp),
        iat: Some(claims.iat),
        iss: Some(claims.iss),
        aud: Some(claims.aud),
        token_type: Some(if claims.cnf.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }),
        jti: Some(claims.jti),
        tenant: claims.tenant,
        name,
        environment: None,
        allowed_ips: None,
        rate_limit_class: None,
        rate_limits: None,
        cnf: claims.cnf,
        act: claims.act,
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
        // Only the token's own client sees it, and a user signs in only at clients of their
        // own tenant: the client's tenant is the user's.
        tenant: Some(client.tenant_id.to_string()),
        name: None,
        environment: None,
        allowed_ips: None,
        rate_limit_class: None,
        rate_limits: None,
        cnf: None,
        act: None,
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
        let r = revoke(&store, &FakeVerifier, &owner, &presented(&at), None, now)
            .await
            .unwrap();
        assert!(matches!(r, Revoked::AccessToken(_)));
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

    fn hinted(token: &str, hint: &str) -> PresentedToken {
        let p = Params::new(vec![
            ("token".into(), token.into()),
            ("token_type_hint".into(), hint.into()),
        ]);
        PresentedToken::parse(&p.unwrap()).unwrap()
    }

    /// RFC 7009 §2.1 / RFC 7662 §2.1: a wrong hint never hides a token (the token's shape
    /// decides which lookup runs).
    #[tokio::test]
    async fn a_wrong_hint_still_finds_the_token_rfc7662_2_1() {
        let now = Utc::now();
        let store = FakeStore::default();
        let c1 = fakes::client("c1");
        let at = fakes::access_token("c1", Some("g1"), now);
        let rt = store.add_refresh("c1", "g1", now);
        for (token, hint, kind) in [
            (&at, "refresh_token", Some("Bearer")),
            (&rt, "access_token", Some("refresh_token")),
        ] {
            let i = introspect(
                &store,
                &FakeVerifier,
                &policy(),
                &c1,
                &hinted(token, hint),
                now,
            )
            .await
            .unwrap();
            assert!(i.active, "{hint}");
            assert_eq!(i.token_type, kind);
        }
        let r = revoke(
            &store,
            &FakeVerifier,
            &c1,
            &hinted(&at, "refresh_token"),
            None,
            now,
        )
        .await
        .unwrap();
        assert!(matches!(r, Revoked::AccessToken(_)));
        let r = revoke(
            &store,
            &FakeVerifier,
            &c1,
            &hinted(&rt, "access_token"),
            None,
            now,
        )
        .await
        .unwrap();
        assert!(matches!(r, Revoked::Grant(_)));
    }

    #[tokio::test]
    async fn tokens_name_their_tenant_and_die_with_it() {
        let now = Utc::now();
        let store = FakeStore::default();
        let rs = fakes::client("rs");
        let at = fakes::access_token("c1", None, now);
        let i = introspect(&store, &FakeVerifier, &policy(), &rs, &presented(&at), now)
            .await
            .unwrap();
        assert_eq!(i.tenant.as_deref(), Some("default"));
        store
            .disabled_tenants
            .lock()
            .unwrap()
            .insert("default".into());
        let i = introspect(&store, &FakeVerifier, &policy(), &rs, &presented(&at), now)
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

    #[tokio::test]
    async fn introspection_needs_an_authenticated_confidential_client_rfc7662_2_1() {
        let now = Utc::now();
        let h = fakes::TokenHarness::default();
        let rs = h.register(fakes::client("rs"));
        let mut spa = fakes::client("spa");
        spa.auth_method = crate::client::AuthMethod::None;
        let spa = h.register(spa);
        let auth = ClientAuthContext {
            clients: &h.store,
            store: &h.store,
            verifier: &fakes::TrustingVerifier,
            rules: &h.rules,
            now,
        };
        let at = fakes::access_token("c1", None, now);
        let req =
            IntrospectionRequest::parse(&Params::new(vec![("token".into(), at.clone())]).unwrap())
                .unwrap();
        let run = |creds: Option<crate::client_auth::ClientCredentials>| {
            let (auth, req) = (&auth, &req);
            async move {
                introspect_request(
                    auth,
                    &FakeVerifier,
                    &policy(),
                    creds.as_ref(),
                    req,
                    None,
                    None,
                )
                .await
            }
        };
        let e = run(None).await.unwrap_err();
        assert_eq!(e.to_oauth().code, crate::ErrorCode::InvalidClient);
        let e = run(spa.creds()).await.unwrap_err();
        assert_eq!(e.to_oauth().code, crate::ErrorCode::InvalidClient);
        let i = run(rs.creds()).await.unwrap();
        assert!(i.active);
        assert_eq!(i.client_id.as_deref(), Some("c1"));
    }

    #[tokio::test]
    async fn a_dpop_required_client_introspects_only_with_a_proof_rfc9449_5() {
        let now = Utc::now();
        let h = fakes::TokenHarness::default();
        let rs = h.register(fakes::client("rs"));
        h.store.dpop_required.lock().unwrap().insert("rs".into());
        let auth = ClientAuthContext {
            clients: &h.store,
            store: &h.store,
            verifier: &fakes::TrustingVerifier,
            rules: &h.rules,
            now,
        };
        let at = fakes::access_token("c1", None, now);
        let req =
            IntrospectionRequest::parse(&Params::new(vec![("token".into(), at)]).unwrap()).unwrap();
        let (creds, p) = (rs.creds(), policy());
        let run = |proof: Option<ProofKey>| {
            let (auth, req, creds, p) = (&auth, &req, creds.as_ref(), &p);
            async move {
                introspect_request(auth, &FakeVerifier, p, creds, req, None, proof.as_ref()).await
            }
        };
        let e = run(None).await.unwrap_err();
        assert_eq!(e.to_oauth().code, crate::ErrorCode::InvalidDpopProof);
        let i = run(Some(ProofKey { jkt: "k1".into() })).await.unwrap();
        assert!(i.active);
    }

    #[test]
    fn client_ip_must_be_an_address() {
        let p = |ip: &str| {
            Params::new(vec![
                ("token".into(), "t".into()),
                ("client_ip".into(), ip.into()),
            ])
            .unwrap()
        };
        let ok = IntrospectionRequest::parse(&p(" 192.0.2.1 ")).unwrap();
        assert_eq!(ok.client_ip, Some("192.0.2.1".parse().unwrap()));
        let e = IntrospectionRequest::parse(&p("office")).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::InvalidRequest);
    }
}

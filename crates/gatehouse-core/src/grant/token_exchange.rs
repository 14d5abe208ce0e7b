//! OAuth 2.0 Token Exchange (RFC 8693) of an API key for a short-lived JWT access token, so
//! resource servers that only verify JWTs against the JWKS can accept API-key callers too.
//!
//! - §2.1: `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, `subject_token` = the
//!   API key, `subject_token_type` = [`TOKEN_TYPE_API_KEY`] (a URI of our own, as §3 allows);
//!   `scope` optional and at most the key's scopes (else `invalid_scope`);
//!   `requested_token_type`, if sent, must be the access-token type. `actor_token` is refused
//!   with `invalid_request` (§2.2.2): an API key is exchanged for its own holder. Access and ID
//!   tokens as subjects are the delegation exchange ([`crate::grant::delegation`]).
//! - Client authentication is optional (§2.1 allows either): the API key is itself the
//!   credential. When a client does authenticate, it must be of the key's tenant; the token's
//!   `client_id` is then that client, else the key id.
//! - The key is authenticated as everywhere ([`crate::apikey_auth`]): expired, revoked or
//!   unknown keys, a disabled tenant or tenant API access, and an address outside the key's
//!   allowlist (the request's real source address) are all `invalid_grant`.
//! - §2.2.1: the answer has `access_token`, `issued_token_type` (access token), `token_type`
//!   `Bearer`, `expires_in`, `scope`; never a refresh token. The token is an RFC 9068 `at+jwt`
//!   with `sub` = the key id, `tenant`, `api_key` (the id), `api_key_name`, and `exp` = the
//!   earlier of now + the configured lifetime and the key's expiry. Introspection refuses it
//!   once the key is revoked or expired (`crate::introspection::backing_live`).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::apikey::ApiKey;
use crate::apikey_auth::{
    ApiKeyAuthStore, ApiKeyDenied, IpCheck, KeyUse, authenticate_api_key_for,
};
use crate::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims};
use crate::client::Client;
use crate::error::{Error, OAuthError, StoreError};
use crate::grant::mint::Minter;
use crate::grant::mint::new_jti;
use crate::params::Params;
use crate::ports::TokenSigner;
use crate::secret::Secret;
use crate::values::{ScopeSet, SigningAlg};

/// RFC 8693 §2.1 grant type.
pub use crate::client::GRANT_TYPE_TOKEN_EXCHANGE;
/// Our token type identifier for API keys (RFC 8693 §3 allows other URIs).
pub const TOKEN_TYPE_API_KEY: &str = "urn:gatehouse:params:oauth:token-type:api_key";
/// RFC 8693 §3: an OAuth 2.0 access token.
pub const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// The default lifetime of an exchanged token, in seconds.
pub const DEFAULT_EXCHANGE_TTL: i64 = 300;

/// A parsed token-exchange request. Holds the key: no `Debug` with content.
pub struct TokenExchangeRequest {
    pub subject_token: Secret,
    pub scope: Option<ScopeSet>,
}

impl std::fmt::Debug for TokenExchangeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenExchangeRequest")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl TokenExchangeRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        let subject_token = p.require("subject_token")?;
        match p.require("subject_token_type")? {
            TOKEN_TYPE_API_KEY => {}
            _ => {
                return Err(OAuthError::invalid_request(format!(
                    "subject_token_type: only {TOKEN_TYPE_API_KEY} is supported"
                )));
            }
        }
        if p.get("actor_token").is_some() || p.get("actor_token_type").is_some() {
            return Err(OAuthError::invalid_request(
                "actor_token: delegation is not supported",
            ));
        }
        only_access_tokens_requested(p)?;
        Ok(Self {
            subject_token: Secret::from_presented(subject_token),
            scope: p.scope()?,
        })
    }
}

/// `requested_token_type` (§2.1), if sent, must be the access-token type: the only kind of
/// token either exchange issues.
pub(crate) fn only_access_tokens_requested(p: &Params) -> Result<(), OAuthError> {
    match p.get("requested_token_type") {
        Some(t) if t != TOKEN_TYPE_ACCESS_TOKEN => Err(OAuthError::invalid_request(format!(
            "requested_token_type: only {TOKEN_TYPE_ACCESS_TOKEN} can be issued"
        ))),
        _ => Ok(()),
    }
}

/// Server settings of the exchange.
#[derive(Debug, Clone, Copy)]
pub struct ExchangeRules {
    /// Lifetime of an exchanged token in seconds (`[api_keys] exchange_token_ttl`).
    pub ttl: i64,
    /// The signing algorithm when no client authenticated (else the client's).
    pub default_alg: SigningAlg,
}

/// The RFC 8693 §2.2.1 response, of an API-key exchange (`I` = [`Exchanged`]) or of a
/// delegation (`grant::delegation::DelegationResponse`). Holds a token: no `Debug`.
#[derive(Serialize)]
pub struct ExchangeResponse<I = Exchanged> {
    pub access_token: String,
    pub issued_token_type: &'static str,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// What was issued, for the audit trail (not sent).
    #[serde(skip)]
    pub issued: I,
}

/// The ids of an exchange, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Exchanged {
    pub jti: String,
    pub key_id: String,
    pub key_name: String,
    pub tenant: String,
    /// The client that authenticated, if any.
    pub client_id: Option<String>,
}

/// Who presented the key: the request's source address (after trusted proxies), checked
/// against the key's allowlist, and its id for the audit trail.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub ip: Option<IpAddr>,
    pub request_id: Option<&'a str>,
}

/// Exchanges the API key of `req` for an access token; `client` is the client that
/// authenticated, if any (then the key must be of its tenant).
pub async fn exchange_api_key<S: ApiKeyAuthStore, K: TokenSigner>(
    store: &S,
    mint: &Minter<'_, K>,
    rules: &ExchangeRules,
    client: Option<&Client>,
    req: TokenExchangeRequest,
    caller: Caller<'_>,
    now: DateTime<Utc>,
) -> Result<ExchangeResponse, Error> {
    let key = authenticate_key(store, client, &req.subject_token, caller, now).await?;
    let scope = match req.scope {
        Some(s) if !s.is_subset(&key.scopes) => {
            let extra = s.difference(&key.scopes).join(" ");
            return Err(OAuthError::invalid_scope(format!(
                "scope not granted to this API key: {extra}"
            ))
            .into());
        }
        Some(s) if !s.is_empty() => s,
        _ => key.scopes.clone(),
    };
    let exp = (now.timestamp() + rules.ttl).min(key.expires_at.timestamp());
    let jti = new_jti();
    let claims = AccessTokenClaims {
        iss: mint.policy.issuer.clone(),
        sub: key.id.clone(),
        aud: mint.policy.access_token_audience.clone(),
        client_id: client.map_or_else(|| key.id.clone(), |c| c.id.to_string()),
        scope: scope.to_string(),
        jti: jti.clone(),
        iat: now.timestamp(),
        exp,
        auth_time: None,
        gid: None,
        tenant: Some(key.tenant_id.to_string()),
        api_key: Some(key.id.clone()),
        api_key_name: Some(key.name.clone()),
        cnf: None,
        act: None,
        may_act: None,
    };
    let alg = client
        .and_then(|c| c.access_token_alg)
        .unwrap_or(rules.default_alg);
    let access_token = mint
        .signer
        .sign(alg, ACCESS_TOKEN_TYP, &claims)
        .map_err(Error::Signing)?;
    Ok(ExchangeResponse {
        access_token,
        issued_token_type: TOKEN_TYPE_ACCESS_TOKEN,
        token_type: "Bearer",
        expires_in: exp - now.timestamp(),
        scope: scope.to_string(),
        issued: Exchanged {
            jti,
            key_id: key.id,
            key_name: key.name,
            tenant: key.tenant_id.to_string(),
            client_id: client.map(|c| c.id.to_string()),
        },
    })
}

/// The key presented as `subject_token`, authenticated as everywhere
/// ([`crate::apikey_auth`]); a key of another tenant than `client`'s is unknown.
async fn authenticate_key<S: ApiKeyAuthStore>(
    store: &S,
    client: Option<&Client>,
    presented: &Secret,
    caller: Caller<'_>,
    now: DateTime<Utc>,
) -> Result<ApiKey, Error> {
    let using = KeyUse {
        ip: IpCheck::Address(caller.ip),
        tenant: client.map(|c| &c.tenant_id),
        request_id: caller.request_id,
        via: "token_exchange",
    };
    match authenticate_api_key_for(store, presented.expose(), &using, now).await {
        Ok((key, _)) => Ok(key),
        Err(ApiKeyDenied::Store) => Err(StoreError::backend("API key lookup failed").into()),
        // One answer for every reason (the reason is in the audit trail).
        Err(_) => Err(OAuthError::invalid_grant(
            "the API key is invalid, expired or revoked, or not allowed from this address",
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::apikey::{ApiKeyPrefixes, ApiKeyRequest, NewApiKey};
    use crate::audit::{ActorKind, Outcome};
    use crate::client_auth::ClientCredentials;
    use crate::fakes::{self, TokenHarness, answer, claims_of};
    use crate::tenant::TenantRegistration;
    use crate::values::TenantId;

    fn params(v: &[(&str, &str)]) -> Params {
        Params::new(
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn only_api_key_subjects_and_access_token_results_are_accepted_rfc8693_2_1() {
        let ok = params(&[
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", "k"),
            ("subject_token_type", TOKEN_TYPE_API_KEY),
            ("scope", "a b"),
        ]);
        let r = TokenExchangeRequest::parse(&ok).unwrap();
        assert_eq!(r.scope.unwrap().to_string(), "a b");
        let jwt = params(&[
            ("subject_token", "k"),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
        ]);
        let e = TokenExchangeRequest::parse(&jwt).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::InvalidRequest);
        let actor = params(&[
            ("subject_token", "k"),
            ("subject_token_type", TOKEN_TYPE_API_KEY),
            ("actor_token", "x"),
        ]);
        assert!(TokenExchangeRequest::parse(&actor).is_err());
        let refresh = params(&[
            ("subject_token", "k"),
            ("subject_token_type", TOKEN_TYPE_API_KEY),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:refresh_token",
            ),
        ]);
        assert!(TokenExchangeRequest::parse(&refresh).is_err());
        let missing = params(&[("subject_token_type", TOKEN_TYPE_API_KEY)]);
        assert!(TokenExchangeRequest::parse(&missing).is_err());
    }

    /// A harness with an API key of tenant `default` (scopes `files:read files:write`).
    fn with_key() -> (TokenHarness, String, String) {
        let h = TokenHarness::default();
        let now = Utc::now();
        let mut tenant = TenantRegistration {
            name: "Default".into(),
            ..Default::default()
        }
        .validate(now)
        .unwrap();
        tenant.id = TenantId::parse("default").unwrap();
        let NewApiKey { key, secret } = ApiKeyRequest {
            name: "billing sync".into(),
            scope: Some("files:read files:write".into()),
            ..Default::default()
        }
        .validate(&tenant, 0, &ApiKeyPrefixes::default(), now)
        .unwrap();
        let id = key.id.clone();
        h.store.add_api_key(key, tenant);
        (h, secret.expose().to_owned(), id)
    }

    fn form<'a>(key: &'a str, scope: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
        let mut f = vec![
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", key),
            ("subject_token_type", TOKEN_TYPE_API_KEY),
        ];
        f.extend(scope.map(|s| ("scope", s)));
        f
    }

    #[tokio::test]
    async fn an_api_key_is_exchanged_without_a_client_and_audited_rfc8693_2_2_1() {
        let (h, key, id) = with_key();
        let out = h.token(None, &form(&key, None), Utc::now()).await;
        let body = answer(&out).unwrap();
        assert_eq!(body["issued_token_type"], TOKEN_TYPE_ACCESS_TOKEN);
        assert_eq!(
            (body["token_type"].as_str(), body["expires_in"].as_i64()),
            (Some("Bearer"), Some(300))
        );
        assert!(body.get("refresh_token").is_none());
        let at = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(
            (at["sub"].as_str(), at["client_id"].as_str()),
            (Some(id.as_str()), Some(id.as_str()))
        );
        assert_eq!(
            (at["api_key"].as_str(), at["tenant"].as_str()),
            (Some(id.as_str()), Some("default"))
        );
        assert_eq!(out.events.len(), 1);
        let e = &out.events[0];
        assert_eq!(
            (e.action.as_str(), e.outcome),
            ("token.exchange", Outcome::Success)
        );
        assert_eq!(
            (e.actor_kind, e.actor.as_deref()),
            (ActorKind::ApiKey, Some("billing sync"))
        );
        assert_eq!(e.target.as_deref(), Some(id.as_str()));
        assert_eq!(e.details["jti"], at["jti"]);
        assert_eq!(e.details["client_id"], serde_json::Value::Null);
        assert!(!serde_json::to_string(&out.events).unwrap().contains(&key));
    }

    #[tokio::test]
    async fn client_authentication_is_optional_but_must_be_valid_and_same_tenant_rfc8693_2_1() {
        let (h, key, _) = with_key();
        let now = Utc::now();
        let own = h.register(fakes::client("rs"));
        let out = h.token(own.creds(), &form(&key, None), now).await;
        let at = claims_of(answer(&out).unwrap()["access_token"].as_str().unwrap());
        assert_eq!(at["client_id"], "rs");
        assert_eq!(out.events[0].details["client_id"], "rs");
        // Presented but wrong: refused, not treated as absent.
        let wrong = ClientCredentials::Basic {
            client_id: own.id.clone(),
            secret: Secret::from_presented("not-the-secret"),
        };
        let out = h.token(Some(wrong), &form(&key, None), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidClient));
        let unknown = ClientCredentials::None {
            client_id: "nobody".into(),
        };
        let out = h.token(Some(unknown), &form(&key, None), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidClient));
        // A client of another tenant does not see the key.
        let mut acme = fakes::client("acme-rs");
        acme.tenant_id = TenantId::parse("acme").unwrap();
        let acme = h.register(acme);
        let out = h.token(acme.creds(), &form(&key, None), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
        assert!(out.events.is_empty());
    }

    #[tokio::test]
    async fn scopes_beyond_the_key_and_revoked_keys_are_refused_rfc8693_2_2_2() {
        let (h, key, id) = with_key();
        let now = Utc::now();
        let narrow = h.token(None, &form(&key, Some("files:read")), now).await;
        assert_eq!(answer(&narrow).unwrap()["scope"], "files:read");
        let wide = h
            .token(None, &form(&key, Some("files:read admin:all")), now)
            .await;
        assert_eq!(answer(&wide), Err(ErrorCode::InvalidScope));
        h.store.revoke_api_key(&id, now);
        let out = h.token(None, &form(&key, None), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
        // The denial is audited by API-key authentication, with the reason.
        let denied = h.store.api_key_audit.lock().unwrap();
        assert_eq!(denied.last().unwrap().details["reason"], "revoked");
    }
}

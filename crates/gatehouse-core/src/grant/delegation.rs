//! OAuth 2.0 Token Exchange (RFC 8693) for delegation: a client exchanges a user's access or
//! ID token, issued by this server, for an access token of its own that acts for the user —
//! a service calling another service on the user's behalf.
//!
//! - §2.1 request: `subject_token` with `subject_token_type` `…:access_token` (our RFC 9068
//!   JWTs) or `…:id_token`; optional `actor_token` + `actor_token_type` (both or neither);
//!   `requested_token_type` absent or `…:access_token`; `scope`; one target, named by
//!   `resource` (RFC 8707) or `audience` — both name a registered resource server, whose
//!   identifier becomes the token's `aud` (`invalid_target` otherwise, §2.2.2).
//! - Who may exchange (the policy, decided here and nowhere else): a confidential client
//!   registered for the token-exchange grant, of the subject's tenant, that is either the
//!   client the subject token was issued to, or the client the token's `may_act` names
//!   (§4.4; the token's client carries that name, `client create --may-act`). Anyone else gets
//!   `invalid_grant` — the same answer as for a forged, expired or revoked token, so the
//!   endpoint does not tell which tokens exist.
//! - The subject token must be live: genuine, not expired, not revoked (by `jti` or grant),
//!   its tenant enabled, its user still there; tokens exchanged from API keys are not
//!   exchanged again. DPoP-bound subject tokens are accepted: the binding protects their use at
//!   resource servers, and the exchange is authorised by the client's own authentication.
//! - An `actor_token` must be a live token issued to the requesting client; its `sub` is the
//!   actor. Without one the actor is the requesting client itself.
//! - §4.1 `act`: the issued token's `act` names the actor, with the subject token's own `act`
//!   nested inside (a chain is never dropped; at most [`MAX_CHAIN`] actors). A client exchanging
//!   its own token without an actor token (to change audience or scope) is no delegation: the
//!   token keeps the subject's `act`, if it had one, unchanged.
//! - Scope (§2.1, §5 "downscoping"): at most the subject token's scope (for an ID token: the
//!   client's scopes) and the requesting client's, never `offline_access`; limited to the
//!   target resource's scopes. Asking for more is `invalid_scope`.
//! - §2.2.1 response: `issued_token_type` access token, `token_type` `Bearer` (`DPoP` when a
//!   proof came with the request: the token is bound to the requester's key), no refresh token.
//!   The token's `sub`, `tenant`, `auth_time` and grant (`gid`) are the subject's — revoking
//!   the user's grant revokes the delegated tokens too — `client_id` is the requester's, and
//!   `exp` is never later than the subject token's.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims, Actor, ID_TOKEN_TYP};
use crate::client::Client;
use crate::error::{Error, OAuthError};
use crate::grant::mint::{AccessTokenSubject, Minter, live_user, new_jti};
use crate::grant::token_exchange::{TOKEN_TYPE_ACCESS_TOKEN, only_access_tokens_requested};
use crate::introspection::{IntrospectionStore, backing_live, is_revoked};
use crate::params::Params;
use crate::ports::{TokenSigner, UserStore};
use crate::resource::{self, ResourceStore, ResourceUri};
use crate::secret::Secret;
use crate::values::{GrantId, ScopeSet, TenantId, UserId};

/// RFC 8693 §3: an OIDC ID token.
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// The longest `act` chain an exchanged token may carry.
pub const MAX_CHAIN: usize = 5;

/// Verifies tokens this server issued, whatever their audience: the signature with one of its
/// keys, the JOSE `typ` and the issuer. Implemented over the key ring by the server.
pub trait IssuedTokenVerifier {
    /// The claims of a genuine token of this server with JOSE `typ` and `iss` = `issuer`, or
    /// `None`. Expiry is checked by the caller against the injected clock.
    fn verify_issued(&self, token: &str, typ: &str, issuer: &str) -> Option<serde_json::Value>;
}

/// The kinds of token a delegation starts from (RFC 8693 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    AccessToken,
    IdToken,
}

impl SubjectKind {
    fn parse(name: &str, value: &str) -> Result<Self, OAuthError> {
        match value {
            TOKEN_TYPE_ACCESS_TOKEN => Ok(Self::AccessToken),
            TOKEN_TYPE_ID_TOKEN => Ok(Self::IdToken),
            _ => Err(OAuthError::invalid_request(format!(
                "{name}: only {TOKEN_TYPE_ACCESS_TOKEN} and {TOKEN_TYPE_ID_TOKEN} are accepted"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => TOKEN_TYPE_ACCESS_TOKEN,
            Self::IdToken => TOKEN_TYPE_ID_TOKEN,
        }
    }
}

/// A presented token and its declared type. Holds a token: no `Debug` with content.
pub struct PresentedToken {
    pub token: Secret,
    pub kind: SubjectKind,
}

/// A delegation exchange request (RFC 8693 §2.1).
pub struct DelegationRequest {
    pub subject: PresentedToken,
    pub actor: Option<PresentedToken>,
    pub scope: Option<ScopeSet>,
    /// The target, from `resource` or `audience`.
    pub target: Option<ResourceUri>,
}

impl std::fmt::Debug for DelegationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegationRequest")
            .field("subject_kind", &self.subject.kind)
            .field("actor_kind", &self.actor.as_ref().map(|a| a.kind))
            .field("scope", &self.scope)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl DelegationRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        let subject = PresentedToken {
            token: Secret::from_presented(p.require("subject_token")?),
            kind: SubjectKind::parse("subject_token_type", p.require("subject_token_type")?)?,
        };
        let actor = match (p.get("actor_token"), p.get("actor_token_type")) {
            (None, None) => None,
            (Some(t), Some(kind)) => Some(PresentedToken {
                token: Secret::from_presented(t),
                kind: SubjectKind::parse("actor_token_type", kind)?,
            }),
            (Some(_), None) => {
                return Err(OAuthError::invalid_request(
                    "actor_token_type is required with actor_token",
                ));
            }
            (None, Some(_)) => {
                return Err(OAuthError::invalid_request(
                    "actor_token_type without actor_token",
                ));
            }
        };
        only_access_tokens_requested(p)?;
        let resource = resource::requested_one(p)?;
        let mut audiences = p.get_all("audience");
        let audience = audiences.next();
        if audiences.next().is_some() {
            return Err(OAuthError::invalid_target(
                "name one audience per token request",
            ));
        }
        let audience = audience
            .map(|a| {
                ResourceUri::parse(a).map_err(|_| {
                    OAuthError::invalid_target(
                        "audience must be the identifier of a registered resource",
                    )
                })
            })
            .transpose()?;
        let target = match (resource, audience) {
            (Some(r), Some(a)) if r != a => {
                return Err(OAuthError::invalid_target(
                    "resource and audience name different targets",
                ));
            }
            (r, a) => r.or(a),
        };
        Ok(Self {
            subject,
            actor,
            scope: p.scope()?,
            target,
        })
    }
}

/// What a verified subject or actor token says.
#[derive(Debug, Clone)]
struct Verified {
    sub: String,
    /// The client the token was issued to.
    client_id: String,
    tenant: TenantId,
    /// `None` for ID tokens (they carry no scope).
    scope: Option<ScopeSet>,
    grant_id: Option<GrantId>,
    auth_time: Option<i64>,
    exp: i64,
    act: Option<Actor>,
    may_act: Option<Actor>,
}

/// The claims of an ID token this exchange reads (OIDC Core §2).
#[derive(Deserialize)]
struct IdTokenSubject {
    sub: String,
    aud: String,
    exp: i64,
    #[serde(default)]
    auth_time: Option<i64>,
    #[serde(default)]
    may_act: Option<Actor>,
}

/// The RFC 8693 §2.2.1 response to a delegation. Holds a token: no `Debug`.
#[derive(Serialize)]
pub struct DelegationResponse {
    pub access_token: String,
    pub issued_token_type: &'static str,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// For the audit trail (not sent).
    #[serde(skip)]
    pub issued: Delegated,
}

/// The ids of a delegation, for the audit trail.
#[derive(Debug, Clone)]
pub struct Delegated {
    pub jti: String,
    /// The requesting client (the token's `client_id`).
    pub client_id: String,
    pub tenant: String,
    /// The subject (`sub`) the token acts for.
    pub sub: String,
    /// The client the subject token was issued to.
    pub subject_client_id: String,
    pub subject_token_type: &'static str,
    /// The issued token's `act`, if any.
    pub act: Option<Actor>,
    /// The issued token's `aud` when a resource was targeted.
    pub resource: Option<String>,
}

/// Exchanges `req.subject` for an access token of `client` acting for the subject's `sub`.
pub async fn delegate<S, K>(
    store: &S,
    mint: &Minter<'_, S, K>,
    client: &Client,
    req: DelegationRequest,
    now: DateTime<Utc>,
) -> Result<DelegationResponse, Error>
where
    S: IntrospectionStore + UserStore + ResourceStore,
    K: TokenSigner + IssuedTokenVerifier,
{
    if client.is_public() {
        return Err(
            OAuthError::unauthorized_client("public clients cannot exchange tokens").into(),
        );
    }
    let issuer = mint.policy.issuer.as_str();
    let subject = verify(store, mint.signer, issuer, &req.subject, now)
        .await?
        .filter(|s| s.tenant == client.tenant_id)
        .ok_or_else(|| {
            OAuthError::invalid_grant("subject_token is invalid, expired, revoked or not yours")
        })?;
    let own = subject.client_id == client.id.as_str();
    let named = subject
        .may_act
        .as_ref()
        .is_some_and(|m| m.sub == client.id.as_str());
    if !own && !named {
        return Err(OAuthError::invalid_grant(
            "subject_token is invalid, expired, revoked or not yours",
        )
        .into());
    }
    let actor = match &req.actor {
        None => None,
        Some(presented) => {
            let actor = verify(store, mint.signer, issuer, presented, now)
                .await?
                .filter(|a| a.tenant == client.tenant_id && a.client_id == client.id.as_str())
                .ok_or_else(|| {
                    OAuthError::invalid_grant(
                        "actor_token is invalid, expired, revoked or not issued to this client",
                    )
                })?;
            Some(actor.sub)
        }
    };
    let act = chain(client, own, actor, subject.act.clone())?;
    let scope = delegated_scope(client, &subject, req.scope)?;
    let target = resource::token_target(store, client, None, req.target.as_ref()).await?;
    let scope = resource::access_scope(&scope, target.as_ref())?;
    let token_subject = AccessTokenSubject {
        sub: &subject.sub,
        tenant: &subject.tenant,
        scope: &scope,
        auth_time: subject
            .auth_time
            .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0)),
        grant_id: subject.grant_id.as_ref(),
        resource: target.as_ref(),
        act: act.as_ref(),
    };
    let jti = new_jti();
    let (access_token, exp) =
        mint.access_token_until(client, &token_subject, &jti, now, Some(subject.exp))?;
    Ok(DelegationResponse {
        access_token,
        issued_token_type: TOKEN_TYPE_ACCESS_TOKEN,
        token_type: if mint.dpop_jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        },
        expires_in: exp - now.timestamp(),
        scope: scope.to_string(),
        issued: Delegated {
            jti,
            client_id: client.id.to_string(),
            tenant: subject.tenant.to_string(),
            sub: subject.sub,
            subject_client_id: subject.client_id,
            subject_token_type: req.subject.kind.as_str(),
            act,
            resource: target.map(|t| t.identifier.to_string()),
        },
    })
}

/// The issued token's `act` (RFC 8693 §4.1): the actor (the actor token's subject, else the
/// requesting client) in front of the subject's chain. A client exchanging its own token
/// without an actor token keeps the subject's chain as it is.
fn chain(
    client: &Client,
    own: bool,
    actor: Option<String>,
    previous: Option<Actor>,
) -> Result<Option<Actor>, OAuthError> {
    let sub = match actor {
        Some(sub) => sub,
        None if own => return Ok(previous),
        None => client.id.to_string(),
    };
    let act = Actor {
        sub,
        act: previous.map(Box::new),
    };
    if act.depth() > MAX_CHAIN {
        return Err(OAuthError::invalid_grant(format!(
            "the delegation chain would exceed {MAX_CHAIN} actors"
        )));
    }
    Ok(Some(act))
}

/// The scope of the delegated token: what was asked (or everything allowed), at most the
/// subject's and the client's, never `offline_access`.
fn delegated_scope(
    client: &Client,
    subject: &Verified,
    asked: Option<ScopeSet>,
) -> Result<ScopeSet, OAuthError> {
    let mut bound = client.allowed_scopes.without(&["offline_access"]);
    if let Some(s) = &subject.scope {
        bound = bound.intersection(s);
    }
    let scope = match asked {
        Some(s) if !s.is_subset(&bound) => {
            return Err(OAuthError::invalid_scope(format!(
                "scope beyond the subject token's or this client's: {}",
                s.difference(&bound).join(" ")
            )));
        }
        Some(s) if !s.is_empty() => s,
        _ => bound,
    };
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope(
            "the subject token and this client have no scope in common",
        ));
    }
    Ok(scope)
}

/// A presented subject or actor token, if it is a live token of this server: `None` for
/// anything else (the caller answers `invalid_grant`).
async fn verify<S, K>(
    store: &S,
    keys: &K,
    issuer: &str,
    presented: &PresentedToken,
    now: DateTime<Utc>,
) -> Result<Option<Verified>, Error>
where
    S: IntrospectionStore + UserStore,
    K: IssuedTokenVerifier,
{
    let token = presented.token.expose();
    let verified = match presented.kind {
        SubjectKind::AccessToken => {
            let Some(claims) = keys
                .verify_issued(token, ACCESS_TOKEN_TYP, issuer)
                .and_then(|v| serde_json::from_value::<AccessTokenClaims>(v).ok())
            else {
                return Ok(None);
            };
            if claims.exp <= now.timestamp()
                || claims.api_key.is_some()
                || is_revoked(store, &claims).await?
                || !backing_live(store, &claims, now).await?
            {
                return Ok(None);
            }
            let Some(tenant) = claims
                .tenant
                .as_deref()
                .and_then(|t| TenantId::parse(t).ok())
            else {
                return Ok(None);
            };
            let grant_id = match claims.gid.as_deref().map(GrantId::parse) {
                None => None,
                Some(Ok(g)) => Some(g),
                Some(Err(_)) => return Ok(None),
            };
            // A user's token (it belongs to a grant): the user must still be there.
            if grant_id.is_some() && !user_live(store, &claims.sub, &tenant).await? {
                return Ok(None);
            }
            let Ok(scope) = ScopeSet::parse(&claims.scope) else {
                return Ok(None);
            };
            Verified {
                sub: claims.sub,
                client_id: claims.client_id,
                tenant,
                scope: Some(scope),
                grant_id,
                auth_time: claims.auth_time,
                exp: claims.exp,
                act: claims.act,
                may_act: claims.may_act,
            }
        }
        SubjectKind::IdToken => {
            let Some(claims) = keys
                .verify_issued(token, ID_TOKEN_TYP, issuer)
                .and_then(|v| serde_json::from_value::<IdTokenSubject>(v).ok())
            else {
                return Ok(None);
            };
            if claims.exp <= now.timestamp() {
                return Ok(None);
            }
            let Ok(user) = UserId::parse(&claims.sub) else {
                return Ok(None);
            };
            let Some(user) = live_user(store, store, &user).await? else {
                return Ok(None);
            };
            Verified {
                sub: claims.sub,
                client_id: claims.aud,
                tenant: user.tenant_id,
                scope: None,
                grant_id: None,
                auth_time: claims.auth_time,
                exp: claims.exp,
                act: None,
                may_act: claims.may_act,
            }
        }
    };
    Ok(Some(verified))
}

/// Whether the user `sub` still exists, is enabled and belongs to `tenant`.
async fn user_live<S: UserStore + IntrospectionStore>(
    store: &S,
    sub: &str,
    tenant: &TenantId,
) -> Result<bool, Error> {
    let Ok(id) = UserId::parse(sub) else {
        return Ok(false);
    };
    Ok(live_user(store, store, &id)
        .await?
        .is_some_and(|u| &u.tenant_id == tenant))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ErrorCode;
    use crate::audit::{ActorKind, Outcome};
    use crate::client::GrantType;
    use crate::fakes::{self, FakeSigner, Registered, TokenHarness, answer, claims_of};
    use crate::grant::token_exchange::GRANT_TYPE_TOKEN_EXCHANGE;
    use crate::ports::{GrantStore, TokenSigner};
    use crate::values::{ClientId, SigningAlg};

    const ISSUER: &str = "https://issuer.example";

    /// A harness with user `alice`, the app `web` (whose tokens name `orders` in `may_act`) and
    /// the service `orders`, registered for the exchange.
    fn setup() -> (TokenHarness, Registered) {
        let h = TokenHarness::default();
        h.store.add_user("alice");
        let mut web = fakes::client("web");
        web.may_act = Some(ClientId::parse("orders").unwrap());
        h.register(web);
        (
            h,
            Registered {
                id: "web".into(),
                secret: None,
            },
        )
    }

    /// A confidential client registered for the exchange, with scopes `orders:read profile
    /// offline_access`.
    fn service(id: &str) -> Client {
        let mut c = fakes::client(id);
        c.grant_types = vec![GrantType::TokenExchange];
        c.allowed_scopes = ScopeSet::parse("orders:read profile offline_access").unwrap();
        c
    }

    fn register_service(h: &TokenHarness, c: Client) -> Registered {
        h.register(c)
    }

    /// An access token of `client` for alice's grant `g1`, as the fake signer signs it.
    fn user_token(client: &str, now: DateTime<Utc>, extra: serde_json::Value) -> String {
        let mut claims = json!({
            "iss": ISSUER, "sub": "alice", "aud": ISSUER, "client_id": client,
            "scope": "openid orders:read orders:write offline_access", "jti": new_jti(),
            "iat": now.timestamp(), "exp": now.timestamp() + 600,
            "auth_time": now.timestamp() - 60, "gid": "g1", "tenant": "default",
        });
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        FakeSigner
            .sign(SigningAlg::RS256, ACCESS_TOKEN_TYP, &claims)
            .unwrap()
    }

    fn form<'a>(subject: &'a str, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut f = vec![
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", subject),
            ("subject_token_type", TOKEN_TYPE_ACCESS_TOKEN),
        ];
        f.extend_from_slice(more);
        f
    }

    fn params(v: &[(&str, &str)]) -> Params {
        Params::new(
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn the_client_named_by_may_act_gets_a_token_acting_for_the_user_rfc8693_4_1_4_4() {
        let (h, _) = setup();
        let orders = register_service(&h, service("orders-2"));
        let now = Utc::now();
        // `orders-2` is not named: refused, whatever it asks.
        let subject = user_token("web", now, json!({"may_act": {"sub": "orders"}}));
        let out = h.token(orders.creds(), &form(&subject, &[]), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
        assert!(out.events.is_empty());
        let orders = h.register(service("orders"));
        let out = h.token(orders.creds(), &form(&subject, &[]), now).await;
        let body = answer(&out).unwrap();
        assert_eq!(body["issued_token_type"], TOKEN_TYPE_ACCESS_TOKEN);
        assert_eq!(body["token_type"], "Bearer");
        assert!(body.get("refresh_token").is_none());
        // At most the subject's scope and the client's; never offline_access.
        assert_eq!(body["scope"], "orders:read");
        let at = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(
            (at["sub"].as_str(), at["client_id"].as_str()),
            (Some("alice"), Some("orders"))
        );
        assert_eq!(at["act"], json!({"sub": "orders"}));
        assert_eq!(
            (at["gid"].as_str(), at["tenant"].as_str()),
            (Some("g1"), Some("default"))
        );
        assert!(at["exp"].as_i64().unwrap() <= now.timestamp() + 600);
        let e = &out.events[0];
        assert_eq!(
            (e.action.as_str(), e.outcome),
            ("token.exchange", Outcome::Success)
        );
        assert_eq!(
            (e.actor_kind, e.actor.as_deref()),
            (ActorKind::Client, Some("orders"))
        );
        assert_eq!(e.details["subject_client_id"], "web");
        assert_eq!(e.details["act"], json!({"sub": "orders"}));
        assert!(
            !serde_json::to_string(&out.events)
                .unwrap()
                .contains(&subject)
        );
    }

    fn orders(h: &TokenHarness, c: Client) -> Registered {
        h.register(c)
    }

    #[tokio::test]
    async fn dead_subject_tokens_are_invalid_grant_rfc8693_2_2_2() {
        let (h, _) = setup();
        let o = orders(&h, service("orders"));
        let now = Utc::now();
        let named = json!({"may_act": {"sub": "orders"}});
        let expired = user_token("web", now - chrono::Duration::hours(1), named.clone());
        let from_key = user_token(
            "web",
            now,
            json!({"may_act": {"sub": "orders"}, "api_key": "k1"}),
        );
        let foreign = user_token(
            "web",
            now,
            json!({"may_act": {"sub": "orders"}, "iss": "https://evil.example"}),
        );
        let other_tenant = user_token(
            "web",
            now,
            json!({"may_act": {"sub": "orders"}, "tenant": "acme"}),
        );
        let gone_user = user_token(
            "web",
            now,
            json!({"may_act": {"sub": "orders"}, "sub": "bob"}),
        );
        for t in [
            &expired,
            &from_key,
            &foreign,
            &other_tenant,
            &gone_user,
            &"not-a-token".to_owned(),
        ] {
            let out = h.token(o.creds(), &form(t, &[]), now).await;
            assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant), "{t}");
        }
        // Revoking the user's grant kills the subject token for exchange too.
        let live = user_token("web", now, named);
        assert!(answer(&h.token(o.creds(), &form(&live, &[]), now).await).is_ok());
        h.store
            .revoke_grant(&GrantId::parse("g1").unwrap(), now)
            .await
            .unwrap();
        let out = h.token(o.creds(), &form(&live, &[]), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
        // A disabled tenant stops its clients before their tokens are looked at.
        let (h, _) = setup();
        let o = orders(&h, service("orders"));
        h.store.disable_tenant("default");
        let live = user_token("web", now, json!({"may_act": {"sub": "orders"}}));
        let out = h.token(o.creds(), &form(&live, &[]), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidClient));
    }

    #[tokio::test]
    async fn only_registered_confidential_clients_exchange_rfc8693_2_1() {
        let (h, _) = setup();
        let now = Utc::now();
        let subject = user_token("web", now, json!({"may_act": {"sub": "orders"}}));
        // Named by may_act, but not registered for the grant.
        let mut plain = service("orders");
        plain.grant_types = vec![GrantType::ClientCredentials];
        let o = orders(&h, plain);
        let out = h.token(o.creds(), &form(&subject, &[]), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::UnauthorizedClient));
        // No client at all: invalid_client (only an API key can be exchanged without one).
        let out = h.token(None, &form(&subject, &[]), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidClient));
    }

    #[tokio::test]
    async fn the_act_chain_is_nested_never_dropped_and_bounded_rfc8693_4_1() {
        let (h, _) = setup();
        let o = orders(&h, service("orders"));
        let now = Utc::now();
        let chained = user_token(
            "web",
            now,
            json!({"may_act": {"sub": "orders"}, "act": {"sub": "gateway"}}),
        );
        let body = answer(&h.token(o.creds(), &form(&chained, &[]), now).await).unwrap();
        let at = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(
            at["act"],
            json!({"sub": "orders", "act": {"sub": "gateway"}})
        );
        // The client's own delegated token, exchanged again without an actor token (say for
        // another audience), keeps its chain: delegation cannot be turned into impersonation.
        let own = user_token(
            "orders",
            now,
            json!({"act": {"sub": "orders", "act": {"sub": "gateway"}}}),
        );
        let body = answer(&h.token(o.creds(), &form(&own, &[]), now).await).unwrap();
        let at = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(
            at["act"],
            json!({"sub": "orders", "act": {"sub": "gateway"}})
        );
        // A client's own plain token, exchanged by itself: no delegation, no act.
        let plain = user_token("orders", now, json!({}));
        let body = answer(&h.token(o.creds(), &form(&plain, &[]), now).await).unwrap();
        assert!(
            claims_of(body["access_token"].as_str().unwrap())
                .get("act")
                .is_none()
        );
        // Five actors at most.
        let mut deep = json!({"sub": "a0"});
        for i in 1..MAX_CHAIN {
            deep = json!({"sub": format!("a{i}"), "act": deep});
        }
        let long = user_token(
            "web",
            now,
            json!({"may_act": {"sub": "orders"}, "act": deep}),
        );
        let out = h.token(o.creds(), &form(&long, &[]), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
    }

    #[tokio::test]
    async fn an_actor_token_must_be_the_requesters_own_rfc8693_2_1() {
        let (h, _) = setup();
        let o = orders(&h, service("orders"));
        let now = Utc::now();
        h.store.add_user("bob");
        let subject = user_token("web", now, json!({"may_act": {"sub": "orders"}}));
        let bobs = user_token("orders", now, json!({"sub": "bob", "gid": "g2"}));
        let at = TOKEN_TYPE_ACCESS_TOKEN;
        let more = [("actor_token", bobs.as_str()), ("actor_token_type", at)];
        let body = answer(&h.token(o.creds(), &form(&subject, &more), now).await).unwrap();
        let claims = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(claims["act"], json!({"sub": "bob"}));
        assert_eq!(claims["sub"], "alice");
        // An actor token of another client names no actor of ours.
        let webs = user_token("web", now, json!({"sub": "bob", "gid": "g2"}));
        let more = [("actor_token", webs.as_str()), ("actor_token_type", at)];
        let out = h.token(o.creds(), &form(&subject, &more), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
    }

    #[tokio::test]
    async fn scope_can_only_shrink_rfc8693_2_1() {
        let (h, _) = setup();
        let o = orders(&h, service("orders"));
        let now = Utc::now();
        let subject = user_token(
            "web",
            now,
            json!({"may_act": {"sub": "orders"}, "scope": "orders:read openid"}),
        );
        let body = answer(
            &h.token(o.creds(), &form(&subject, &[("scope", "orders:read")]), now)
                .await,
        )
        .unwrap();
        assert_eq!(body["scope"], "orders:read");
        for wider in ["orders:read orders:write", "profile", "offline_access"] {
            let out = h
                .token(o.creds(), &form(&subject, &[("scope", wider)]), now)
                .await;
            assert_eq!(answer(&out), Err(ErrorCode::InvalidScope), "{wider}");
        }
        let nothing = user_token(
            "web",
            now,
            json!({"may_act": {"sub": "orders"}, "scope": "openid"}),
        );
        let out = h.token(o.creds(), &form(&nothing, &[]), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidScope));
    }

    #[tokio::test]
    async fn an_id_token_is_a_subject_for_the_client_it_names_rfc8693_3() {
        let (h, _) = setup();
        let o = orders(&h, service("orders"));
        let now = Utc::now();
        let id_token = |aud: &str, sub: &str| {
            let claims = json!({
                "iss": ISSUER, "sub": sub, "aud": aud, "azp": aud, "iat": now.timestamp(),
                "exp": now.timestamp() + 300, "auth_time": now.timestamp(),
                "may_act": {"sub": "orders"},
            });
            FakeSigner
                .sign(SigningAlg::RS256, ID_TOKEN_TYP, &claims)
                .unwrap()
        };
        let idt = id_token("web", "alice");
        let f = [
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", idt.as_str()),
            ("subject_token_type", TOKEN_TYPE_ID_TOKEN),
        ];
        let body = answer(&h.token(o.creds(), &f, now).await).unwrap();
        let at = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(
            (at["sub"].as_str(), at["client_id"].as_str()),
            (Some("alice"), Some("orders"))
        );
        assert_eq!(body["scope"], "orders:read profile");
        assert!(at.get("gid").is_none());
        // Declared as an access token, an ID token is not one.
        let wrong = form(&idt, &[]);
        assert_eq!(
            answer(&h.token(o.creds(), &wrong, now).await),
            Err(ErrorCode::InvalidGrant)
        );
        // A user who is gone cannot be acted for.
        let ghost = id_token("web", "ghost");
        let f = [
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", ghost.as_str()),
            ("subject_token_type", TOKEN_TYPE_ID_TOKEN),
        ];
        assert_eq!(
            answer(&h.token(o.creds(), &f, now).await),
            Err(ErrorCode::InvalidGrant)
        );
    }

    #[test]
    fn malformed_requests_are_invalid_request_or_invalid_target_rfc8693_2_2_2() {
        let base = [
            ("subject_token", "t"),
            ("subject_token_type", TOKEN_TYPE_ACCESS_TOKEN),
        ];
        let with = |more: &[(&'static str, &'static str)]| {
            let mut v = base.to_vec();
            v.extend_from_slice(more);
            DelegationRequest::parse(&params(&v)).err().map(|e| e.code)
        };
        assert_eq!(with(&[]), None);
        assert_eq!(
            with(&[("actor_token", "a")]),
            Some(ErrorCode::InvalidRequest)
        );
        assert_eq!(
            with(&[("actor_token_type", TOKEN_TYPE_ACCESS_TOKEN)]),
            Some(ErrorCode::InvalidRequest)
        );
        assert_eq!(
            with(&[(
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:refresh_token"
            )]),
            Some(ErrorCode::InvalidRequest)
        );
        assert_eq!(
            with(&[
                ("resource", "https://a.example/"),
                ("audience", "https://b.example/")
            ]),
            Some(ErrorCode::InvalidTarget)
        );
        assert_eq!(
            with(&[("audience", "orders service")]),
            Some(ErrorCode::InvalidTarget)
        );
        assert_eq!(
            with(&[
                ("resource", "https://a.example/"),
                ("audience", "https://a.example/")
            ]),
            None
        );
        let saml = [
            ("subject_token", "t"),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:saml2",
            ),
        ];
        let e = DelegationRequest::parse(&params(&saml)).err().unwrap();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }
}

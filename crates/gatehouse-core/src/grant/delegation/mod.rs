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

use crate::claims::Actor;
use crate::client::Client;
use crate::error::{Error, OAuthError};
use crate::grant::mint::{AccessTokenSubject, Minter, new_jti};
mod subject;

use crate::grant::token_exchange::{
    ExchangeResponse, TOKEN_TYPE_ACCESS_TOKEN, only_access_tokens_requested,
};
use crate::introspection::IntrospectionStore;
use crate::params::Params;
use crate::ports::{TokenSigner, UserStore};
use crate::resource::{self, ResourceStore, ResourceUri};
use crate::secret::Secret;
use crate::values::ScopeSet;
use subject::{Verified, verify};

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

/// The RFC 8693 §2.2.1 response to a delegation.
pub type DelegationResponse = ExchangeResponse<Delegated>;

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
    mint: &Minter<'_, K>,
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

#[cfg(test)]
mod tests;

//! Issuing at the authorization endpoint: the code flow's code, and — for clients that opted in
//! with the `implicit` grant type — the implicit flow's ID token and access token (OIDC Core
//! §3.2.2.5, §3.2.2.10) and the hybrid flow's code with them (§3.3.2.5, §3.3.2.11).
//!
//! The ID token carries the request's `nonce` (required: [`super::validate`]), `at_hash` when an
//! access token comes with it and `c_hash` when a code does ([`crate::grant::mint::token_hash`]).
//! The access token is the same RFC 9068 token the token endpoint issues, in a grant of its own
//! (its `gid`) so revocation and userinfo treat it alike; the response carries `access_token`,
//! `token_type`, `expires_in` and `scope`, never a refresh token (OIDC Core §3.2.2.5,
//! RFC 9700 §2.1.2). `state` and `iss` (RFC 9207) follow as in the code flow. Every issuance of a
//! token here is audited as `token.issue` with `grant_type` `implicit`.

use chrono::{DateTime, Utc};

use super::{
    AuthorizationRequest, AuthorizationResponse, AuthorizeError, issue_code, save_code,
    save_grant_request,
};
use crate::audit::NewAuditEvent;
use crate::claims_request::ClaimsRequestStore;
use crate::client::GrantType;
use crate::error::{Error, ErrorCode, OAuthError};
use crate::grant::mint::{AccessTokenSubject, Issued, IssuedWith, Minter, UserGrant, new_jti};
use crate::policy::Policy;
use crate::ports::{CodeStore, TokenSigner, UserStore};
use crate::resource::{self, ResourceServer, ResourceStore};
use crate::token_events;
use crate::user::User;
use crate::values::{GrantId, ScopeSet, UserId};

/// What issuing produced: the response and the audit events it caused.
pub struct Issuance {
    pub response: AuthorizationResponse,
    pub events: Vec<NewAuditEvent>,
}

/// Issues what `req.response_type` asks for to the signed-in user and returns the response
/// that delivers it. A plain `code` is [`issue_code`]; anything else mints tokens here.
pub async fn issue<S, K>(
    store: &S,
    signer: &K,
    policy: &Policy,
    req: &AuthorizationRequest,
    user_id: UserId,
    auth_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Issuance, AuthorizeError>
where
    S: CodeStore + ClaimsRequestStore + ResourceStore + UserStore,
    K: TokenSigner,
{
    let rt = req.response_type;
    if !rt.front_channel_tokens() {
        let response = issue_code(store, policy, req, user_id, auth_time, now).await?;
        return Ok(Issuance {
            response,
            events: Vec::new(),
        });
    }
    let (user, target) = user_and_target(store, req, &user_id).await?;
    let access_scope =
        resource::access_scope(&req.scope, target.as_ref()).map_err(|e| redirect(req, e))?;
    let grant_id = GrantId::generate();
    save_grant_request(store, req, &grant_id, now).await?;
    let code = match rt.code {
        true => Some(
            save_code(
                store,
                policy,
                req,
                user_id,
                auth_time,
                grant_id.clone(),
                now,
            )
            .await?,
        ),
        false => None,
    };
    let mint = Minter {
        signer,
        policy,
        // Tokens from the authorization endpoint carry no proof: never bound (RFC 9449).
        dpop_jkt: None,
    };
    let grant = UserGrant {
        user: &user,
        grant_id: &grant_id,
        scope: &req.scope,
        access_scope: &access_scope,
        resource: target.as_ref(),
        auth_time,
        nonce: req.nonce.clone(),
        claims: req.claims.as_ref(),
    };
    let code = code.as_ref().map(|c| c.expose());
    let minted = mint_tokens(&mint, req, &grant, code, now)?;
    let pairs = minted.pairs(code, &access_scope);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = req.target.respond(&policy.issuer, &pairs);
    let issued = Issued {
        grant_type: GrantType::Implicit.as_str(),
        client_id: req.client.id.to_string(),
        jti: minted
            .access
            .as_ref()
            .map(|a| a.jti.clone())
            .unwrap_or_default(),
        sub: user.id.to_string(),
        tenant: user.tenant_id.to_string(),
        grant_id: Some(grant_id.to_string()),
    };
    let event = token_events::front_channel(&issued, rt, &access_scope.to_string(), now);
    Ok(Issuance {
        response,
        events: vec![event],
    })
}

/// An error sent back to the client's redirect URI.
fn redirect(req: &AuthorizationRequest, error: OAuthError) -> AuthorizeError {
    AuthorizeError::Redirect {
        target: req.target.clone(),
        error,
    }
}

/// The signed-in user, and the resource an access token would be for (the one requested, if
/// any: RFC 8707 §2.1).
async fn user_and_target<S: ResourceStore + UserStore>(
    store: &S,
    req: &AuthorizationRequest,
    user_id: &UserId,
) -> Result<(User, Option<ResourceServer>), AuthorizeError> {
    // The session was bound to this client's (enabled) tenant a moment ago; a user deleted in
    // between gets nothing.
    let user = store
        .find_user(user_id)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| {
            let error = OAuthError::new(ErrorCode::AccessDenied, "the user no longer exists");
            redirect(req, error)
        })?;
    if !req.response_type.token {
        return Ok((user, None));
    }
    match resource::token_target(store, &req.client, Some(&req.resources), None).await {
        Ok(target) => Ok((user, target)),
        Err(Error::OAuth(e)) => Err(redirect(req, e)),
        Err(e) => Err(e.into()),
    }
}

/// An access token minted here, with its `jti` and lifetime.
struct AccessToken {
    token: String,
    jti: String,
    ttl: i64,
}

/// The tokens of a front-channel response. Holds tokens: no `Debug`.
struct Minted {
    access: Option<AccessToken>,
    id_token: Option<String>,
}

impl Minted {
    /// The response parameters (OIDC Core §3.2.2.5, §3.3.2.5): the code, the access token
    /// with `token_type`, `expires_in` and `scope`, the ID token.
    fn pairs<'a>(&'a self, code: Option<&'a str>, scope: &ScopeSet) -> Vec<(&'a str, String)> {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(code) = code {
            pairs.push(("code", code.to_owned()));
        }
        if let Some(a) = &self.access {
            pairs.extend([
                ("access_token", a.token.clone()),
                ("token_type", "Bearer".to_owned()),
                ("expires_in", a.ttl.to_string()),
                ("scope", scope.to_string()),
            ]);
        }
        if let Some(id) = &self.id_token {
            pairs.push(("id_token", id.clone()));
        }
        pairs
    }
}

/// Mints the access token (`token`) and the ID token (`id_token`, bound to the access token
/// and the code by `at_hash` and `c_hash`) that `req.response_type` asks for.
fn mint_tokens<K: TokenSigner>(
    mint: &Minter<'_, K>,
    req: &AuthorizationRequest,
    grant: &UserGrant<'_>,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Minted, Error> {
    let rt = req.response_type;
    let access = if rt.token {
        let subject = AccessTokenSubject {
            sub: grant.user.id.as_str(),
            tenant: &grant.user.tenant_id,
            scope: grant.access_scope,
            auth_time: Some(grant.auth_time),
            grant_id: Some(grant.grant_id),
            resource: grant.resource,
            act: None,
        };
        let jti = new_jti();
        let token = mint.access_token(&req.client, &subject, &jti, now)?;
        let ttl = mint.access_ttl_for(&req.client, grant.resource);
        Some(AccessToken { token, jti, ttl })
    } else {
        None
    };
    let id_token = if rt.id_token {
        let with = IssuedWith {
            access_token: access.as_ref().map(|a| a.token.as_str()),
            code,
        };
        Some(mint.id_token(&req.client, grant, with, now)?)
    } else {
        None
    };
    Ok(Minted { access, id_token })
}

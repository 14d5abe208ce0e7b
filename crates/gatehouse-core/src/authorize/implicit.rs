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
use crate::resource::{self, ResourceStore};
use crate::token_events;
use crate::values::{GrantId, UserId};

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
    let redirect = |error: OAuthError| AuthorizeError::Redirect {
        target: req.target.clone(),
        error,
    };
    let client = &req.client;
    // The session was bound to this client's (enabled) tenant a moment ago; a user deleted in
    // between gets nothing.
    let user = store
        .find_user(&user_id)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| {
            redirect(OAuthError::new(
                ErrorCode::AccessDenied,
                "the user no longer exists",
            ))
        })?;
    // The access token's audience: the one requested resource, if any (RFC 8707 §2.1).
    let target = if rt.token {
        match resource::token_target(store, client, Some(&req.resources), None).await {
            Ok(t) => t,
            Err(Error::OAuth(e)) => return Err(redirect(e)),
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let access_scope = resource::access_scope(&req.scope, target.as_ref()).map_err(redirect)?;
    let grant_id = GrantId::generate();
    save_grant_request(store, req, &grant_id, now).await?;
    let code = match rt.code {
        true => Some(
            save_code(
                store,
                policy,
                req,
                user_id.clone(),
                auth_time,
                grant_id.clone(),
                now,
            )
            .await?,
        ),
        false => None,
    };
    let mint = Minter {
        claims: store,
        signer,
        policy,
    };
    let jti = new_jti();
    let ttl = mint.access_ttl_for(client, target.as_ref());
    let access_token = if rt.token {
        let subject = AccessTokenSubject {
            sub: user.id.as_str(),
            tenant: &user.tenant_id,
            scope: &access_scope,
            auth_time: Some(auth_time),
            grant_id: Some(&grant_id),
            resource: target.as_ref(),
        };
        Some(mint.access_token(client, &subject, &jti, now)?)
    } else {
        None
    };
    let id_token = if rt.id_token {
        let grant = UserGrant {
            user: &user,
            grant_id: &grant_id,
            scope: &req.scope,
            access_scope: &access_scope,
            resource: target.as_ref(),
            auth_time,
            nonce: req.nonce.clone(),
        };
        let with = IssuedWith {
            access_token: access_token.as_deref(),
            code: code.as_ref().map(|c| c.expose()),
        };
        let requested = req.claims.as_ref().map(|c| &c.id_token);
        Some(mint.id_token(client, &grant, requested, with, now)?)
    } else {
        None
    };

    let ttl_text = ttl.to_string();
    let scope_text = access_scope.to_string();
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some(code) = &code {
        pairs.push(("code", code.expose()));
    }
    if let Some(at) = &access_token {
        pairs.extend([
            ("access_token", at.as_str()),
            ("token_type", "Bearer"),
            ("expires_in", ttl_text.as_str()),
            ("scope", scope_text.as_str()),
        ]);
    }
    if let Some(id) = &id_token {
        pairs.push(("id_token", id.as_str()));
    }
    let response = req.target.respond(&policy.issuer, &pairs);
    let issued = Issued {
        grant_type: GrantType::Implicit.as_str(),
        client_id: client.id.to_string(),
        jti: if access_token.is_some() {
            jti
        } else {
            String::new()
        },
        sub: user.id.to_string(),
        tenant: user.tenant_id.to_string(),
        grant_id: Some(grant_id.to_string()),
    };
    let event = token_events::front_channel(&issued, rt, &scope_text, now);
    Ok(Issuance {
        response,
        events: vec![event],
    })
}

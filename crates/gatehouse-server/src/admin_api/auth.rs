//! Authentication of admin API callers (RFC 6750 §2.1 bearer credentials, read by the edge's
//! one parser, [`bearer_header`]): an API key (checked by [`gatehouse_core::apikey_auth`],
//! with the client IP of [`RequestMeta`] so the key's allowlist applies) or an access token
//! signed by this server (verified by the server's one verifier, [`AccessTokens`], then checked
//! for expiry and revocation as at introspection, RFC 7662). The result is an
//! [`AdminPrincipal`], whose rights the core policy (`gatehouse_core::admin::authorize`)
//! decides.

use actix_web::HttpRequest;
use actix_web::http::Method;
use gatehouse_core::admin::{Access, AdminPrincipal, Operation, Resource};
use gatehouse_core::apikey_auth::{ApiKeyDenied, authenticate_api_key};
use gatehouse_core::audit::ActorKind;
use gatehouse_core::introspection::active_access_token;
use gatehouse_core::{ScopeSet, TenantId};

use super::ApiError;
use crate::access_tokens::AccessTokens;
use crate::extract::bearer_header;
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// Authenticates the caller; 401 `invalid_token` for anything but valid credentials of an
/// enabled tenant.
pub async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    meta: &RequestMeta,
) -> Result<AdminPrincipal, ApiError> {
    let cred = bearer_header(req)
        .ok()
        .flatten()
        .ok_or_else(ApiError::invalid_token)?;
    if cred.split('.').count() == 3 {
        return from_access_token(state, &cred).await;
    }
    match authenticate_api_key(&state.store, &cred, meta.ip, state.now()).await {
        Ok(k) => {
            // Per key, by its rate-limit class; reads and writes are counted apart.
            let write = !matches!(*req.method(), Method::GET | Method::HEAD);
            state
                .rate_limits
                .check_api_key(&k.key_id, k.rate_limit_class.as_deref(), write)
                .await
                .map_err(|l| ApiError::rate_limited(l.retry_after))?;
            Ok(AdminPrincipal {
                tenant: k.tenant_id,
                actor_kind: ActorKind::ApiKey,
                actor: k.name,
                scopes: k.scopes,
            })
        }
        Err(ApiKeyDenied::Store) => Err(ApiError::server("API key lookup failed")),
        Err(_) => Err(ApiError::invalid_token()),
    }
}

/// Authenticates the caller and checks one right: the prologue of the resource handlers.
pub async fn authorize(
    req: &HttpRequest,
    state: &AppState,
    meta: &RequestMeta,
    resource: Resource,
    access: Access,
) -> Result<AdminPrincipal, ApiError> {
    let p = authenticate(req, state, meta).await?;
    let op = match access {
        Access::Read => Operation::Read(resource, &p.tenant),
        Access::Write => Operation::Write(resource, &p.tenant),
    };
    require(&p, op)?;
    Ok(p)
}

async fn from_access_token(state: &AppState, token: &str) -> Result<AdminPrincipal, ApiError> {
    let verifier = AccessTokens::for_token(state, token).await;
    let claims = active_access_token(&state.store, &verifier, token, state.now())
        .await
        .map_err(ApiError::server)?
        .ok_or_else(ApiError::invalid_token)?;
    // The admin API takes bearer tokens only: a DPoP-bound token is refused (RFC 9449 §7.1).
    gatehouse_core::dpop::check_presentation(&claims, None)
        .map_err(|_| ApiError::invalid_token())?;
    let claimed = claims.tenant.clone();
    // A client acting for itself (client_credentials) is its own subject.
    let (actor_kind, home) = if claims.sub == claims.client_id {
        let c = state.store.get_client_by_id(&claims.client_id).await?;
        (ActorKind::Client, c.map(|c| c.tenant_id))
    } else {
        let u = state.store.get_user_by_id(&claims.sub).await?;
        (ActorKind::User, u.map(|u| u.tenant_id))
    };
    let tenant = match claimed {
        Some(t) => TenantId::parse(&t).map_err(|_| ApiError::invalid_token())?,
        None => home.ok_or_else(ApiError::invalid_token)?,
    };
    match state.store.get_tenant(&tenant).await? {
        Some(t) if !t.disabled => {}
        _ => return Err(ApiError::invalid_token()),
    }
    let scopes = ScopeSet::parse(&claims.scope).map_err(|_| ApiError::invalid_token())?;
    Ok(AdminPrincipal {
        tenant,
        actor_kind,
        actor: claims.sub,
        scopes,
    })
}

/// 403 unless the core policy allows the caller `op` (the operations ask it again; this only
/// answers before a request body is read).
pub fn require(p: &AdminPrincipal, op: Operation<'_>) -> Result<(), ApiError> {
    p.authorize(op).map_err(ApiError::from)
}

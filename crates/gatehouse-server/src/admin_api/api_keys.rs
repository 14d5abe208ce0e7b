//! `/admin/v1/api_keys`: a tenant's API keys. Listings never hold the secret (only its
//! masked prefix); creation answers it once; DELETE revokes at once (the next request with the
//! key is refused). A caller cannot mint a key with admin rights it does not hold itself.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, delete, get, post, web};
use gatehouse_core::ScopeSet;
use gatehouse_core::admin::{ADMIN_ALL, Access, AdminPrincipal, Resource};
use gatehouse_core::apikey::{ApiKey, ApiKeyRequest};
use serde_json::{Value, json};

use super::auth::authorize;
use super::schemas::{ApiKeyBody, CreateApiKey, ErrorBody, Page};
use super::{
    ApiError, ApiResult, PageRequest, actor, check_if_match, json_response, parse_body, query,
    target_tenant, with_etag,
};
use crate::admin_apikeys as ops;
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// What the ETag of a key covers: the fields a change can touch (not the usage stamps, which
/// move with every request the key makes).
fn etag_source(k: &ApiKey) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "scopes": k.scopes.to_string(),
        "expires_at": k.expires_at.to_rfc3339(),
        "revoked_at": k.revoked_at.map(|t| t.to_rfc3339()),
    })
}

async fn visible_key(state: &AppState, p: &AdminPrincipal, id: &str) -> Result<ApiKey, ApiError> {
    match state.store.get_api_key(id).await? {
        Some(k) if p.may_access_tenant(&k.tenant_id) => Ok(k),
        _ => Err(ApiError::not_found("API key", id)),
    }
}

/// Refuses admin scopes the caller could not use itself: no escalation through new keys,
/// clients (whose client_credentials tokens would carry the scope) or admin users. `field`
/// names the request member in the error.
pub(crate) fn check_grantable(
    p: &AdminPrincipal,
    scope: Option<&str>,
    field: &str,
) -> Result<(), ApiError> {
    let Some(s) = scope else { return Ok(()) };
    let Ok(set) = ScopeSet::parse(s) else {
        return Ok(()); // the operator action reports the syntax error with its field
    };
    for sc in set.iter() {
        let allowed = if sc == ADMIN_ALL {
            p.scopes.contains(ADMIN_ALL)
        } else if let Some((verb, res)) = sc.split_once(':') {
            match Resource::ALL.iter().find(|r| r.as_str() == res) {
                Some(r) if verb == "read" => p.can(*r, Access::Read),
                Some(r) if verb == "write" => p.can(*r, Access::Write),
                _ => true,
            }
        } else {
            true
        };
        if !allowed {
            let mut e = ApiError::insufficient_scope(sc);
            e.description = format!("cannot grant {sc}: the caller does not hold it");
            e.field = Some(field.into());
            return Err(e);
        }
    }
    Ok(())
}

/// A tenant's keys, by id (revoked and expired ones included, marked).
#[utoipa::path(
    tag = "api_keys",
    params(
        ("tenant" = Option<String>, Query, description = "Tenant id (default: the caller's)"),
        ("after" = Option<String>, Query, description = "Cursor: the last id of the previous page"),
        ("limit" = Option<u64>, Query, description = "Page size, 1 to 200 (default 50)")
    ),
    responses((status = 200, body = Page), (status = 403, body = ErrorBody))
)]
#[get("/api_keys")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>, meta: RequestMeta) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::ApiKeys, Access::Read).await?;
    let q = query(&req)?;
    let tenant = target_tenant(&p, q.get("tenant").map(String::as_str))?;
    let page = PageRequest::from_query(&q)?;
    let now = state.now();
    let warn = state.settings.api_keys.expiry_warning_days;
    let mut keys = state.store.list_api_keys(&tenant).await?;
    keys.sort_by(|a, b| a.id.cmp(&b.id));
    let items = keys
        .iter()
        .filter(|k| page.after.as_deref().is_none_or(|a| k.id.as_str() > a))
        .take(page.limit as usize + 1)
        .map(|k| (k.id.clone(), ops::api_key_json(k, now, warn)))
        .collect();
    Ok(page.respond(items, "/admin/v1/api_keys", Some(&tenant)))
}

/// Creates a key; the answer holds the secret, shown this once. 409 when the tenant already
/// has its maximum of active keys.
#[utoipa::path(
    tag = "api_keys",
    request_body = CreateApiKey,
    responses((status = 201, body = ApiKeyBody), (status = 403, body = ErrorBody), (status = 409, description = "The tenant's limit of active keys is reached", body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/api_keys")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::ApiKeys, Access::Write).await?;
    let b: CreateApiKey = parse_body(&body)?;
    let tenant = target_tenant(&p, b.tenant.as_deref())?;
    check_grantable(&p, b.scope.as_deref(), "scope")?;
    let r = ApiKeyRequest {
        name: b.name,
        scope: b.scope,
        validity_days: b.validity_days,
        environment: b.environment,
        allow_ips: b.allowed_ips,
        rate_limit_class: b.rate_limit_class,
    };
    let v = ops::create_api_key(
        &state.store,
        &actor(&p, &meta),
        &state.settings.api_keys,
        tenant.as_str(),
        r,
        state.now(),
    )
    .await?;
    Ok(json_response(StatusCode::CREATED, &v))
}

/// One key (never its secret).
#[utoipa::path(
    tag = "api_keys",
    params(("id" = String, Path, description = "API key id")),
    responses((status = 200, body = ApiKeyBody, headers(("ETag" = String))), (status = 404, body = ErrorBody))
)]
#[get("/api_keys/{id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::ApiKeys, Access::Read).await?;
    let k = visible_key(&state, &p, &id).await?;
    let v = ops::api_key_json(&k, state.now(), state.settings.api_keys.expiry_warning_days);
    Ok(with_etag(StatusCode::OK, &v, &etag_source(&k)))
}

/// Revokes a key, effective immediately. Honours `If-Match`.
#[utoipa::path(
    tag = "api_keys",
    params(("id" = String, Path, description = "API key id"), ("If-Match" = Option<String>, Header, description = "ETag of the key as last read")),
    responses((status = 200, description = "Revoked"), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody))
)]
#[delete("/api_keys/{id}")]
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::ApiKeys, Access::Write).await?;
    let k = visible_key(&state, &p, &id).await?;
    check_if_match(&req, &etag_source(&k))?;
    let v = ops::revoke_api_key(&state.store, &actor(&p, &meta), &id, state.now()).await?;
    Ok(json_response(StatusCode::OK, &v))
}

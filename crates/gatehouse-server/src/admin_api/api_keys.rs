//! `/admin/v1/api_keys`: a tenant's API keys. Listings never hold the secret (only its
//! masked prefix); creation answers it once; DELETE revokes at once (the next request with the
//! key is refused). A caller cannot mint a key with admin rights it does not hold itself (the
//! core policy, asked by `gatehouse_admin::api_keys`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, delete, get, post, web};
use chrono::{DateTime, Utc};
use gatehouse_admin::api_keys as ops;
use gatehouse_admin::views::ApiKeyView;
use gatehouse_core::admin::{Access, Resource};
use gatehouse_core::apikey::{ApiKey, ApiKeyRequest};
use serde_json::json;

use super::auth::authorize;
use super::schemas::{ApiKeyBody, CreateApiKey, ErrorBody, Page};
use super::{
    ApiResult, PageRequest, actor, context, if_match, json_response, key_policy, parse_body, query,
    with_etag,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// What the ETag of a key covers: the fields a change can touch (not the usage stamps, which
/// move with every request the key makes).
fn etag_source(
    id: &str,
    name: &str,
    scopes: String,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
) -> serde_json::Value {
    json!({
        "id": id,
        "name": name,
        "scopes": scopes,
        "expires_at": expires_at.to_rfc3339(),
        "revoked_at": revoked_at.map(|t| t.to_rfc3339()),
    })
}

fn view_tag(k: &ApiKeyView) -> serde_json::Value {
    etag_source(
        &k.id,
        &k.name,
        k.scopes.join(" "),
        k.expires_at,
        k.revoked_at,
    )
}

fn key_tag(k: &ApiKey) -> serde_json::Value {
    let scopes = k.scopes.to_string();
    etag_source(&k.id, &k.name, scopes, k.expires_at, k.revoked_at)
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
    let a = actor(&p, &meta);
    let tenant = a.tenant_or_home(q.get("tenant").map(String::as_str))?;
    let page = PageRequest::from_query(&q)?;
    let policy = key_policy(&state)?;
    let ctx = context(&state, &a);
    let keys = ops::page(
        &ctx,
        &policy,
        &tenant,
        page.after.as_deref(),
        page.fetch() as usize,
    )
    .await?;
    Ok(page.respond(keys, |k| k.id.clone(), "/admin/v1/api_keys", Some(&tenant)))
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
    let a = actor(&p, &meta);
    let tenant = a.tenant_or_home(b.tenant.as_deref())?;
    let r = ApiKeyRequest {
        name: b.name,
        scope: b.scope,
        validity_days: b.validity_days,
        environment: b.environment,
        allow_ips: b.allowed_ips,
        rate_limit_class: b.rate_limit_class,
    };
    let policy = key_policy(&state)?;
    let v = ops::create(&context(&state, &a), &policy, &tenant, r).await?;
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
    let a = actor(&p, &meta);
    let policy = key_policy(&state)?;
    let k = ops::get(&context(&state, &a), &policy, &id).await?;
    Ok(with_etag(StatusCode::OK, &k, &view_tag(&k)))
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
    let a = actor(&p, &meta);
    let matches = |k: &ApiKey| if_match(&req, &key_tag(k));
    let v = ops::revoke(&context(&state, &a), &id, Some(&matches)).await?;
    Ok(json_response(StatusCode::OK, &v))
}

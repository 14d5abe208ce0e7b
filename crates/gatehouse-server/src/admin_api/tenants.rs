//! `/admin/v1/tenant` and `/admin/v1/tenants`: the caller's tenant, and tenant management
//! (creation and the access settings are for platform administrators; a tenant
//! administrator may read and rename its own tenant).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, delete, get, patch, post, web};
use gatehouse_admin::tenants::{self as ops, TenantChanges};
use gatehouse_admin::views::TenantView;
use gatehouse_core::admin::{Access, Operation, Resource};
use gatehouse_core::tenant::TenantRegistration;

use super::auth::{authenticate, authorize, require};
use super::schemas::{CreateTenant, ErrorBody, Page, PatchTenant, TenantBody};
use super::user_schemas::DeletedTenantBody;
use super::{
    ApiResult, PageRequest, actor, context, if_match, json_response, parse_body, query, with_etag,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// The caller's own tenant.
#[utoipa::path(
    tag = "tenants",
    responses(
        (status = 200, description = "The caller's tenant", body = TenantBody),
        (status = 401, body = ErrorBody)
    )
)]
#[get("/tenant")]
pub async fn own_tenant(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> ApiResult {
    let p = authenticate(&req, &state, &meta).await?;
    let a = actor(&p, &meta);
    let v = ops::own(&context(&state, &a)).await?;
    Ok(with_etag(StatusCode::OK, &v, &v))
}

/// Tenants: all of them for a platform administrator, else the caller's own.
#[utoipa::path(
    tag = "tenants",
    params(
        ("after" = Option<String>, Query, description = "Cursor: the last id of the previous page"),
        ("limit" = Option<u64>, Query, description = "Page size, 1 to 200 (default 50)")
    ),
    responses((status = 200, description = "A page of tenants", body = Page), (status = 403, body = ErrorBody))
)]
#[get("/tenants")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>, meta: RequestMeta) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Organizations, Access::Read).await?;
    let page = PageRequest::from_query(&query(&req)?)?;
    let a = actor(&p, &meta);
    let items = ops::page(
        &context(&state, &a),
        page.after.as_deref(),
        page.fetch() as usize,
    )
    .await?;
    Ok(page.respond(items, |t| t.id.to_string(), "/admin/v1/tenants", None))
}

/// Creates a tenant (platform administrators).
#[utoipa::path(
    tag = "tenants",
    request_body = CreateTenant,
    responses((status = 201, body = TenantBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/tenants")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> ApiResult {
    let p = authenticate(&req, &state, &meta).await?;
    let a = actor(&p, &meta);
    let ctx = context(&state, &a);
    // The policy answers before the body is read (the operation asks it again).
    require(&p, Operation::CreateTenant)?;
    let b: CreateTenant = parse_body(&body)?;
    let reg = TenantRegistration {
        name: b.name,
        api_access: b.api_access,
        scope: b.allowed_scopes,
        max_api_keys: b.max_api_keys,
    };
    let v = ops::create(&ctx, reg).await?;
    Ok(with_etag(StatusCode::CREATED, &v, &v))
}

/// One tenant.
#[utoipa::path(
    tag = "tenants",
    params(("id" = String, Path, description = "Tenant id or name")),
    responses((status = 200, body = TenantBody, headers(("ETag" = String))), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Organizations, Access::Read).await?;
    let a = actor(&p, &meta);
    let ctx = context(&state, &a);
    let id = ops::resolve(&ctx, &id).await?;
    let v = ops::get(&ctx, id.as_str()).await?;
    Ok(with_etag(StatusCode::OK, &v, &v))
}

/// Renames, disables or enables a tenant, or changes its API settings. Honours `If-Match`.
#[utoipa::path(
    tag = "tenants",
    params(("id" = String, Path, description = "Tenant id"), ("If-Match" = Option<String>, Header, description = "ETag of the tenant as last read")),
    request_body = PatchTenant,
    responses((status = 200, body = TenantBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/tenants/{id}")]
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Organizations, Access::Write).await?;
    let b: PatchTenant = parse_body(&body)?;
    let changes = TenantChanges {
        name: b.name,
        disabled: b.disabled,
        api_access: b.api_access,
        max_api_keys: b.max_api_keys,
        allowed_scopes: b.allowed_scopes,
    };
    let a = actor(&p, &meta);
    let matches = |t: &TenantView| if_match(&req, t);
    let v = ops::update(&context(&state, &a), &id, changes, Some(&matches)).await?;
    Ok(with_etag(StatusCode::OK, &v, &v))
}

/// Deletes a tenant (platform administrators) with its users, sessions, clients, API keys and
/// trusts; the audit trail keeps its events. The `default` tenant cannot be deleted.
#[utoipa::path(
    tag = "tenants",
    params(("id" = String, Path, description = "Tenant id")),
    responses((status = 200, body = DeletedTenantBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[delete("/tenants/{id}")]
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Organizations, Access::Write).await?;
    let a = actor(&p, &meta);
    let v = ops::delete(&context(&state, &a), &id).await?;
    Ok(json_response(StatusCode::OK, &v))
}

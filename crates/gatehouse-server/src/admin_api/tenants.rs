//! `/admin/v1/tenant` and `/admin/v1/tenants`: the caller's tenant, and tenant management
//! (creation and the access settings are for platform administrators; a tenant
//! administrator may read and rename its own tenant).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, get, patch, post, web};
use gatehouse_core::admin::{Access, AdminPrincipal, Resource};
use gatehouse_core::tenant::{MAX_MAX_API_KEYS, Tenant, TenantRegistration, parse_api_access};
use gatehouse_core::{ScopeSet, TenantId};

use super::auth::{authenticate, authorize, require_platform_admin};
use super::schemas::{CreateTenant, ErrorBody, Page, PatchTenant, TenantBody};
use super::{
    ApiError, ApiResult, PageRequest, actor, check_if_match, parse_body, query, with_etag,
};
use crate::admin_apikeys as ops;
use crate::request_meta::RequestMeta;
use crate::state::AppState;

async fn visible_tenant(
    state: &AppState,
    p: &AdminPrincipal,
    id: &str,
) -> Result<Tenant, ApiError> {
    let tid = TenantId::parse(id).map_err(|_| ApiError::not_found("tenant", id))?;
    if !p.may_access_tenant(&tid) {
        return Err(ApiError::not_found("tenant", id));
    }
    state
        .store
        .get_tenant(&tid)
        .await?
        .ok_or_else(|| ApiError::not_found("tenant", id))
}

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
    if !p.is_admin() {
        return Err(ApiError::insufficient_scope("read:organizations"));
    }
    let t = visible_tenant(&state, &p, p.tenant.as_str()).await?;
    let v = ops::tenant_json(&t);
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
    let mut ts: Vec<Tenant> = state
        .store
        .list_tenants()
        .await?
        .into_iter()
        .filter(|t| p.may_access_tenant(&t.id))
        .filter(|t| page.after.as_deref().is_none_or(|a| t.id.as_str() > a))
        .collect();
    ts.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let items = ts
        .iter()
        .take(page.limit as usize + 1)
        .map(|t| (t.id.to_string(), ops::tenant_json(t)))
        .collect();
    Ok(page.respond(items, "/admin/v1/tenants", None))
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
    require_platform_admin(&p)?;
    let b: CreateTenant = parse_body(&body)?;
    let reg = TenantRegistration {
        name: b.name,
        api_access: b.api_access,
        scope: b.allowed_scopes,
        max_api_keys: b.max_api_keys,
    };
    let v = ops::create_tenant(&state.store, &actor(&p, &meta), reg, state.now())
        .await
        .map_err(|e| rename_fields(e.into()))?;
    Ok(with_etag(StatusCode::CREATED, &v, &v))
}

/// The CLI's flag names, as the API's fields.
fn rename_fields(mut e: ApiError) -> ApiError {
    if e.field.as_deref() == Some("scope") {
        e.field = Some("allowed_scopes".into());
    }
    e
}

/// One tenant.
#[utoipa::path(
    tag = "tenants",
    params(("id" = String, Path, description = "Tenant id")),
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
    let t = visible_tenant(&state, &p, &id).await?;
    let v = ops::tenant_json(&t);
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
    let t = visible_tenant(&state, &p, &id).await?;
    let b: PatchTenant = parse_body(&body)?;
    if (b.disabled.is_some()
        || b.api_access.is_some()
        || b.max_api_keys.is_some()
        || b.allowed_scopes.is_some())
        && !p.is_platform_admin()
    {
        require_platform_admin(&p)?;
    }
    check_if_match(&req, &ops::tenant_json(&t))?;
    // Validate everything before the first write.
    if let Some(n) = &b.name {
        gatehouse_core::tenant::validate_tenant_name(n)
            .map_err(|e| ApiError::invalid(Some("name"), e))?;
    }
    let api_access = match &b.api_access {
        Some(s) => Some(parse_api_access(s).map_err(|_| {
            ApiError::invalid(Some("api_access"), "api_access must be enabled or disabled")
        })?),
        None => None,
    };
    if let Some(n) = b.max_api_keys
        && !(1..=MAX_MAX_API_KEYS).contains(&n)
    {
        return Err(ApiError::invalid(
            Some("max_api_keys"),
            format!("max_api_keys must be between 1 and {MAX_MAX_API_KEYS}"),
        ));
    }
    let scopes = match b.allowed_scopes.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(s) => Some(Some(
            ScopeSet::parse(s).map_err(|e| ApiError::invalid(Some("allowed_scopes"), e))?,
        )),
    };
    let a = actor(&p, &meta);
    let now = state.now();
    let store = &state.store;
    if let Some(n) = &b.name {
        ops::rename_tenant(store, &a, &id, n, now).await?;
    }
    if let Some(d) = b.disabled {
        ops::set_tenant_disabled(store, &a, &id, d, now).await?;
    }
    if let Some(enabled) = api_access {
        let v = if enabled { "enabled" } else { "disabled" };
        ops::set_tenant_api_access(store, &a, &id, v, now).await?;
    }
    if let Some(n) = b.max_api_keys {
        store.set_tenant_max_api_keys(&t.id, n).await?;
        ops::audit_action(
            store,
            &a,
            now,
            Some(&id),
            "tenant.max_api_keys",
            &id,
            serde_json::json!({ "max_api_keys": n }),
        )
        .await?;
    }
    if let Some(s) = scopes {
        store.set_tenant_allowed_scopes(&t.id, s.as_ref()).await?;
        ops::audit_action(
            store,
            &a,
            now,
            Some(&id),
            "tenant.allowed_scopes",
            &id,
            serde_json::json!({ "allowed_scopes": s.as_ref().map(ToString::to_string) }),
        )
        .await?;
    }
    let t = visible_tenant(&state, &p, &id).await?;
    let v = ops::tenant_json(&t);
    Ok(with_etag(StatusCode::OK, &v, &v))
}

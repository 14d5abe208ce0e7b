//! `/admin/v1/users`: a tenant's users (list, create, read, delete). Deleting a user also
//! ends its sessions and refresh tokens (the rows cascade).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use gatehouse_core::admin::{Access, AdminPrincipal, Resource};
use gatehouse_core::user::User;
use serde_json::json;

use super::auth::authorize;
use super::schemas::{CreateUser, ErrorBody, Page, UserBody};
use super::{
    ApiError, ApiResult, PageRequest, actor, check_if_match, parse_body, query, target_tenant,
    with_etag,
};
use crate::admin::user_json;
use crate::admin::{self as ops, ProfileInput};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

async fn visible_user(state: &AppState, p: &AdminPrincipal, id: &str) -> Result<User, ApiError> {
    match state.store.get_user_by_id(id).await? {
        Some(u) if p.may_access_tenant(&u.tenant_id) => Ok(u),
        _ => Err(ApiError::not_found("user", id)),
    }
}

/// A tenant's users by id (`tenant` defaults to the caller's).
#[utoipa::path(
    tag = "users",
    params(
        ("tenant" = Option<String>, Query, description = "Tenant id (default: the caller's)"),
        ("after" = Option<String>, Query, description = "Cursor: the last id of the previous page"),
        ("limit" = Option<u64>, Query, description = "Page size, 1 to 200 (default 50)")
    ),
    responses((status = 200, body = Page), (status = 403, body = ErrorBody))
)]
#[get("/users")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>, meta: RequestMeta) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Read).await?;
    let q = query(&req)?;
    let tenant = target_tenant(&p, q.get("tenant").map(String::as_str))?;
    let page = PageRequest::from_query(&q)?;
    let users = state
        .store
        .list_users_page(&tenant, page.after.as_deref(), page.limit + 1)
        .await?;
    let items = users
        .iter()
        .map(|u| (u.id.to_string(), user_json(u)))
        .collect();
    Ok(page.respond(items, "/admin/v1/users", Some(&tenant)))
}

/// Creates a user in the caller's tenant (or, for a platform administrator, any tenant).
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    responses((status = 201, body = UserBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/users")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Write).await?;
    let b: CreateUser = parse_body(&body)?;
    let tenant = target_tenant(&p, b.tenant.as_deref())?;
    let admin_scopes = b.admin_scopes.unwrap_or_default();
    super::api_keys::check_grantable(&p, Some(&admin_scopes.join(" ")), "admin_scopes")?;
    let profile = ProfileInput {
        name: b.name,
        given_name: b.given_name,
        family_name: b.family_name,
        phone: b.phone,
        address: b.address,
        admin_scopes,
    };
    let v = ops::create_user_with_profile(
        &state.store,
        &actor(&p, &meta),
        &b.username,
        b.email.as_deref(),
        &b.password,
        tenant.as_str(),
        profile,
        state.now(),
    )
    .await?;
    Ok(with_etag(StatusCode::CREATED, &v, &v))
}

/// One user.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserBody, headers(("ETag" = String))), (status = 404, body = ErrorBody))
)]
#[get("/users/{id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Read).await?;
    let v = user_json(&visible_user(&state, &p, &id).await?);
    Ok(with_etag(StatusCode::OK, &v, &v))
}

/// Deletes a user. Honours `If-Match`.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id"), ("If-Match" = Option<String>, Header, description = "ETag of the user as last read")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody))
)]
#[delete("/users/{id}")]
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Write).await?;
    let u = visible_user(&state, &p, &id).await?;
    check_if_match(&req, &user_json(&u))?;
    if !state.store.delete_user(&id).await? {
        return Err(ApiError::not_found("user", &id));
    }
    crate::admin_apikeys::audit_action(
        &state.store,
        &actor(&p, &meta),
        state.now(),
        Some(u.tenant_id.as_str()),
        "user.delete",
        u.id.as_str(),
        json!({ "username": u.username }),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

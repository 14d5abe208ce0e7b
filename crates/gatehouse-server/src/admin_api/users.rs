//! `/admin/v1/users`: a tenant's users (list, create, read, delete). Deleting a user also
//! ends its sessions and refresh tokens (the rows cascade).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use gatehouse_admin::users::{self as ops, NewUser, ProfileInput};
use gatehouse_admin::views::UserView;
use gatehouse_core::admin::{Access, Resource};

use super::auth::authorize;
use super::schemas::{CreateUser, ErrorBody, Page, UserBody};
use super::{ApiResult, PageRequest, actor, context, if_match, parse_body, query, with_etag};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

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
    let a = actor(&p, &meta);
    let tenant = a.tenant_or_home(q.get("tenant").map(String::as_str))?;
    let page = PageRequest::from_query(&q)?;
    let ctx = context(&state, &a);
    let users = ops::page(&ctx, &tenant, page.after.as_deref(), page.fetch()).await?;
    Ok(page.respond(
        users,
        |u| u.id.to_string(),
        "/admin/v1/users",
        Some(&tenant),
    ))
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
    let a = actor(&p, &meta);
    let tenant = a.tenant_or_home(b.tenant.as_deref())?;
    let new = NewUser {
        username: b.username,
        email: b.email,
        password: b.password,
        profile: ProfileInput {
            name: b.name,
            given_name: b.given_name,
            family_name: b.family_name,
            phone: b.phone,
            address: b.address,
            admin_scopes: b.admin_scopes.unwrap_or_default(),
        },
    };
    let v = ops::create(&context(&state, &a), &tenant, new).await?;
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
    let a = actor(&p, &meta);
    let v = ops::get(&context(&state, &a), &id).await?;
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
    let a = actor(&p, &meta);
    let matches = |u: &UserView| if_match(&req, u);
    ops::delete(&context(&state, &a), &id, Some(&matches)).await?;
    Ok(HttpResponse::NoContent().finish())
}

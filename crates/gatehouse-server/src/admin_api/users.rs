//! `/admin/v1/users`: a tenant's users (list, create, read, change, disable and enable,
//! password reset, delete) and their sessions (list, end). Deleting, disabling or resetting
//! the password of a user ends its sessions and refresh tokens. Passwords are hashed in the
//! server's bounded pool (503 + `Retry-After` when it is full).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use gatehouse_admin::sessions;
use gatehouse_admin::tenants::resolve_or_home;
use gatehouse_admin::users::{self as ops, NewUser, ProfileInput, UserChanges};
use gatehouse_admin::views::UserView;
use gatehouse_core::admin::{Access, Resource};

use super::auth::authorize;
use super::schemas::{CreateUser, ErrorBody, Page, UserBody};
use super::user_schemas::{
    EndedSessionsBody, PatchUser, ResetPassword, SessionListBody, UserChangeBody,
};
use super::{
    ApiResult, PageRequest, actor, context, if_match, json_response, parse_body, query, with_etag,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// A tenant's users by id (`tenant` defaults to the caller's).
#[utoipa::path(
    tag = "users",
    params(
        ("tenant" = Option<String>, Query, description = "Tenant id or name (default: the caller's)"),
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
    let page = PageRequest::from_query(&q)?;
    let ctx = context(&state, &a);
    let tenant = resolve_or_home(&ctx, q.get("tenant").map(String::as_str)).await?;
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
    let ctx = context(&state, &a);
    let tenant = resolve_or_home(&ctx, b.tenant.as_deref()).await?;
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
    let v = ops::create(&ctx, &tenant, new, &*state.hash_pool).await?;
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

/// Changes a user's email, profile or admin scopes. Honours `If-Match`.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id"), ("If-Match" = Option<String>, Header, description = "ETag of the user as last read")),
    request_body = PatchUser,
    responses((status = 200, body = UserBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/users/{id}")]
pub async fn patch_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Write).await?;
    let b: PatchUser = parse_body(&body)?;
    let changes = UserChanges {
        email: b.email,
        name: b.name,
        given_name: b.given_name,
        family_name: b.family_name,
        phone: b.phone,
        address: b.address,
        admin_scopes: b.admin_scopes,
    };
    let a = actor(&p, &meta);
    let matches = |u: &UserView| if_match(&req, u);
    let v = ops::update(&context(&state, &a), &id, changes, Some(&matches)).await?;
    Ok(with_etag(StatusCode::OK, &v, &v))
}

/// Disables a user: it can no longer sign in; its sessions and refresh tokens end at once.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserChangeBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/users/{id}/disable")]
pub async fn disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Write).await?;
    let a = actor(&p, &meta);
    let v = ops::disable(&context(&state, &a), &id).await?;
    Ok(json_response(StatusCode::OK, &v))
}

/// Lets a disabled user sign in again.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserChangeBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/users/{id}/enable")]
pub async fn enable(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Write).await?;
    let a = actor(&p, &meta);
    let v = ops::enable(&context(&state, &a), &id).await?;
    Ok(json_response(StatusCode::OK, &v))
}

/// Sets a new password; the user's sessions and refresh tokens end.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id")),
    request_body = ResetPassword,
    responses((status = 200, body = UserChangeBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody))
)]
#[post("/users/{id}/password")]
pub async fn reset_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Write).await?;
    let b: ResetPassword = parse_body(&body)?;
    let a = actor(&p, &meta);
    let ctx = context(&state, &a);
    let v = ops::reset_password(&ctx, &id, &b.password, &*state.hash_pool).await?;
    Ok(json_response(StatusCode::OK, &v))
}

/// The user's live sessions (sign-in page and console).
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = SessionListBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/users/{id}/sessions")]
pub async fn list_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Read).await?;
    let a = actor(&p, &meta);
    let v = sessions::list(&context(&state, &a), &id).await?;
    Ok(json_response(StatusCode::OK, &v))
}

/// Ends every session of the user.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = EndedSessionsBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/users/{id}/sessions")]
pub async fn end_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Write).await?;
    let a = actor(&p, &meta);
    let v = sessions::end(&context(&state, &a), &id, None).await?;
    Ok(json_response(StatusCode::OK, &v))
}

/// Ends one session of the user.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "User id"), ("session" = String, Path, description = "Session id from the session list")),
    responses((status = 200, body = EndedSessionsBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/users/{id}/sessions/{session}")]
pub async fn end_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Users, Access::Write).await?;
    let a = actor(&p, &meta);
    let (id, session) = path.into_inner();
    let v = sessions::end(&context(&state, &a), &id, Some(&session)).await?;
    Ok(json_response(StatusCode::OK, &v))
}

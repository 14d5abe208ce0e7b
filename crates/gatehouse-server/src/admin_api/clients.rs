//! `/admin/v1/clients`: a tenant's OAuth clients (list, register, read, update, delete) and
//! secret rotation. A secret is shown only in the answer that creates it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use gatehouse_admin::clients::{self as ops, NewClientOptions, NewClientRequest};
use gatehouse_admin::views::ClientView;
use gatehouse_core::admin::{Access, Resource};
use gatehouse_core::client::{ClientChanges, ClientRegistration};

use super::auth::authorize;
use super::schemas::{ClientBody, CreateClient, ErrorBody, Page, PatchClient};
use super::{
    ApiResult, PageRequest, actor, context, if_match, json_response, parse_body, query, with_etag,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// The ETag's source: the client as shown plus a fingerprint of its secret, so a rotation
/// changes the tag (the fingerprint reveals nothing of the secret and is never sent).
fn etag_source(c: &ClientView) -> (&ClientView, Option<&str>) {
    (c, c.secret_version.as_deref())
}

/// A tenant's clients by id.
#[utoipa::path(
    tag = "clients",
    params(
        ("tenant" = Option<String>, Query, description = "Tenant id (default: the caller's)"),
        ("after" = Option<String>, Query, description = "Cursor: the last id of the previous page"),
        ("limit" = Option<u64>, Query, description = "Page size, 1 to 200 (default 50)")
    ),
    responses((status = 200, body = Page), (status = 403, body = ErrorBody))
)]
#[get("/clients")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>, meta: RequestMeta) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Clients, Access::Read).await?;
    let q = query(&req)?;
    let a = actor(&p, &meta);
    let tenant = a.tenant_or_home(q.get("tenant").map(String::as_str))?;
    let page = PageRequest::from_query(&q)?;
    let ctx = context(&state, &a);
    let clients = ops::page(&ctx, &tenant, page.after.as_deref(), page.fetch()).await?;
    Ok(page.respond(
        clients,
        |c| c.client_id.to_string(),
        "/admin/v1/clients",
        Some(&tenant),
    ))
}

/// Registers a client; the answer holds its secret, shown this once.
#[utoipa::path(
    tag = "clients",
    request_body = CreateClient,
    responses((status = 201, body = ClientBody), (status = 422, body = ErrorBody))
)]
#[post("/clients")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Clients, Access::Write).await?;
    let b: CreateClient = parse_body(&body)?;
    let a = actor(&p, &meta);
    let options = NewClientOptions {
        resources: b.resources,
        require_par: b.require_par,
        dpop_required: b.dpop_required,
    };
    let registration = ClientRegistration {
        name: b.name,
        tenant_id: a.tenant_or_home(b.tenant.as_deref())?,
        grant_types: b.grant_types,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        scope: b.scope,
        auth_method: b.auth_method,
        id_token_alg: b.id_token_alg,
        access_token_alg: b.access_token_alg,
        access_token_ttl: b.access_token_ttl,
        pkce_optional: b.pkce_optional,
        refresh_grace_seconds: b.refresh_grace_seconds,
        refresh_idle_ttl: b.refresh_idle_ttl,
        refresh_absolute_ttl: b.refresh_absolute_ttl,
        may_act: b.may_act,
    };
    let req = NewClientRequest {
        registration,
        keys: None,
    };
    let master = state.settings.master_key.as_ref();
    let v = ops::create_with_options(&context(&state, &a), req, master, options).await?;
    Ok(json_response(StatusCode::CREATED, &v))
}

/// One client (never its secret).
#[utoipa::path(
    tag = "clients",
    params(("id" = String, Path, description = "Client id")),
    responses((status = 200, body = ClientBody, headers(("ETag" = String))), (status = 404, body = ErrorBody))
)]
#[get("/clients/{id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Clients, Access::Read).await?;
    let a = actor(&p, &meta);
    let c = ops::get(&context(&state, &a), &id).await?;
    Ok(with_etag(StatusCode::OK, &c, &etag_source(&c)))
}

/// Changes a client's registration (checked as a registration is; scopes handed on only by
/// callers who hold them). Takes effect at once. Honours `If-Match`.
#[utoipa::path(
    tag = "clients",
    params(("id" = String, Path, description = "Client id"), ("If-Match" = Option<String>, Header, description = "ETag of the client as last read")),
    request_body = PatchClient,
    responses((status = 200, body = ClientBody, headers(("ETag" = String))), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[patch("/clients/{id}")]
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Clients, Access::Write).await?;
    let b: PatchClient = parse_body(&body)?;
    let changes = ClientChanges {
        name: b.name,
        grant_types: b.grant_types,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        scope: b.scope,
        id_token_alg: b.id_token_alg,
        access_token_ttl: b.access_token_ttl,
        pkce_optional: b.pkce_optional,
        refresh_grace_seconds: b.refresh_grace_seconds,
        refresh_idle_ttl: b.refresh_idle_ttl,
        refresh_absolute_ttl: b.refresh_absolute_ttl,
        may_act: b.may_act,
    };
    let a = actor(&p, &meta);
    let matches = |c: &ClientView| if_match(&req, &etag_source(c));
    let v = ops::update(&context(&state, &a), &id, changes, Some(&matches)).await?;
    Ok(with_etag(StatusCode::OK, &v, &etag_source(&v)))
}

/// Deletes a client with its grants. Honours `If-Match`.
#[utoipa::path(
    tag = "clients",
    params(("id" = String, Path, description = "Client id"), ("If-Match" = Option<String>, Header, description = "ETag of the client as last read")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody))
)]
#[delete("/clients/{id}")]
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Clients, Access::Write).await?;
    let a = actor(&p, &meta);
    let matches = |c: &ClientView| if_match(&req, &etag_source(c));
    ops::delete(&context(&state, &a), &id, Some(&matches)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replaces a confidential client's secret; the old one stops working at once. The answer
/// holds the new secret, shown this once. Honours `If-Match`.
#[utoipa::path(
    tag = "clients",
    params(("id" = String, Path, description = "Client id"), ("If-Match" = Option<String>, Header, description = "ETag of the client as last read")),
    responses((status = 200, body = ClientBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody))
)]
#[post("/clients/{id}/secret")]
pub async fn rotate_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Clients, Access::Write).await?;
    let a = actor(&p, &meta);
    let matches = |c: &ClientView| if_match(&req, &etag_source(c));
    let v = ops::rotate_secret(
        &context(&state, &a),
        &id,
        Some(&matches),
        state.settings.master_key.as_ref(),
    )
    .await?;
    Ok(with_etag(StatusCode::OK, &v, &etag_source(&v.client)))
}

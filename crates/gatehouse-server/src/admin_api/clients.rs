//! `/admin/v1/clients`: a tenant's OAuth clients (list, register, read, delete) and secret
//! rotation. A secret is shown only in the answer that creates it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use gatehouse_core::admin::{Access, AdminPrincipal, Resource};
use gatehouse_core::client::{Client, ClientRegistration};
use gatehouse_core::secret::Secret;
use serde_json::{Value, json};

use super::auth::authorize;
use super::schemas::{ClientBody, CreateClient, ErrorBody, Page};
use super::{
    ApiError, ApiResult, PageRequest, actor, check_if_match, json_response, parse_body, query,
    target_tenant, with_etag,
};
use crate::admin::client_json;
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// The ETag's source: the client as listed plus its secret's digest, so a rotation changes
/// the tag (the digest reveals nothing of the secret and is never sent).
fn etag_source(c: &Client) -> Value {
    let mut v = client_json(c);
    v["secret"] = Value::from(c.secret_hash.as_ref().map(|h| h.to_hex()));
    v
}

async fn visible_client(
    state: &AppState,
    p: &AdminPrincipal,
    id: &str,
) -> Result<Client, ApiError> {
    match state.store.get_client_by_id(id).await? {
        Some(c) if p.may_access_tenant(&c.tenant_id) => Ok(c),
        _ => Err(ApiError::not_found("client", id)),
    }
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
    let tenant = target_tenant(&p, q.get("tenant").map(String::as_str))?;
    let page = PageRequest::from_query(&q)?;
    let cs = state
        .store
        .list_clients_page(&tenant, page.after.as_deref(), page.limit + 1)
        .await?;
    let items = cs
        .iter()
        .map(|c| (c.id.to_string(), client_json(c)))
        .collect();
    Ok(page.respond(items, "/admin/v1/clients", Some(&tenant)))
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
    let tenant = target_tenant(&p, b.tenant.as_deref())?;
    super::api_keys::check_grantable(&p, b.scope.as_deref(), "scope")?;
    let reg = ClientRegistration {
        name: b.name,
        tenant_id: tenant.clone(),
        grant_types: b.grant_types,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        scope: b.scope,
        auth_method: b.auth_method,
        id_token_alg: b.id_token_alg,
        access_token_ttl: b.access_token_ttl,
        pkce_optional: b.pkce_optional,
        refresh_grace_seconds: b.refresh_grace_seconds,
        refresh_idle_ttl: b.refresh_idle_ttl,
        refresh_absolute_ttl: b.refresh_absolute_ttl,
    };
    let v = crate::admin::create_client_with_keys(
        &state.store,
        &actor(&p, &meta),
        reg,
        tenant.as_str(),
        None,
        state.settings.master_key.as_ref(),
        state.now(),
    )
    .await?;
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
    let c = visible_client(&state, &p, &id).await?;
    Ok(with_etag(
        StatusCode::OK,
        &client_json(&c),
        &etag_source(&c),
    ))
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
    let c = visible_client(&state, &p, &id).await?;
    check_if_match(&req, &etag_source(&c))?;
    if !state.store.delete_client(&id).await? {
        return Err(ApiError::not_found("client", &id));
    }
    crate::admin_apikeys::audit_action(
        &state.store,
        &actor(&p, &meta),
        state.now(),
        Some(c.tenant_id.as_str()),
        "client.delete",
        c.id.as_str(),
        json!({ "name": c.name }),
    )
    .await?;
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
    let c = visible_client(&state, &p, &id).await?;
    check_if_match(&req, &etag_source(&c))?;
    if c.secret_hash.is_none() {
        return Err(ApiError::conflict(
            "conflict",
            "this client has no secret (public or private_key_jwt client)",
        ));
    }
    let secret = Secret::generate();
    if !state
        .store
        .set_client_secret_hash(&id, &secret.hash())
        .await?
    {
        return Err(ApiError::not_found("client", &id));
    }
    crate::admin_apikeys::audit_action(
        &state.store,
        &actor(&p, &meta),
        state.now(),
        Some(c.tenant_id.as_str()),
        "client.secret_rotate",
        c.id.as_str(),
        json!({}),
    )
    .await?;
    let c = visible_client(&state, &p, &id).await?;
    let mut v = client_json(&c);
    v["client_secret"] = Value::from(secret.expose());
    Ok(with_etag(StatusCode::OK, &v, &etag_source(&c)))
}

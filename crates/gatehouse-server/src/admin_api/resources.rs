//! `/admin/v1/resources`: a tenant's resource servers (RFC 8707 resource indicators): list,
//! register, delete. Translation only; `gatehouse_admin::resources` decides.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use gatehouse_admin::resources::{self as ops, NewResource};
use gatehouse_core::admin::{Access, Resource};

use super::auth::authorize;
use super::schemas::{CreateResource, ErrorBody, ResourceBody};
use super::{ApiError, ApiResult, actor, context, json_response, parse_body, query};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// A tenant's resource servers, by identifier.
#[utoipa::path(
    tag = "resources",
    params(("tenant" = Option<String>, Query, description = "Tenant id (default: the caller's)")),
    responses((status = 200, body = Vec<ResourceBody>), (status = 403, body = ErrorBody))
)]
#[get("/resources")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>, meta: RequestMeta) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Clients, Access::Read).await?;
    let q = query(&req)?;
    let a = actor(&p, &meta);
    let tenant = a.tenant_or_home(q.get("tenant").map(String::as_str))?;
    let v = ops::list(&context(&state, &a), &tenant).await?;
    Ok(json_response(StatusCode::OK, &v))
}

/// Registers a resource server.
#[utoipa::path(
    tag = "resources",
    request_body = CreateResource,
    responses((status = 201, body = ResourceBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/resources")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Clients, Access::Write).await?;
    let b: CreateResource = parse_body(&body)?;
    let a = actor(&p, &meta);
    let tenant = a.tenant_or_home(b.tenant.as_deref())?;
    let new = NewResource {
        identifier: b.identifier,
        scope: b.scope,
        access_token_ttl: b.access_token_ttl,
        alg: b.alg,
    };
    let v = ops::create(&context(&state, &a), &tenant, new).await?;
    Ok(json_response(StatusCode::CREATED, &v))
}

/// Deletes the resource server named by the `identifier` query parameter.
#[utoipa::path(
    tag = "resources",
    params(
        ("identifier" = String, Query, description = "The resource's identifier"),
        ("tenant" = Option<String>, Query, description = "Tenant id (default: the caller's)")
    ),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody))
)]
#[delete("/resources")]
pub async fn remove(req: HttpRequest, state: web::Data<AppState>, meta: RequestMeta) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Clients, Access::Write).await?;
    let q = query(&req)?;
    let a = actor(&p, &meta);
    let tenant = a.tenant_or_home(q.get("tenant").map(String::as_str))?;
    let identifier = q.get("identifier").ok_or_else(|| {
        ApiError::from(gatehouse_admin::OpError::from(
            gatehouse_admin::FieldError::new(gatehouse_admin::Field::Identifier, "is required"),
        ))
    })?;
    ops::delete(&context(&state, &a), &tenant, identifier).await?;
    Ok(HttpResponse::NoContent().finish())
}

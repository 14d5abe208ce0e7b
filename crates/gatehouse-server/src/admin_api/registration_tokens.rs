//! `/admin/v1/registration_tokens`: initial access tokens of dynamic client registration
//! (RFC 7591 §3), with the right `write:clients`. Translation only;
//! `gatehouse_admin::registration_tokens` decides.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, post, web};
use gatehouse_admin::registration_tokens as ops;
use gatehouse_core::admin::{Access, Resource};

use super::auth::authorize;
use super::schemas::{CreateRegistrationToken, ErrorBody, RegistrationTokenBody};
use super::{ApiResult, actor, context, json_response, parse_body};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// Creates an initial access token; the token is shown in this answer only.
#[utoipa::path(
    tag = "registration_tokens",
    request_body = CreateRegistrationToken,
    responses((status = 201, body = RegistrationTokenBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/registration_tokens")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Clients, Access::Write).await?;
    let b: CreateRegistrationToken = parse_body(&body)?;
    let a = actor(&p, &meta);
    let tenant = a.tenant_or_home(b.tenant.as_deref())?;
    let v = ops::create(&context(&state, &a), &tenant, b.ttl, b.max_uses).await?;
    Ok(json_response(StatusCode::CREATED, &v))
}

//! `/admin/v1/keys`: the server's signing keys (public information only) and rotation by a
//! platform administrator (RFC 7517 key sets; the retired key stays published).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, get, post, web};
use gatehouse_admin::signing_keys as ops;
use gatehouse_core::admin::{Access, Operation, Resource};

use super::auth::{authenticate, authorize, require};
use super::schemas::{ErrorBody, RotateKey, SigningKeyBody};
use super::{ApiError, ApiResult, actor, context, json_response, parse_body};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// The signing keys: `{"keys": [...]}`.
#[utoipa::path(
    tag = "keys",
    responses((status = 200, body = Vec<SigningKeyBody>), (status = 403, body = ErrorBody))
)]
#[get("/keys")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>, meta: RequestMeta) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Keys, Access::Read).await?;
    let a = actor(&p, &meta);
    let v = ops::list(&context(&state, &a)).await?;
    Ok(json_response(StatusCode::OK, &v))
}

/// Generates a new key for `alg` (platform administrators): published in the JWKS at once, it
/// signs from its `activates_at` (`[keys] propagation_delay` later), when every node has it.
#[utoipa::path(
    tag = "keys",
    request_body = RotateKey,
    responses((status = 201, body = SigningKeyBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/keys/rotate")]
pub async fn rotate(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> ApiResult {
    let p = authenticate(&req, &state, &meta).await?;
    // The policy answers before the body is read (the operation asks it again).
    require(&p, Operation::RotateSigningKey)?;
    let b: RotateKey = parse_body(&body)?;
    let a = actor(&p, &meta);
    let ctx = context(&state, &a);
    let v = ops::rotate(
        &ctx,
        &b.alg,
        state.settings.master_key.as_ref(),
        state.settings.keys.propagation(),
    )
    .await?;
    // Publish the new key from this node at once; other nodes load it on their next reload,
    // well before it signs.
    state
        .keys
        .reload(&state.store, ctx.now)
        .await
        .map_err(ApiError::server)?;
    Ok(json_response(StatusCode::CREATED, &v))
}

//! `/admin/v1/keys`: the server's signing keys (public information only) and rotation by a
//! platform administrator (RFC 7517 key sets; the retired key stays published).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, get, post, web};
use gatehouse_core::admin::{Access, Resource};

use super::auth::{authenticate, authorize, require_platform_admin};
use super::schemas::{ErrorBody, RotateKey, SigningKeyBody};
use super::{ApiError, ApiResult, actor, json_response, parse_body};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// The signing keys: `{"keys": [...]}`.
#[utoipa::path(
    tag = "keys",
    responses((status = 200, body = Vec<SigningKeyBody>), (status = 403, body = ErrorBody))
)]
#[get("/keys")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>, meta: RequestMeta) -> ApiResult {
    authorize(&req, &state, &meta, Resource::Keys, Access::Read).await?;
    let v = crate::admin::list_keys(&state.store).await?;
    Ok(json_response(StatusCode::OK, &v))
}

/// Generates a new active key for `alg` at once (platform administrators).
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
    require_platform_admin(&p)?;
    let b: RotateKey = parse_body(&body)?;
    let now = state.now();
    let v = crate::admin::rotate_key(
        &state.store,
        &actor(&p, &meta),
        &b.alg,
        state.settings.master_key.as_ref(),
        now,
    )
    .await
    .map_err(|e| {
        let mut e = ApiError::from(e);
        if e.field.as_deref() == Some("alg") || e.description.starts_with("--alg") {
            e.field = Some("alg".into());
        }
        e
    })?;
    // Sign with the new key on this node at once; other nodes pick it up on their next reload.
    state
        .keys
        .reload(&state.store, now)
        .await
        .map_err(ApiError::server)?;
    Ok(json_response(StatusCode::CREATED, &v))
}

//! `/admin/v1/audit`: the audit trail, oldest first after a cursor. Tenant callers see only
//! their tenant's events; a platform administrator sees all (or one tenant's with `tenant`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, get, web};
use gatehouse_core::admin::{Access, Resource};
use serde_json::json;

use super::auth::authorize;
use super::schemas::{AuditPage, ErrorBody};
use super::{ApiError, ApiResult, json_response, query, target_tenant};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// Events with an id greater than `after`; `next_after` is the cursor for the next call.
#[utoipa::path(
    tag = "audit",
    params(
        ("after" = Option<i64>, Query, description = "Cursor: events with a greater id (default 0)"),
        ("limit" = Option<u64>, Query, description = "1 to 1000 (default 100)"),
        ("tenant" = Option<String>, Query, description = "Platform administrators: one tenant's events")
    ),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody))
)]
#[get("/audit")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>, meta: RequestMeta) -> ApiResult {
    let p = authorize(&req, &state, &meta, Resource::Audit, Access::Read).await?;
    let q = query(&req)?;
    let after = match q.get("after") {
        None => 0,
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::invalid(Some("after"), "after must be an integer, 0 or more")
        })?,
    };
    let max = gatehouse_store::audit::MAX_AUDIT_PAGE;
    let limit = match q.get("limit") {
        None => 100,
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(Some("limit"), format!("limit must be between 1 and {max}"))
            })?,
    };
    let tenant = match q.get("tenant") {
        Some(t) => Some(target_tenant(&p, Some(t))?),
        None if p.is_platform_admin() => None,
        None => Some(p.tenant.clone()),
    };
    let events = state
        .store
        .audit()
        .list_after(after, limit, tenant.as_ref().map(|t| t.as_str()))
        .await?;
    let next_after = events.last().map_or(after, |e| e.id);
    Ok(json_response(
        StatusCode::OK,
        &json!({ "events": events, "next_after": next_after }),
    ))
}

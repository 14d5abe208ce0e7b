//! `/admin/v1/audit`: the audit trail, oldest first after a cursor. Tenant callers see only
//! their tenant's events; a platform administrator sees all (or one tenant's with `tenant`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, get, web};
use gatehouse_core::admin::{Access, Resource};

use super::auth::authorize;
use super::schemas::{AuditPage, ErrorBody};
use super::{ApiError, ApiResult, actor, context, json_response, query};
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
    let number = |name: &'static str, default: i64| match q.get(name) {
        None => Ok(default),
        Some(s) => s
            .parse::<i64>()
            .map_err(|_| ApiError::invalid(Some(name), format!("{name} must be an integer"))),
    };
    let after = number("after", 0)?;
    let limit = u64::try_from(number("limit", 100)?).unwrap_or(0);
    let a = actor(&p, &meta);
    let tenant = match q.get("tenant") {
        Some(t) => Some(a.tenant_or_home(Some(t))?),
        None => None,
    };
    let page =
        gatehouse_admin::audit::list(&context(&state, &a), tenant.as_ref(), after, limit).await?;
    Ok(json_response(StatusCode::OK, &page))
}

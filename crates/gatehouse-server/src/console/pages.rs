//! The console's read-only pages: a tenant's audit trail (newest first, "older" paging by an
//! id cursor: `?before=N` shows the entries with ids below N), read through the operator
//! actions of `gatehouse_admin`, which the core policy governs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_admin::Context;
use gatehouse_core::admin::{Access, Resource};
use gatehouse_core::audit::AuditEvent;

use super::views::{AuditPage, AuditRow};
use super::{
    BASE, message, page, pick_tenant, read_query, refusal, require_admin, show_time, tenant_choices,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// Audit entries per page.
const AUDIT_PAGE: u64 = 50;

/// `GET /admin/console/audit?tenant=&before=N`.
pub async fn audit_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> HttpResponse {
    let admin = match require_admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let q = match read_query(&req) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let tenant = match pick_tenant(&ctx, q.get("tenant"), Resource::Audit, Access::Read).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let before = match q.get("before").map(str::parse::<i64>) {
        None => i64::MAX,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            return message(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "before: must be a positive entry id",
            );
        }
    };
    let events =
        match gatehouse_admin::audit::list_before(&ctx, &tenant.id, before, AUDIT_PAGE).await {
            Ok(e) => e,
            Err(e) => return refusal(e),
        };
    let tenants = match tenant_choices(&ctx).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let older = (events.len() as u64 == AUDIT_PAGE)
        .then(|| events.last().map(|e| e.id))
        .flatten()
        .map(|id| {
            let q = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("tenant", tenant.id.as_str())
                .append_pair("before", &id.to_string())
                .finish();
            format!("{BASE}/audit?{q}")
        });
    let rows = events.iter().map(audit_row).collect();
    page(
        StatusCode::OK,
        &AuditPage {
            nav: admin.nav("audit", &tenant.id),
            tenant: tenant.id.as_str(),
            tenant_name: &tenant.name,
            tenants,
            rows,
            older,
            newest: format!("{BASE}/audit?{}", super::tenant_query(&tenant.id)),
            paged: before != i64::MAX,
        },
    )
}

/// One row of the audit table.
fn audit_row(e: &AuditEvent) -> AuditRow {
    let ev = &e.event;
    AuditRow {
        id: e.id,
        time: show_time(ev.at),
        actor: match &ev.actor {
            Some(a) => format!("{} {a}", ev.actor_kind.as_str()),
            None => ev.actor_kind.as_str().to_owned(),
        },
        action: ev.action.clone(),
        target: ev.target.clone().unwrap_or_default(),
        source_ip: ev.source_ip.clone().unwrap_or_default(),
        request_id: ev.request_id.clone().unwrap_or_default(),
        outcome: ev.outcome.as_str(),
    }
}

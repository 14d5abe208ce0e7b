//! The console's read-only pages: a tenant's clients, and its audit trail (newest first,
//! "older" paging by an id cursor: `?before=N` shows the entries with ids below N).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::admin::{Access, Resource};

use super::views::{AuditPage, AuditRow, ClientRow, ClientsPage};
use super::{
    BASE, forbidden, internal, message, page, pick_tenant, read_query, require_admin, show_time,
    tenant_choices,
};
use crate::state::AppState;

/// Audit entries per page.
const AUDIT_PAGE: u64 = 50;

/// `GET /admin/console/clients?tenant=`.
pub async fn clients_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let admin = match require_admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !admin.principal.can(Resource::Clients, Access::Read) {
        return forbidden("Your admin scopes do not include reading clients.");
    }
    let q = match read_query(&req) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let tenant = match pick_tenant(&state, &admin, q.get("tenant")).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let clients = match state.store.console_clients(&tenant.id).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let tenants = match tenant_choices(&state, &admin).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let rows = clients
        .iter()
        .map(|c| ClientRow {
            id: c.id.as_str().to_owned(),
            name: c.name.clone(),
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            redirect_uris: c
                .redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            auth_method: c.auth_method.as_str(),
        })
        .collect();
    page(
        StatusCode::OK,
        &ClientsPage {
            nav: admin.nav("clients", &tenant.id),
            tenant: tenant.id.as_str(),
            tenant_name: &tenant.name,
            tenants,
            rows,
        },
    )
}

/// `GET /admin/console/audit?tenant=&before=N`.
pub async fn audit_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let admin = match require_admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !admin.principal.can(Resource::Audit, Access::Read) {
        return forbidden("Your admin scopes do not include reading the audit trail.");
    }
    let q = match read_query(&req) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let tenant = match pick_tenant(&state, &admin, q.get("tenant")).await {
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
    let events = match state
        .store
        .audit()
        .list_before(before, AUDIT_PAGE, Some(tenant.id.as_str()))
        .await
    {
        Ok(e) => e,
        Err(e) => return internal(e),
    };
    let tenants = match tenant_choices(&state, &admin).await {
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
    let rows = events
        .iter()
        .map(|e| {
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
        })
        .collect();
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

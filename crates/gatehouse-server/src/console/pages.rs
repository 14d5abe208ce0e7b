//! The console's read-only audit page: a tenant's audit trail (newest first, "older" paging by
//! an id cursor: `?before=N` shows the entries with ids below N; filters by actor, action,
//! outcome and time range; users, clients and tenants shown by name with the id on hover),
//! read through the operator actions of `gatehouse_admin`, which the core policy governs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use gatehouse_admin::Context;
use gatehouse_admin::audit::{AuditFilter, SEARCH_SCAN};
use gatehouse_core::admin::{Access, Resource};
use gatehouse_core::audit::AuditEvent;
use gatehouse_core::params::Params;

use super::views::{AuditFilterForm, AuditPage, AuditRow};
use super::{
    BASE, message, page, pick_tenant, read_query, refusal, require_admin, show_time, tenant_choices,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// Audit entries per page.
const AUDIT_PAGE: u64 = 50;

/// `GET /admin/console/audit?tenant=&before=N&actor=&action=&outcome=&from=&to=`.
pub async fn audit_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> HttpResponse {
    audit_page(&req, &state, &meta).await.unwrap_or_else(|r| r)
}

/// A time of the filter form: `YYYY-MM-DDTHH:MM` (a `datetime-local` input) or `YYYY-MM-DD`,
/// in UTC.
fn parse_time(field: &str, v: &str) -> Result<Option<DateTime<Utc>>, HttpResponse> {
    if v.is_empty() {
        return Ok(None);
    }
    let t = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        });
    match t {
        Some(t) => Ok(Some(t.and_utc())),
        None => Err(message(
            StatusCode::BAD_REQUEST,
            "Bad request",
            &format!("{field}: expected a time like 2026-12-04T09:30 (UTC)"),
        )),
    }
}

/// The filter form as typed, and the filter it asks for.
fn filter_of(q: &Params) -> Result<(AuditFilterForm, AuditFilter), HttpResponse> {
    let get = |n: &str| q.get(n).unwrap_or_default().trim().to_owned();
    let form = AuditFilterForm {
        actor: get("actor"),
        action: get("action"),
        outcome: get("outcome"),
        from: get("from"),
        to: get("to"),
    };
    if !["", "success", "failure", "denied"].contains(&form.outcome.as_str()) {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "outcome: expected success, failure or denied",
        ));
    }
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let filter = AuditFilter {
        actor: some(&form.actor),
        action: some(&form.action),
        outcome: some(&form.outcome),
        from: parse_time("from", &form.from)?,
        to: parse_time("to", &form.to)?,
    };
    Ok((form, filter))
}

/// A link to the audit page of `tenant` with the filter, from `before` when given.
fn audit_link(tenant: &str, f: &AuditFilterForm, before: Option<i64>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("tenant", tenant);
    for (k, v) in [
        ("actor", &f.actor),
        ("action", &f.action),
        ("outcome", &f.outcome),
        ("from", &f.from),
        ("to", &f.to),
    ] {
        if !v.is_empty() {
            q.append_pair(k, v);
        }
    }
    if let Some(b) = before {
        q.append_pair("before", &b.to_string());
    }
    format!("{BASE}/audit?{}", q.finish())
}

async fn audit_page(
    req: &HttpRequest,
    state: &AppState,
    meta: &RequestMeta,
) -> Result<HttpResponse, HttpResponse> {
    let admin = require_admin(state, req).await?;
    let q = read_query(req)?;
    let actor = admin.actor(meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let tenant = pick_tenant(&ctx, q.get("tenant"), Resource::Audit, Access::Read).await?;
    let before = match q.get("before").map(str::parse::<i64>) {
        None => i64::MAX,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            return Err(message(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "before: must be a positive entry id",
            ));
        }
    };
    let (form, filter) = filter_of(&q)?;
    let found = gatehouse_admin::audit::search(&ctx, &tenant.id, before, AUDIT_PAGE, &filter)
        .await
        .map_err(refusal)?;
    let tenants = tenant_choices(&ctx).await?;
    let tid = tenant.id.as_str();
    let older = found.next_before.map(|b| audit_link(tid, &form, Some(b)));
    let rows = found
        .events
        .iter()
        .map(|e| audit_row(e, &found.names))
        .collect();
    Ok(page(
        StatusCode::OK,
        &AuditPage {
            nav: admin.nav("audit", &tenant.id),
            tenant: tid,
            tenant_name: &tenant.name,
            tenants,
            rows,
            older,
            newest: audit_link(tid, &form, None),
            paged: before != i64::MAX,
            filter: form,
            scan: SEARCH_SCAN,
        },
    ))
}

/// One row of the audit table: names where known, ids on hover.
fn audit_row(e: &AuditEvent, names: &HashMap<String, String>) -> AuditRow {
    let ev = &e.event;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let actor_id = ev.actor.clone().unwrap_or_default();
    let target_id = ev.target.clone().unwrap_or_default();
    AuditRow {
        id: e.id,
        time: show_time(ev.at),
        actor_kind: ev.actor_kind.as_str(),
        actor: name(&actor_id),
        actor_id,
        action: ev.action.clone(),
        target: name(&target_id),
        target_id,
        source_ip: ev.source_ip.clone().unwrap_or_default(),
        request_id: ev.request_id.clone().unwrap_or_default(),
        outcome: ev.outcome.as_str(),
    }
}

//! The console's Tenants page (issue 11), for platform administrators: every tenant with its
//! state, a create form, rename, and disable/enable. Whether the admin may see it at all is
//! asked of the core policy (reading every tenant); each change is an operator action of
//! `gatehouse_admin::tenants`, which asks the policy again (creating and governing tenants are
//! platform actions). Every form carries the session's CSRF token.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_admin::tenants::{self, TenantChanges};
use gatehouse_admin::{Context, OpError};
use gatehouse_core::TenantId;
use gatehouse_core::admin::{Operation, Principal, Resource, authorize};
use gatehouse_core::tenant::TenantRegistration;

use super::views::{TenantRow, TenantsPage};
use super::{
    BASE, page, read_form, read_query, refusal, require_admin, require_admin_form, see_other,
    show_time,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(&format!("{BASE}/tenants"), web::get().to(tenants_get))
        .route(
            &format!("{BASE}/tenants/create"),
            web::post().to(create_post),
        )
        .route(
            &format!("{BASE}/tenants/update"),
            web::post().to(update_post),
        );
}

type Page = Result<HttpResponse, HttpResponse>;

fn notice(code: Option<&str>) -> Option<String> {
    let text = match code? {
        "created" => "The tenant was created.",
        "renamed" => "The tenant was renamed.",
        "disabled" => "The tenant was disabled: its clients, users and API keys stop at once.",
        "enabled" => "The tenant was enabled again.",
        _ => return None,
    };
    Some(text.to_owned())
}

fn link(notice: &str) -> String {
    format!("{BASE}/tenants?notice={notice}")
}

/// `GET /admin/console/tenants`.
pub async fn tenants_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> HttpResponse {
    list(&req, &state, &meta).await.unwrap_or_else(|r| r)
}

async fn list(req: &HttpRequest, state: &AppState, meta: &RequestMeta) -> Page {
    let admin = require_admin(state, req).await?;
    let q = read_query(req)?;
    let actor = admin.actor(meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    // The page lists every tenant: only for those the policy lets read every tenant.
    let every = Operation::ReadEveryTenant(Resource::Organizations);
    authorize(&Principal::Admin(admin.principal.clone()), every)
        .map_err(|d| refusal(OpError::Denied(d)))?;
    let all = tenants::list(&ctx).await.map_err(refusal)?;
    let rows = all
        .tenants
        .iter()
        .map(|t| TenantRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            created: show_time(t.created_at),
            disabled: t.disabled,
            api_access: t.api_access,
            is_default: t.id.as_str() == TenantId::DEFAULT,
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        &TenantsPage {
            nav: admin.nav("tenants", &admin.principal.tenant),
            rows,
            notice: notice(q.get("notice")),
        },
    ))
}

/// `POST /admin/console/tenants/create` (name).
pub async fn create_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    create(&req, &state, &meta, &body)
        .await
        .unwrap_or_else(|r| r)
}

async fn create(req: &HttpRequest, state: &AppState, meta: &RequestMeta, body: &[u8]) -> Page {
    let form = read_form(req, body)?;
    let admin = require_admin_form(state, req, &form).await?;
    let actor = admin.actor(meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let reg = TenantRegistration {
        name: form.get("name").unwrap_or_default().to_owned(),
        api_access: None,
        scope: None,
        max_api_keys: None,
    };
    tenants::create(&ctx, reg).await.map_err(refusal)?;
    Ok(see_other(&link("created")))
}

/// `POST /admin/console/tenants/update` (id, and `name` to rename or `disabled=true|false`).
pub async fn update_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    update(&req, &state, &meta, &body)
        .await
        .unwrap_or_else(|r| r)
}

async fn update(req: &HttpRequest, state: &AppState, meta: &RequestMeta, body: &[u8]) -> Page {
    let form = read_form(req, body)?;
    let admin = require_admin_form(state, req, &form).await?;
    let actor = admin.actor(meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let mut changes = TenantChanges::default();
    let code = match (form.get("name"), form.get("disabled")) {
        (Some(n), None) => {
            changes.name = Some(n.to_owned());
            "renamed"
        }
        (None, Some("true")) => {
            changes.disabled = Some(true);
            "disabled"
        }
        (None, Some("false")) => {
            changes.disabled = Some(false);
            "enabled"
        }
        _ => {
            return Err(super::message(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "Give either a new name or disabled=true|false.",
            ));
        }
    };
    let id = form.get("id").unwrap_or_default();
    tenants::update(&ctx, id, changes, None)
        .await
        .map_err(refusal)?;
    Ok(see_other(&link(code)))
}

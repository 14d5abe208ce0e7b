//! The console's Resources page (issue 12): a tenant's resource servers of RFC 8707 — the
//! identifiers its clients may name with `resource` (the access token's `aud`), each with its
//! scopes and optionally its own access-token lifetime and signing algorithm — registered and
//! deleted as `gatehouse resource create|delete` and `POST|DELETE /admin/v1/resources` do:
//! through `gatehouse_admin::resources`, which asks the core policy (reading needs
//! `read:clients`, changing needs `write:clients` in the tenant), validates, writes and audits.
//! Every form carries the session's CSRF token; deletion is behind a confirmation step.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use gatehouse_admin::resources::NewResource;
use gatehouse_admin::views::{ResourceView, TenantView};
use gatehouse_admin::{Context, Field, OpError};
use gatehouse_core::admin::{Access, Resource};

use super::views::Nav;
use super::{
    Admin, BASE, page, pick_tenant, read_query, refusal, require_admin, show_time, tenant_choices,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// One row of the resources table.
pub struct ResourceRow {
    pub identifier: String,
    pub scope: String,
    pub ttl: String,
    pub alg: &'static str,
    pub created: String,
    pub delete_href: String,
}

/// The create form's values and per-field errors.
#[derive(Debug, Clone, Default)]
pub struct ResourceForm {
    pub identifier: String,
    pub scope: String,
    pub ttl: String,
    pub alg: String,
    pub identifier_error: Option<String>,
    pub scope_error: Option<String>,
    pub ttl_error: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/resources.html")]
pub struct ResourcesPage<'a> {
    pub nav: Nav,
    pub tenant: &'a str,
    pub tenant_name: &'a str,
    pub tenants: Vec<super::views::TenantChoice>,
    pub rows: Vec<ResourceRow>,
    pub can_write: bool,
    pub back_href: String,
    pub create: ResourceForm,
    /// The identifier whose deletion is being confirmed.
    pub confirm_delete: Option<String>,
    pub notice: Option<String>,
}

fn link(tenant: &str, extra: Option<(&str, &str)>) -> String {
    super::tenant_link("resources", tenant, extra)
}

fn row(r: &ResourceView, tenant: &str) -> ResourceRow {
    ResourceRow {
        identifier: r.identifier.clone(),
        scope: r.scope.clone(),
        ttl: r
            .access_token_ttl
            .map_or_else(|| "client's".to_owned(), |t| format!("{t} s")),
        alg: r.alg.unwrap_or("client's"),
        created: show_time(r.created_at),
        delete_href: link(tenant, Some(("delete", &r.identifier))),
    }
}

/// What the page shows besides the table.
#[derive(Default)]
struct Extras {
    create: ResourceForm,
    confirm_delete: Option<String>,
    notice: Option<String>,
}

async fn render(
    ctx: &Context<'_>,
    admin: &Admin,
    tenant: &TenantView,
    extras: Extras,
    status: StatusCode,
) -> HttpResponse {
    let tid = tenant.id.as_str();
    let list = match gatehouse_admin::resources::list(ctx, &tenant.id).await {
        Ok(l) => l.resources,
        Err(e) => return refusal(e),
    };
    let can_write = admin.principal.can(Resource::Clients, Access::Write);
    let tenants = match tenant_choices(ctx).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let confirm_delete = extras
        .confirm_delete
        .filter(|id| can_write && list.iter().any(|r| &r.identifier == id));
    page(
        status,
        &ResourcesPage {
            nav: admin.nav("resources", &tenant.id),
            tenant: tid,
            tenant_name: &tenant.name,
            tenants,
            rows: list.iter().map(|r| row(r, tid)).collect(),
            can_write,
            back_href: link(tid, None),
            create: extras.create,
            confirm_delete,
            notice: extras.notice,
        },
    )
}

/// `GET /admin/console/resources?tenant=&delete=IDENTIFIER&deleted=1`.
pub async fn list_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> HttpResponse {
    let admin = try_page!(require_admin(&state, &req).await);
    let q = try_page!(read_query(&req));
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let tenant =
        try_page!(pick_tenant(&ctx, q.get("tenant"), Resource::Clients, Access::Read).await);
    let extras = Extras {
        confirm_delete: q.get("delete").map(str::to_owned),
        notice: (q.get("deleted") == Some("1")).then(|| "The resource was deleted.".to_owned()),
        ..Extras::default()
    };
    render(&ctx, &admin, &tenant, extras, StatusCode::OK).await
}

/// Puts a refused field next to its input; other refusals go above the form.
fn place_error(form: &mut ResourceForm, e: &OpError) {
    let slot = match e {
        OpError::Invalid(f) => match f.field {
            Field::Identifier => Some(&mut form.identifier_error),
            Field::Scope => Some(&mut form.scope_error),
            Field::AccessTokenTtl => Some(&mut form.ttl_error),
            _ => None,
        },
        _ => None,
    };
    match (slot, e) {
        (Some(slot), OpError::Invalid(f)) => *slot = Some(f.reason.clone()),
        _ => form.error = Some(e.to_string()),
    }
}

/// `POST /admin/console/resources/create`: `csrf_token`, `tenant`, `identifier`, `scope`,
/// `access_token_ttl` (seconds, optional), `alg` (`RS256`, `ES256` or empty).
pub async fn create_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let (form, admin) = try_page!(super::admin_form(&state, &req, &body).await);
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let tenant =
        try_page!(pick_tenant(&ctx, form.get("tenant"), Resource::Clients, Access::Write).await);
    let field = |n: &str| form.get(n).unwrap_or_default().trim().to_owned();
    let mut typed = ResourceForm {
        identifier: field("identifier"),
        scope: field("scope"),
        ttl: field("access_token_ttl"),
        alg: field("alg"),
        ..ResourceForm::default()
    };
    let ttl = match typed.ttl.as_str() {
        "" => None,
        t => match t.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                typed.ttl_error = Some("a whole number of seconds".to_owned());
                let extras = Extras {
                    create: typed,
                    ..Extras::default()
                };
                return render(&ctx, &admin, &tenant, extras, StatusCode::BAD_REQUEST).await;
            }
        },
    };
    let new = NewResource {
        identifier: typed.identifier.clone(),
        scope: typed.scope.clone(),
        access_token_ttl: ttl,
        alg: Some(typed.alg.clone()).filter(|a| !a.is_empty()),
    };
    match gatehouse_admin::resources::create(&ctx, &tenant.id, new).await {
        Ok(r) => {
            let extras = Extras {
                notice: Some(format!(
                    "The resource {} was registered: clients may now name it with resource.",
                    r.identifier
                )),
                ..Extras::default()
            };
            render(&ctx, &admin, &tenant, extras, StatusCode::OK).await
        }
        Err(e @ (OpError::Invalid(_) | OpError::Conflict(_))) => {
            place_error(&mut typed, &e);
            let extras = Extras {
                create: typed,
                ..Extras::default()
            };
            render(&ctx, &admin, &tenant, extras, StatusCode::BAD_REQUEST).await
        }
        Err(e) => refusal(e),
    }
}

/// `POST /admin/console/resources/delete`: `csrf_token`, `tenant`, `identifier`.
pub async fn delete_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let (form, admin) = try_page!(super::admin_form(&state, &req, &body).await);
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let tenant =
        try_page!(pick_tenant(&ctx, form.get("tenant"), Resource::Clients, Access::Write).await);
    let identifier = form.get("identifier").unwrap_or_default();
    match gatehouse_admin::resources::delete(&ctx, &tenant.id, identifier).await {
        Ok(_) => super::see_other(&link(tenant.id.as_str(), Some(("deleted", "1")))),
        Err(e) => refusal(e),
    }
}

/// Registers the page's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(&format!("{BASE}/resources"), web::get().to(list_get))
        .route(
            &format!("{BASE}/resources/create"),
            web::post().to(create_post),
        )
        .route(
            &format!("{BASE}/resources/delete"),
            web::post().to(delete_post),
        );
}

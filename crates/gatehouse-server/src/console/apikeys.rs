//! The console's API keys page (issue 4): a tenant's keys in a table sortable by every column
//! (server-side `?sort=<column>&dir=asc|desc` links), expiry warnings, delete with a
//! confirmation step (immediate revocation), and a create dialog that shows the new secret
//! exactly once. Reads and writes are the operator actions of `gatehouse_admin::api_keys`, run
//! with the signed-in admin's principal: the core policy decides (no key with admin scopes the
//! admin lacks, none in another tenant), then they validate, write and audit.

use std::cmp::Ordering;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_admin::views::{ApiKeyView, TenantView};
use gatehouse_admin::{Context, Field, OpError};
use gatehouse_core::admin::{Access, Resource};
use gatehouse_core::apikey::{ApiKeyRequest, DEFAULT_VALIDITY_DAYS};
use gatehouse_core::params::Params;

use super::views::{ApiKeysPage, CreateForm, Header, KeyRow};
use super::{
    Admin, BASE, internal, page, pick_tenant, read_form, read_query, refusal, require_admin,
    require_admin_form, see_other, show_time, tenant_choices,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// A sortable column: its `sort=` name and its heading.
const COLUMNS: [(&str, &str); 7] = [
    ("name", "Name"),
    ("secret", "Secret"),
    ("created", "Created"),
    ("expires", "Expires"),
    ("last_used", "Last used"),
    ("scopes", "Scopes"),
    ("environment", "Environment"),
];

/// The table order asked for by the query (unknown values fall back to newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sort {
    column: &'static str,
    ascending: bool,
}

impl Sort {
    fn from_params(p: &Params) -> Self {
        match COLUMNS.iter().find(|(c, _)| Some(*c) == p.get("sort")) {
            Some((column, _)) => Sort {
                column,
                ascending: p.get("dir") != Some("desc"),
            },
            None => Sort {
                column: "created",
                ascending: false,
            },
        }
    }

    fn compare(&self, a: &ApiKeyView, b: &ApiKeyView) -> Ordering {
        let o = match self.column {
            "name" => a
                .name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.name.cmp(&b.name)),
            "secret" => a.prefix.cmp(&b.prefix),
            "expires" => a.expires_at.cmp(&b.expires_at),
            // Never-used keys sort before used ones.
            "last_used" => a
                .last_used_at
                .cmp(&b.last_used_at)
                .then_with(|| a.last_used_ip.cmp(&b.last_used_ip)),
            "scopes" => a.scopes.join(" ").cmp(&b.scopes.join(" ")),
            "environment" => a.environment.cmp(b.environment),
            _ => a.created_at.cmp(&b.created_at),
        }
        .then_with(|| a.id.cmp(&b.id));
        if self.ascending { o } else { o.reverse() }
    }
}

impl Sort {
    /// This page of `tenant` in this order, with one more parameter.
    fn link(&self, tenant: &str, extra: Option<(&str, &str)>) -> String {
        let dir = if self.ascending { "asc" } else { "desc" };
        let mut q = vec![("sort", self.column), ("dir", dir)];
        q.extend(extra);
        link(tenant, &q)
    }

    /// The column headings, each linking to its own order (the current one reversed).
    fn headers(&self, tenant: &str) -> Vec<Header> {
        COLUMNS
            .iter()
            .map(|(col, label)| {
                let current = self.column == *col;
                let next_dir = if current && self.ascending {
                    "desc"
                } else {
                    "asc"
                };
                let (arrow, aria) = match (current, self.ascending) {
                    (false, _) => ("", "none"),
                    (true, true) => ("▲", "ascending"),
                    (true, false) => ("▼", "descending"),
                };
                Header {
                    column: col,
                    label,
                    href: link(tenant, &[("sort", col), ("dir", next_dir)]),
                    arrow,
                    aria,
                }
            })
            .collect()
    }
}

/// One row of the table.
fn key_row(k: &ApiKeyView, warn_days: i64, delete_href: String) -> KeyRow {
    KeyRow {
        id: k.id.clone(),
        name: k.name.clone(),
        warning: if k.expired {
            Some("Expired".to_owned())
        } else if k.expiry_warning {
            Some(format!("Expires within {warn_days} days"))
        } else {
            None
        },
        masked: k.masked.clone(),
        created: show_time(k.created_at),
        expires: k.expires.clone(),
        expired: k.expired,
        last_used: k.last_used_at.map_or_else(|| "never".to_owned(), show_time),
        last_used_ip: k.last_used_ip.clone().unwrap_or_default(),
        scopes: k.scopes.join(" "),
        environment: k.environment,
        delete_href,
    }
}

fn link(tenant: &str, extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("tenant", tenant);
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("{BASE}/api-keys?{}", q.finish())
}

/// What the page shows besides the table.
#[derive(Default)]
struct Extras {
    create: Option<CreateForm>,
    confirm_delete: Option<String>,
    secret: Option<(String, String)>,
    notice: Option<String>,
}

/// The API keys page of one tenant, for one admin, in one order.
#[derive(Clone, Copy)]
struct Screen<'a> {
    state: &'a AppState,
    ctx: &'a Context<'a>,
    admin: &'a Admin,
    tenant: &'a TenantView,
    sort: Sort,
}

impl Screen<'_> {
    /// The page with the create dialog open, showing the errors of `create`.
    async fn with_form(&self, create: CreateForm) -> HttpResponse {
        let extras = Extras {
            create: Some(create),
            ..Extras::default()
        };
        self.render(extras, StatusCode::BAD_REQUEST).await
    }

    async fn render(&self, extras: Extras, status: StatusCode) -> HttpResponse {
        render(*self, extras, status).await
    }
}

async fn render(screen: Screen<'_>, extras: Extras, status: StatusCode) -> HttpResponse {
    let Screen {
        state,
        ctx,
        admin,
        tenant,
        sort,
    } = screen;
    let policy = match state.settings.api_keys.policy() {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let warn_days = policy.expiry_warning_days;
    let mut keys = match gatehouse_admin::api_keys::list(ctx, &policy, &tenant.id).await {
        Ok(list) => list.api_keys,
        Err(e) => return refusal(e),
    };
    // A deleted (revoked) key is gone from the console's point of view.
    keys.retain(|k| !k.revoked);
    keys.sort_by(|a, b| sort.compare(a, b));
    let active = keys.iter().filter(|k| k.is_active()).count();
    let max = tenant.max_api_keys as usize;
    let tid = tenant.id.as_str();
    let confirm = extras
        .confirm_delete
        .as_deref()
        .and_then(|id| keys.iter().find(|k| k.id == id))
        .map(|k| (k.id.clone(), k.name.clone(), k.masked.clone()));
    let rows = keys
        .iter()
        .map(|k| key_row(k, warn_days, sort.link(tid, Some(("delete", &k.id)))))
        .collect();
    let can_write = admin.principal.can(Resource::ApiKeys, Access::Write);
    let at_limit = active >= max;
    let limit_text = format!(
        "This tenant has its maximum of {max} active API keys. Delete a key or wait for one to expire before creating another."
    );
    let offer_create = can_write && tenant.api_access_enabled;
    // An empty dialog is offered only when a key can be created; one carrying errors (the
    // limit was reached meanwhile, say) is shown so the reason is seen.
    let create = extras
        .create
        .filter(|f| (offer_create && !at_limit) || f.has_errors());
    let tenants = match tenant_choices(ctx).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    page(
        status,
        &ApiKeysPage {
            nav: admin.nav("api-keys", &tenant.id),
            tenant: tid,
            tenant_name: &tenant.name,
            tenants,
            headers: sort.headers(tid),
            rows,
            active,
            max,
            api_access: tenant.api_access_enabled,
            offer_create,
            at_limit,
            limit_text: &limit_text,
            can_write,
            create_href: sort.link(tid, Some(("create", "1"))),
            back_href: sort.link(tid, None),
            create,
            confirm,
            secret: extras.secret,
            notice: extras.notice,
            warn_days,
            allowed_scopes: tenant.allowed_scopes.clone().unwrap_or_default(),
        },
    )
}

/// `GET /admin/console/api-keys?tenant=&sort=&dir=&create=1&delete=ID`.
pub async fn list_get(
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
    let tenant = match pick_tenant(&ctx, q.get("tenant"), Resource::ApiKeys, Access::Read).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let extras = Extras {
        create: (q.get("create") == Some("1")).then(CreateForm::default),
        confirm_delete: q.get("delete").map(str::to_owned),
        secret: None,
        notice: (q.get("deleted") == Some("1")).then(|| "The API key was deleted.".to_owned()),
    };
    let screen = Screen {
        state: &state,
        ctx: &ctx,
        admin: &admin,
        tenant: &tenant,
        sort: Sort::from_params(&q),
    };
    screen.render(extras, StatusCode::OK).await
}

/// Puts a refused field next to its input; other refusals go above the form.
fn place_error(form: &mut CreateForm, e: &OpError) {
    let slot = match e {
        OpError::Invalid(f) => match f.field {
            Field::Name => Some((&mut form.name_error, &f.reason)),
            Field::ValidityDays => Some((&mut form.validity_error, &f.reason)),
            Field::Scope => Some((&mut form.scope_error, &f.reason)),
            Field::Environment => Some((&mut form.environment_error, &f.reason)),
            _ => None,
        },
        _ => None,
    };
    match slot {
        Some((slot, reason)) => *slot = Some(reason.clone()),
        None => form.error = Some(e.to_string()),
    }
}

/// `POST /admin/console/api-keys/create`: `csrf_token`, `tenant`, `name`, `validity_days`,
/// `scope`, `environment`.
pub async fn create_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let form = match read_form(&req, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let admin = match require_admin_form(&state, &req, &form).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let picked = pick_tenant(&ctx, form.get("tenant"), Resource::ApiKeys, Access::Write).await;
    let tenant = match picked {
        Ok(t) => t,
        Err(r) => return r,
    };
    let screen = Screen {
        state: &state,
        ctx: &ctx,
        admin: &admin,
        tenant: &tenant,
        sort: Sort::from_params(&form),
    };
    let mut create = CreateForm {
        name: form.get("name").unwrap_or_default().to_owned(),
        validity_days: form
            .get("validity_days")
            .map_or_else(|| DEFAULT_VALIDITY_DAYS.to_string(), str::to_owned),
        scope: form.get("scope").unwrap_or_default().to_owned(),
        environment: form.get("environment").unwrap_or("live").to_owned(),
        ..CreateForm::default()
    };
    let Ok(days) = create.validity_days.trim().parse::<i64>() else {
        create.validity_error = Some("enter a whole number of days".to_owned());
        return screen.with_form(create).await;
    };
    let request = ApiKeyRequest {
        name: create.name.clone(),
        scope: Some(create.scope.clone()).filter(|s| !s.trim().is_empty()),
        validity_days: Some(days),
        environment: Some(create.environment.clone()),
        allow_ips: Vec::new(),
        rate_limit_class: None,
    };
    let policy = match state.settings.api_keys.policy() {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    match gatehouse_admin::api_keys::create(&ctx, &policy, &tenant.id, request).await {
        Ok(created) => {
            let secret = created.secret.expose().to_owned();
            let extras = Extras {
                secret: Some((created.key.name, secret)),
                ..Extras::default()
            };
            screen.render(extras, StatusCode::OK).await
        }
        Err(
            e @ (OpError::Invalid(_)
            | OpError::Refused(_)
            | OpError::Conflict(_)
            | OpError::LimitReached(_)),
        ) => {
            place_error(&mut create, &e);
            screen.with_form(create).await
        }
        // Refused by the policy (a scope the admin lacks, another tenant) or failed.
        Err(e) => refusal(e),
    }
}

/// `POST /admin/console/api-keys/delete`: `csrf_token`, `id` (the confirmation step is the
/// `?delete=ID` dialog that posts here). Revokes the key at once.
pub async fn delete_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let form = match read_form(&req, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let admin = match require_admin_form(&state, &req, &form).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let id = form.get("id").unwrap_or_default();
    // Another tenant's key is reported like a missing one.
    let revoked = match gatehouse_admin::api_keys::revoke(&ctx, id, None).await {
        Ok(r) => r,
        Err(e) => return refusal(e),
    };
    let sort = Sort::from_params(&form);
    see_other(&sort.link(revoked.tenant.as_str(), Some(("deleted", "1"))))
}

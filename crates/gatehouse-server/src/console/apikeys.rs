//! The console's API keys page (issue 4): a tenant's keys in a table sortable by every column
//! (server-side `?sort=<column>&dir=asc|desc` links), expiry warnings, delete with a
//! confirmation step (immediate revocation), and a create dialog that shows the new secret
//! exactly once. Writes go through the operator actions of [`crate::admin_apikeys`], which
//! validate, write and audit.

use std::cmp::Ordering;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::admin::{Access, Resource};
use gatehouse_core::apikey::{ApiKey, ApiKeyRequest, DEFAULT_VALIDITY_DAYS};
use gatehouse_core::params::Params;
use gatehouse_core::tenant::Tenant;

use super::views::{ApiKeysPage, CreateForm, Header, KeyRow};
use super::{
    Admin, BASE, forbidden, internal, message, page, pick_tenant, read_form, read_query,
    require_admin, require_admin_form, see_other, show_time, tenant_choices,
};
use crate::admin::AdminError;
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

    fn compare(&self, a: &ApiKey, b: &ApiKey) -> Ordering {
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
            "scopes" => a.scopes.to_string().cmp(&b.scopes.to_string()),
            "environment" => a.environment.as_str().cmp(b.environment.as_str()),
            _ => a.created_at.cmp(&b.created_at),
        }
        .then_with(|| a.id.cmp(&b.id));
        if self.ascending { o } else { o.reverse() }
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

async fn render(
    state: &AppState,
    admin: &Admin,
    tenant: &Tenant,
    sort: Sort,
    extras: Extras,
    status: StatusCode,
) -> HttpResponse {
    let now = state.now();
    let warn_days = state.settings.api_keys.expiry_warning_days;
    let mut keys = match state.store.list_api_keys(&tenant.id).await {
        Ok(k) => k,
        Err(e) => return internal(e),
    };
    // A deleted (revoked) key is gone from the console's point of view.
    keys.retain(|k| !k.is_revoked());
    keys.sort_by(|a, b| sort.compare(a, b));
    let active = keys.iter().filter(|k| k.is_active(now)).count();
    let max = tenant.max_api_keys as usize;
    let tid = tenant.id.as_str();
    let sort_pair = |extra: Option<(&'static str, String)>| {
        let mut v: Vec<(&str, String)> = vec![
            ("sort", sort.column.to_owned()),
            (
                "dir",
                if sort.ascending { "asc" } else { "desc" }.to_owned(),
            ),
        ];
        if let Some(e) = extra {
            v.push(e);
        }
        let refs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
        link(tid, &refs)
    };
    let headers = COLUMNS
        .iter()
        .map(|(col, label)| {
            let current = sort.column == *col;
            let next_dir = if current && sort.ascending {
                "desc"
            } else {
                "asc"
            };
            Header {
                column: col,
                label,
                href: link(tid, &[("sort", col), ("dir", next_dir)]),
                arrow: match (current, sort.ascending) {
                    (false, _) => "",
                    (true, true) => "▲",
                    (true, false) => "▼",
                },
                aria: match (current, sort.ascending) {
                    (false, _) => "none",
                    (true, true) => "ascending",
                    (true, false) => "descending",
                },
            }
        })
        .collect();
    let confirm = extras
        .confirm_delete
        .as_deref()
        .and_then(|id| keys.iter().find(|k| k.id == id))
        .map(|k| (k.id.clone(), k.name.clone(), k.masked()));
    let rows = keys
        .iter()
        .map(|k| {
            let expired = k.is_expired(now);
            KeyRow {
                id: k.id.clone(),
                name: k.name.clone(),
                warning: if expired {
                    Some("Expired".to_owned())
                } else if k.expiry_warning(now, warn_days) {
                    Some(format!("Expires within {warn_days} days"))
                } else {
                    None
                },
                masked: k.masked(),
                created: show_time(k.created_at),
                expires: k.expiry_text(now),
                expired,
                last_used: k.last_used_at.map_or_else(|| "never".to_owned(), show_time),
                last_used_ip: k.last_used_ip.clone().unwrap_or_default(),
                scopes: k.scopes.to_string(),
                environment: k.environment.as_str(),
                delete_href: sort_pair(Some(("delete", k.id.clone()))),
            }
        })
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
    let tenants = match tenant_choices(state, admin).await {
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
            headers,
            rows,
            active,
            max,
            api_access: tenant.api_access_enabled,
            offer_create,
            at_limit,
            limit_text: &limit_text,
            can_write,
            create_href: sort_pair(Some(("create", "1".to_owned()))),
            back_href: sort_pair(None),
            create,
            confirm,
            secret: extras.secret,
            notice: extras.notice,
            warn_days,
            allowed_scopes: tenant
                .allowed_scopes
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default(),
        },
    )
}

/// `GET /admin/console/api-keys?tenant=&sort=&dir=&create=1&delete=ID`.
pub async fn list_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let admin = match require_admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !admin.principal.can(Resource::ApiKeys, Access::Read) {
        return forbidden("Your admin scopes do not include reading API keys.");
    }
    let q = match read_query(&req) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let tenant = match pick_tenant(&state, &admin, q.get("tenant")).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let extras = Extras {
        create: (q.get("create") == Some("1")).then(CreateForm::default),
        confirm_delete: q.get("delete").map(str::to_owned),
        secret: None,
        notice: (q.get("deleted") == Some("1")).then(|| "The API key was deleted.".to_owned()),
    };
    render(
        &state,
        &admin,
        &tenant,
        Sort::from_params(&q),
        extras,
        StatusCode::OK,
    )
    .await
}

/// Puts an operator-action error next to the field it names (`--name: …` → name).
fn place_error(form: &mut CreateForm, msg: &str) {
    let fields: [(&str, &mut Option<String>); 4] = [
        ("--name:", &mut form.name_error),
        ("--validity-days:", &mut form.validity_error),
        ("--scope:", &mut form.scope_error),
        ("--env:", &mut form.environment_error),
    ];
    for (prefix, slot) in fields {
        if let Some(rest) = msg.strip_prefix(prefix) {
            *slot = Some(rest.trim().to_owned());
            return;
        }
    }
    form.error = Some(msg.to_owned());
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
    if !admin.principal.can(Resource::ApiKeys, Access::Write) {
        return forbidden("Your admin scopes do not include changing API keys.");
    }
    let tenant = match pick_tenant(&state, &admin, form.get("tenant")).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let sort = Sort::from_params(&form);
    let mut create = CreateForm {
        name: form.get("name").unwrap_or_default().to_owned(),
        validity_days: form
            .get("validity_days")
            .map_or_else(|| DEFAULT_VALIDITY_DAYS.to_string(), str::to_owned),
        scope: form.get("scope").unwrap_or_default().to_owned(),
        environment: form.get("environment").unwrap_or("live").to_owned(),
        ..CreateForm::default()
    };
    let days = match create.validity_days.trim().parse::<i64>() {
        Ok(d) => d,
        Err(_) => {
            create.validity_error = Some("enter a whole number of days".to_owned());
            let extras = Extras {
                create: Some(create),
                ..Extras::default()
            };
            return render(
                &state,
                &admin,
                &tenant,
                sort,
                extras,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let request = ApiKeyRequest {
        name: create.name.clone(),
        scope: Some(create.scope.clone()).filter(|s| !s.trim().is_empty()),
        validity_days: Some(days),
        environment: Some(create.environment.clone()),
        allow_ips: Vec::new(),
        rate_limit_class: None,
    };
    let result = crate::admin_apikeys::create_api_key(
        &state.store,
        &admin.actor(&meta),
        &state.settings.api_keys,
        tenant.id.as_str(),
        request,
        state.now(),
    )
    .await;
    match result {
        Ok(out) => {
            let secret = out["secret"].as_str().unwrap_or_default().to_owned();
            let name = out["name"].as_str().unwrap_or_default().to_owned();
            let extras = Extras {
                secret: Some((name, secret)),
                ..Extras::default()
            };
            render(&state, &admin, &tenant, sort, extras, StatusCode::OK).await
        }
        Err(AdminError::Invalid(msg))
        | Err(AdminError::Conflict(msg))
        | Err(AdminError::LimitReached(msg)) => {
            place_error(&mut create, &msg);
            let extras = Extras {
                create: Some(create),
                ..Extras::default()
            };
            render(
                &state,
                &admin,
                &tenant,
                sort,
                extras,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => internal(e),
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
    if !admin.principal.can(Resource::ApiKeys, Access::Write) {
        return forbidden("Your admin scopes do not include changing API keys.");
    }
    let id = form.get("id").unwrap_or_default();
    let key = match state.store.get_api_key(id).await {
        Ok(Some(k)) if admin.principal.may_access_tenant(&k.tenant_id) => k,
        // Another tenant's key is reported like a missing one.
        Ok(_) => {
            return message(
                StatusCode::NOT_FOUND,
                "No such API key",
                "There is no such API key in your tenant.",
            );
        }
        Err(e) => return internal(e),
    };
    if let Err(e) = crate::admin_apikeys::revoke_api_key(
        &state.store,
        &admin.actor(&meta),
        &key.id,
        state.now(),
    )
    .await
    {
        return internal(e);
    }
    let sort = Sort::from_params(&form);
    see_other(&link(
        key.tenant_id.as_str(),
        &[
            ("sort", sort.column),
            ("dir", if sort.ascending { "asc" } else { "desc" }),
            ("deleted", "1"),
        ],
    ))
}

//! The console's Clients page (issue 11): a tenant's OAuth clients (RFC 6749 §2) by name (the
//! id on hover), a create dialog for the usual kinds (a web application with a secret, a public
//! browser or native application with PKCE, a machine client with `client_credentials`, a
//! public device application with the device authorization grant (RFC 8628), a service that
//! acts for users by token exchange (RFC 8693)), an edit dialog for the name, redirect URIs and scopes, secret
//! rotation and deletion, each behind a confirmation step, and the new secret shown once.
//! Every read and write is an operator action of `gatehouse_admin::clients` run with the
//! signed-in admin's principal: the core policy decides (other tenants, missing rights,
//! scopes the admin cannot grant), then they validate as a registration is validated, write
//! and audit. Every form carries the session's CSRF token.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use gatehouse_admin::views::{ClientView, TenantView};
use gatehouse_admin::{Context, Field, OpError};
use gatehouse_core::admin::{Access, Resource};
use gatehouse_core::client::{
    ClientChanges, ClientRegistration, GRANT_TYPE_DEVICE_CODE, GRANT_TYPE_TOKEN_EXCHANGE,
};
use gatehouse_core::params::Params;

use super::views::Nav;
use super::{
    Admin, page, pick_tenant, read_query, refusal, require_admin, see_other, show_time,
    tenant_choices,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// The kinds of client the create dialog offers: (value, label). The implicit and hybrid
/// flows are not offered here: RFC 9700 advises against them, and the CLI's
/// `--grant-type implicit` with its warning is the one way to opt in.
const KINDS: [(&str, &str); 5] = [
    ("web", "Web application (server-side, with a secret)"),
    ("public", "Browser or native application (public, PKCE)"),
    ("machine", "Machine client (client_credentials)"),
    (
        "device",
        "Device or TV application (device authorization grant, public)",
    ),
    (
        "delegate",
        "Service acting for users (token exchange, with a secret)",
    ),
];

/// One row of the clients table.
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub grant_types: String,
    pub redirect_uris: Vec<String>,
    pub scope: String,
    pub created: String,
    pub edit_href: String,
    pub delete_href: String,
    /// Only for clients with a secret.
    pub rotate_href: Option<String>,
}

/// The create or edit dialog's values and per-field errors.
#[derive(Debug, Clone, Default)]
pub struct ClientForm {
    /// The client being edited (empty when creating).
    pub id: String,
    pub name: String,
    pub kind: String,
    /// One URI per line.
    pub redirect_uris: String,
    pub scope: String,
    pub name_error: Option<String>,
    pub redirect_error: Option<String>,
    pub scope_error: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
pub struct ClientsPage<'a> {
    pub nav: Nav,
    pub tenant: &'a str,
    pub tenant_name: &'a str,
    pub tenants: Vec<super::views::TenantChoice>,
    pub rows: Vec<ClientRow>,
    pub can_write: bool,
    pub create_href: String,
    pub back_href: String,
    pub kinds: &'static [(&'static str, &'static str)],
    pub create: Option<ClientForm>,
    pub edit: Option<ClientForm>,
    /// (id, name) of the client whose deletion is being confirmed.
    pub confirm_delete: Option<(String, String)>,
    /// (id, name) of the client whose secret rotation is being confirmed.
    pub confirm_rotate: Option<(String, String)>,
    /// (name, client id, secret): shown this once.
    pub secret: Option<(String, String, String)>,
    pub notice: Option<String>,
}

/// What the page shows besides the table.
#[derive(Default)]
struct Extras {
    create: Option<ClientForm>,
    edit: Option<ClientForm>,
    /// `?edit=ID`: the edit dialog prefilled from the stored client.
    edit_id: Option<String>,
    confirm_delete: Option<String>,
    confirm_rotate: Option<String>,
    secret: Option<(String, String, String)>,
    notice: Option<String>,
}

/// The clients page of one tenant for one admin.
#[derive(Clone, Copy)]
struct Screen<'a> {
    ctx: &'a Context<'a>,
    admin: &'a Admin,
    tenant: &'a TenantView,
}

fn link(tenant: &str, extra: Option<(&str, &str)>) -> String {
    super::tenant_link("clients", tenant, extra)
}

fn kind_of(c: &ClientView) -> &'static str {
    let has = |g: &str| c.grant_types.contains(&g);
    if has(GRANT_TYPE_DEVICE_CODE) {
        return "device";
    }
    if has(GRANT_TYPE_TOKEN_EXCHANGE) && c.redirect_uris.is_empty() {
        return "delegate";
    }
    match c.auth_method {
        "none" => "public",
        _ if c.redirect_uris.is_empty() => "machine",
        _ => "web",
    }
}

fn client_row(c: &ClientView, tenant: &str) -> ClientRow {
    let id = c.client_id.as_str();
    ClientRow {
        id: id.to_owned(),
        name: c.name.clone(),
        kind: kind_of(c),
        grant_types: c.grant_types.join(", "),
        redirect_uris: c.redirect_uris.clone(),
        scope: c.scope.clone(),
        created: show_time(c.created_at),
        edit_href: link(tenant, Some(("edit", id))),
        delete_href: link(tenant, Some(("delete", id))),
        rotate_href: c
            .secret_version
            .is_some()
            .then(|| link(tenant, Some(("rotate", id)))),
    }
}

fn edit_form(c: &ClientView) -> ClientForm {
    ClientForm {
        id: c.client_id.to_string(),
        name: c.name.clone(),
        kind: kind_of(c).to_owned(),
        redirect_uris: c.redirect_uris.join("\n"),
        scope: c.scope.clone(),
        ..ClientForm::default()
    }
}

impl Screen<'_> {
    async fn render(self, extras: Extras, status: StatusCode) -> HttpResponse {
        let Screen { ctx, admin, tenant } = self;
        let tid = tenant.id.as_str();
        let clients = match gatehouse_admin::clients::list_by_name(ctx, &tenant.id).await {
            Ok(c) => c,
            Err(e) => return refusal(e),
        };
        let find = |id: &Option<String>| {
            id.as_deref()
                .and_then(|id| clients.iter().find(|c| c.client_id.as_str() == id))
        };
        let named = |c: &ClientView| (c.client_id.to_string(), c.name.clone());
        let can_write = admin.principal.can(Resource::Clients, Access::Write);
        let edit = extras
            .edit
            .or_else(|| find(&extras.edit_id).map(edit_form))
            .filter(|_| can_write);
        let tenants = match tenant_choices(ctx).await {
            Ok(t) => t,
            Err(r) => return r,
        };
        page(
            status,
            &ClientsPage {
                nav: admin.nav("clients", &tenant.id),
                tenant: tid,
                tenant_name: &tenant.name,
                tenants,
                rows: clients.iter().map(|c| client_row(c, tid)).collect(),
                can_write,
                create_href: link(tid, Some(("create", "1"))),
                back_href: link(tid, None),
                kinds: &KINDS,
                create: extras.create.filter(|_| can_write),
                edit,
                confirm_delete: find(&extras.confirm_delete).map(named),
                confirm_rotate: find(&extras.confirm_rotate).map(named),
                secret: extras.secret,
                notice: extras.notice,
            },
        )
    }
}

/// `GET /admin/console/clients?tenant=&create=1&edit=ID&delete=ID&rotate=ID&deleted=1`.
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
        create: (q.get("create") == Some("1")).then(|| ClientForm {
            kind: "web".into(),
            ..ClientForm::default()
        }),
        edit_id: q.get("edit").map(str::to_owned),
        confirm_delete: q.get("delete").map(str::to_owned),
        confirm_rotate: q.get("rotate").map(str::to_owned),
        notice: (q.get("deleted") == Some("1")).then(|| "The client was deleted.".to_owned()),
        ..Extras::default()
    };
    let screen = Screen {
        ctx: &ctx,
        admin: &admin,
        tenant: &tenant,
    };
    screen.render(extras, StatusCode::OK).await
}

/// Puts a refused field next to its input; other refusals go above the form.
fn place_error(form: &mut ClientForm, e: &OpError) {
    let slot = match e {
        OpError::Invalid(f) => match f.field {
            Field::Name => Some(&mut form.name_error),
            Field::RedirectUris | Field::GrantTypes => Some(&mut form.redirect_error),
            Field::Scope => Some(&mut form.scope_error),
            _ => None,
        },
        _ => None,
    };
    match (slot, e) {
        (Some(slot), OpError::Invalid(f)) => *slot = Some(f.reason.clone()),
        _ => form.error = Some(e.to_string()),
    }
}

/// The dialog's values as the admin typed them.
fn form_of(p: &Params) -> ClientForm {
    ClientForm {
        id: p.get("id").unwrap_or_default().to_owned(),
        name: p.get("name").unwrap_or_default().to_owned(),
        kind: p.get("kind").unwrap_or("web").to_owned(),
        redirect_uris: p.get("redirect_uris").unwrap_or_default().to_owned(),
        scope: p.get("scope").unwrap_or_default().to_owned(),
        ..ClientForm::default()
    }
}

/// The redirect URIs of the textarea, one per line.
fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The registration a create dialog asks for.
fn registration(f: &ClientForm, tenant: &TenantView) -> Result<ClientRegistration, String> {
    let mut reg = ClientRegistration::named(&f.name, tenant.id.clone());
    reg.redirect_uris = lines(&f.redirect_uris);
    reg.scope = Some(f.scope.clone()).filter(|s| !s.trim().is_empty());
    let (grants, method): (&[&str], &str) = match f.kind.as_str() {
        "web" => (
            &["authorization_code", "refresh_token"],
            "client_secret_basic",
        ),
        "public" => (&["authorization_code", "refresh_token"], "none"),
        "machine" => (&["client_credentials"], "client_secret_basic"),
        "device" => (&[GRANT_TYPE_DEVICE_CODE, "refresh_token"], "none"),
        "delegate" => (&[GRANT_TYPE_TOKEN_EXCHANGE], "client_secret_basic"),
        _ => return Err("choose one of the offered kinds of client".to_owned()),
    };
    if matches!(f.kind.as_str(), "machine" | "device" | "delegate") && !reg.redirect_uris.is_empty()
    {
        return Err(format!(
            "a {} client has no redirect URIs: leave them empty",
            f.kind
        ));
    }
    reg.grant_types = grants.iter().map(|g| (*g).to_owned()).collect();
    reg.auth_method = Some(method.to_owned());
    Ok(reg)
}

/// `POST /admin/console/clients/create`: `csrf_token`, `tenant`, `name`, `kind`
/// (`web`, `public`, `machine`, `device` or `delegate`), `redirect_uris` (one per line),
/// `scope`.
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
    let screen = Screen {
        ctx: &ctx,
        admin: &admin,
        tenant: &tenant,
    };
    let mut create = form_of(&form);
    let again = |create: ClientForm| Extras {
        create: Some(create),
        ..Extras::default()
    };
    let registration = match registration(&create, &tenant) {
        Ok(r) => r,
        Err(m) => {
            create.error = Some(m);
            return screen.render(again(create), StatusCode::BAD_REQUEST).await;
        }
    };
    let req = gatehouse_admin::clients::NewClientRequest {
        registration,
        keys: None,
    };
    let master = state.settings.master_key.as_ref();
    match gatehouse_admin::clients::create(&ctx, req, master).await {
        Ok(c) => {
            let id = c.client.client_id.to_string();
            let extras = match c.client_secret {
                Some(s) => Extras {
                    secret: Some((c.client.name, id, s.expose().to_owned())),
                    ..Extras::default()
                },
                None => Extras {
                    notice: Some(format!(
                        "The client {} was registered; its client id is {id}. It has no secret.",
                        c.client.name
                    )),
                    ..Extras::default()
                },
            };
            screen.render(extras, StatusCode::OK).await
        }
        Err(e @ (OpError::Invalid(_) | OpError::Refused(_) | OpError::Conflict(_))) => {
            place_error(&mut create, &e);
            screen.render(again(create), StatusCode::BAD_REQUEST).await
        }
        // Refused by the policy (a scope the admin cannot grant, another tenant) or failed.
        Err(e) => refusal(e),
    }
}

/// The client a form addresses, as the admin may see it (another tenant's is not found).
async fn addressed(ctx: &Context<'_>, form: &Params) -> Result<ClientView, HttpResponse> {
    let id = form.get("id").unwrap_or_default();
    gatehouse_admin::clients::get(ctx, id)
        .await
        .map_err(refusal)
}

/// The tenant of a client, as the page shows it.
async fn tenant_of(ctx: &Context<'_>, c: &ClientView) -> Result<TenantView, HttpResponse> {
    pick_tenant(
        ctx,
        Some(c.tenant.as_str()),
        Resource::Clients,
        Access::Write,
    )
    .await
}

/// `POST /admin/console/clients/update`: `csrf_token`, `id`, `name`, `redirect_uris` (one
/// per line), `scope`.
pub async fn update_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let (form, admin) = try_page!(super::admin_form(&state, &req, &body).await);
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let current = try_page!(addressed(&ctx, &form).await);
    let tenant = try_page!(tenant_of(&ctx, &current).await);
    let screen = Screen {
        ctx: &ctx,
        admin: &admin,
        tenant: &tenant,
    };
    let mut edit = form_of(&form);
    edit.id = current.client_id.to_string();
    edit.kind = kind_of(&current).to_owned();
    let scope = edit.scope.trim();
    let changes = ClientChanges {
        name: Some(edit.name.clone()),
        redirect_uris: Some(lines(&edit.redirect_uris)),
        scope: Some(scope.to_owned()).filter(|s| *s != current.scope),
        ..ClientChanges::default()
    };
    match gatehouse_admin::clients::update(&ctx, &edit.id, changes, None).await {
        Ok(c) => {
            let extras = Extras {
                notice: Some(format!("The client {} was saved.", c.name)),
                ..Extras::default()
            };
            screen.render(extras, StatusCode::OK).await
        }
        Err(e @ (OpError::Invalid(_) | OpError::Conflict(_))) => {
            place_error(&mut edit, &e);
            let extras = Extras {
                edit: Some(edit),
                ..Extras::default()
            };
            screen.render(extras, StatusCode::BAD_REQUEST).await
        }
        Err(e) => refusal(e),
    }
}

/// `POST /admin/console/clients/rotate-secret`: `csrf_token`, `id` (the confirmation step is
/// the `?rotate=ID` dialog that posts here). The old secret stops working at once; the new
/// one is shown this once.
pub async fn rotate_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let (form, admin) = try_page!(super::admin_form(&state, &req, &body).await);
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let id = form.get("id").unwrap_or_default();
    let rotated = match gatehouse_admin::clients::rotate_secret(
        &ctx,
        id,
        None,
        state.settings.master_key.as_ref(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return refusal(e),
    };
    let tenant = try_page!(tenant_of(&ctx, &rotated.client).await);
    let screen = Screen {
        ctx: &ctx,
        admin: &admin,
        tenant: &tenant,
    };
    let extras = Extras {
        secret: Some((
            rotated.client.name.clone(),
            rotated.client.client_id.to_string(),
            rotated.client_secret.expose().to_owned(),
        )),
        ..Extras::default()
    };
    screen.render(extras, StatusCode::OK).await
}

/// `POST /admin/console/clients/delete`: `csrf_token`, `id` (the confirmation step is the
/// `?delete=ID` dialog that posts here).
pub async fn delete_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let (form, admin) = try_page!(super::admin_form(&state, &req, &body).await);
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let id = form.get("id").unwrap_or_default();
    let current = try_page!(addressed(&ctx, &form).await);
    if let Err(e) = gatehouse_admin::clients::delete(&ctx, id, None).await {
        return refusal(e);
    }
    see_other(&link(current.tenant.as_str(), Some(("deleted", "1"))))
}

//! The admin console under `/admin/console` (issue 4): server-rendered askama pages for admin
//! users (users holding admin scopes, `gatehouse_core::admin`).
//!
//! - Sign-in with username and password ([`sign_in`], the server's one sign-in of
//!   `crate::signin`); a user without admin scopes is refused with the same message as a
//!   wrong password. The console has its own server-side session (`crate::session::CONSOLE`:
//!   cookie `gatehouse_console`, HttpOnly, SameSite=Strict, Path=/admin, Secure under an https
//!   issuer) with the idle and absolute lifetimes of the login session.
//! - Every form carries a CSRF token compared in constant time: a double-submit cookie on the
//!   sign-in form, the session's synchronizer token afterwards.
//! - Pages: API keys per tenant ([`apikeys`]), clients ([`clients`]), signing keys
//!   ([`signing_keys`]), the audit trail ([`pages`]), users and their sessions ([`users`]),
//!   tenants for platform administrators ([`tenants`]).
//!   Every read and change is an operator action of `gatehouse_admin` run with the user's
//!   principal (admin scopes read at every request), so the console grants exactly what the
//!   CLI and the admin API grant: a user sees only their own tenant unless they are a platform
//!   administrator, and hands on no admin scope they do not hold.
//!
//! The pages carry the security headers of the login pages ([`crate::views::secure`]) with a
//! CSP that also allows the one same-origin script (the copy button).

// Helpers return the finished refusal page as their error, which handlers send as is; the
// response's size does not matter on that path.
#![allow(clippy::result_large_err)]

/// The value of a step, or the page that answers instead (a step returns
/// `Result<T, HttpResponse>`).
macro_rules! try_page {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

pub mod apikeys;
pub mod clients;
pub mod pages;
pub mod resources;
mod sign_in;
pub mod signing_keys;
pub mod tenants;
pub mod users;
pub mod views;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use gatehouse_admin::{Actor, Context, Denied, Object, OpError};
use gatehouse_core::admin::{Access, AdminPrincipal, Operation, Resource};
use gatehouse_core::audit::ActorKind;
use gatehouse_core::ports::{Session, UserStore};
use gatehouse_core::signin::{self, Audience};
use gatehouse_core::user::User;
use gatehouse_core::{TenantId, params::Params};

use crate::request_meta::RequestMeta;
use crate::session::CONSOLE;
use crate::state::AppState;

/// Where the console lives.
pub const BASE: &str = "/admin/console";

/// The console's only script: the copy button of the one-time secret.
const CONSOLE_JS: &str = include_str!("console.js");

/// Registers the console routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(BASE, web::get().to(home))
        .route(&format!("{BASE}/"), web::get().to(home))
        .route(
            &format!("{BASE}/sign-in"),
            web::get().to(sign_in::sign_in_get),
        )
        .route(
            &format!("{BASE}/sign-in"),
            web::post().to(sign_in::sign_in_post),
        )
        .route(
            &format!("{BASE}/sign-out"),
            web::post().to(sign_in::sign_out_post),
        )
        .route(&format!("{BASE}/console.js"), web::get().to(script))
        .route(
            &format!("{BASE}/api-keys"),
            web::get().to(apikeys::list_get),
        )
        .route(
            &format!("{BASE}/api-keys/create"),
            web::post().to(apikeys::create_post),
        )
        .route(
            &format!("{BASE}/api-keys/delete"),
            web::post().to(apikeys::delete_post),
        )
        .route(&format!("{BASE}/clients"), web::get().to(clients::list_get))
        .route(
            &format!("{BASE}/clients/create"),
            web::post().to(clients::create_post),
        )
        .route(
            &format!("{BASE}/clients/update"),
            web::post().to(clients::update_post),
        )
        .route(
            &format!("{BASE}/clients/rotate-secret"),
            web::post().to(clients::rotate_post),
        )
        .route(
            &format!("{BASE}/clients/delete"),
            web::post().to(clients::delete_post),
        )
        .route(
            &format!("{BASE}/signing-keys"),
            web::get().to(signing_keys::list_get),
        )
        .route(
            &format!("{BASE}/signing-keys/rotate"),
            web::post().to(signing_keys::rotate_post),
        )
        .route(&format!("{BASE}/audit"), web::get().to(pages::audit_get))
        .configure(users::routes)
        .configure(resources::routes)
        .configure(tenants::routes);
}

/// Renders a console page with the security headers (the console's CSP: the login pages'
/// policy plus same-origin scripts and form posts).
pub(crate) fn page(status: StatusCode, t: &impl Template) -> HttpResponse {
    crate::views::console_page(status, t)
}

/// A message page (refusals, errors).
pub(crate) fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    page(status, &views::MessagePage { title, text })
}

pub(crate) fn internal(e: impl std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %e, "console request failed");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The server could not complete this request. Try again later.",
    )
}

pub(crate) fn forbidden(text: &str) -> HttpResponse {
    message(StatusCode::FORBIDDEN, "Not allowed", text)
}

const OWN_TENANT_ONLY: &str =
    "You may only see your own tenant. Ask a platform administrator for access to others.";

/// The page answering an operator action the console could not carry out.
pub(crate) fn refusal(e: OpError) -> HttpResponse {
    let not_found = |what: Object| {
        message(
            StatusCode::NOT_FOUND,
            &format!("No such {}", what.as_str()),
            &format!("There is no such {} in your tenant.", what.as_str()),
        )
    };
    match e {
        OpError::Denied(Denied::MissingScope(s)) => {
            forbidden(&format!("Your admin scopes do not include {s}."))
        }
        OpError::Denied(Denied::CannotGrant { scope, .. }) => forbidden(&format!(
            "You cannot grant {scope}: your own admin scopes do not include it."
        )),
        OpError::Denied(Denied::PlatformAdminOnly) => {
            forbidden("Only a platform administrator may do this.")
        }
        OpError::Denied(Denied::Outranked { scope }) => forbidden(&format!(
            "This user holds {scope}, which your own admin scopes do not include."
        )),
        OpError::Denied(Denied::OtherTenant)
        | OpError::OtherTenant {
            what: Object::Tenant,
            ..
        } => forbidden(OWN_TENANT_ONLY),
        OpError::OtherTenant { what, .. } | OpError::NotFound { what, .. } => not_found(what),
        OpError::UnknownTenant(t) => message(
            StatusCode::NOT_FOUND,
            "No such tenant",
            &format!("There is no tenant with id or name {t}."),
        ),
        OpError::Invalid(f) => message(
            StatusCode::BAD_REQUEST,
            "Bad request",
            &format!("{}: {}", f.field, f.reason),
        ),
        OpError::Refused(m) | OpError::Conflict(m) | OpError::LimitReached(m) => {
            message(StatusCode::BAD_REQUEST, "Not possible", &m)
        }
        OpError::Stale => message(
            StatusCode::CONFLICT,
            "Changed meanwhile",
            "The object changed since the page was loaded. Reload it and try again.",
        ),
        OpError::Busy(secs) => message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            &format!("The server is busy hashing passwords. Try again in {secs} seconds."),
        ),
        e @ OpError::Storage(_) => internal(e),
    }
}

/// `{BASE}/{page}?tenant=T` plus `extra`: a console page of one tenant.
pub(crate) fn tenant_link(page: &str, tenant: &str, extra: Option<(&str, &str)>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("tenant", tenant);
    if let Some((k, v)) = extra {
        q.append_pair(k, v);
    }
    format!("{BASE}/{page}?{}", q.finish())
}

/// Reads a POSTed form and the admin whose session's CSRF token it carries.
pub(crate) async fn admin_form(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<(Params, Admin), HttpResponse> {
    let form = read_form(req, body)?;
    let admin = require_admin_form(state, req, &form).await?;
    Ok((form, admin))
}

/// A 303 redirect.
pub(crate) fn see_other(location: &str) -> HttpResponse {
    crate::views::secure(HttpResponse::SeeOther())
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A signed-in admin user.
pub(crate) struct Admin {
    pub session: Session,
    pub user: User,
    pub principal: AdminPrincipal,
}

impl Admin {
    /// The actor of operator actions through the console: the user, with their admin scopes.
    pub fn actor(&self, meta: &RequestMeta) -> Actor {
        Actor::admin(
            self.principal.clone(),
            meta.ip_string(),
            Some(meta.request_id.clone()),
        )
    }

    /// The navigation bar's facts.
    pub fn nav(&self, current: &'static str, tenant: &TenantId) -> views::Nav {
        let q = tenant_query(tenant);
        views::Nav {
            current,
            username: self.user.username.clone(),
            csrf_token: self.session.csrf_token.clone(),
            api_keys: self.principal.can(Resource::ApiKeys, Access::Read),
            clients: self.principal.can(Resource::Clients, Access::Read),
            signing_keys: self.principal.can(Resource::Keys, Access::Read),
            audit: self.principal.can(Resource::Audit, Access::Read),
            users: self.principal.can(Resource::Users, Access::Read),
            tenants: self.principal.is_platform_admin(),
            tenant_query: q,
        }
    }
}

/// `?tenant=ID` for links.
pub(crate) fn tenant_query(t: &TenantId) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("tenant", t.as_str())
        .finish()
}

/// The signed-in admin of this request: `Ok(None)` when there is no live console session or
/// its user no longer holds an admin scope (the session is then ended).
pub(crate) async fn current_admin(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<Admin>, HttpResponse> {
    let now = state.now();
    let Some(s) = CONSOLE
        .current(&state.store, req, state.settings.session_policy(), now)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    let user = state.store.find_user(&s.user_id).await.map_err(internal)?;
    let Some(user) = user else {
        CONSOLE.delete(&state.store, req).await.map_err(internal)?;
        return Ok(None);
    };
    // The sign-in's own rule, again at every use: no admin scope any more, or a disabled
    // tenant, and the session ends at once.
    let admitted = signin::admitted(&state.store, Audience::Console(None), &user)
        .await
        .map_err(internal)?;
    if admitted.is_err() {
        CONSOLE.delete(&state.store, req).await.map_err(internal)?;
        return Ok(None);
    }
    let principal = AdminPrincipal {
        tenant: user.tenant_id.clone(),
        actor_kind: ActorKind::User,
        actor: user.id.as_str().to_owned(),
        scopes: user.admin_scopes.clone(),
    };
    Ok(Some(Admin {
        session: s,
        user,
        principal,
    }))
}

/// For GET pages: the admin, or the redirect to the sign-in page.
pub(crate) async fn require_admin(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Admin, HttpResponse> {
    match current_admin(state, req).await? {
        Some(a) => Ok(a),
        None => Err(see_other(&format!("{BASE}/sign-in"))),
    }
}

/// For POSTed forms: the admin whose session's CSRF token the form carries, else a refusal.
pub(crate) async fn require_admin_form(
    state: &AppState,
    req: &HttpRequest,
    form: &Params,
) -> Result<Admin, HttpResponse> {
    let Some(admin) = current_admin(state, req).await? else {
        return Err(forbidden(
            "Your console session has ended. Sign in again and repeat the action.",
        ));
    };
    if !crate::session::check_session_csrf(
        &admin.session,
        form.get("csrf_token").unwrap_or_default(),
    ) {
        return Err(forbidden(
            "This form has expired or did not come from this console. Reload the page and try again.",
        ));
    }
    Ok(admin)
}

/// Reads a URL-encoded form body, refusing anything else.
pub(crate) fn read_form(req: &HttpRequest, body: &[u8]) -> Result<Params, HttpResponse> {
    crate::routes::form_params(req, body)
        .map_err(|e| message(StatusCode::BAD_REQUEST, "Bad request", &e.description))
}

/// Reads the query string.
pub(crate) fn read_query(req: &HttpRequest) -> Result<Params, HttpResponse> {
    Params::from_query(req.query_string())
        .map_err(|e| message(StatusCode::BAD_REQUEST, "Bad request", &e.description))
}

/// The tenant a page about `resource` shows: `?tenant=` (or the form's `tenant`) when given,
/// else the admin's own; the operator action refuses it unless the admin has `access` to
/// `resource` there.
pub(crate) async fn pick_tenant(
    ctx: &Context<'_>,
    requested: Option<&str>,
    resource: Resource,
    access: Access,
) -> Result<gatehouse_admin::views::TenantView, HttpResponse> {
    let id = ctx.actor.tenant_or_home(requested).map_err(refusal)?;
    gatehouse_admin::tenants::context(ctx, &id, resource, access)
        .await
        .map_err(refusal)
}

/// The tenants an admin can pick from: every tenant for those the policy lets read every
/// tenant (platform administrators); none for tenant admins, who get no picker.
pub(crate) async fn tenant_choices(
    ctx: &Context<'_>,
) -> Result<Vec<views::TenantChoice>, HttpResponse> {
    let every = Operation::ReadEveryTenant(Resource::Organizations);
    if gatehouse_core::admin::authorize(&ctx.actor.principal, every).is_err() {
        return Ok(Vec::new());
    }
    let ts = gatehouse_admin::tenants::list(ctx).await.map_err(refusal)?;
    Ok(ts
        .tenants
        .into_iter()
        .map(|t| views::TenantChoice {
            id: t.id.to_string(),
            name: t.name,
        })
        .collect())
}

/// A time as the console shows it.
pub(crate) fn show_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match current_admin(&state, &req).await {
        Ok(Some(a)) => {
            let target = if a.principal.can(Resource::ApiKeys, Access::Read) {
                "api-keys"
            } else if a.principal.can(Resource::Clients, Access::Read) {
                "clients"
            } else {
                "audit"
            };
            see_other(&format!("{BASE}/{target}"))
        }
        Ok(None) => see_other(&format!("{BASE}/sign-in")),
        Err(r) => r,
    }
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .content_type("text/javascript; charset=utf-8")
        .body(CONSOLE_JS)
}

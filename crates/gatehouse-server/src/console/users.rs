//! The console's Users page (issue 11): a tenant's users by id with paging, a create form
//! (password hashed in the server's bounded pool; admin scopes offered only as far as the core
//! policy lets the signed-in admin hand them on), disable and enable, password reset, and a
//! user's sessions with "end" buttons. Every read and change is an operator action of
//! `gatehouse_admin` run with the admin's principal; every form carries the session's CSRF
//! token.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_admin::users::{NewUser, ProfileInput};
use gatehouse_admin::{Context, Grantee, sessions, users};
use gatehouse_core::ScopeSet;
use gatehouse_core::admin::{Access, Operation, Resource, admin_scopes, authorize};
use gatehouse_core::params::Params;

use super::views::{SessionRow, SessionsPage, UserRow, UsersPage};
use super::{
    Admin, BASE, page, pick_tenant, read_form, read_query, refusal, require_admin,
    require_admin_form, see_other, show_time, tenant_choices,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// Users per page.
const PAGE: u64 = 50;
/// The prefix of the create form's admin-scope checkboxes (`admin_scope.read:users`): one
/// name per scope, since a form parameter may not repeat.
const SCOPE_FIELD: &str = "admin_scope.";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(&format!("{BASE}/users"), web::get().to(users_get))
        .route(&format!("{BASE}/users/create"), web::post().to(create_post))
        .route(
            &format!("{BASE}/users/disable"),
            web::post().to(disable_post),
        )
        .route(&format!("{BASE}/users/enable"), web::post().to(enable_post))
        .route(
            &format!("{BASE}/users/password"),
            web::post().to(password_post),
        )
        .route(
            &format!("{BASE}/users/sessions"),
            web::get().to(sessions_get),
        )
        .route(
            &format!("{BASE}/users/sessions/end"),
            web::post().to(sessions_end_post),
        );
}

type Page = Result<HttpResponse, HttpResponse>;

/// The fixed texts of the notices a redirect may ask for (never text from the request).
fn notice(code: Option<&str>) -> Option<String> {
    let text = match code? {
        "created" => "The user was created.",
        "disabled" => "The user was disabled; its sessions and refresh tokens were ended.",
        "enabled" => "The user may sign in again.",
        "password" => "The password was reset; the user's sessions and refresh tokens were ended.",
        "ended" => "The session(s) were ended.",
        _ => return None,
    };
    Some(text.to_owned())
}

fn users_link(tenant: &str, notice: Option<&str>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("tenant", tenant);
    if let Some(n) = notice {
        q.append_pair("notice", n);
    }
    format!("{BASE}/users?{}", q.finish())
}

fn sessions_link(user: &str, notice: Option<&str>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("id", user);
    if let Some(n) = notice {
        q.append_pair("notice", n);
    }
    format!("{BASE}/users/sessions?{}", q.finish())
}

/// The admin scopes the admin may give a user: asked of the core policy one by one.
fn offered_scopes(admin: &Admin) -> Vec<String> {
    let principal = gatehouse_core::admin::Principal::Admin(admin.principal.clone());
    admin_scopes()
        .into_iter()
        .filter(|s| {
            ScopeSet::parse(s).is_ok_and(|set| {
                authorize(&principal, Operation::Grant(Grantee::User, &set)).is_ok()
            })
        })
        .collect()
}

/// `GET /admin/console/users?tenant=&after=`.
pub async fn users_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> HttpResponse {
    users_page(&req, &state, &meta).await.unwrap_or_else(|r| r)
}

async fn users_page(req: &HttpRequest, state: &AppState, meta: &RequestMeta) -> Page {
    let admin = require_admin(state, req).await?;
    let q = read_query(req)?;
    let actor = admin.actor(meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let tenant = pick_tenant(&ctx, q.get("tenant"), Resource::Users, Access::Read).await?;
    let list = users::list(&ctx, &tenant.id, q.get("after"), PAGE)
        .await
        .map_err(refusal)?;
    let tenants = tenant_choices(&ctx).await?;
    let rows = list
        .users
        .iter()
        .map(|u| UserRow {
            id: u.id.to_string(),
            username: u.username.clone(),
            email: u.email.clone().unwrap_or_default(),
            admin_scopes: u.admin_scopes.join(" "),
            disabled: u.disabled,
            created: show_time(u.created_at),
            sessions_href: sessions_link(u.id.as_str(), None),
        })
        .collect();
    let next = list.next_after.map(|a| {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("tenant", tenant.id.as_str())
            .append_pair("after", &a)
            .finish();
        format!("{BASE}/users?{q}")
    });
    Ok(page(
        StatusCode::OK,
        &UsersPage {
            nav: admin.nav("users", &tenant.id),
            tenant: tenant.id.as_str(),
            tenant_name: &tenant.name,
            tenants,
            rows,
            can_write: admin.principal.can(Resource::Users, Access::Write),
            offered_scopes: offered_scopes(&admin),
            notice: notice(q.get("notice")),
            next,
        },
    ))
}

/// The checked admin scopes of the create form.
fn checked_scopes(form: &Params) -> Vec<String> {
    form.pairs()
        .iter()
        .filter_map(|(k, _)| k.strip_prefix(SCOPE_FIELD).map(str::to_owned))
        .collect()
}

/// `POST /admin/console/users/create` (tenant, username, email, password, admin scopes).
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
    let tenant = pick_tenant(&ctx, form.get("tenant"), Resource::Users, Access::Write).await?;
    let text = |name: &str| form.get(name).filter(|v| !v.is_empty()).map(str::to_owned);
    let new = NewUser {
        username: form.get("username").unwrap_or_default().to_owned(),
        email: text("email"),
        password: form.get("password").unwrap_or_default().to_owned(),
        profile: ProfileInput {
            name: text("name"),
            admin_scopes: checked_scopes(&form),
            ..ProfileInput::default()
        },
    };
    users::create(&ctx, &tenant.id, new, &*state.hash_pool)
        .await
        .map_err(refusal)?;
    Ok(see_other(&users_link(tenant.id.as_str(), Some("created"))))
}

/// What a user form asks to do.
#[derive(Clone, Copy)]
enum Change {
    Disable,
    Enable,
    Password,
}

pub async fn disable_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    change(&req, &state, &meta, &body, Change::Disable)
        .await
        .unwrap_or_else(|r| r)
}

pub async fn enable_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    change(&req, &state, &meta, &body, Change::Enable)
        .await
        .unwrap_or_else(|r| r)
}

pub async fn password_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    change(&req, &state, &meta, &body, Change::Password)
        .await
        .unwrap_or_else(|r| r)
}

async fn change(
    req: &HttpRequest,
    state: &AppState,
    meta: &RequestMeta,
    body: &[u8],
    what: Change,
) -> Page {
    let form = read_form(req, body)?;
    let admin = require_admin_form(state, req, &form).await?;
    let actor = admin.actor(meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let id = form.get("id").unwrap_or_default();
    let (done, code) = match what {
        Change::Disable => (users::disable(&ctx, id).await, "disabled"),
        Change::Enable => (users::enable(&ctx, id).await, "enabled"),
        Change::Password => {
            let password = form.get("password").unwrap_or_default();
            let hasher = &*state.hash_pool;
            (
                users::reset_password(&ctx, id, password, hasher).await,
                "password",
            )
        }
    };
    let done = done.map_err(refusal)?;
    Ok(see_other(&users_link(
        done.user.tenant.as_str(),
        Some(code),
    )))
}

/// `GET /admin/console/users/sessions?id=USER`.
pub async fn sessions_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> HttpResponse {
    sessions_page(&req, &state, &meta)
        .await
        .unwrap_or_else(|r| r)
}

async fn sessions_page(req: &HttpRequest, state: &AppState, meta: &RequestMeta) -> Page {
    let admin = require_admin(state, req).await?;
    let q = read_query(req)?;
    let actor = admin.actor(meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let id = q.get("id").unwrap_or_default();
    let user = users::get(&ctx, id).await.map_err(refusal)?;
    let list = sessions::list(&ctx, id).await.map_err(refusal)?;
    let rows = list
        .sessions
        .iter()
        .map(|s| SessionRow {
            id: s.id.clone(),
            signed_in: show_time(s.auth_time),
            last_seen: show_time(s.last_seen_at),
            expires: show_time(s.expires_at),
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        &SessionsPage {
            nav: admin.nav("users", &user.tenant),
            tenant: user.tenant.as_str(),
            user_id: user.id.as_str(),
            username: &user.username,
            rows,
            can_write: admin.principal.can(Resource::Users, Access::Write),
            notice: notice(q.get("notice")),
            back: users_link(user.tenant.as_str(), None),
        },
    ))
}

/// `POST /admin/console/users/sessions/end` (id, and session for one; all without it).
pub async fn sessions_end_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    end_sessions(&req, &state, &meta, &body)
        .await
        .unwrap_or_else(|r| r)
}

async fn end_sessions(
    req: &HttpRequest,
    state: &AppState,
    meta: &RequestMeta,
    body: &[u8],
) -> Page {
    let form = read_form(req, body)?;
    let admin = require_admin_form(state, req, &form).await?;
    let actor = admin.actor(meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let id = form.get("id").unwrap_or_default();
    let session = form.get("session").filter(|s| !s.is_empty());
    sessions::end(&ctx, id, session).await.map_err(refusal)?;
    Ok(see_other(&sessions_link(id, Some("ended"))))
}

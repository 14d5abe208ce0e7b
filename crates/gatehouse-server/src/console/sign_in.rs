//! Signing in to and out of the console: `GET|POST /admin/console/sign-in` (fields
//! `username`, `password`, `csrf_token`, and an optional `tenant`) and
//! `POST /admin/console/sign-out`.
//!
//! Usernames are unique per tenant. `tenant` (a tenant's id, or a name only one tenant has)
//! says where the username is; left empty, the `default` tenant is asked first, then a name
//! only one tenant has (core `signin`). A tenant that matches nothing fails like a wrong
//! password.
//!
//! The sign-in is the server's one sign-in ([`crate::signin`] over core `signin`, audience
//! `Console`: an admin scope is required; audit action `console.sign_in`), sharing the
//! throttle counters with `/login`. The form uses a double-submit CSRF token
//! (`crate::session::CONSOLE`); a refused attempt shows the form again with 401, 403 (token),
//! 429 or 503 ([`crate::error::PageError`]).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::signin::Audience;
use gatehouse_core::{StoreError, TenantId};

use super::{BASE, current_admin, internal, read_form, require_admin_form, see_other};
use crate::error::{FormRefusal, PageError};
use crate::request_meta::RequestMeta;
use crate::session::CONSOLE;
use crate::signin::{SignInFields, form_refusal, sign_in, start_session};
use crate::state::AppState;

pub(super) async fn sign_in_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match current_admin(&state, &req).await {
        Ok(Some(_)) => see_other(BASE),
        Ok(None) => {
            crate::views::console_sign_in_page(StatusCode::OK, "", None, state.settings.is_https())
        }
        Err(r) => r,
    }
}

pub(super) async fn sign_in_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form = crate::routes::form_params(&req, &body).map_err(PageError::BadRequest)?;
    let fields = SignInFields::from_form(&form);
    let secure = state.settings.is_https();
    let refused = |refusal| PageError::ConsoleSignIn {
        username: fields.username.to_owned(),
        refusal,
        secure,
    };
    if !CONSOLE.check_form_csrf(&req, fields.csrf_token) {
        return Err(refused(FormRefusal::ExpiredForm));
    }
    let tenant = match form.get("tenant").map(str::trim).unwrap_or_default() {
        "" => None,
        // Unknown: a fresh id no user has, so the attempt costs and fails like a wrong one.
        named => Some(
            state
                .store
                .tenant_by_id_or_name(named)
                .await
                .map_err(StoreError::from)?
                .unwrap_or_else(TenantId::generate),
        ),
    };
    let audience = Audience::Console(tenant.as_ref());
    let signed_in = match sign_in(&state, &meta, audience, &fields).await {
        Ok(a) => a,
        Err(e) => return Err(refused(form_refusal(e)?)),
    };
    let user_id = signed_in.user().id.clone();
    let (_, cookie) = start_session(&state, &req, &CONSOLE, user_id).await?;
    let mut resp = see_other(BASE);
    let _ = resp.add_cookie(&cookie);
    let _ = resp.add_cookie(&CONSOLE.form_csrf_removal(secure));
    Ok(resp)
}

pub(super) async fn sign_out_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let form = match read_form(&req, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Err(r) = require_admin_form(&state, &req, &form).await {
        return r;
    }
    let removal = match CONSOLE
        .end(&state.store, &req, state.settings.is_https())
        .await
    {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let mut resp = see_other(&format!("{BASE}/sign-in"));
    let _ = resp.add_cookie(&removal);
    resp
}

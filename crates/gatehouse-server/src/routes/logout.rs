//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the `end_session_endpoint`.
//!
//! `GET|POST /oauth/logout` takes `id_token_hint`, `client_id`, `post_logout_redirect_uri`,
//! `state` (and ignores `ui_locales`, `logout_hint`). The request is validated first (core
//! [`end_session`]): a bad hint, a mismatched `client_id` or an unregistered redirect URI gets an
//! error page, never a redirect. Then:
//! - a valid `id_token_hint` for the signed-in user (or no session at all): the session ends at
//!   once;
//! - otherwise, with a session, the user confirms on a page that posts to `/logout` with the
//!   session's CSRF token (§2: the OP should ask, since the request may not come from the RP).
//!
//! Ending the session deletes it server-side and expires the cookie; then the browser goes to the
//! `post_logout_redirect_uri` (with `state`) or sees a "signed out" page.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::claims::ID_TOKEN_TYP;
use gatehouse_core::end_session::{self, EndSessionRequest, IdTokenHint};
use gatehouse_core::params::Params;
use gatehouse_core::ports::{Session, UserStore};
use gatehouse_core::{Error, OAuthError};

use crate::error::{error_page, redirect};
use crate::state::AppState;
use crate::{session, views};

pub async fn logout_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let params = match Params::from_query(req.query_string()) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    logout(&req, &state, params).await
}

pub async fn logout_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let params = match crate::routes::form_params(&req, &body) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    logout(&req, &state, params).await
}

async fn logout(req: &HttpRequest, state: &AppState, params: Params) -> HttpResponse {
    let es = match validate(state, &params).await {
        Ok(es) => es,
        Err(resp) => return resp,
    };
    let now = state.now();
    let current =
        match session::current(&state.store, req, state.settings.session_policy(), now).await {
            Ok(s) => s,
            Err(e) => return internal(e.into()),
        };
    match current {
        // Nothing to end; still clear a stale cookie.
        None => finish(req, state, &es).await,
        Some(s)
            if es
                .hint
                .as_ref()
                .is_some_and(|h| h.sub == s.user_id.as_str()) =>
        {
            finish(req, state, &es).await
        }
        Some(s) => confirm_page(state, &es, &s, &params).await,
    }
}

/// `POST /logout`: the confirmation form (`csrf_token`, `request`, `decision=logout|stay`).
pub async fn confirm_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let fields = match crate::routes::form_params(&req, &body) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let params = match Params::from_query(fields.get("request").unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let now = state.now();
    let current =
        match session::current(&state.store, &req, state.settings.session_policy(), now).await {
            Ok(s) => s,
            Err(e) => return internal(e.into()),
        };
    let es = match validate(&state, &params).await {
        Ok(es) => es,
        Err(resp) => return resp,
    };
    let Some(s) = current else {
        // The session already ended (expired or logged out in another tab).
        return finish(&req, &state, &es).await;
    };
    if !session::check_session_csrf(&s, fields.get("csrf_token").unwrap_or_default()) {
        return error_page(
            StatusCode::BAD_REQUEST,
            &OAuthError::invalid_request("this form has expired; sign out again"),
        );
    }
    match fields.get("decision") {
        Some("logout") => finish(&req, &state, &es).await,
        Some("stay") => message_page(StatusCode::OK, "You are still signed in", None),
        _ => error_page(
            StatusCode::BAD_REQUEST,
            &OAuthError::invalid_request("decision must be logout or stay"),
        ),
    }
}

/// Verifies the hint (when sent) and validates the request; failures are error pages.
async fn validate(state: &AppState, params: &Params) -> Result<EndSessionRequest, HttpResponse> {
    if let Some(t) = params.get("id_token_hint") {
        crate::access_tokens::know_kid_of(state, t).await;
    }
    let hint = params.get("id_token_hint").map(|t| verify_hint(state, t));
    end_session::validate(&state.store, params, hint)
        .await
        .map_err(|e| match e {
            Error::OAuth(err) => error_page(StatusCode::BAD_REQUEST, &err),
            other => internal(other),
        })
}

/// An ID token signed by one of our published keys, for our issuer; expired is fine (§2: the
/// hint identifies, it does not authenticate), as long as its key is still published.
pub(crate) fn verify_hint(state: &AppState, token: &str) -> Option<IdTokenHint> {
    let claims = state
        .keys
        .current()
        .verify_allowing_expired(token, ID_TOKEN_TYP, &state.policy.issuer)
        .ok()?;
    IdTokenHint::from_claims(&claims)
}

/// Ends the session and goes where the request asked (or shows the signed-out page).
async fn finish(req: &HttpRequest, state: &AppState, es: &EndSessionRequest) -> HttpResponse {
    let removal = match session::end(&state.store, req, state.settings.is_https()).await {
        Ok(c) => c,
        Err(e) => return internal(e.into()),
    };
    tracing::info!(
        client_id = es.client.as_ref().map(|c| c.id.as_str()).unwrap_or("-"),
        "session ended (RP-initiated logout)"
    );
    let mut resp = match &es.redirect {
        Some(url) => redirect(url),
        None => message_page(StatusCode::OK, "You have been signed out", None),
    };
    add_cookie(&mut resp, &removal);
    resp
}

async fn confirm_page(
    state: &AppState,
    es: &EndSessionRequest,
    s: &Session,
    params: &Params,
) -> HttpResponse {
    let username = match state.store.find_user(&s.user_id).await {
        Ok(Some(u)) => u.username,
        Ok(None) => String::new(),
        Err(e) => return internal(e.into()),
    };
    let request = params.to_query();
    views::page(
        StatusCode::OK,
        &views::LogoutPage {
            confirm: true,
            client_name: es.client.as_ref().map(|c| c.name.as_str()),
            username: &username,
            csrf_token: &s.csrf_token,
            request: &request,
            message: "",
        },
    )
}

fn message_page(status: StatusCode, message: &str, client_name: Option<&str>) -> HttpResponse {
    views::page(
        status,
        &views::LogoutPage {
            confirm: false,
            client_name,
            username: "",
            csrf_token: "",
            request: "",
            message,
        },
    )
}

fn add_cookie(resp: &mut HttpResponse, c: &Cookie<'static>) {
    if let Err(e) = resp.add_cookie(c) {
        tracing::warn!(error = %e, "could not set the session removal cookie");
    }
}

fn internal(e: Error) -> HttpResponse {
    tracing::error!(error = %e, "internal error");
    error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_oauth())
}

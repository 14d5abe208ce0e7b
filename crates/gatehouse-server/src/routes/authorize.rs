//! The authorization endpoint and its pages (RFC 6749 §4.1.1–§4.1.2, OIDC Core §3.1.2).
//!
//! `GET|POST /oauth/authorize` validates the request (core [`authorize`]), then shows the login
//! page, the consent page, or redirects with a code. The pages post to `/login` and `/consent`
//! with the original request in a hidden field; it is validated again from scratch on every
//! post, so tampering with it gains nothing a direct request would not.
//!
//! A client of a disabled tenant is treated as unknown (an error page), so nobody signs in to
//! a disabled tenant (users sign in only at clients of their own tenant). Logins (success and
//! failure, with the username tried but never the password) and consent decisions are written
//! to the audit trail with the source IP and request id of [`RequestMeta`].

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::audit::{ActorKind, Outcome};
use gatehouse_core::authorize::{
    self, AuthorizationRequest, AuthorizeError, Interaction, NextStep,
};
use gatehouse_core::params::Params;
use gatehouse_core::password;
use gatehouse_core::ports::{ConsentStore, Session, UserStore};
use gatehouse_core::tenant::tenant_enabled;
use gatehouse_core::{Error, OAuthError};
use serde_json::json;

use crate::audit_sink::RequestAudit;
use crate::request_meta::RequestMeta;

use crate::error::{authorization_response, authorize_error, error_page};
use crate::state::AppState;
use crate::{session, views};

pub async fn authorize_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let params = match Params::from_query(req.query_string()) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    authorize(&req, &state, params).await
}

pub async fn authorize_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let params = match crate::routes::form_params(&req, &body) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    authorize(&req, &state, params).await
}

async fn authorize(req: &HttpRequest, state: &AppState, params: Params) -> HttpResponse {
    let areq = match validate(state, &params).await {
        Ok(a) => a,
        Err(e) => return authorize_error(&state.policy.issuer, e),
    };
    let now = state.now();
    let session = match session::current(&state.store, req, state.settings.session_policy(), now)
        .await
    {
        Ok(s) => s,
        Err(e) => return authorize_error(&state.policy.issuer, AuthorizeError::Internal(e.into())),
    };
    // OIDC Core §3.1.2.1 id_token_hint: a session of another user does not count (the user
    // must log in; with prompt=none that is login_required). A hint we did not issue is an
    // invalid request. Checked only here, not after the login form, so logging in as someone
    // else cannot loop.
    let session = match areq.params.get("id_token_hint") {
        None => session,
        Some(token) => match crate::routes::logout::verify_hint(state, token) {
            Some(hint) => session.filter(|s| s.user_id.as_str() == hint.sub),
            None => {
                let error = OAuthError::invalid_request("id_token_hint is not a valid ID token");
                let target = areq.target.clone();
                return authorize_error(
                    &state.policy.issuer,
                    AuthorizeError::Redirect { target, error },
                );
            }
        },
    };
    proceed(
        state,
        areq,
        session,
        Interaction::default(),
        Vec::new(),
        None,
    )
    .await
}

async fn validate(
    state: &AppState,
    params: &Params,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let resolved = authorize::resolve_client(&state.store, params).await?;
    let enabled = tenant_enabled(&state.store, &resolved.client.tenant_id)
        .await
        .map_err(|e| AuthorizeError::Internal(e.into()))?;
    if !enabled {
        return Err(AuthorizeError::Page(OAuthError::invalid_client(
            "unknown client_id",
        )));
    }
    authorize::validate(resolved, params)
}

/// Decides and performs the next step for a validated request.
async fn proceed(
    state: &AppState,
    areq: AuthorizationRequest,
    session: Option<Session>,
    interaction: Interaction,
    cookies: Vec<Cookie<'static>>,
    login_error: Option<&str>,
) -> HttpResponse {
    let issuer = &state.policy.issuer;
    let now = state.now();
    // Admin scopes are granted only to users who hold them (RFC 6749 §3.3): narrow the request
    // to what this user may get before consent and code issuance see it.
    let areq = match &session {
        Some(s) => match state.store.find_user(&s.user_id).await {
            Ok(u) => match areq.for_user(u.as_ref()) {
                Ok(a) => a,
                Err(e) => return authorize_error(issuer, e),
            },
            Err(e) => return authorize_error(issuer, AuthorizeError::Internal(e.into())),
        },
        None => areq,
    };
    let consent = match &session {
        Some(s) => match state.store.find_consent(&s.user_id, &areq.client.id).await {
            Ok(c) => c,
            Err(e) => return authorize_error(issuer, AuthorizeError::Internal(e.into())),
        },
        None => None,
    };
    let step =
        match authorize::next_step(&areq, session.as_ref(), consent.as_ref(), interaction, now) {
            Ok(s) => s,
            Err(e) => return authorize_error(issuer, e),
        };
    let mut resp = match step {
        NextStep::Login => login_page(
            state,
            &areq,
            areq.login_hint.as_deref().unwrap_or_default(),
            login_error,
        ),
        NextStep::Consent => {
            // next_step only asks for consent with a session.
            let Some(s) = session.as_ref() else {
                return login_page(state, &areq, "", None);
            };
            consent_page(state, &areq, s).await
        }
        NextStep::Issue { user_id, auth_time } => {
            match authorize::issue_code(&state.store, &state.policy, &areq, user_id, auth_time, now)
                .await
            {
                Ok(r) => authorization_response(r, &areq.client.name),
                Err(e) => authorize_error(issuer, AuthorizeError::Internal(e)),
            }
        }
    };
    for c in cookies {
        let _ = resp.add_cookie(&c);
    }
    resp
}

fn login_page(
    state: &AppState,
    areq: &AuthorizationRequest,
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    let (csrf, cookie) = session::login_csrf(state.settings.is_https());
    let request = areq.params.to_query();
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut resp = views::page(
        status,
        &views::LoginPage {
            client_name: &areq.client.name,
            csrf_token: &csrf,
            request: &request,
            username,
            error,
        },
    );
    let _ = resp.add_cookie(&cookie);
    resp
}

async fn consent_page(state: &AppState, areq: &AuthorizationRequest, s: &Session) -> HttpResponse {
    let username = match state.store.find_user(&s.user_id).await {
        Ok(Some(u)) => u.username,
        Ok(None) => return login_page(state, areq, "", None),
        Err(e) => return authorize_error(&state.policy.issuer, AuthorizeError::Internal(e.into())),
    };
    let scopes = areq
        .scope
        .iter()
        .map(|s| {
            (
                s.to_owned(),
                state
                    .settings
                    .scopes
                    .get(s)
                    .cloned()
                    .unwrap_or_else(|| format!("Use {s}")),
            )
        })
        .collect();
    let request = areq.params.to_query();
    views::page(
        StatusCode::OK,
        &views::ConsentPage {
            client_name: &areq.client.name,
            username: &username,
            csrf_token: &s.csrf_token,
            request: &request,
            scopes,
        },
    )
}

/// The fields every form posts: its CSRF token and the original request.
struct FormCommon {
    fields: Params,
    params: Params,
}

fn read_form(req: &HttpRequest, body: &[u8]) -> Result<FormCommon, OAuthError> {
    let fields = crate::routes::form_params(req, body)?;
    let params = Params::from_query(fields.get("request").unwrap_or_default())?;
    Ok(FormCommon { fields, params })
}

fn expired_form() -> HttpResponse {
    error_page(
        StatusCode::BAD_REQUEST,
        &OAuthError::invalid_request(
            "this form has expired; go back to the application and sign in again",
        ),
    )
}

/// `POST /login`: username and password (contract: `username`, `password`, `csrf_token`).
pub async fn login_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let form = match read_form(&req, &body) {
        Ok(f) => f,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    if !session::check_login_csrf(&req, form.fields.get("csrf_token").unwrap_or_default()) {
        return expired_form();
    }
    let areq = match validate(&state, &form.params).await {
        Ok(a) => a,
        Err(e) => return authorize_error(&state.policy.issuer, e),
    };
    let username = form.fields.get("username").unwrap_or_default();
    let password = form.fields.get("password").unwrap_or_default();
    // Before any password check: guessing is slowed per address and per account.
    if let Err(limited) = state
        .rate_limits
        .check_login(meta.ip_string().as_deref(), username)
    {
        tracing::warn!(client_id = %areq.client.id, "login attempts rate-limited");
        let tried: String = username.chars().take(256).collect();
        RequestAudit::new(&state.store, &meta)
            .event(
                state.now(),
                Some(areq.client.tenant_id.to_string()),
                ActorKind::User,
                Some(tried),
                "login",
                None,
                Outcome::Denied,
                json!({ "client_id": areq.client.id.as_str(), "reason": "rate_limited" }),
            )
            .await;
        let mut resp = proceed(
            &state,
            areq,
            None,
            Interaction::default(),
            Vec::new(),
            Some("Too many sign-in attempts. Wait a minute, then try again."),
        )
        .await;
        *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        if let Ok(v) = limited.retry_after.to_string().parse() {
            resp.headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, v);
        }
        return resp;
    }
    let user = match state.store.find_user_by_username(username).await {
        Ok(u) => u,
        Err(e) => return authorize_error(&state.policy.issuer, AuthorizeError::Internal(e.into())),
    };
    // Argon2 is slow on purpose: run it off the async workers. An unknown user is checked
    // against a dummy hash so that timing does not reveal which usernames exist.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::dummy_hash().to_owned());
    let pw = password.to_owned();
    let verified = web::block(move || password::verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(u) if verified && u.tenant_id == areq.client.tenant_id => u,
        _ => {
            tracing::info!(client_id = %areq.client.id, "login failed");
            // The username as typed (bounded), never the password.
            let tried: String = username.chars().take(256).collect();
            RequestAudit::new(&state.store, &meta)
                .event(
                    state.now(),
                    Some(areq.client.tenant_id.to_string()),
                    ActorKind::User,
                    Some(tried),
                    "login",
                    None,
                    Outcome::Failure,
                    json!({ "client_id": areq.client.id.as_str(), "reason": "invalid_credentials" }),
                )
                .await;
            return proceed(
                &state,
                areq,
                None,
                Interaction::default(),
                Vec::new(),
                Some("Invalid username or password."),
            )
            .await;
        }
    };
    let now = state.now();
    let (s, cookie) = match session::start(
        &state.store,
        &req,
        user.id.clone(),
        now,
        state.settings.session.ttl,
        state.settings.is_https(),
    )
    .await
    {
        Ok(x) => x,
        Err(e) => {
            return authorize_error(
                &state.policy.issuer,
                AuthorizeError::Internal(Error::Store(e)),
            );
        }
    };
    tracing::info!(user_id = %user.id, client_id = %areq.client.id, "login succeeded");
    RequestAudit::new(&state.store, &meta)
        .event(
            now,
            Some(user.tenant_id.to_string()),
            ActorKind::User,
            Some(user.id.to_string()),
            "login",
            Some(user.id.to_string()),
            Outcome::Success,
            json!({ "client_id": areq.client.id.as_str(), "username": user.username }),
        )
        .await;
    let interaction = Interaction {
        just_logged_in: true,
        just_consented: false,
    };
    proceed(
        &state,
        areq.after_login(),
        Some(s),
        interaction,
        vec![cookie],
        None,
    )
    .await
}

/// `POST /consent`: `decision=allow|deny` (contract), with the session's CSRF token.
pub async fn consent_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let form = match read_form(&req, &body) {
        Ok(f) => f,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let now = state.now();
    let s = match session::current(&state.store, &req, state.settings.session_policy(), now).await {
        Ok(Some(s)) => s,
        Ok(None) => return expired_form(),
        Err(e) => return authorize_error(&state.policy.issuer, AuthorizeError::Internal(e.into())),
    };
    if !session::check_session_csrf(&s, form.fields.get("csrf_token").unwrap_or_default()) {
        return expired_form();
    }
    let areq = match validate(&state, &form.params).await {
        Ok(a) => a,
        Err(e) => return authorize_error(&state.policy.issuer, e),
    };
    let consent_event = |allowed: bool| {
        let audit = RequestAudit::new(&state.store, &meta);
        let details = json!({
            "decision": if allowed { "allow" } else { "deny" },
            "scope": areq.scope.to_string(),
        });
        let tenant = areq.client.tenant_id.to_string();
        let user = s.user_id.to_string();
        let client = areq.client.id.to_string();
        async move {
            audit
                .event(
                    now,
                    Some(tenant),
                    ActorKind::User,
                    Some(user),
                    "consent",
                    Some(client),
                    if allowed {
                        Outcome::Success
                    } else {
                        Outcome::Denied
                    },
                    details,
                )
                .await;
        }
    };
    match form.fields.get("decision") {
        Some("allow") => {}
        Some("deny") => {
            tracing::info!(user_id = %s.user_id, client_id = %areq.client.id, "consent denied");
            consent_event(false).await;
            return authorization_response(
                authorize::denied_response(&state.policy, &areq),
                &areq.client.name,
            );
        }
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &OAuthError::invalid_request("decision must be allow or deny"),
            );
        }
    }
    if let Err(e) = state
        .store
        .save_consent(&s.user_id, &areq.client.id, &areq.scope, now)
        .await
    {
        return authorize_error(&state.policy.issuer, AuthorizeError::Internal(e.into()));
    }
    consent_event(true).await;
    let interaction = Interaction {
        just_logged_in: false,
        just_consented: true,
    };
    proceed(&state, areq, Some(s), interaction, Vec::new(), None).await
}

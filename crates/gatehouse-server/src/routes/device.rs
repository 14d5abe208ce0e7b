//! The device authorization grant's edges (RFC 8628), translation only; core `device`
//! decides.
//!
//! - `POST /oauth/device_authorization` (§3.1–3.2): [`ClientRequest`] parses the form and the
//!   client credentials; core `device::start` authenticates the client as the token endpoint
//!   does and stores the request; [`token_reply`] answers JSON.
//! - `GET /device` (§3.3): the page where the user types the code, or arrives with it from
//!   `verification_uri_complete` (`?user_code=`). A code that names a pending request leads
//!   to the login page (posting to `/device/login`) or, with a login session of the client's
//!   tenant, to the consent screen (posting to `/device/consent`). Wrong codes are counted by
//!   the sign-in throttle under the address's own key (core `device::guess_subject`), and a
//!   waiting address is refused before any lookup.
//! - `POST /device/login`: the login form (double-submit CSRF token, the sign-in of
//!   [`crate::signin`] for the client's audience, a fresh session).
//! - `POST /device/consent`: the session's CSRF token, `decision=allow|deny`; the decision is
//!   recorded once and audited (`consent`, with `"flow": "device"`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use gatehouse_core::OAuthError;
use gatehouse_core::audit::{ActorKind, Outcome};
use gatehouse_core::device::{self, DeviceRequest, Lookup, PendingDevice};
use gatehouse_core::params::Params;
use gatehouse_core::session::BoundSession;
use gatehouse_core::signin::Audience;
use gatehouse_core::throttle;
use serde_json::json;

use crate::audit_sink::RequestAudit;
use crate::error::{CodeRefusal, PageError, token_reply};
use crate::extract::ClientRequest;
use crate::request_meta::RequestMeta;
use crate::session;
use crate::signin::{SignInFields, form_refusal, sign_in, start_session};
use crate::state::AppState;
use crate::views::{self, DevicePage, LoginForm};

/// `POST /oauth/device_authorization` (RFC 8628 §3.1).
#[tracing::instrument(skip_all)]
pub async fn device_authorization(
    state: web::Data<AppState>,
    form: ClientRequest<DeviceRequest>,
) -> HttpResponse {
    let now = state.now();
    let ctx = gatehouse_core::client_auth::ClientAuthContext {
        clients: &state.clients,
        store: &state.store,
        verifier: &*state.key_verifier,
        rules: &state.assertion_rules,
        now,
    };
    let settings = state.settings.device_settings();
    let answer = device::start(
        &ctx,
        &state.store,
        form.credentials.as_ref(),
        form.request,
        &settings,
        now,
    )
    .await;
    token_reply(answer)
}

/// `GET /device[?user_code=…]`.
pub async fn device_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> Result<HttpResponse, PageError> {
    let params = Params::from_query(req.query_string()).map_err(PageError::BadRequest)?;
    let Some(typed) = params.get("user_code") else {
        let page = DevicePage {
            user_code: "",
            error: None,
            done: None,
        };
        return Ok(views::device_page(StatusCode::OK, &page));
    };
    let pending = lookup(&state, &meta, typed).await?;
    let policy = state.settings.session_policy();
    let current = session::LOGIN
        .current(&state.store, &req, policy, state.now())
        .await?;
    Ok(
        match device::bind_session(&state.store, current, &pending).await? {
            Some(b) => consent_page(&state, &pending, &b),
            None => views::login_page(
                StatusCode::OK,
                &login_form(&pending, ""),
                None,
                state.settings.is_https(),
            ),
        },
    )
}

/// `POST /device/login`: `username`, `password`, `csrf_token` and the code in `request`.
pub async fn device_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let fields = crate::routes::form_params(&req, &body).map_err(PageError::BadRequest)?;
    let signin = SignInFields::from_form(&fields);
    if !session::LOGIN.check_form_csrf(&req, signin.csrf_token) {
        return Err(PageError::ExpiredForm);
    }
    let typed = carried_code(&fields)?;
    let pending = lookup(&state, &meta, &typed).await?;
    let signed_in = match sign_in(&state, &meta, Audience::Client(&pending.client), &signin).await {
        Ok(a) => a,
        Err(e) => {
            return Err(PageError::Login {
                form: login_form(&pending, signin.username),
                refusal: form_refusal(e)?,
                secure: state.settings.is_https(),
            });
        }
    };
    let user_id = signed_in.user().id.clone();
    let (s, cookie) = start_session(&state, &req, &session::LOGIN, user_id).await?;
    // The session exists now: its cookie goes out with whatever comes next.
    let mut resp = match device::bind_new_session(s, signed_in, &pending) {
        Some(b) => consent_page(&state, &pending, &b),
        None => PageError::ExpiredForm.error_response(),
    };
    let _ = resp.add_cookie(&cookie);
    Ok(resp)
}

/// `POST /device/consent`: `decision=allow|deny`, the session's CSRF token, the code.
pub async fn device_consent(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let fields = crate::routes::form_params(&req, &body).map_err(PageError::BadRequest)?;
    let policy = state.settings.session_policy();
    let s = session::LOGIN
        .current(&state.store, &req, policy, state.now())
        .await?
        .ok_or(PageError::ExpiredForm)?;
    if !session::check_session_csrf(&s, fields.get("csrf_token").unwrap_or_default()) {
        return Err(PageError::ExpiredForm);
    }
    let allow = match fields.get("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => {
            return Err(PageError::BadRequest(OAuthError::invalid_request(
                "decision must be allow or deny",
            )));
        }
    };
    let typed = carried_code(&fields)?;
    let pending = lookup(&state, &meta, &typed).await?;
    let signed_in = device::bind_session(&state.store, Some(s), &pending)
        .await?
        .ok_or(PageError::ExpiredForm)?;
    let scope = device::consent_scope(&pending, &signed_in);
    let approved = allow && !scope.is_empty();
    if !device::decide(&state.store, &pending, &signed_in, allow, state.now()).await? {
        return Err(PageError::DeviceCode {
            user_code: typed,
            refusal: CodeRefusal::Unknown,
        });
    }
    audit_decision(&state, &meta, &pending, &signed_in, approved, &scope).await;
    let name = &pending.client.name;
    let message = if approved {
        format!("{name} is now connected to your account.")
    } else {
        format!("You denied {name} access to your account.")
    };
    let page = DevicePage {
        user_code: "",
        error: None,
        done: Some(&message),
    };
    Ok(views::device_page(StatusCode::OK, &page))
}

/// The user code a login or consent form carries in its `request` field.
fn carried_code(fields: &Params) -> Result<String, PageError> {
    let request = Params::from_query(fields.get("request").unwrap_or_default())
        .map_err(PageError::BadRequest)?;
    Ok(request.get("user_code").unwrap_or_default().to_owned())
}

/// The pending request `typed` names, throttled like password guesses: a waiting address is
/// refused before the lookup, and every code that names nothing counts as a failure.
async fn lookup(
    state: &AppState,
    meta: &RequestMeta,
    typed: &str,
) -> Result<PendingDevice, PageError> {
    let now = state.now();
    let failures = &*state.sign_in_failures;
    let subject = device::guess_subject(meta.ip);
    let shown: String = typed.chars().take(32).collect();
    let refuse = |refusal| PageError::DeviceCode {
        user_code: shown.clone(),
        refusal,
    };
    if let Some(retry_after) = throttle::check(failures, &subject, now).await? {
        tracing::warn!("device user code throttled");
        return Err(refuse(CodeRefusal::Throttled { retry_after }));
    }
    match device::find_pending(&state.store, &state.clients, typed, now).await {
        Ok(p) => Ok(p),
        Err(Lookup::Store(e)) => Err(e.into()),
        Err(Lookup::Unknown) => {
            let policy = state.settings.login_throttle.policy();
            throttle::record_failure(failures, &policy, &subject, now).await?;
            tracing::info!("device user code unknown");
            Err(refuse(CodeRefusal::Unknown))
        }
    }
}

fn login_form(pending: &PendingDevice, username: &str) -> LoginForm {
    LoginForm {
        action: "/device/login",
        client_name: pending.client.name.clone(),
        request: format!("user_code={}", pending.user_code.display()),
        username: username.to_owned(),
    }
}

fn consent_page(state: &AppState, pending: &PendingDevice, b: &BoundSession) -> HttpResponse {
    views::device_consent_page(
        &pending.client.name,
        &pending.user_code.display(),
        &device::consent_scope(pending, b),
        b,
        &state.settings.scopes,
    )
}

async fn audit_decision(
    state: &AppState,
    meta: &RequestMeta,
    pending: &PendingDevice,
    b: &BoundSession,
    approved: bool,
    scope: &gatehouse_core::ScopeSet,
) {
    RequestAudit::new(&state.store, meta)
        .event(
            state.now(),
            Some(pending.client.tenant_id.to_string()),
            ActorKind::User,
            Some(b.user().id.to_string()),
            "consent",
            Some(pending.client.id.to_string()),
            if approved {
                Outcome::Success
            } else {
                Outcome::Denied
            },
            json!({
                "decision": if approved { "allow" } else { "deny" },
                "scope": scope.to_string(),
                "flow": "device",
            }),
        )
        .await;
}

//! The server's one password sign-in, used by the login page (`POST /login`) and the admin
//! console (`POST /admin/console/sign-in`). The decision — throttling, user, password,
//! tenant, admin scope, audit — is `gatehouse_core::signin`; this module plugs in the ports
//! (the store, the bounded [`crate::hash_pool`], the node's failure counters of
//! [`crate::throttle`], the request's audit trail), reads the form and starts the session of
//! the audience's [`CookieSpec`].

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use gatehouse_core::params::Params;
use gatehouse_core::ports::Session;
use gatehouse_core::signin::{Attempt, Audience, Authenticated, SignIn, SignInError};
use gatehouse_core::{StoreError, UserId};

use crate::audit_sink::RequestAudit;
use crate::error::{FormRefusal, PageError};
use crate::request_meta::RequestMeta;
use crate::session::CookieSpec;
use crate::state::AppState;

/// The fields of a sign-in form (contract: `username`, `password`, `csrf_token`).
pub struct SignInFields<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub csrf_token: &'a str,
}

impl<'a> SignInFields<'a> {
    /// The fields of a posted form; a missing one is empty (and fails like a wrong one).
    pub fn from_form(form: &'a Params) -> Self {
        Self {
            username: form.get("username").unwrap_or_default(),
            password: form.get("password").unwrap_or_default(),
            csrf_token: form.get("csrf_token").unwrap_or_default(),
        }
    }
}

/// Decides a sign-in of `fields` for `audience`, from the request's client address.
pub async fn sign_in(
    state: &AppState,
    meta: &RequestMeta,
    audience: Audience<'_>,
    fields: &SignInFields<'_>,
) -> Result<Authenticated, SignInError> {
    let audit = RequestAudit::new(&state.store, meta);
    let policy = state.settings.login_throttle.policy();
    let signin = SignIn {
        store: &state.store,
        passwords: &*state.hash_pool,
        failures: &*state.sign_in_failures,
        audit: &audit,
        policy: &policy,
    };
    let attempt = Attempt {
        username: fields.username,
        password: fields.password,
        address: meta.ip,
        audience,
        now: state.now(),
    };
    let outcome = signin.attempt(&attempt).await;
    let action = audience.action();
    match &outcome {
        Ok(a) => tracing::info!(user_id = %a.user().id, action, "sign-in succeeded"),
        Err(SignInError::Refused(r)) => {
            tracing::info!(reason = r.as_str(), action, "sign-in refused")
        }
        Err(SignInError::Throttled { .. }) => tracing::warn!(action, "sign-in throttled"),
        Err(SignInError::Busy { .. }) => tracing::warn!(action, "sign-in shed: hashing pool full"),
        Err(SignInError::Store(_)) => {}
    }
    outcome
}

/// How a failed sign-in is shown on its form; storage failures are internal errors.
pub fn form_refusal(e: SignInError) -> Result<FormRefusal, PageError> {
    match e {
        SignInError::Refused(_) => Ok(FormRefusal::InvalidCredentials),
        SignInError::Throttled { retry_after } => Ok(FormRefusal::Throttled { retry_after }),
        SignInError::Busy { retry_after } => Ok(FormRefusal::Busy { retry_after }),
        SignInError::Store(e) => Err(e.into()),
    }
}

/// Starts a session of `spec`'s audience for `user_id`, with the configured lifetime.
pub async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    spec: &CookieSpec,
    user_id: UserId,
) -> Result<(Session, Cookie<'static>), StoreError> {
    spec.start(
        &state.store,
        req,
        user_id,
        state.now(),
        state.settings.session.ttl,
        state.settings.is_https(),
    )
    .await
}

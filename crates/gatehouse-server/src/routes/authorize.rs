//! The authorization endpoint (RFC 6749 §4.1.1–§4.1.2, OIDC Core §3.1.2).
//!
//! `GET|POST /oauth/authorize` validates the request (core `authorize`), binds the browser's
//! login session to the client's tenant (core `authorize::bind_session`: a session of another
//! tenant's user counts as none), then shows the login page, the consent page, or redirects
//! with a code — or, for a client that opted in to the implicit or hybrid flow, with tokens in
//! the fragment (core `authorize::implicit`; its `token.issue` events are audited here). The pages post to `/login` ([`super::login`]) and `/consent`
//! ([`super::consent`]) with the original request in a hidden field; it is validated again from
//! scratch on every post, so tampering with it gains nothing a direct request would not.
//!
//! Handlers return [`PageError`]; `crate::error` picks every status.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::authorize::{
    self, AuthorizationRequest, AuthorizeError, Interaction, NextStep,
};
use gatehouse_core::par;
use gatehouse_core::params::Params;
use gatehouse_core::ports::ConsentStore;
use gatehouse_core::request_object::{self, RequestObjectContext};
use gatehouse_core::session::BoundSession;
use gatehouse_core::{Error, OAuthError, StoreError};

use crate::error::{PageError, authorization_response};
use crate::request_meta::RequestMeta;
use crate::session;
use crate::state::AppState;
use crate::views::{self, LoginForm};

pub async fn authorize_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> Result<HttpResponse, PageError> {
    let params = Params::from_query(req.query_string()).map_err(PageError::BadRequest)?;
    authorize(&req, &state, &meta, params).await
}

/// The request as it enters the endpoint: a request object unpacked (RFC 9101 §6.3), a pushed
/// one expanded (RFC 9126 §4), and refused if pushing is required but it was not pushed (§5, §6).
async fn entering(state: &AppState, params: Params) -> Result<AuthorizationRequest, PageError> {
    let page = |e: Error| match e {
        Error::OAuth(e) => PageError::BadRequest(e),
        e => PageError::authorize(&state.policy.issuer, AuthorizeError::Internal(e)),
    };
    let objects = RequestObjectContext {
        clients: &state.clients,
        replay: &state.store,
        verifier: &*state.key_verifier,
        issuer: &state.policy.issuer,
        now: state.now(),
    };
    let params = request_object::expand(&objects, params)
        .await
        .map_err(|e| PageError::authorize(&state.policy.issuer, e))?;
    let (params, pushed) = par::expand(&state.store, params, state.now())
        .await
        .map_err(page)?;
    let areq = validate(state, &params).await?;
    let client_requires = state
        .store
        .client_options(&areq.client.id)
        .await?
        .require_par;
    let server_requires = state.settings.par.require_pushed_authorization_requests;
    par::check_required(pushed, server_requires, client_requires).map_err(|error| {
        let target = areq.target.clone();
        PageError::authorize(
            &state.policy.issuer,
            AuthorizeError::Redirect { target, error },
        )
    })?;
    Ok(areq)
}

pub async fn authorize_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let params = crate::routes::form_params(&req, &body).map_err(PageError::BadRequest)?;
    authorize(&req, &state, &meta, params).await
}

async fn authorize(
    req: &HttpRequest,
    state: &AppState,
    meta: &RequestMeta,
    params: Params,
) -> Result<HttpResponse, PageError> {
    let areq = entering(state, params).await?;
    let signed_in = bound_session(state, req, &areq).await?;
    // OIDC Core §3.1.2.1 id_token_hint: a session of another user does not count (the user
    // must log in; with prompt=none that is login_required). A hint we did not issue is an
    // invalid request. Checked only here, not after the login form, so logging in as someone
    // else cannot loop.
    if let Some(token) = areq.params.get("id_token_hint") {
        crate::access_tokens::know_kid_of(state, token).await;
    }
    let signed_in = match areq.params.get("id_token_hint") {
        None => signed_in,
        Some(token) => match crate::routes::logout::verify_hint(state, token) {
            Some(hint) => signed_in.filter(|b| b.user().id.as_str() == hint.sub),
            None => {
                let error = OAuthError::invalid_request("id_token_hint is not a valid ID token");
                let target = areq.target.clone();
                return Err(PageError::authorize(
                    &state.policy.issuer,
                    AuthorizeError::Redirect { target, error },
                ));
            }
        },
    };
    proceed(state, meta, areq, signed_in, Interaction::default()).await
}

/// This browser's login session, if it counts for `areq`'s client (core decides).
pub(crate) async fn bound_session(
    state: &AppState,
    req: &HttpRequest,
    areq: &AuthorizationRequest,
) -> Result<Option<BoundSession>, StoreError> {
    let policy = state.settings.session_policy();
    let session = session::LOGIN
        .current(&state.store, req, policy, state.now())
        .await?;
    authorize::bind_session(&state.store, session, areq).await
}

/// Resolves the client (a disabled tenant's is unknown) and validates the request.
pub(crate) async fn validate(
    state: &AppState,
    params: &Params,
) -> Result<AuthorizationRequest, PageError> {
    let fail = |e| PageError::authorize(&state.policy.issuer, e);
    let resolved = authorize::resolve_client(&state.clients, params)
        .await
        .map_err(fail)?;
    let areq = authorize::validate(resolved, params).map_err(fail)?;
    authorize::admit_resources(&state.store, areq)
        .await
        .map_err(fail)
}

/// Decides and performs the next step for a validated request and the session bound to it.
pub(crate) async fn proceed(
    state: &AppState,
    meta: &RequestMeta,
    areq: AuthorizationRequest,
    signed_in: Option<BoundSession>,
    interaction: Interaction,
) -> Result<HttpResponse, PageError> {
    let fail = |e| PageError::authorize(&state.policy.issuer, e);
    let now = state.now();
    // Admin scopes are granted only to users who hold them (RFC 6749 §3.3): narrow the request
    // to what this user may get before consent and code issuance see it.
    let areq = match &signed_in {
        Some(b) => areq.for_user(b).map_err(fail)?,
        None => areq,
    };
    let consent = match &signed_in {
        Some(b) => {
            state
                .store
                .find_consent(&b.user().id, &areq.client.id)
                .await?
        }
        None => None,
    };
    let step = authorize::next_step(
        &areq,
        signed_in.as_ref(),
        consent.as_ref(),
        interaction,
        now,
    )
    .map_err(fail)?;
    Ok(match (step, &signed_in) {
        (NextStep::Consent, Some(b)) => views::consent_page(&areq, b, &state.settings.scopes),
        (NextStep::Login | NextStep::Consent, _) => {
            let hint = areq.login_hint.as_deref().unwrap_or_default();
            login_page(state, &areq, hint)
        }
        (NextStep::Issue { user_id, auth_time }, _) => {
            // The code, or (implicit and hybrid flows) the tokens, minted in the core.
            let ring = state.keys.current();
            let issued = authorize::implicit::issue(
                &state.store,
                &*ring,
                &state.policy,
                &areq,
                user_id,
                auth_time,
                now,
            )
            .await
            .map_err(fail)?;
            super::write_audit(state, meta, issued.events).await;
            authorization_response(issued.response, &areq.client.name)
        }
    })
}

/// What the login page for `areq` shows, with `username` filled in.
pub(crate) fn login_form(areq: &AuthorizationRequest, username: &str) -> LoginForm {
    LoginForm {
        action: "/login",
        client_name: areq.client.name.clone(),
        request: areq.params.to_query(),
        username: username.to_owned(),
    }
}

fn login_page(state: &AppState, areq: &AuthorizationRequest, username: &str) -> HttpResponse {
    views::login_page(
        StatusCode::OK,
        &login_form(areq, username),
        None,
        state.settings.is_https(),
    )
}

/// The fields a login or consent form posts, and the original request they carry.
pub(crate) struct FormCommon {
    pub fields: Params,
    pub params: Params,
}

pub(crate) fn read_form(req: &HttpRequest, body: &[u8]) -> Result<FormCommon, PageError> {
    let fields = crate::routes::form_params(req, body).map_err(PageError::BadRequest)?;
    let params = Params::from_query(fields.get("request").unwrap_or_default())
        .map_err(PageError::BadRequest)?;
    Ok(FormCommon { fields, params })
}

//! The one place where protocol errors become HTTP responses.
//!
//! - token, introspection and revocation endpoints: RFC 6749 §5.2 JSON, 400, or 401 with
//!   `WWW-Authenticate` for `invalid_client` ([`token_error`], and [`TokenRejection`] for
//!   requests the extractors cannot parse);
//! - protected resources (userinfo): RFC 6750 §3 `WWW-Authenticate: Bearer` challenges
//!   ([`bearer_error`], [`bearer_missing`], [`BearerRejection`]), or `DPoP` challenges for
//!   requests with the DPoP scheme (RFC 9449 §7.1, [`dpop_reply`]);
//! - authorization endpoint: a redirect to the client (RFC 6749 §4.1.2.1, RFC 9207) or a
//!   form-post page (Form Post Response Mode §2), or an error page when the redirect URI cannot
//!   be trusted;
//! - the pages (authorization endpoint, login and consent forms, the console's sign-in form):
//!   [`PageError`], an actix `ResponseError`, so their handlers return `Result` and never pick
//!   a status. A sign-in form shown again says why with its status: 401 wrong credentials,
//!   429 throttled and 503 hashing pool full (both with `Retry-After`), 403 (console) or 400
//!   (login) for a form whose CSRF token does not match. The device verification page answers
//!   a user code that names nothing with 400, and too many of them with 429.
//!
//! - dynamic registration (RFC 7591 §3.2, RFC 7592 §2): [`registration_reply`], 400 with the
//!   RFC 7591 §3.2.2 code, 401 with a Bearer challenge for an unusable token;
//!
//! Internal failures are logged here and answered as a bare `server_error`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use gatehouse_core::authorize::{AuthorizationResponse, AuthorizeError};
use gatehouse_core::registration::RegistrationError;
use gatehouse_core::{Error, ErrorCode, OAuthError, StoreError};
use serde_json::json;

use crate::views;

fn log_internal(e: &Error) {
    if !matches!(e, Error::OAuth(_)) {
        tracing::error!(error = %e, "internal error");
    }
}

/// The status of a token-endpoint error (RFC 6749 §5.2).
fn token_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The answer of a client-authenticated endpoint: `body` as JSON, never cached (RFC 6749
/// §5.1), or the error.
pub fn token_reply<T: serde::Serialize>(answer: Result<T, Error>) -> HttpResponse {
    match answer {
        Ok(body) => {
            let mut resp = HttpResponse::Ok();
            no_store(&mut resp);
            resp.json(body)
        }
        Err(e) => token_error(&e),
    }
}

/// The `201 Created` of a pushed authorization request (RFC 9126 §2.2), or the error as at
/// the token endpoint (§2.3).
pub fn pushed_reply<T: serde::Serialize>(answer: Result<T, Error>) -> HttpResponse {
    match answer {
        Ok(body) => {
            let mut resp = HttpResponse::Created();
            no_store(&mut resp);
            resp.json(body)
        }
        Err(e) => token_error(&e),
    }
}

/// The empty 200 of a revocation (RFC 7009 §2.2), or the error.
pub fn revocation_reply(answer: Result<(), Error>) -> HttpResponse {
    match answer {
        Ok(()) => {
            let mut resp = HttpResponse::Ok();
            no_store(&mut resp);
            resp.finish()
        }
        Err(e) => token_error(&e),
    }
}

/// A token-endpoint error (RFC 6749 §5.2); `invalid_client` is a 401 with a Basic challenge.
pub fn token_error(e: &Error) -> HttpResponse {
    log_internal(e);
    let err = e.to_oauth();
    let mut resp = HttpResponse::build(token_status(err.code));
    no_store(&mut resp);
    if err.code == ErrorCode::InvalidClient {
        resp.insert_header((
            header::WWW_AUTHENTICATE,
            "Basic realm=\"gatehouse\", charset=\"UTF-8\"",
        ));
    }
    resp.json(json!({ "error": err.code.as_str(), "error_description": err.description }))
}

/// The status of a protected-resource error (RFC 6750 §3.1).
fn bearer_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNAUTHORIZED,
    }
}

/// The answer of a protected resource: `body` as JSON, never cached, or the error.
pub fn bearer_reply<T: serde::Serialize>(answer: Result<T, Error>) -> HttpResponse {
    match answer {
        Ok(body) => {
            let mut resp = HttpResponse::Ok();
            no_store(&mut resp);
            resp.json(body)
        }
        Err(e) => bearer_error(&e),
    }
}

/// A protected-resource error (RFC 6750 §3.1).
pub fn bearer_error(e: &Error) -> HttpResponse {
    log_internal(e);
    let err = e.to_oauth();
    let status = bearer_status(err.code);
    let challenge = format!(
        "Bearer realm=\"gatehouse\", error=\"{}\", error_description=\"{}\"",
        err.code.as_str(),
        err.description.replace(['"', '\\'], "'")
    );
    let mut resp = HttpResponse::build(status);
    no_store(&mut resp);
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.insert_header((header::WWW_AUTHENTICATE, v));
    }
    resp.json(json!({ "error": err.code.as_str(), "error_description": err.description }))
}

/// The answer of a protected resource to a request with the DPoP scheme: `body` as JSON, or
/// the error with a `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1: `invalid_dpop_proof`,
/// `use_dpop_nonce` and `invalid_token` are 401).
pub fn dpop_reply<T: serde::Serialize>(answer: Result<T, Error>) -> HttpResponse {
    match answer {
        Ok(body) => bearer_reply::<T>(Ok(body)),
        Err(e) => {
            log_internal(&e);
            let err = e.to_oauth();
            let challenge = format!(
                "DPoP realm=\"gatehouse\", algs=\"{}\", error=\"{}\", error_description=\"{}\"",
                gatehouse_core::dpop::SIGNING_ALGS.join(" "),
                err.code.as_str(),
                err.description.replace(['"', '\\'], "'")
            );
            let mut resp = HttpResponse::build(bearer_status(err.code));
            no_store(&mut resp);
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                resp.insert_header((header::WWW_AUTHENTICATE, v));
            }
            resp.json(json!({ "error": err.code.as_str(), "error_description": err.description }))
        }
    }
}

/// A request to a protected resource without any credentials (RFC 6750 §3.1: no error code).
pub fn bearer_missing() -> HttpResponse {
    let mut resp = HttpResponse::Unauthorized();
    no_store(&mut resp);
    resp.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"gatehouse\""));
    resp.finish()
}

/// Why a registration or management request was not answered.
#[derive(Debug)]
pub enum RegistrationFailure {
    /// Refused with an RFC 7591 §3.2.2 code or `invalid_token`.
    Refused(RegistrationError),
    /// Storage failed: a bare `server_error`.
    Internal(Error),
}

impl From<RegistrationError> for RegistrationFailure {
    fn from(e: RegistrationError) -> Self {
        Self::Refused(e)
    }
}

impl From<StoreError> for RegistrationFailure {
    fn from(e: StoreError) -> Self {
        Self::Internal(Error::Store(e))
    }
}

impl From<gatehouse_store::Error> for RegistrationFailure {
    fn from(e: gatehouse_store::Error) -> Self {
        Self::Internal(Error::Store(e.into()))
    }
}

/// The answer of the registration endpoint or of a client configuration endpoint: `status`
/// with `body` as JSON (none for 204), never cached (RFC 7591 §3.2.1); or the error: 400 with
/// the RFC 7591 §3.2.2 code, or 401 `invalid_token` with a Bearer challenge (RFC 6750 §3.1;
/// RFC 7592 §2 says the same for a client that does not exist).
pub fn registration_reply(
    answer: Result<(StatusCode, Option<serde_json::Value>), RegistrationFailure>,
) -> HttpResponse {
    match answer {
        Ok((status, body)) => {
            let mut resp = HttpResponse::build(status);
            no_store(&mut resp);
            match body {
                Some(b) => resp.json(b),
                None => resp.finish(),
            }
        }
        Err(RegistrationFailure::Internal(e)) => token_error(&e),
        Err(RegistrationFailure::Refused(RegistrationError::Unavailable(e))) => {
            token_error(&Error::Store(StoreError::backend(e)))
        }
        Err(RegistrationFailure::Refused(e)) => {
            let body = json!({ "error": e.code(), "error_description": e.to_string() });
            let mut resp = match e {
                RegistrationError::InvalidToken(_) => {
                    let mut r = HttpResponse::Unauthorized();
                    r.insert_header((
                        header::WWW_AUTHENTICATE,
                        "Bearer realm=\"gatehouse\", error=\"invalid_token\"",
                    ));
                    r
                }
                _ => HttpResponse::BadRequest(),
            };
            no_store(&mut resp);
            resp.json(body)
        }
    }
}

/// A request to a client-authenticated endpoint that could not be parsed (not a form, a
/// repeated parameter, two `Authorization` headers, two authentication methods, ...).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct TokenRejection(pub OAuthError);

impl ResponseError for TokenRejection {
    fn status_code(&self) -> StatusCode {
        token_status(self.0.code)
    }
    fn error_response(&self) -> HttpResponse {
        token_error(&Error::OAuth(self.0.clone()))
    }
}

/// A request to a protected resource without a usable bearer token.
#[derive(Debug, thiserror::Error)]
pub enum BearerRejection {
    /// No credentials at all: a bare challenge, no error code (RFC 6750 §3.1).
    #[error("no bearer token")]
    Missing,
    /// A malformed `Authorization` header, or the token sent twice.
    #[error(transparent)]
    Invalid(OAuthError),
}

impl ResponseError for BearerRejection {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Missing => StatusCode::UNAUTHORIZED,
            Self::Invalid(e) => bearer_status(e.code),
        }
    }
    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Missing => bearer_missing(),
            Self::Invalid(e) => bearer_error(&Error::OAuth(e.clone())),
        }
    }
}

/// An authorization response: a 303 redirect, or the auto-submitting form of
/// `response_mode=form_post`.
pub fn authorization_response(r: AuthorizationResponse, client_name: &str) -> HttpResponse {
    match r {
        AuthorizationResponse::Redirect(url) => redirect(&url),
        AuthorizationResponse::FormPost { action, fields } => {
            views::form_post(client_name, &action, &fields)
        }
    }
}

/// An HTML error page for the user; never a redirect.
pub fn error_page(status: StatusCode, err: &OAuthError) -> HttpResponse {
    views::error(status, err.code.as_str(), &err.description)
}

/// A 303 redirect (so a POSTed form becomes a GET at the client).
pub fn redirect(location: &str) -> HttpResponse {
    let mut resp = HttpResponse::SeeOther();
    no_store(&mut resp);
    resp.insert_header((header::LOCATION, location)).finish()
}

/// `Cache-Control: no-store` for anything that carries tokens or codes (RFC 6749 §5.1).
pub fn no_store(resp: &mut actix_web::HttpResponseBuilder) {
    resp.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
}

/// A request the server could not parse (bad form encoding, oversized body).
pub fn bad_form(e: impl std::fmt::Display) -> Error {
    Error::OAuth(OAuthError::invalid_request(format!(
        "malformed request: {e}"
    )))
}

/// Why a sign-in form is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormRefusal {
    /// Wrong username or password, or any refusal the user must not tell apart from it.
    InvalidCredentials,
    /// Too many recent failures from this address: wait this many seconds.
    Throttled { retry_after: u64 },
    /// The password-hashing pool is full: retry after this many seconds.
    Busy { retry_after: u64 },
    /// The form's CSRF token does not match its cookie.
    ExpiredForm,
}

impl FormRefusal {
    fn status(self) -> StatusCode {
        match self {
            FormRefusal::InvalidCredentials => StatusCode::UNAUTHORIZED,
            FormRefusal::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            FormRefusal::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            FormRefusal::ExpiredForm => StatusCode::FORBIDDEN,
        }
    }

    fn message(self) -> String {
        match self {
            FormRefusal::InvalidCredentials => "Invalid username or password.".into(),
            FormRefusal::Throttled { retry_after } => {
                format!("Too many failed sign-in attempts. Try again in {retry_after} seconds.")
            }
            FormRefusal::Busy { .. } => {
                "The server is busy right now. Try again in a moment.".into()
            }
            FormRefusal::ExpiredForm => "This form has expired. Please sign in again.".into(),
        }
    }

    fn retry_after(self) -> Option<u64> {
        match self {
            FormRefusal::Throttled { retry_after } | FormRefusal::Busy { retry_after } => {
                Some(retry_after)
            }
            _ => None,
        }
    }
}

/// A failure of a page handler (authorization endpoint, login, consent, console sign-in).
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The request could not be read (encoding, repeated parameter): a 400 page.
    #[error("bad request: {}", .0.description)]
    BadRequest(OAuthError),
    /// A login or consent form whose CSRF token or session is gone: a 400 page asking to start
    /// again from the application.
    #[error("the form has expired")]
    ExpiredForm,
    /// An authorization-endpoint error: a page, a redirect to the client, or a 500 page.
    #[error("authorization request failed")]
    Authorize {
        issuer: String,
        error: AuthorizeError,
    },
    /// The login page again.
    #[error("sign-in refused ({refusal:?})")]
    Login {
        form: crate::views::LoginForm,
        refusal: FormRefusal,
        secure: bool,
    },
    /// The console's sign-in page again.
    #[error("console sign-in refused ({refusal:?})")]
    ConsoleSignIn {
        username: String,
        refusal: FormRefusal,
        secure: bool,
    },
    /// The device verification page again (RFC 8628 §3.3): a user code that names no pending
    /// request (400), or too many wrong codes from this address (429 with `Retry-After`).
    #[error("device user code refused ({refusal:?})")]
    DeviceCode {
        user_code: String,
        refusal: CodeRefusal,
    },
    /// Storage or another internal failure: a 500 page.
    #[error(transparent)]
    Internal(#[from] Error),
}

/// Why the device verification page refuses a typed user code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    /// Malformed, unknown, expired or already used: one message for all.
    Unknown,
    /// Too many wrong codes from this address: wait this many seconds.
    Throttled { retry_after: u64 },
}

impl CodeRefusal {
    fn status(self) -> StatusCode {
        match self {
            CodeRefusal::Unknown => StatusCode::BAD_REQUEST,
            CodeRefusal::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn message(self) -> String {
        match self {
            CodeRefusal::Unknown => {
                "That code is unknown or has expired. Check the code shown on your device.".into()
            }
            CodeRefusal::Throttled { retry_after } => {
                format!("Too many wrong codes. Try again in {retry_after} seconds.")
            }
        }
    }
}

impl PageError {
    /// An authorization-endpoint error of the server with issuer `issuer`.
    pub fn authorize(issuer: &str, error: AuthorizeError) -> Self {
        PageError::Authorize {
            issuer: issuer.to_owned(),
            error,
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(Error::Store(e))
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::BadRequest(_) | PageError::ExpiredForm => StatusCode::BAD_REQUEST,
            PageError::Authorize { error, .. } => match error {
                AuthorizeError::Page(_) => StatusCode::BAD_REQUEST,
                AuthorizeError::Redirect { target, .. } if target.form_post() => StatusCode::OK,
                AuthorizeError::Redirect { .. } => StatusCode::SEE_OTHER,
                AuthorizeError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            PageError::Login { refusal, .. } | PageError::ConsoleSignIn { refusal, .. } => {
                refusal.status()
            }
            PageError::DeviceCode { refusal, .. } => refusal.status(),
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = match self {
            PageError::BadRequest(e) => error_page(StatusCode::BAD_REQUEST, e),
            PageError::ExpiredForm => error_page(
                StatusCode::BAD_REQUEST,
                &OAuthError::invalid_request(
                    "this form has expired; go back to the application and sign in again",
                ),
            ),
            PageError::Authorize { issuer, error } => authorize_error(issuer, error),
            PageError::Login {
                form,
                refusal,
                secure,
            } => {
                crate::views::login_page(refusal.status(), form, Some(&refusal.message()), *secure)
            }
            PageError::ConsoleSignIn {
                username,
                refusal,
                secure,
            } => crate::views::console_sign_in_page(
                refusal.status(),
                username,
                Some(&refusal.message()),
                *secure,
            ),
            PageError::DeviceCode { user_code, refusal } => crate::views::device_page(
                refusal.status(),
                &crate::views::DevicePage {
                    user_code,
                    error: Some(&refusal.message()),
                    done: None,
                },
            ),
            PageError::Internal(e) => {
                log_internal(e);
                error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_oauth())
            }
        };
        let retry = match self {
            PageError::Login { refusal, .. } | PageError::ConsoleSignIn { refusal, .. } => {
                refusal.retry_after()
            }
            PageError::DeviceCode {
                refusal: CodeRefusal::Throttled { retry_after },
                ..
            } => Some(*retry_after),
            _ => None,
        };
        if let Some(v) = retry.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// An authorization-endpoint error: a page, or a redirect once the redirect URI is trusted.
fn authorize_error(issuer: &str, e: &AuthorizeError) -> HttpResponse {
    match e {
        AuthorizeError::Page(err) => error_page(StatusCode::BAD_REQUEST, err),
        AuthorizeError::Redirect { target, error } => {
            authorization_response(target.error_response(issuer, error), "the application")
        }
        AuthorizeError::Internal(e) => {
            log_internal(e);
            error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_oauth())
        }
    }
}

//! The one place where protocol errors become HTTP responses.
//!
//! - token endpoint: RFC 6749 §5.2 JSON, 400, or 401 with `WWW-Authenticate` for `invalid_client`;
//! - protected resources (userinfo): RFC 6750 §3 `WWW-Authenticate: Bearer` challenges;
//! - authorization endpoint: a redirect to the client (RFC 6749 §4.1.2.1, RFC 9207) or a
//!   form-post page (Form Post Response Mode §2), or an error page when the redirect URI cannot
//!   be trusted.
//!
//! Internal failures are logged here and answered as a bare `server_error`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use gatehouse_core::authorize::{AuthorizationResponse, AuthorizeError};
use gatehouse_core::{Error, ErrorCode, OAuthError};
use serde_json::json;

use crate::views;

fn log_internal(e: &Error) {
    if !matches!(e, Error::OAuth(_)) {
        tracing::error!(error = %e, "internal error");
    }
}

/// A token-endpoint error (RFC 6749 §5.2). `basic` says whether the client used HTTP Basic.
pub fn token_error(e: &Error) -> HttpResponse {
    log_internal(e);
    let err = e.to_oauth();
    let status = match err.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut resp = HttpResponse::build(status);
    no_store(&mut resp);
    if err.code == ErrorCode::InvalidClient {
        resp.insert_header((
            header::WWW_AUTHENTICATE,
            "Basic realm=\"gatehouse\", charset=\"UTF-8\"",
        ));
    }
    resp.json(json!({ "error": err.code.as_str(), "error_description": err.description }))
}

/// A protected-resource error (RFC 6750 §3.1).
pub fn bearer_error(e: &Error) -> HttpResponse {
    log_internal(e);
    let err = e.to_oauth();
    let status = match err.code {
        ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNAUTHORIZED,
    };
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

/// A request to a protected resource without any credentials (RFC 6750 §3.1: no error code).
pub fn bearer_missing() -> HttpResponse {
    let mut resp = HttpResponse::Unauthorized();
    no_store(&mut resp);
    resp.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"gatehouse\""));
    resp.finish()
}

/// An authorization-endpoint error: a page or a redirect.
pub fn authorize_error(issuer: &str, e: AuthorizeError) -> HttpResponse {
    match e {
        AuthorizeError::Page(err) => error_page(StatusCode::BAD_REQUEST, &err),
        AuthorizeError::Redirect { target, error } => {
            authorization_response(target.error_response(issuer, &error), "the application")
        }
        AuthorizeError::Internal(e) => {
            log_internal(&e);
            error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_oauth())
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

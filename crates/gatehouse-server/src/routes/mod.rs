//! HTTP routes. Each endpoint file follows one shape: parse → authenticate → validate →
//! execute (in `gatehouse-core`) → respond (through [`crate::error`]).

pub mod authorize;
pub mod consent;
pub mod discovery;
pub mod introspect;
pub mod login;
pub mod logout;
pub mod revoke;
pub mod token;
pub mod userinfo;

use actix_web::HttpRequest;
use actix_web::http::header;
use gatehouse_core::OAuthError;
use gatehouse_core::params::Params;

/// Parses an `application/x-www-form-urlencoded` body (RFC 6749 §3.2 requires that type).
pub fn form_params(req: &HttpRequest, body: &[u8]) -> Result<Params, OAuthError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Params::new(url::form_urlencoded::parse(body).into_owned().collect())
}

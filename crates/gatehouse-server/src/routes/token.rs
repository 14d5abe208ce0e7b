//! `POST /oauth/token` (RFC 6749 §3.2, §5): client authentication (RFC 6749 §2.3.1, with the
//! form-urlencoding of Basic credentials, or a `private_key_jwt` assertion, OIDC Core §9), then
//! the grant in `gatehouse-core` (including the RFC 7523 §2.1 JWT bearer grant).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatehouse_core::jwt_bearer::{self, JwtBearerRequest};
use gatehouse_core::token::{self, ClientCredentials, TokenRequest};
use gatehouse_core::{Error, OAuthError};

use crate::error::{no_store, token_error};
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn token(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    match handle(&req, &state, &body).await {
        Ok(resp) => {
            let mut b = HttpResponse::Ok();
            no_store(&mut b);
            b.json(resp)
        }
        Err(e) => token_error(&e),
    }
}

async fn handle(
    req: &HttpRequest,
    state: &AppState,
    body: &[u8],
) -> Result<token::TokenResponse, Error> {
    let params = crate::routes::form_params(req, body)?;
    let basic = basic_credentials(req)?;
    let creds = ClientCredentials::parse(basic, &params)?;
    let client = state.authenticate_client(&creds).await?;
    let ring = state.keys.current();
    if JwtBearerRequest::matches(&params) {
        let grant = JwtBearerRequest::parse(&params)?;
        return jwt_bearer::exchange(
            &state.store,
            &*state.key_verifier,
            &*ring,
            &state.policy,
            &state.assertion_rules,
            &client,
            grant,
            state.now(),
        )
        .await;
    }
    let grant = TokenRequest::parse(&params)?;
    token::exchange(
        &state.store,
        &*ring,
        &state.policy,
        &client,
        grant,
        state.now(),
    )
    .await
}

/// Decodes `Authorization: Basic` into (client_id, secret), each form-urldecoded
/// (RFC 6749 §2.3.1). A second Authorization header or a malformed one is `invalid_client`.
pub(crate) fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, OAuthError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    let bad = || OAuthError::invalid_client("malformed Basic credentials");
    let value = value.to_str().map_err(|_| bad())?;
    let (scheme, rest) = value.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "use HTTP Basic client authentication",
        ));
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let dec = |s: &str| -> Result<String, OAuthError> {
        let s = s.replace('+', " ");
        percent_encoding::percent_decode_str(&s)
            .decode_utf8()
            .map(|v| v.into_owned())
            .map_err(|_| bad())
    };
    Ok(Some((dec(id)?, dec(secret)?)))
}

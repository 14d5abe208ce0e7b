//! `GET|POST /userinfo` (OIDC Core §5.3) with bearer tokens (RFC 6750 §2.1 header, §2.2 form
//! body). The token is one of our JWT access tokens (RFC 9068): signature, `typ`, `iss`, `aud`
//! and `exp` are checked against the in-memory key ring, then revocation in storage.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims};
use gatehouse_core::{Error, OAuthError, userinfo};

use crate::error::{bearer_error, bearer_missing, no_store};
use crate::state::AppState;

pub async fn userinfo_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    respond(&state, bearer_from_header(&req)).await
}

pub async fn userinfo_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let header_token = bearer_from_header(&req);
    let form_token = match crate::routes::form_params(&req, &body) {
        Ok(p) => p.get("access_token").map(str::to_owned),
        Err(_) => None,
    };
    let token = match (header_token, form_token) {
        (Ok(Some(_)), Some(_)) => {
            return bearer_error(&Error::OAuth(OAuthError::invalid_request(
                "send the token in one place only",
            )));
        }
        (Ok(None), Some(t)) => Ok(Some(t)),
        (other, None) => other,
        (Err(e), _) => Err(e),
    };
    respond(&state, token).await
}

async fn respond(state: &AppState, token: Result<Option<String>, OAuthError>) -> HttpResponse {
    let token = match token {
        Ok(Some(t)) => t,
        Ok(None) => return bearer_missing(),
        Err(e) => return bearer_error(&Error::OAuth(e)),
    };
    match claims_for(state, &token).await {
        Ok(body) => {
            let mut b = HttpResponse::Ok();
            no_store(&mut b);
            b.json(body)
        }
        Err(e) => bearer_error(&e),
    }
}

async fn claims_for(
    state: &AppState,
    token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let invalid = || {
        Error::OAuth(OAuthError::invalid_token(
            "the access token is invalid or expired",
        ))
    };
    let ring = state.keys.current();
    let value = ring
        .verify(
            token,
            ACCESS_TOKEN_TYP,
            &state.policy.issuer,
            Some(&state.policy.access_token_audience),
        )
        .map_err(|_| invalid())?;
    let claims: AccessTokenClaims = serde_json::from_value(value).map_err(|_| invalid())?;
    userinfo::userinfo(&state.store, &claims, state.now()).await
}

/// `Authorization: Bearer <token>`, the scheme matched case-insensitively (RFC 7235 §2.1).
fn bearer_from_header(req: &HttpRequest) -> Result<Option<String>, OAuthError> {
    let Some(v) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| OAuthError::invalid_request("malformed Authorization header"))?;
    match v.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
            Ok(Some(t.trim().to_owned()))
        }
        _ => Err(OAuthError::invalid_request(
            "use the Bearer authorization scheme",
        )),
    }
}

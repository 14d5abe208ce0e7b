//! `POST /oauth/introspect` (RFC 7662 §2): client authentication as at the token endpoint
//! (confidential clients only), then [`gatehouse_core::introspection`]. The answer is never
//! cached (`Cache-Control: no-store`).
//!
//! A `token` in the API-key format is introspected as an API key
//! ([`introspection::introspect_api_key`]). The optional `client_ip` parameter (a Gatehouse
//! extension) is the key holder's address as the resource server saw it; it is checked
//! against the key's IP allowlist. Without it the allowlist is returned as `allowed_ips`.
//! An active key's answer also names its rate-limit class and that class's limits per minute
//! (`rate_limit_class`, `rate_limits`), which resource servers enforce.

use std::net::IpAddr;

use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::OAuthError;
use gatehouse_core::apikey::parse_api_key;
use gatehouse_core::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims};
use gatehouse_core::introspection::{self, Introspection};
use gatehouse_core::revocation::{AccessTokenVerifier, PresentedToken};
use gatehouse_core::token::ClientCredentials;
use gatehouse_jose::KeyRing;

use crate::error::{no_store, token_error};
use crate::request_meta::RequestMeta;
use crate::routes::token::basic_credentials;
use crate::state::AppState;

/// Verifies our access tokens with the server's in-memory key ring: signature by one of our
/// keys, `typ: at+jwt`, our issuer and audience (RFC 9068 §4). Expiry is left to the core,
/// which compares `exp` with the injected clock.
pub(crate) struct RingVerifier<'a> {
    pub ring: &'a KeyRing,
    pub state: &'a AppState,
}

impl AccessTokenVerifier for RingVerifier<'_> {
    fn verify_access_token(&self, token: &str) -> Option<AccessTokenClaims> {
        let value = self
            .ring
            .verify(
                token,
                ACCESS_TOKEN_TYP,
                &self.state.policy.issuer,
                Some(&self.state.policy.access_token_audience),
            )
            .ok()?;
        serde_json::from_value(value).ok()
    }
}

#[tracing::instrument(skip_all)]
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    match handle(&req, &state, &meta, &body).await {
        Ok(answer) => {
            let mut b = HttpResponse::Ok();
            no_store(&mut b);
            b.json(answer)
        }
        Err(e) => token_error(&e),
    }
}

async fn handle(
    req: &HttpRequest,
    state: &AppState,
    meta: &RequestMeta,
    body: &[u8],
) -> Result<Introspection, gatehouse_core::Error> {
    let params = crate::routes::form_params(req, body)?;
    let creds = ClientCredentials::parse(basic_credentials(req)?, &params)?;
    let client = state.authenticate_client(&creds).await?;
    let presented = PresentedToken::parse(&params)?;
    if parse_api_key(presented.token.expose()).is_ok() {
        let client_ip = params
            .get("client_ip")
            .map(|ip| ip.trim().parse::<IpAddr>())
            .transpose()
            .map_err(|_| OAuthError::invalid_request("client_ip: not an IP address"))?;
        let mut answer = introspection::introspect_api_key(
            &state.store,
            &state.policy,
            &client,
            presented.token.expose(),
            client_ip,
            Some(&meta.request_id),
            state.now(),
        )
        .await?;
        // Resource servers enforce the key's class (gatehouse-verify): publish its limits.
        if answer.active {
            let published = state
                .settings
                .api_keys
                .published_limits(answer.rate_limit_class.as_deref());
            (answer.rate_limit_class, answer.rate_limits) = published.unzip();
        }
        return Ok(answer);
    }
    let ring = state.keys.current();
    let verifier = RingVerifier { ring: &ring, state };
    introspection::introspect(
        &state.store,
        &verifier,
        &state.policy,
        &client,
        &presented,
        state.now(),
    )
    .await
}

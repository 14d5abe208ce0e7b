//! `POST /oauth/introspect` (RFC 7662 §2): client authentication as at the token endpoint
//! (confidential clients only), then [`gatehouse_core::introspection`]. The answer is never
//! cached (`Cache-Control: no-store`).

use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims};
use gatehouse_core::introspection::{self, Introspection};
use gatehouse_core::revocation::{AccessTokenVerifier, PresentedToken};
use gatehouse_core::token::ClientCredentials;
use gatehouse_jose::KeyRing;

use crate::error::{no_store, token_error};
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
    body: web::Bytes,
) -> HttpResponse {
    match handle(&req, &state, &body).await {
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
    body: &[u8],
) -> Result<Introspection, gatehouse_core::Error> {
    let params = crate::routes::form_params(req, body)?;
    let creds = ClientCredentials::parse(basic_credentials(req)?, &params)?;
    let client = state.authenticate_client(&creds).await?;
    let presented = PresentedToken::parse(&params)?;
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

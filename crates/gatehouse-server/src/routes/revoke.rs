//! `POST /oauth/revoke` (RFC 7009 §2): client authentication as at the token endpoint, then
//! [`gatehouse_core::revocation`]. Success is an empty 200 whether or not anything was revoked
//! (§2.2); errors are token-endpoint errors (§2.2.1). A revocation that revoked something is
//! written to the audit trail (the grant id or the access token's `jti`, never the token).

use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::audit::{ActorKind, Outcome};
use gatehouse_core::client::Client;
use gatehouse_core::revocation::{self, PresentedToken, Revoked};
use gatehouse_core::token::ClientCredentials;
use serde_json::json;

use crate::audit_sink::RequestAudit;
use crate::error::{no_store, token_error};
use crate::request_meta::RequestMeta;
use crate::routes::introspect::RingVerifier;
use crate::routes::token::basic_credentials;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    match handle(&req, &state, &body).await {
        Ok((client, done)) => {
            tracing::debug!(?done, "revocation request");
            let (kind, id) = match done {
                Revoked::Grant(g) => ("refresh_token", Some(g)),
                Revoked::AccessToken(j) => ("access_token", Some(j)),
                Revoked::Nothing => ("nothing", None),
            };
            if id.is_some() {
                RequestAudit::new(&state.store, &meta)
                    .event(
                        state.now(),
                        Some(client.tenant_id.to_string()),
                        ActorKind::Client,
                        Some(client.id.to_string()),
                        "token.revoke",
                        id,
                        Outcome::Success,
                        json!({ "token_type": kind }),
                    )
                    .await;
            }
            let mut b = HttpResponse::Ok();
            no_store(&mut b);
            b.finish()
        }
        Err(e) => token_error(&e),
    }
}

async fn handle(
    req: &HttpRequest,
    state: &AppState,
    body: &[u8],
) -> Result<(Client, Revoked), gatehouse_core::Error> {
    let params = crate::routes::form_params(req, body)?;
    let creds = ClientCredentials::parse(basic_credentials(req)?, &params)?;
    let client = state.authenticate_client(&creds).await?;
    let presented = PresentedToken::parse(&params)?;
    let ring = state.keys.current();
    let verifier = RingVerifier { ring: &ring, state };
    let done =
        revocation::revoke(&state.store, &verifier, &client, &presented, state.now()).await?;
    Ok((client, done))
}

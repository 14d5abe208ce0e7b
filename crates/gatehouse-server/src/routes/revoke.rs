//! `POST /oauth/revoke` (RFC 7009 §2): translation only. [`ClientRequest`] parses the form and
//! the client credentials; the core's [`revocation::revoke_request`] authenticates the client,
//! revokes, and returns the `token.revoke` audit event (ids only) when something was revoked,
//! which is written here. Success is an empty 200 whether or not anything was revoked (§2.2).
//! A `DPoP` proof (RFC 9449) is verified first, for this endpoint's URL ([`crate::dpop`]); the
//! core decides what it is required for.

use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::revocation::{self, PresentedToken};

use crate::access_tokens::AccessTokens;
use crate::error::revocation_reply;
use crate::extract::ClientRequest;
use crate::request_meta::RequestMeta;
use crate::routes::write_audit;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn revoke(
    state: web::Data<AppState>,
    meta: RequestMeta,
    req: HttpRequest,
    form: ClientRequest<PresentedToken>,
) -> HttpResponse {
    let proof = match crate::dpop::proof_key(&state, &req, "/oauth/revoke", None).await {
        Ok(p) => p,
        Err(e) => return crate::dpop::with_nonce(&state, revocation_reply(Err(e))),
    };
    let presented = form.request.token.expose();
    let (auth, tokens) = (
        state.client_auth(),
        AccessTokens::any_audience(&state, presented).await,
    );
    let creds = form.credentials.as_ref();
    let answer = revocation::revoke_request(&auth, &tokens, creds, &form.request, proof.as_ref());
    let answer = match answer.await {
        Ok(events) => {
            write_audit(&state, &meta, events).await;
            Ok(())
        }
        Err(e) => Err(e),
    };
    crate::dpop::with_nonce(&state, revocation_reply(answer))
}

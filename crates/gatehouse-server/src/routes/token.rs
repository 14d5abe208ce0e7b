//! `POST /oauth/token` (RFC 6749 §3.2, §5.1–5.2): translation only. [`ClientRequest`] parses
//! the form and the client credentials presented (RFC 6749 §2.3.1); the core's
//! [`token::token`] authenticates the client and runs the grant — authorization code
//! (RFC 6749 §4.1.3, RFC 7636), client credentials (§4.4), refresh token (§6, RFC 9700
//! §4.14.2), JWT bearer (RFC 7523 §2.1), the API-key exchange (RFC 8693, whose IP allowlist
//! is checked against the source address of [`RequestMeta`]) or a delegation exchange (RFC 8693,
//! whose subject and actor tokens are verified with the key ring, reloaded first if they name
//! a key this node has not loaded yet); the audit events it returns are
//! written here, and [`token_reply`] maps the answer. A `DPoP` proof (RFC 9449 §5) is
//! verified first ([`crate::dpop`]); its key binds the tokens issued.

use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::token::{self, TokenRequest};

use crate::error::token_reply;
use crate::extract::ClientRequest;
use crate::request_meta::RequestMeta;
use crate::routes::write_audit;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn token(
    state: web::Data<AppState>,
    meta: RequestMeta,
    req: HttpRequest,
    form: ClientRequest<TokenRequest>,
) -> HttpResponse {
    if let TokenRequest::Delegation(d) = &form.request {
        for t in std::iter::once(&d.subject).chain(d.actor.as_ref()) {
            crate::access_tokens::know_kid_of(&state, t.token.expose()).await;
        }
    }
    let ring = state.keys.current();
    let mut endpoint = state.token_endpoint(&ring, meta.ip, &meta.request_id);
    match crate::dpop::proof_key(&state, &req, "/oauth/token", None).await {
        Ok(key) => endpoint.dpop = key,
        Err(e) => return crate::dpop::with_nonce(&state, token_reply::<()>(Err(e))),
    }
    let outcome = token::token(&endpoint, form.credentials, form.request).await;
    write_audit(&state, &meta, outcome.events).await;
    crate::dpop::with_nonce(&state, token_reply(outcome.answer))
}

//! `POST /oauth/par` (RFC 9126 §2): translation only. [`ClientRequest`] parses the form and
//! the client credentials presented; core `par::push` authenticates the client as the token
//! endpoint does, unpacks a signed `request` object (RFC 9126 §3), validates the request as
//! the authorization endpoint does and stores it;
//! [`pushed_reply`] answers `201` with the `request_uri`, or the error as JSON.

use actix_web::{HttpResponse, web};
use gatehouse_core::client_auth::ClientAuthContext;
use gatehouse_core::par::{self, PushRequest};

use crate::error::pushed_reply;
use crate::extract::ClientRequest;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn push(state: web::Data<AppState>, form: ClientRequest<PushRequest>) -> HttpResponse {
    let now = state.now();
    let ctx = ClientAuthContext {
        clients: &state.clients,
        store: &state.store,
        verifier: &*state.key_verifier,
        rules: &state.assertion_rules,
        now,
    };
    let answer = par::push(
        &ctx,
        &state.store,
        form.credentials.as_ref(),
        form.request,
        &state.policy.issuer,
    )
    .await;
    pushed_reply(answer)
}

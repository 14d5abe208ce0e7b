//! `POST /oauth/introspect` (RFC 7662 §2): translation only. [`ClientRequest`] parses the form
//! and the client credentials; the core's [`introspection::introspect_request`] authenticates
//! the client (confidential clients only) and describes the token, or the API key with the
//! Gatehouse `client_ip` extension; [`token_reply`] maps the answer (never cached).

use actix_web::{HttpResponse, web};
use gatehouse_core::introspection::{self, IntrospectionRequest};

use crate::access_tokens::AccessTokens;
use crate::error::token_reply;
use crate::extract::ClientRequest;
use crate::request_meta::RequestMeta;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn introspect(
    state: web::Data<AppState>,
    meta: RequestMeta,
    form: ClientRequest<IntrospectionRequest>,
) -> HttpResponse {
    let (auth, tokens) = (state.client_auth(), AccessTokens::new(&state));
    let (creds, request_id) = (form.credentials.as_ref(), Some(meta.request_id.as_str()));
    let answer = introspection::introspect_request(
        &auth,
        &tokens,
        &state.policy,
        creds,
        &form.request,
        request_id,
    )
    .await;
    token_reply(answer)
}

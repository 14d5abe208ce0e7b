//! `POST /oauth/introspect` (RFC 7662 §2): translation only. [`ClientRequest`] parses the form
//! and the client credentials; the core's [`introspection::introspect_request`] authenticates
//! the client (confidential clients only) and describes the token, or the API key with the
//! Gatehouse `client_ip` extension; [`token_reply`] maps the answer (never cached).
//!
//! An active API key's answer also names its rate-limit class and that class's limits per
//! minute (`rate_limit_class`, `rate_limits`), which resource servers enforce; the classes are
//! server configuration, so they are filled in here.
//!
//! A `DPoP` proof (RFC 9449) is verified first, for this endpoint's URL ([`crate::dpop`]); the
//! core decides what it is required for.

use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::introspection::{self, Introspection, IntrospectionRequest};

use crate::access_tokens::AccessTokens;
use crate::error::token_reply;
use crate::extract::ClientRequest;
use crate::request_meta::RequestMeta;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn introspect(
    state: web::Data<AppState>,
    meta: RequestMeta,
    req: HttpRequest,
    form: ClientRequest<IntrospectionRequest>,
) -> HttpResponse {
    let proof = match crate::dpop::proof_key(&state, &req, "/oauth/introspect", None).await {
        Ok(p) => p,
        Err(e) => return crate::dpop::with_nonce(&state, token_reply::<()>(Err(e))),
    };
    let presented = form.request.token.token.expose();
    let (auth, tokens) = (
        state.client_auth(),
        AccessTokens::any_audience(&state, presented).await,
    );
    let (creds, request_id) = (form.credentials.as_ref(), Some(meta.request_id.as_str()));
    let answer = introspection::introspect_request(
        &auth,
        &tokens,
        &state.policy,
        creds,
        &form.request,
        request_id,
        proof.as_ref(),
    )
    .await;
    let reply = token_reply(answer.map(|a| with_published_limits(&state, a)));
    crate::dpop::with_nonce(&state, reply)
}

/// An active API key's answer with its class's limits (gatehouse-verify enforces them).
fn with_published_limits(state: &AppState, mut a: Introspection) -> Introspection {
    if a.active && a.token_type == Some("api_key") {
        let published = state
            .settings
            .api_keys
            .published_limits(a.rate_limit_class.as_deref());
        (a.rate_limit_class, a.rate_limits) = published.unzip();
    }
    a
}

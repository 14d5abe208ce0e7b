//! `GET|POST /userinfo` (OIDC Core §5.3): translation only. [`BearerToken`] reads the token
//! (RFC 6750 §2.1 header, §2.2 form body); the core's [`userinfo::userinfo`] verifies it
//! through the one access-token verifier ([`AccessTokens`]: signature, `typ`, `iss`, `aud`),
//! checks expiry and revocation, and releases the user's claims; [`bearer_reply`] maps the
//! answer (RFC 6750 §3).

use actix_web::{HttpResponse, web};
use gatehouse_core::userinfo;

use crate::access_tokens::AccessTokens;
use crate::error::bearer_reply;
use crate::extract::BearerToken;
use crate::state::AppState;

pub async fn userinfo(state: web::Data<AppState>, token: BearerToken) -> HttpResponse {
    let tokens = AccessTokens::for_token(&state, &token.0).await;
    bearer_reply(userinfo::userinfo(&state.store, &tokens, &token.0, state.now()).await)
}

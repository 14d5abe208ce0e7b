//! `GET|POST /userinfo` (OIDC Core §5.3): translation only. [`ResourceToken`] reads the token
//! (RFC 6750 §2.1 header, §2.2 form body, or RFC 9449 §7.1 `Authorization: DPoP`); with the
//! DPoP scheme the `DPoP` proof is verified first ([`crate::dpop`], with `ath`); the core's
//! [`userinfo::userinfo`] verifies the token through the one access-token verifier
//! ([`AccessTokens`]: signature, `typ`, `iss`, `aud`), checks expiry, revocation and the key
//! binding, and releases the user's claims; [`bearer_reply`] / [`dpop_reply`] map the answer.

use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::{OAuthError, userinfo};

use crate::access_tokens::AccessTokens;
use crate::error::{bearer_reply, dpop_reply};
use crate::extract::ResourceToken;
use crate::state::AppState;

pub async fn userinfo(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: ResourceToken,
) -> HttpResponse {
    let tokens = AccessTokens::for_token(&state, &token.token).await;
    if !token.dpop {
        let answer = userinfo::userinfo(&state.store, &tokens, &token.token, None, state.now());
        return bearer_reply(answer.await);
    }
    let proof = crate::dpop::proof_key(&state, &req, "/userinfo", Some(&token.token)).await;
    let answer = match proof {
        Ok(Some(key)) => {
            let jkt = Some(key.jkt.as_str());
            userinfo::userinfo(&state.store, &tokens, &token.token, jkt, state.now()).await
        }
        Ok(None) => {
            Err(OAuthError::invalid_dpop_proof("the DPoP scheme needs a DPoP proof").into())
        }
        Err(e) => Err(e),
    };
    crate::dpop::with_nonce(&state, dpop_reply(answer))
}

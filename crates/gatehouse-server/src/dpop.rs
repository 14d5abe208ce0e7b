//! The edge of DPoP (RFC 9449): reads the `DPoP` header (one at most) and has the core
//! ([`gatehouse_core::dpop::verify`]) check the proof against this request's method and
//! endpoint URL (our issuer plus the path: what clients find in discovery), with the server's
//! nonce key when `[dpop] require_nonce` is on; and puts a fresh `DPoP-Nonce` on answers
//! (§8.1). Signatures are verified by `gatehouse_jose::dpop::DpopVerifier`.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::header::{HeaderName, HeaderValue};
use gatehouse_core::Error;
use gatehouse_core::dpop::{self, Expected, ProofKey};
use gatehouse_jose::dpop::DpopVerifier;

use crate::state::AppState;

/// The `DPoP` request header (§4.1) and the `DPoP-Nonce` response header (§8.1).
pub const DPOP: &str = "dpop";
pub const DPOP_NONCE: &str = "dpop-nonce";

/// The verified proof of `req` for the endpoint at `path`, if it carries one.
pub async fn proof_key(
    state: &AppState,
    req: &HttpRequest,
    path: &str,
    access_token: Option<&str>,
) -> Result<Option<ProofKey>, Error> {
    let values: Vec<&str> = req
        .headers()
        .get_all(DPOP)
        .map(|v| v.to_str().unwrap_or(""))
        .collect();
    let Some(proof) = dpop::one_proof(&values)? else {
        return Ok(None);
    };
    let url = format!("{}{path}", state.policy.issuer.trim_end_matches('/'));
    let expected = Expected {
        method: req.method().as_str(),
        url: &url,
        access_token,
        nonce: state
            .settings
            .dpop
            .require_nonce
            .then_some(&state.dpop_nonce_key),
        now: state.now(),
    };
    dpop::verify(&DpopVerifier, &state.store, proof, &expected)
        .await
        .map(Some)
}

/// Adds a fresh `DPoP-Nonce` to `resp` when the server requires nonces (§8.1, §8.2).
pub fn with_nonce(state: &AppState, mut resp: HttpResponse) -> HttpResponse {
    if state.settings.dpop.require_nonce {
        let nonce = state.dpop_nonce_key.issue(state.now());
        if let Ok(v) = HeaderValue::from_str(&nonce) {
            resp.headers_mut()
                .insert(HeaderName::from_static(DPOP_NONCE), v);
        }
    }
    resp
}

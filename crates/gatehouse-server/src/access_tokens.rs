//! The one verifier of our access tokens (RFC 9068 §4), behind the core's
//! [`AccessTokenVerifier`] port: the signature with a key of the in-memory key ring, the JOSE
//! `typ` `at+jwt`, our issuer and our audience. Userinfo, introspection, revocation and the
//! admin API's bearer authentication all verify through it. Expiry against the injected clock,
//! revocation and the tenant's state are the core's checks.
//!
//! Tokens issued for a registered resource (RFC 8707) carry that resource as `aud`: they are
//! accepted only by [`AccessTokens::any_audience`], which introspection and revocation use
//! (the server answers for every token it issued), never by userinfo or the admin API.
//!
//! Before a token is verified, [`know_kid_of`] makes sure the ring knows its `kid`: a token
//! signed on another node with a key this node has not loaded yet makes it reload (at most
//! once a second), so it is verified rather than rejected.

use std::sync::Arc;

use base64::Engine as _;

use gatehouse_core::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims};
use gatehouse_core::policy::Policy;
use gatehouse_core::revocation::AccessTokenVerifier;
use gatehouse_jose::KeyRing;

use crate::state::AppState;

/// Verifies access tokens against the key ring current when it was made.
pub struct AccessTokens<'a> {
    ring: Arc<KeyRing>,
    policy: &'a Policy,
    /// Accept any `aud` (tokens for registered resources too).
    any_audience: bool,
}

/// The longest JWS header read for its `kid`, in base64url characters.
const MAX_HEADER: usize = 2048;

impl<'a> AccessTokens<'a> {
    pub fn new(state: &'a AppState) -> Self {
        Self {
            ring: state.keys.current(),
            policy: &state.policy,
            any_audience: false,
        }
    }

    /// A verifier for `token` that accepts tokens of any audience, for introspection and
    /// revocation (RFC 7662, RFC 7009: about any token this server issued).
    pub async fn any_audience(state: &'a AppState, token: &str) -> Self {
        Self {
            any_audience: true,
            ..Self::for_token(state, token).await
        }
    }

    /// A verifier for `token`, after [`know_kid_of`].
    pub async fn for_token(state: &'a AppState, token: &str) -> Self {
        know_kid_of(state, token).await;
        Self::new(state)
    }
}

/// If `token` is a JWS whose `kid` the ring does not know, reloads the ring (rate-limited, see
/// `KeyCache::ensure_kid`). Anything that is not a JWS with a plain `kid` is left alone.
pub async fn know_kid_of(state: &AppState, token: &str) {
    if let Some(kid) = jws_kid(token) {
        state.keys.ensure_kid(&state.store, &kid, state.now()).await;
    }
}

/// The `kid` of a compact JWS's protected header, if it has a short plain one.
fn jws_kid(token: &str) -> Option<String> {
    let (header, _) = token.split_once('.')?;
    if header.len() > MAX_HEADER {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let kid = v.get("kid")?.as_str()?;
    (!kid.is_empty() && kid.len() <= 128).then(|| kid.to_owned())
}

impl AccessTokenVerifier for AccessTokens<'_> {
    fn verify_access_token(&self, token: &str) -> Option<AccessTokenClaims> {
        let value = self
            .ring
            .verify(
                token,
                ACCESS_TOKEN_TYP,
                &self.policy.issuer,
                (!self.any_audience).then_some(self.policy.access_token_audience.as_str()),
            )
            .ok()?;
        serde_json::from_value(value).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kid_is_read_from_a_jws_header_only() {
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let token = format!("{}.{}.sig", enc(r#"{"alg":"RS256","kid":"k1"}"#), enc("{}"));
        assert_eq!(jws_kid(&token).as_deref(), Some("k1"));
        assert_eq!(jws_kid("gh_live_abcdef"), None);
        assert_eq!(jws_kid(&format!("{}.x.y", enc(r#"{"alg":"none"}"#))), None);
        assert_eq!(jws_kid("!!!.x.y"), None);
        let long = format!(
            "{}.x.y",
            enc(&format!(r#"{{"kid":"{}"}}"#, "a".repeat(300)))
        );
        assert_eq!(jws_kid(&long), None);
    }
}

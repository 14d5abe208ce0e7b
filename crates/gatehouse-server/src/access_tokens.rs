//! The one verifier of our access tokens (RFC 9068 §4), behind the core's
//! [`AccessTokenVerifier`] port: the signature with a key of the in-memory key ring, the JOSE
//! `typ` `at+jwt`, our issuer and our audience. Userinfo, introspection, revocation and the
//! admin API's bearer authentication all verify through it. Expiry against the injected clock,
//! revocation and the tenant's state are the core's checks.

use std::sync::Arc;

use gatehouse_core::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims};
use gatehouse_core::policy::Policy;
use gatehouse_core::revocation::AccessTokenVerifier;
use gatehouse_jose::KeyRing;

use crate::state::AppState;

/// Verifies access tokens against the key ring current when it was made.
pub struct AccessTokens<'a> {
    ring: Arc<KeyRing>,
    policy: &'a Policy,
}

impl<'a> AccessTokens<'a> {
    pub fn new(state: &'a AppState) -> Self {
        Self {
            ring: state.keys.current(),
            policy: &state.policy,
        }
    }
}

impl AccessTokenVerifier for AccessTokens<'_> {
    fn verify_access_token(&self, token: &str) -> Option<AccessTokenClaims> {
        let value = self
            .ring
            .verify(
                token,
                ACCESS_TOKEN_TYP,
                &self.policy.issuer,
                Some(&self.policy.access_token_audience),
            )
            .ok()?;
        serde_json::from_value(value).ok()
    }
}

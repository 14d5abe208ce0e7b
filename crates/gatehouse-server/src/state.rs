//! The state shared by all workers: storage, the key ring, settings and the clock.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gatehouse_core::Error;
use gatehouse_core::client::Client;
use gatehouse_core::client_auth::{AssertionContext, AssertionRules};
use gatehouse_core::policy::Policy;
use gatehouse_core::ports::Clock;
use gatehouse_core::token::ClientCredentials;
use gatehouse_store::Store;

use crate::client_keys::KeyVerifier;
use crate::keys::KeyCache;
use crate::settings::Settings;

pub struct AppState {
    pub store: Store,
    pub keys: Arc<KeyCache>,
    pub policy: Policy,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    /// Verifies client and JWT bearer assertions; caches fetched `jwks_uri` documents.
    pub key_verifier: Arc<KeyVerifier>,
    /// `aud`, lifetime and skew rules for assertions (RFC 7523 §3).
    pub assertion_rules: AssertionRules,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Authenticates a client at any client-authenticated endpoint (token, revocation,
    /// introspection): secrets, public clients and `private_key_jwt` assertions.
    pub async fn authenticate_client(&self, creds: &ClientCredentials) -> Result<Client, Error> {
        let ctx = AssertionContext {
            verifier: &*self.key_verifier,
            rules: &self.assertion_rules,
            now: self.now(),
        };
        gatehouse_core::token::authenticate_client(&self.store, creds, &ctx).await
    }
}

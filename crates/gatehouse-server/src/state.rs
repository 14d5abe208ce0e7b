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
    /// Reverse proxies whose `X-Forwarded-For` is believed (`[network] trusted_proxies`).
    pub trusted_proxies: Vec<gatehouse_core::apikey::IpNet>,
    /// Admin-API calls per API key (in memory, per node).
    pub rate_limits: Arc<crate::rate_limit::RateLimits>,
    /// The bounded Argon2id pool every password check and hash goes through.
    pub hash_pool: Arc<crate::hash_pool::HashPool>,
    /// Failed sign-ins of this node, for the login throttle (in memory, bounded).
    pub sign_in_failures: Arc<crate::throttle::MemoryFailures>,
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

    /// One key-maintenance step at `self.now()`: the rotation scheduler, then a reload of the
    /// key ring. Run every few seconds by the server; tests call it after moving the clock.
    pub async fn run_key_scheduler(&self) -> Result<(), String> {
        let schedule = crate::keys::Schedule::from_settings(&self.settings);
        let scheduled = crate::keys::scheduler_tick(
            &self.store,
            &schedule,
            self.settings.master_key.as_ref(),
            self.now(),
        )
        .await;
        // Reload even when the scheduler failed, so keys rotated elsewhere are still picked up.
        let reloaded = self.keys.reload(&self.store, self.now()).await;
        scheduled.and(reloaded)
    }
}

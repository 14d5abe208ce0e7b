//! The state shared by all workers: storage, the key ring, settings and the clock.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use gatehouse_core::client_auth::{AssertionRules, ClientAuthContext};
use gatehouse_core::policy::Policy;
use gatehouse_core::ports::Clock;
use gatehouse_core::token::TokenEndpoint;
use gatehouse_core::token_exchange::ExchangeRules;
use gatehouse_jose::KeyRing;
use gatehouse_store::Store;

use crate::client_keys::KeyVerifier;
use crate::client_metadata::MetadataClients;
use crate::keys::KeyCache;
use crate::settings::Settings;

pub struct AppState {
    pub store: Store,
    /// The client directory of the protocol endpoints: registered clients, and clients
    /// described by metadata documents (`[client_metadata]`).
    pub clients: crate::client_metadata::MetadataClients,
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
    /// Admin-API calls per API key (shared through Redis when configured, else per node).
    pub rate_limits: Arc<crate::rate_limit::RateLimits>,
    /// The bounded Argon2id pool every password check and hash goes through.
    pub hash_pool: Arc<crate::hash_pool::HashPool>,
    /// Failed sign-ins, for the login throttle (shared through Redis when configured, else
    /// in this node's memory, bounded).
    pub sign_in_failures: Arc<crate::throttle::SignInFailures>,
    /// Set once a readiness probe has seen every migration applied.
    pub schema_current: std::sync::atomic::AtomicBool,
    /// The key of DPoP nonces (RFC 9449 §8): derived from the master key when there is one
    /// (the same on every node), else random per process.
    pub dpop_nonce_key: gatehouse_core::dpop::NonceKey,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The ports of client authentication at the token, introspection and revocation
    /// endpoints (clients and tenants from the store, assertions through the key verifier).
    pub fn client_auth(&self) -> ClientAuthContext<'_, Store, Store, KeyVerifier> {
        ClientAuthContext {
            clients: &self.store,
            store: &self.store,
            verifier: &*self.key_verifier,
            rules: &self.assertion_rules,
            now: self.now(),
        }
    }

    /// The ports and facts of one token request from `client_ip`, signing with `ring`.
    pub fn token_endpoint<'a>(
        &'a self,
        ring: &'a KeyRing,
        client_ip: Option<IpAddr>,
        request_id: &'a str,
    ) -> TokenEndpoint<'a, MetadataClients, Store, KeyRing, KeyVerifier> {
        TokenEndpoint {
            clients: &self.clients,
            store: &self.store,
            signer: ring,
            assertions: &*self.key_verifier,
            policy: &self.policy,
            assertion_rules: &self.assertion_rules,
            exchange_rules: ExchangeRules {
                ttl: self.settings.api_keys.exchange_token_ttl,
                default_alg: self.policy.access_token_alg,
            },
            now: self.now(),
            client_ip,
            request_id: Some(request_id),
            dpop: None,
        }
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

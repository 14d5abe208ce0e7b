//! In-memory fakes of the ports, for the unit tests of this crate only.
//!
//! The fake "signer" writes `<typ>.<claims JSON>` instead of a JWS and the fake verifier reads
//! it back: enough to exercise the protocol logic without key material. [`TokenHarness`] runs
//! the token endpoint's entry over them.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::apikey::ApiKey;
use crate::audit::NewAuditEvent;
use crate::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims};
use crate::client::{AuthMethod, Client, GrantType};
use crate::client_auth::{
    AssertionRejected, AssertionRules, AssertionVerifier, ClientCredentials, ClientKeyStore,
    JtiUse, KeySource, ReplayStore, VerifiedAssertion, peek_claim,
};
use crate::error::StoreError;
use crate::grant::jwt_bearer::{Trust, TrustStore};
use crate::grant::token_exchange::ExchangeRules;
use crate::params::Params;
use crate::policy::Policy;
use crate::ports::{
    ClientStore, CodeRecord, CodeStore, ConsentStore, GrantStore, GrantTerms, Redemption,
    RefreshRecord, Rotation, Session, SessionStore, TokenSigner, UserStore,
};
use crate::revocation::{AccessTokenVerifier, RevokedTokenStore};
use crate::rotation::RotationStore;
use crate::secret::{Secret, SecretHash};
use crate::user::User;
use crate::values::{ClientId, GrantId, ScopeSet, SigningAlg, TenantId, UserId};

mod fixtures;
mod harness;
mod ports;
mod tokens;

pub use fixtures::*;
pub use harness::*;
pub use tokens::*;

#[derive(Default)]
pub struct FakeStore {
    refresh: Mutex<HashMap<[u8; 32], RefreshRecord>>,
    revoked_grants: Mutex<HashSet<String>>,
    revoked_jtis: Mutex<HashSet<String>>,
    pub users: Mutex<Vec<User>>,
    pub disabled_tenants: Mutex<HashSet<String>>,
    clients: Mutex<Vec<Client>>,
    key_sources: Mutex<HashMap<String, KeySource>>,
    jtis: Mutex<HashMap<(String, String), DateTime<Utc>>>,
    /// Codes by hash, with whether they were redeemed.
    codes: Mutex<HashMap<[u8; 32], (CodeRecord, bool)>>,
    trusts: Mutex<Vec<Trust>>,
    api_keys: Mutex<Vec<(ApiKey, crate::tenant::Tenant)>>,
    /// What `ApiKeyAuthStore::append_audit` received.
    pub api_key_audit: Mutex<Vec<NewAuditEvent>>,
    pub resources: Mutex<Vec<crate::resource::ResourceServer>>,
    pub client_resources: Mutex<HashMap<String, Vec<crate::resource::ResourceUri>>>,
    pub grant_resources: Mutex<HashMap<String, Vec<crate::resource::ResourceUri>>>,
    pub grant_claims: Mutex<HashMap<String, crate::claims_request::ClaimsRequest>>,
    pub devices: Mutex<Vec<crate::device::DeviceAuthorization>>,
    /// Clients registered "DPoP required" (RFC 9449 §5.2).
    pub dpop_required: Mutex<HashSet<String>>,
}

fn key(h: &SecretHash) -> [u8; 32] {
    *h.as_bytes()
}

impl FakeStore {
    /// Stores a fresh refresh token and returns its value.
    pub fn add_refresh(&self, client: &str, grant: &str, now: DateTime<Utc>) -> String {
        let token = Secret::generate();
        let mut r = refresh_record(client, grant, now);
        r.token_hash = token.hash();
        r.rotation_salt = Some(crate::secret::RotationSalt::generate());
        self.refresh.lock().unwrap().insert(key(&r.token_hash), r);
        token.expose().to_owned()
    }

    /// Stores a fresh refresh token bound to the DPoP key `jkt` and returns its value.
    pub fn add_bound_refresh(
        &self,
        client: &str,
        grant: &str,
        jkt: &str,
        now: DateTime<Utc>,
    ) -> String {
        let token = self.add_refresh(client, grant, now);
        let h = key(&Secret::from_presented(&token).hash());
        if let Some(r) = self.refresh.lock().unwrap().get_mut(&h) {
            r.dpop_jkt = Some(jkt.to_owned());
        }
        token
    }

    pub fn add_user(&self, id: &str) {
        self.users.lock().unwrap().push(User {
            id: UserId::parse(id).unwrap(),
            tenant_id: TenantId::parse("default").unwrap(),
            username: id.into(),
            email: None,
            password_hash: String::new(),
            created_at: Utc::now(),
            profile: Default::default(),
            admin_scopes: Default::default(),
        });
    }

    pub fn revoked_jtis(&self) -> Vec<String> {
        self.revoked_jtis.lock().unwrap().iter().cloned().collect()
    }

    pub fn refresh_record(&self, token: &str) -> Option<RefreshRecord> {
        let h = Secret::from_presented(token).hash();
        self.refresh.lock().unwrap().get(&key(&h)).cloned()
    }
}

impl FakeStore {
    pub fn add_client(&self, c: Client) {
        self.clients.lock().unwrap().push(c);
    }

    pub fn set_key_source(&self, id: &ClientId, source: KeySource) {
        self.key_sources
            .lock()
            .unwrap()
            .insert(id.as_str().into(), source);
    }

    pub fn disable_tenant(&self, id: &str) {
        self.disabled_tenants.lock().unwrap().insert(id.into());
    }

    pub fn add_code(&self, code: CodeRecord) {
        let k = key(&code.code_hash);
        self.codes.lock().unwrap().insert(k, (code, false));
    }

    pub fn add_trust(&self, t: Trust) {
        self.trusts.lock().unwrap().push(t);
    }

    pub fn add_api_key(&self, k: ApiKey, t: crate::tenant::Tenant) {
        self.api_keys.lock().unwrap().push((k, t));
    }

    pub fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) {
        for (k, _) in self.api_keys.lock().unwrap().iter_mut() {
            if k.id == id {
                k.revoked_at = Some(now);
            }
        }
    }

    /// The refresh tokens stored for `grant`.
    pub fn family(&self, grant: &str) -> Vec<RefreshRecord> {
        let m = self.refresh.lock().unwrap();
        m.values()
            .filter(|r| r.grant_id.as_str() == grant)
            .cloned()
            .collect()
    }
}

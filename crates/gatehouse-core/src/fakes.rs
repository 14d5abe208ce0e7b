//! In-memory fakes of the ports, for the unit tests of this crate only.
//!
//! The fake "signer" writes `<typ>.<claims JSON>` instead of a JWS and the fake verifier reads
//! it back: enough to exercise the protocol logic without key material.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims};
use crate::client::{AuthMethod, Client, GrantType};
use crate::error::StoreError;
use crate::ports::{
    ClientStore, CodeRecord, CodeStore, ConsentStore, GrantStore, Redemption, RefreshRecord,
    Rotation, Session, SessionStore, TokenSigner, UserStore,
};
use crate::revocation::{AccessTokenVerifier, RevokedTokenStore};
use crate::rotation::RotationStore;
use crate::secret::{Secret, SecretHash};
use crate::user::User;
use crate::values::{ClientId, GrantId, ScopeSet, SigningAlg, TenantId, UserId};

/// A confidential client with the code and refresh grants.
pub fn client(id: &str) -> Client {
    Client {
        id: ClientId::parse(id).unwrap(),
        tenant_id: TenantId::parse("default").unwrap(),
        name: id.into(),
        secret_hash: Some(Secret::generate().hash()),
        auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        allowed_scopes: ScopeSet::parse("openid offline_access").unwrap(),
        id_token_alg: SigningAlg::RS256,
        access_token_alg: SigningAlg::RS256,
        access_token_ttl: None,
        require_pkce: true,
        refresh_grace_seconds: 0,
        refresh_idle_ttl: None,
        refresh_absolute_ttl: None,
        created_at: Utc::now(),
    }
}

/// A fresh refresh-token record of `client` in grant `grant`, issued at `now` for a day.
pub fn refresh_record(client: &str, grant: &str, now: DateTime<Utc>) -> RefreshRecord {
    let scope = ScopeSet::parse("openid offline_access").unwrap();
    RefreshRecord {
        token_hash: Secret::generate().hash(),
        grant_id: GrantId::parse(grant).unwrap(),
        client_id: ClientId::parse(client).unwrap(),
        user_id: UserId::parse("u1").unwrap(),
        scope: scope.clone(),
        granted_scope: scope,
        auth_time: now,
        issued_at: now,
        expires_at: now + Duration::days(1),
        used_at: None,
        revoked: false,
        family_expires_at: Some(now + Duration::days(30)),
        replaced_by: None,
        rotation_salt: None,
    }
}

/// A fake access token of `client`, issued at `iat` for an hour.
pub fn access_token(client: &str, grant: Option<&str>, iat: DateTime<Utc>) -> String {
    let claims = AccessTokenClaims {
        iss: "https://issuer.example".into(),
        sub: "u1".into(),
        aud: "https://issuer.example".into(),
        client_id: client.into(),
        scope: "openid".into(),
        jti: crate::token::new_jti(),
        iat: iat.timestamp(),
        exp: iat.timestamp() + 3600,
        auth_time: None,
        gid: grant.map(str::to_owned),
        tenant: Some("default".into()),
        api_key: None,
        api_key_name: None,
    };
    FakeSigner
        .sign(SigningAlg::RS256, ACCESS_TOKEN_TYP, &claims)
        .unwrap()
}

pub struct FakeSigner;

impl TokenSigner for FakeSigner {
    fn sign<C: Serialize>(&self, _: SigningAlg, typ: &str, claims: &C) -> Result<String, String> {
        Ok(format!(
            "{typ}.{}",
            serde_json::to_string(claims).map_err(|e| e.to_string())?
        ))
    }
}

pub struct FakeVerifier;

impl AccessTokenVerifier for FakeVerifier {
    fn verify_access_token(&self, token: &str) -> Option<AccessTokenClaims> {
        let json = token.strip_prefix(ACCESS_TOKEN_TYP)?.strip_prefix('.')?;
        serde_json::from_str(json).ok()
    }
}

#[derive(Default)]
pub struct FakeStore {
    refresh: Mutex<HashMap<[u8; 32], RefreshRecord>>,
    revoked_grants: Mutex<HashSet<String>>,
    revoked_jtis: Mutex<HashSet<String>>,
    pub users: Mutex<Vec<User>>,
    pub disabled_tenants: Mutex<HashSet<String>>,
}

impl crate::claims_request::ClaimsRequestStore for FakeStore {
    async fn save_claims_request(
        &self,
        _grant: &GrantId,
        _request: &crate::claims_request::ClaimsRequest,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    async fn find_claims_request(
        &self,
        _grant: &GrantId,
    ) -> Result<Option<crate::claims_request::ClaimsRequest>, StoreError> {
        Ok(None)
    }
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

impl ClientStore for FakeStore {
    async fn find_client(&self, _: &ClientId) -> Result<Option<Client>, StoreError> {
        Ok(None)
    }
}

impl UserStore for FakeStore {
    async fn find_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self
            .users
            .lock()
            .unwrap()
            .iter()
            .find(|u| &u.id == id)
            .cloned())
    }
    async fn find_user_by_username(&self, _: &str) -> Result<Option<User>, StoreError> {
        Ok(None)
    }
}

impl CodeStore for FakeStore {
    async fn insert_code(&self, _: &CodeRecord) -> Result<(), StoreError> {
        Ok(())
    }
    async fn redeem_code(
        &self,
        _: &SecretHash,
        _: DateTime<Utc>,
    ) -> Result<Redemption, StoreError> {
        Ok(Redemption::NotFound)
    }
}

impl GrantStore for FakeStore {
    async fn insert_refresh(&self, t: &RefreshRecord) -> Result<(), StoreError> {
        self.refresh
            .lock()
            .unwrap()
            .insert(key(&t.token_hash), t.clone());
        Ok(())
    }
    async fn find_refresh(&self, h: &SecretHash) -> Result<Option<RefreshRecord>, StoreError> {
        Ok(self.refresh.lock().unwrap().get(&key(h)).cloned())
    }
    async fn mark_refresh_used(
        &self,
        h: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        let mut m = self.refresh.lock().unwrap();
        match m.get_mut(&key(h)) {
            Some(r) if r.used_at.is_none() && !r.revoked => {
                r.used_at = Some(now);
                Ok(Rotation::Rotated)
            }
            _ => Ok(Rotation::AlreadyUsed),
        }
    }
    async fn revoke_grant(&self, g: &GrantId, _: DateTime<Utc>) -> Result<(), StoreError> {
        self.revoked_grants
            .lock()
            .unwrap()
            .insert(g.as_str().into());
        for r in self.refresh.lock().unwrap().values_mut() {
            if &r.grant_id == g {
                r.revoked = true;
            }
        }
        Ok(())
    }
    async fn is_grant_revoked(&self, g: &GrantId) -> Result<bool, StoreError> {
        Ok(self.revoked_grants.lock().unwrap().contains(g.as_str()))
    }
}

impl RotationStore for FakeStore {
    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        successor: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        let mut m = self.refresh.lock().unwrap();
        match m.get_mut(&key(old)) {
            Some(r) if r.used_at.is_none() && !r.revoked => {
                r.used_at = Some(now);
                r.replaced_by = Some(successor.clone());
                Ok(Rotation::Rotated)
            }
            _ => Ok(Rotation::AlreadyUsed),
        }
    }
}

impl RevokedTokenStore for FakeStore {
    async fn revoke_access_token(
        &self,
        jti: &str,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.revoked_jtis.lock().unwrap().insert(jti.into());
        Ok(())
    }
    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.revoked_jtis.lock().unwrap().contains(jti))
    }
}

impl ConsentStore for FakeStore {
    async fn find_consent(&self, _: &UserId, _: &ClientId) -> Result<Option<ScopeSet>, StoreError> {
        Ok(None)
    }
    async fn save_consent(
        &self,
        _: &UserId,
        _: &ClientId,
        _: &ScopeSet,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

impl SessionStore for FakeStore {
    async fn insert_session(&self, _: &Session) -> Result<(), StoreError> {
        Ok(())
    }
    async fn find_session(&self, _: &SecretHash) -> Result<Option<Session>, StoreError> {
        Ok(None)
    }
    async fn delete_session(&self, _: &SecretHash) -> Result<(), StoreError> {
        Ok(())
    }
}

/// An enabled tenant with API access.
pub fn enabled_tenant(id: &TenantId) -> crate::tenant::Tenant {
    crate::tenant::Tenant {
        id: id.clone(),
        name: id.to_string(),
        created_at: Utc::now(),
        disabled: false,
        api_access_enabled: true,
        max_api_keys: crate::tenant::DEFAULT_MAX_API_KEYS,
        allowed_scopes: None,
    }
}

/// Every tenant exists and is enabled, except those in `disabled_tenants`.
impl crate::tenant::TenantStore for FakeStore {
    async fn find_tenant(
        &self,
        id: &TenantId,
    ) -> Result<Option<crate::tenant::Tenant>, StoreError> {
        let mut t = enabled_tenant(id);
        t.disabled = self.disabled_tenants.lock().unwrap().contains(id.as_str());
        Ok(Some(t))
    }
}

/// No API keys.
impl crate::apikey_auth::ApiKeyLookup for FakeStore {
    async fn find_api_key(&self, _id: &str) -> Result<Option<crate::apikey::ApiKey>, StoreError> {
        Ok(None)
    }
}

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
        access_token_alg: None,
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

/// A PKCE verifier of 43 characters and its S256 challenge (RFC 7636 §4.1–4.2).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// A fresh code (its value, and its record) of `client` for user `u1` in grant `grant`, sent
/// to `https://app.example/cb`, with an S256 challenge of [`VERIFIER`] unless `pkce` is false.
pub fn code(
    client: &Client,
    grant: &str,
    scope: &str,
    pkce: bool,
    now: DateTime<Utc>,
) -> (String, CodeRecord) {
    use base64::Engine;
    use sha2::Digest;
    let code = Secret::generate();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    let record = CodeRecord {
        code_hash: code.hash(),
        client_id: client.id.clone(),
        user_id: UserId::parse("u1").unwrap(),
        redirect_uri: crate::RedirectUri::parse("https://app.example/cb").unwrap(),
        redirect_uri_in_request: true,
        scope: ScopeSet::parse(scope).unwrap(),
        nonce: Some("n-1".into()),
        code_challenge: pkce
            .then(|| crate::values::PkceChallenge::parse(&challenge, Some("S256")).unwrap()),
        auth_time: now,
        grant_id: GrantId::parse(grant).unwrap(),
        expires_at: now + Duration::seconds(60),
    };
    (code.expose().to_owned(), record)
}

/// A fake access token of `client`, issued at `iat` for an hour.
pub fn access_token(client: &str, grant: Option<&str>, iat: DateTime<Utc>) -> String {
    let claims = AccessTokenClaims {
        iss: "https://issuer.example".into(),
        sub: "u1".into(),
        aud: "https://issuer.example".into(),
        client_id: client.into(),
        scope: "openid".into(),
        jti: crate::grant::mint::new_jti(),
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
    fn sign<C: Serialize>(
        &self,
        _: SigningAlg,
        typ: &str,
        claims: &C,
    ) -> Result<String, crate::ports::SignError> {
        Ok(format!(
            "{typ}.{}",
            serde_json::to_string(claims)
                .map_err(|e| crate::ports::SignError::Failed(e.to_string()))?
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
    pub devices: Mutex<Vec<crate::device::DeviceAuthorization>>,
}

impl crate::resource::ResourceStore for FakeStore {
    async fn find_resource(
        &self,
        tenant: &TenantId,
        identifier: &crate::resource::ResourceUri,
    ) -> Result<Option<crate::resource::ResourceServer>, StoreError> {
        let all = self.resources.lock().unwrap();
        Ok(all
            .iter()
            .find(|r| &r.tenant_id == tenant && &r.identifier == identifier)
            .cloned())
    }
    async fn client_resources(
        &self,
        client: &ClientId,
    ) -> Result<Vec<crate::resource::ResourceUri>, StoreError> {
        let m = self.client_resources.lock().unwrap();
        Ok(m.get(client.as_str()).cloned().unwrap_or_default())
    }
    async fn save_grant_resources(
        &self,
        grant: &GrantId,
        resources: &[crate::resource::ResourceUri],
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut m = self.grant_resources.lock().unwrap();
        m.insert(grant.as_str().into(), resources.to_vec());
        Ok(())
    }
    async fn grant_resources(
        &self,
        grant: &GrantId,
    ) -> Result<Vec<crate::resource::ResourceUri>, StoreError> {
        let m = self.grant_resources.lock().unwrap();
        Ok(m.get(grant.as_str()).cloned().unwrap_or_default())
    }
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

impl ClientStore for FakeStore {
    async fn find_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        let clients = self.clients.lock().unwrap();
        Ok(clients.iter().find(|c| &c.id == id).cloned())
    }
}

impl ClientKeyStore for FakeStore {
    async fn client_key_source(&self, id: &ClientId) -> Result<Option<KeySource>, StoreError> {
        Ok(self.key_sources.lock().unwrap().get(id.as_str()).cloned())
    }
}

impl ReplayStore for FakeStore {
    async fn use_jti(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<JtiUse, StoreError> {
        let mut m = self.jtis.lock().unwrap();
        let k = (issuer.to_owned(), jti.to_owned());
        match m.get(&k) {
            Some(e) if *e > now => Ok(JtiUse::Replayed),
            _ => {
                m.insert(k, expires_at);
                Ok(JtiUse::Fresh)
            }
        }
    }
}

impl TrustStore for FakeStore {
    async fn find_trust(&self, iss: &str, sub: &str) -> Result<Option<Trust>, StoreError> {
        let trusts = self.trusts.lock().unwrap();
        Ok(trusts
            .iter()
            .find(|t| t.issuer == iss && t.subject == sub)
            .cloned())
    }
}

impl crate::apikey_auth::ApiKeyAuthStore for FakeStore {
    async fn find_api_key_by_hash(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<(ApiKey, crate::tenant::Tenant)>, StoreError> {
        let keys = self.api_keys.lock().unwrap();
        Ok(keys.iter().find(|(k, _)| &k.secret_hash == hash).cloned())
    }
    async fn record_api_key_use(
        &self,
        _key_id: &str,
        _now: DateTime<Utc>,
        _ip: Option<std::net::IpAddr>,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    async fn append_audit(&self, event: NewAuditEvent) -> Result<i64, StoreError> {
        let mut a = self.api_key_audit.lock().unwrap();
        a.push(event);
        Ok(a.len() as i64)
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
    async fn find_user_by_username(
        &self,
        _: &TenantId,
        _: &str,
    ) -> Result<Option<User>, StoreError> {
        Ok(None)
    }
    async fn find_users_named(&self, _: &str, _: u64) -> Result<Vec<User>, StoreError> {
        Ok(Vec::new())
    }
}

impl CodeStore for FakeStore {
    async fn insert_code(&self, c: &CodeRecord) -> Result<(), StoreError> {
        self.add_code(c.clone());
        Ok(())
    }
    async fn redeem_code(
        &self,
        h: &SecretHash,
        _: DateTime<Utc>,
    ) -> Result<Redemption, StoreError> {
        let mut m = self.codes.lock().unwrap();
        Ok(match m.get_mut(&key(h)) {
            None => Redemption::NotFound,
            Some((c, true)) => Redemption::AlreadyRedeemed(c.clone()),
            Some((c, used)) => {
                *used = true;
                Redemption::Redeemed(c.clone())
            }
        })
    }
}

impl crate::device::DeviceStore for FakeStore {
    async fn insert_device(
        &self,
        d: &crate::device::DeviceAuthorization,
    ) -> Result<(), StoreError> {
        self.devices.lock().unwrap().push(d.clone());
        Ok(())
    }
    async fn pending_devices(
        &self,
        client: &crate::values::ClientId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let m = self.devices.lock().unwrap();
        Ok(m.iter()
            .filter(|d| &d.client_id == client && d.expires_at > now)
            .count() as u64)
    }
    async fn find_device(
        &self,
        h: &SecretHash,
    ) -> Result<Option<crate::device::DeviceAuthorization>, StoreError> {
        let m = self.devices.lock().unwrap();
        Ok(m.iter()
            .find(|d| d.device_code_hash.to_hex() == h.to_hex())
            .cloned())
    }
    async fn find_device_by_user_code(
        &self,
        h: &SecretHash,
    ) -> Result<Option<crate::device::DeviceAuthorization>, StoreError> {
        let m = self.devices.lock().unwrap();
        Ok(m.iter()
            .find(|d| d.user_code_hash.to_hex() == h.to_hex())
            .cloned())
    }
    async fn decide_device(
        &self,
        h: &SecretHash,
        decision: &crate::device::Decision,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        use crate::device::DeviceStatus;
        let mut m = self.devices.lock().unwrap();
        let Some(d) = m.iter_mut().find(|d| {
            d.device_code_hash.to_hex() == h.to_hex()
                && d.status == DeviceStatus::Pending
                && d.expires_at > now
        }) else {
            return Ok(false);
        };
        d.status = if decision.approved {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        d.user_id = Some(decision.user_id.clone());
        d.auth_time = Some(decision.auth_time);
        d.scope = decision.scope.clone();
        Ok(true)
    }
    async fn record_device_poll(
        &self,
        h: &SecretHash,
        now: DateTime<Utc>,
        interval: i64,
    ) -> Result<(), StoreError> {
        let mut m = self.devices.lock().unwrap();
        if let Some(d) = m
            .iter_mut()
            .find(|d| d.device_code_hash.to_hex() == h.to_hex())
        {
            d.last_polled_at = Some(now);
            d.interval = interval;
        }
        Ok(())
    }
    async fn consume_device(&self, h: &SecretHash) -> Result<bool, StoreError> {
        use crate::device::DeviceStatus;
        let mut m = self.devices.lock().unwrap();
        let Some(d) = m.iter_mut().find(|d| {
            d.device_code_hash.to_hex() == h.to_hex() && d.status == DeviceStatus::Approved
        }) else {
            return Ok(false);
        };
        d.status = DeviceStatus::Consumed;
        Ok(true)
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

impl crate::apikey_auth::ApiKeyLookup for FakeStore {
    async fn find_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        let keys = self.api_keys.lock().unwrap();
        Ok(keys
            .iter()
            .find(|(k, _)| k.id == id)
            .map(|(k, _)| k.clone()))
    }
}

/// Accepts any well-formed assertion and returns its (unverified) `iss`, `sub` and `jti`, with
/// `exp` a minute after `now`; refuses anything else as a bad signature.
pub struct TrustingVerifier;

impl AssertionVerifier for TrustingVerifier {
    async fn verify(
        &self,
        _keys: &KeySource,
        a: &str,
        _rules: &AssertionRules,
        now: DateTime<Utc>,
    ) -> Result<VerifiedAssertion, AssertionRejected> {
        let get = |n| peek_claim(a, n).ok_or_else(|| AssertionRejected("bad signature".into()));
        Ok(VerifiedAssertion {
            iss: get("iss")?,
            sub: get("sub")?,
            jti: get("jti")?,
            exp: now + Duration::seconds(60),
        })
    }
}

/// An unsigned compact JWS with these claims (for [`TrustingVerifier`]).
pub fn assertion(iss: &str, sub: &str, jti: &str) -> String {
    use base64::Engine;
    let b = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.c2ln",
        b(serde_json::json!({"alg": "ES256"})),
        b(serde_json::json!({"iss": iss, "sub": sub, "jti": jti}))
    )
}

/// The claims of a token minted by [`FakeSigner`].
pub fn claims_of(token: &str) -> serde_json::Value {
    let json = token.split_once('.').map(|(_, j)| j).unwrap_or_default();
    serde_json::from_str(json).unwrap()
}

/// The token endpoint's entry over the fakes: a store, a fixed policy and rules.
pub struct TokenHarness {
    pub store: FakeStore,
    pub policy: Policy,
    pub rules: AssertionRules,
    pub exchange: ExchangeRules,
}

impl Default for TokenHarness {
    fn default() -> Self {
        Self {
            store: FakeStore::default(),
            policy: Policy::new("https://issuer.example"),
            rules: AssertionRules {
                audiences: vec!["https://issuer.example".into()],
                max_lifetime: 300,
                skew: 60,
            },
            exchange: ExchangeRules {
                ttl: 300,
                default_alg: SigningAlg::RS256,
            },
        }
    }
}

impl TokenHarness {
    /// Registers `c` (confidential: with a fresh secret, for HTTP Basic).
    pub fn register(&self, mut c: Client) -> Registered {
        let secret = (!c.is_public()).then(Secret::generate);
        c.secret_hash = secret.as_ref().map(Secret::hash);
        if secret.is_some() {
            c.auth_method = AuthMethod::ClientSecretBasic;
        }
        let reg = Registered {
            id: c.id.to_string(),
            secret: secret.map(|s| s.expose().to_owned()),
        };
        self.store.add_client(c);
        reg
    }

    /// Runs one token request with form parameters `params`.
    pub async fn token(
        &self,
        creds: Option<ClientCredentials>,
        params: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> crate::token::TokenOutcome {
        let pairs = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let req = match crate::token::TokenRequest::parse(&Params::new(pairs).unwrap()) {
            Ok(r) => r,
            Err(e) => {
                return crate::token::TokenOutcome {
                    answer: Err(e.into()),
                    events: Vec::new(),
                };
            }
        };
        let ep = crate::token::TokenEndpoint {
            clients: &self.store,
            store: &self.store,
            signer: &FakeSigner,
            assertions: &TrustingVerifier,
            policy: &self.policy,
            assertion_rules: &self.rules,
            exchange_rules: self.exchange,
            now,
            client_ip: Some("192.0.2.7".parse().unwrap()),
            request_id: Some("req-1"),
        };
        crate::token::token(&ep, creds, req).await
    }
}

/// A registered client of a [`TokenHarness`].
pub struct Registered {
    pub id: String,
    pub secret: Option<String>,
}

impl Registered {
    /// What the client presents: HTTP Basic, or its `client_id` alone when public.
    pub fn creds(&self) -> Option<ClientCredentials> {
        let client_id = self.id.clone();
        Some(match &self.secret {
            Some(s) => ClientCredentials::Basic {
                client_id,
                secret: Secret::from_presented(s),
            },
            None => ClientCredentials::None { client_id },
        })
    }
}

/// The answer of a token request as JSON (the wire body), or its error code.
pub fn answer(o: &crate::token::TokenOutcome) -> Result<serde_json::Value, crate::ErrorCode> {
    match &o.answer {
        Ok(a) => Ok(serde_json::to_value(a).unwrap()),
        Err(e) => Err(e.to_oauth().code),
    }
}

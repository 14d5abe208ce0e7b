//! Ports: what the protocol needs from the outside world, as traits.
//!
//! `gatehouse-store` implements the storage traits on SeaORM, `gatehouse-jose` implements
//! [`TokenSigner`], and tests use in-memory fakes. Every write that must happen at most once
//! (redeeming a code, rotating a refresh token) is a single atomic operation of the port, so
//! concurrent requests cannot both succeed.

// The ports are used only by our own generic code, on actix workers that do not require `Send`
// futures, so the auto-trait caveat of `async fn` in traits does not apply.
#![allow(async_fn_in_trait)]

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::claims_request::ClaimsRequest;
use crate::client::Client;
use crate::error::StoreError;
use crate::resource::ResourceUri;
use crate::secret::SecretHash;
use crate::user::User;
use crate::values::{
    ClientId, GrantId, PkceChallenge, RedirectUri, ScopeSet, SigningAlg, TenantId, UserId,
};

/// The source of time. Protocol code never reads the system clock itself.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    // The one place the protocol's time comes from the system (clippy.toml bans it elsewhere).
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Why a JWT could not be signed (answered as `server_error`, logged).
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// No key of the algorithm is active (keys not loaded, or a rotation in progress).
    #[error("no active signing key for {0}")]
    NoActiveKey(SigningAlg),
    /// The claims could not be serialized or the signature could not be computed.
    #[error("signing failed: {0}")]
    Failed(String),
}

/// Signs JWTs with the server's current key for an algorithm.
pub trait TokenSigner {
    /// Returns a compact JWS with header `alg`, `kid` and `typ`.
    fn sign<C: Serialize>(
        &self,
        alg: SigningAlg,
        typ: &str,
        claims: &C,
    ) -> Result<String, SignError>;
}

/// An issued authorization code, stored by the SHA-256 of its value.
#[derive(Debug, Clone)]
pub struct CodeRecord {
    pub code_hash: SecretHash,
    pub client_id: ClientId,
    pub user_id: UserId,
    /// The redirect URI the code was sent to.
    pub redirect_uri: RedirectUri,
    /// Whether `redirect_uri` was in the authorization request (RFC 6749 §4.1.3).
    pub redirect_uri_in_request: bool,
    pub scope: ScopeSet,
    pub nonce: Option<String>,
    pub code_challenge: Option<PkceChallenge>,
    pub auth_time: DateTime<Utc>,
    /// The grant (token family) this code starts; revoked as a whole on code replay.
    pub grant_id: GrantId,
    pub expires_at: DateTime<Utc>,
    /// The DPoP key the code is bound to (`dpop_jkt`, RFC 9449 §10): it is redeemed only with
    /// a proof of that key.
    pub dpop_jkt: Option<String>,
}

/// What a grant was issued for besides its scope, read in the same query as its code or
/// refresh token: the resources it names (RFC 8707 §2) and its OIDC `claims` request (Core
/// §5.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantTerms {
    /// Empty when the authorization request named none.
    pub resources: Vec<ResourceUri>,
    pub claims: Option<ClaimsRequest>,
}

/// The result of redeeming a code.
#[derive(Debug)]
pub enum Redemption {
    /// This call redeemed it; no other call ever will. With the terms of its grant.
    Redeemed(CodeRecord, GrantTerms),
    /// It had been redeemed before: a replay.
    AlreadyRedeemed(CodeRecord),
    NotFound,
}

/// A refresh token of a grant, stored by the SHA-256 of its value.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    pub token_hash: SecretHash,
    pub grant_id: GrantId,
    pub client_id: ClientId,
    pub user_id: UserId,
    /// The scope of this token (may be narrower than the grant's).
    pub scope: ScopeSet,
    /// The scope the user originally granted; a refresh may never go beyond it (RFC 6749 §6).
    pub granted_scope: ScopeSet,
    pub auth_time: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged for a new one; a second exchange is a reuse.
    pub used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    /// The deadline of the whole family (first issue + absolute lifetime); `None` for tokens
    /// issued before absolute lifetimes existed (see [`crate::rotation`]).
    pub family_expires_at: Option<DateTime<Utc>>,
    /// The hash of the token this one was exchanged for (its current successor).
    pub replaced_by: Option<SecretHash>,
    /// Set for clients with a grace period: with the token's plaintext it determines the
    /// successor (see [`crate::rotation`]).
    pub rotation_salt: Option<crate::secret::RotationSalt>,
    /// The DPoP key the token is bound to (RFC 9449 §5: public clients' refresh tokens issued
    /// with a proof); it is refreshed only with a proof of that key.
    pub dpop_jkt: Option<String>,
}

/// The result of rotating a refresh token.
#[derive(Debug)]
pub enum Rotation {
    /// This call rotated it.
    Rotated,
    /// It had been rotated or revoked already.
    AlreadyUsed,
}

/// A browser login session. The cookie holds a random id; storage keeps its hash.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: SecretHash,
    pub user_id: UserId,
    pub auth_time: DateTime<Utc>,
    /// The synchronizer CSRF token for forms posted within this session.
    pub csrf_token: String,
    /// Absolute expiry.
    pub expires_at: DateTime<Utc>,
    /// The last recorded use (idle expiry, see [`crate::session`]).
    pub last_seen: DateTime<Utc>,
}

pub trait ClientStore {
    async fn find_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError>;
}

/// The users who may act. A user an operator disabled is absent from both lookups, so every
/// protocol path (sign-in, code redemption, refresh, userinfo, console sessions) treats it as
/// unknown: the rule lives in this port, not in each caller.
pub trait UserStore {
    async fn find_user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// The user named `username` in `tenant` (usernames are unique per tenant).
    async fn find_user_by_username(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<Option<User>, StoreError>;
    /// At most `limit` users named `username`, in any tenant (the console's sign-in when the
    /// form names no tenant, [`crate::signin`]).
    async fn find_users_named(&self, username: &str, limit: u64) -> Result<Vec<User>, StoreError>;
}

pub trait CodeStore {
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError>;
    /// Marks the code redeemed atomically; exactly one caller gets [`Redemption::Redeemed`].
    async fn redeem_code(
        &self,
        code_hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Redemption, StoreError>;
}

pub trait GrantStore {
    async fn insert_refresh(&self, token: &RefreshRecord) -> Result<(), StoreError>;
    async fn find_refresh(
        &self,
        token_hash: &SecretHash,
    ) -> Result<Option<RefreshRecord>, StoreError>;
    /// The token with the terms of its grant, in one read: what a rotation needs.
    async fn find_refresh_with_terms(
        &self,
        token_hash: &SecretHash,
    ) -> Result<Option<(RefreshRecord, GrantTerms)>, StoreError>;
    /// Marks the token used atomically; exactly one caller gets [`Rotation::Rotated`].
    async fn mark_refresh_used(
        &self,
        token_hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError>;
    /// Revokes a grant: all its refresh tokens, and the access tokens that carry its id.
    async fn revoke_grant(&self, grant_id: &GrantId, now: DateTime<Utc>) -> Result<(), StoreError>;
    async fn is_grant_revoked(&self, grant_id: &GrantId) -> Result<bool, StoreError>;
}

pub trait ConsentStore {
    /// The scopes the user has consented to for this client, if any.
    async fn find_consent(
        &self,
        user: &UserId,
        client: &ClientId,
    ) -> Result<Option<ScopeSet>, StoreError>;
    /// Records consent for `scope` (merged with what was consented before).
    async fn save_consent(
        &self,
        user: &UserId,
        client: &ClientId,
        scope: &ScopeSet,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

pub trait SessionStore {
    async fn insert_session(&self, s: &Session) -> Result<(), StoreError>;
    async fn find_session(&self, id_hash: &SecretHash) -> Result<Option<Session>, StoreError>;
    async fn delete_session(&self, id_hash: &SecretHash) -> Result<(), StoreError>;
}

/// Everything the protocol stores.
pub trait Storage:
    ClientStore + UserStore + CodeStore + GrantStore + ConsentStore + SessionStore
{
}
impl<T: ClientStore + UserStore + CodeStore + GrantStore + ConsentStore + SessionStore> Storage
    for T
{
}

//! The device authorization grant (RFC 8628): the device authorization endpoint and the user's
//! side of it (the verification page). The token endpoint's side is
//! [`crate::grant::device_code`].
//!
//! - [`start`] (§3.1–3.2): the client authenticates exactly as at the token endpoint, must be
//!   registered for [`GRANT_TYPE_DEVICE_CODE`], asks for scopes within its own; it gets a
//!   `device_code` of 256 random bits (stored only as a SHA-256) and a [`UserCode`] of
//!   eight characters from a 20-letter alphabet without vowels or look-alikes (§6.1: about
//!   34 bits, guessing limited by [`guess_subject`] throttling and the short lifetime), shown
//!   as `XXXX-XXXX`. A client has at most [`MAX_PENDING_PER_CLIENT`] unexpired requests.
//! - [`find_pending`] (§3.3): the code the user typed, normalised (case, `-` and spaces
//!   ignored), names a pending, unexpired request of a client of an enabled tenant; anything
//!   else is [`Lookup::Unknown`], never told apart.
//! - [`bind_session`] / [`bind_new_session`]: the signed-in user counts only when of the
//!   client's tenant — the very rule of the authorization endpoint
//!   ([`crate::authorize::bind_session_to_client`]).
//! - [`decide`] (§3.3, §5.4): the user approves or denies on a consent screen that is always
//!   shown (remote phishing: the user must see which client asks); admin scopes are narrowed
//!   to what the user holds. One conditional update decides, so a request is decided once.

// Used only by our own generic code on actix workers; see `ports`.
#![allow(async_fn_in_trait)]

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::authorize::{bind_new_session_to_client, bind_session_to_client, granted_scope};
pub use crate::client::GRANT_TYPE_DEVICE_CODE;
use crate::client::{Client, GrantType};
use crate::client_auth::{
    AssertionVerifier, ClientAuthContext, ClientCredentials, ClientDirectory, ReplayStore,
    authenticate_required,
};
use crate::error::{Error, OAuthError, StoreError};
use crate::params::Params;
use crate::ports::{ClientStore, Session, UserStore};
use crate::secret::{Secret, SecretHash, random_bytes};
use crate::session::BoundSession;
use crate::signin::Authenticated;
use crate::tenant::{TenantStore, tenant_enabled};
use crate::throttle::Subject;
use crate::values::{ClientId, ScopeSet, UserId};

/// The letters of user codes: consonants only (no words, RFC 8628 §6.1), without look-alikes
/// of digits (no O, I) — 20 letters, case-insensitive.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters in a user code (shown as two groups of four).
pub const USER_CODE_LEN: usize = 8;
/// The minimum polling interval, in seconds (RFC 8628 §3.2 default).
pub const INTERVAL: i64 = 5;
/// What `slow_down` adds to the interval, in seconds (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: i64 = 5;
/// Most unexpired device authorizations one client may have: the endpoint is open to public
/// clients, which only name themselves, so this bounds what a flood can store.
pub const MAX_PENDING_PER_CLIENT: u64 = 100;

/// A user code, normalised: eight letters of [`USER_CODE_ALPHABET`]. Short-lived and typed by
/// a person, yet still a credential while pending: no `Debug` with content.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// A new random code (uniform over the alphabet: bytes ≥ 240 are drawn again).
    pub fn generate() -> Self {
        let mut s = String::with_capacity(USER_CODE_LEN);
        while s.len() < USER_CODE_LEN {
            for b in random_bytes::<16>() {
                if b < 240 && s.len() < USER_CODE_LEN {
                    s.push(char::from(USER_CODE_ALPHABET[usize::from(b % 20)]));
                }
            }
        }
        Self(s)
    }

    /// The code a user typed: letter case, `-` and whitespace are ignored (RFC 8628 §6.1).
    /// `None` when what is left is not eight letters of the alphabet.
    pub fn parse(typed: &str) -> Option<Self> {
        if typed.len() > 64 {
            return None;
        }
        let s: String = typed
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid = s.len() == USER_CODE_LEN && s.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
        valid.then_some(Self(s))
    }

    /// As shown to users: `XXXX-XXXX`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }

    /// The SHA-256 of the normalised code, the only form stored (and the lookup key).
    pub fn hash(&self) -> SecretHash {
        Secret::from_presented(&self.0).hash()
    }
}

impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserCode(…)")
    }
}

/// Where a device authorization stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    /// The user allowed it; the next poll gets tokens.
    Approved,
    /// The user denied it.
    Denied,
    /// Tokens were issued: a second redemption is refused.
    Consumed,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Consumed => "consumed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "consumed" => Self::Consumed,
            _ => return None,
        })
    }
}

/// A stored device authorization.
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    pub device_code_hash: SecretHash,
    pub user_code_hash: SecretHash,
    pub client_id: ClientId,
    /// The requested scope; once approved, the scope the user granted.
    pub scope: ScopeSet,
    pub status: DeviceStatus,
    /// The user who decided, and when they signed in.
    pub user_id: Option<UserId>,
    pub auth_time: Option<DateTime<Utc>>,
    /// The polling interval in force, seconds (grows with `slow_down`).
    pub interval: i64,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// The user's decision on a pending device authorization.
#[derive(Debug, Clone)]
pub struct Decision {
    pub approved: bool,
    pub user_id: UserId,
    pub auth_time: DateTime<Utc>,
    /// The scope granted (the requested one, narrowed to what the user may get).
    pub scope: ScopeSet,
}

/// Storage of device authorizations.
pub trait DeviceStore {
    async fn insert_device(&self, d: &DeviceAuthorization) -> Result<(), StoreError>;
    /// How many unexpired device authorizations `client` has.
    async fn pending_devices(
        &self,
        client: &ClientId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    async fn find_device(
        &self,
        device_code_hash: &SecretHash,
    ) -> Result<Option<DeviceAuthorization>, StoreError>;
    async fn find_device_by_user_code(
        &self,
        user_code_hash: &SecretHash,
    ) -> Result<Option<DeviceAuthorization>, StoreError>;
    /// Records `decision` if the authorization is still pending and unexpired at `now`;
    /// whether this call decided it.
    async fn decide_device(
        &self,
        device_code_hash: &SecretHash,
        decision: &Decision,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records a poll at `now` and the interval in force from now on.
    async fn record_device_poll(
        &self,
        device_code_hash: &SecretHash,
        now: DateTime<Utc>,
        interval: i64,
    ) -> Result<(), StoreError>;
    /// Marks an approved authorization consumed; whether this call did (of concurrent
    /// redemptions exactly one does).
    async fn consume_device(&self, device_code_hash: &SecretHash) -> Result<bool, StoreError>;
}

/// A device authorization request as received (RFC 8628 §3.1); its credentials are parsed
/// separately.
pub struct DeviceRequest {
    scope: Option<String>,
}

impl DeviceRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            scope: p.get("scope").map(str::to_owned),
        })
    }
}

/// The answer of the device authorization endpoint (RFC 8628 §3.2). Holds the device code:
/// no `Debug`.
#[derive(Serialize)]
pub struct DeviceResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// The server's settings for the device endpoint.
#[derive(Debug, Clone)]
pub struct DeviceSettings {
    /// The page where users enter codes (`{issuer}/device`).
    pub verification_uri: String,
    /// Lifetime of a device authorization, seconds (`[tokens] device_code_ttl`).
    pub ttl: i64,
}

/// Authenticates the client, checks its grant and scopes, and stores a new device
/// authorization (RFC 8628 §3.1–3.2).
pub async fn start<C, R, V, S>(
    ctx: &ClientAuthContext<'_, C, R, V>,
    store: &S,
    presented: Option<&ClientCredentials>,
    req: DeviceRequest,
    settings: &DeviceSettings,
    now: DateTime<Utc>,
) -> Result<DeviceResponse, Error>
where
    C: ClientDirectory,
    R: ReplayStore,
    V: AssertionVerifier,
    S: DeviceStore,
{
    let client = authenticate_required(ctx, presented).await?;
    if !client.allows_grant(GrantType::DeviceCode) {
        return Err(OAuthError::unauthorized_client(
            "this client may not use the device authorization grant",
        )
        .into());
    }
    let scope = requested_scope(req.scope.as_deref(), &client)?;
    if store.pending_devices(&client.id, now).await? >= MAX_PENDING_PER_CLIENT {
        return Err(OAuthError::invalid_request(
            "too many pending device authorizations for this client; use or let them expire",
        )
        .into());
    }
    let user_code = fresh_user_code(store).await?;
    let device_code = Secret::generate();
    store
        .insert_device(&DeviceAuthorization {
            device_code_hash: device_code.hash(),
            user_code_hash: user_code.hash(),
            client_id: client.id.clone(),
            scope,
            status: DeviceStatus::Pending,
            user_id: None,
            auth_time: None,
            interval: INTERVAL,
            last_polled_at: None,
            expires_at: now + chrono::Duration::seconds(settings.ttl),
        })
        .await?;
    let shown = user_code.display();
    Ok(DeviceResponse {
        device_code: device_code.expose().to_owned(),
        verification_uri_complete: format!("{}?user_code={shown}", settings.verification_uri),
        verification_uri: settings.verification_uri.clone(),
        user_code: shown,
        expires_in: settings.ttl,
        interval: INTERVAL,
    })
}

/// The requested scope: required (like the authorization endpoint, so no client gets more
/// than it names) and within the client's allowed scopes (RFC 6749 §3.3).
fn requested_scope(raw: Option<&str>, client: &Client) -> Result<ScopeSet, OAuthError> {
    let scope = ScopeSet::parse(raw.unwrap_or_default()).map_err(OAuthError::invalid_scope)?;
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope("scope is required"));
    }
    if !scope.is_subset(&client.allowed_scopes) {
        let extra = scope.difference(&client.allowed_scopes).join(" ");
        return Err(OAuthError::invalid_scope(format!(
            "scope not allowed for this client: {extra}"
        )));
    }
    Ok(scope)
}

/// A user code no stored authorization has (a clash is rare: 20^8 codes).
async fn fresh_user_code<S: DeviceStore>(store: &S) -> Result<UserCode, Error> {
    for _ in 0..4 {
        let code = UserCode::generate();
        if store
            .find_device_by_user_code(&code.hash())
            .await?
            .is_none()
        {
            return Ok(code);
        }
    }
    Err(Error::OAuth(OAuthError::new(
        crate::ErrorCode::ServerError,
        "no free user code; try again",
    )))
}

/// The throttling keys of user-code guesses from `address`: the same counters and policy as
/// password sign-ins ([`crate::throttle`]), under a name no username can take (it holds a
/// control character), so guessing codes slows that address's sign-ins too.
pub fn guess_subject(address: Option<IpAddr>) -> Subject {
    Subject::new("\u{1}device-user-code", address)
}

/// A pending device authorization found by its user code, with its client.
#[derive(Debug, Clone)]
pub struct PendingDevice {
    pub record: DeviceAuthorization,
    pub client: Client,
    pub user_code: UserCode,
}

/// Why a typed user code leads nowhere.
#[derive(Debug, thiserror::Error)]
pub enum Lookup {
    /// Malformed, unknown, expired, already decided, or its client gone: one answer for all.
    #[error("unknown or expired code")]
    Unknown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The pending authorization `typed` names (RFC 8628 §3.3).
pub async fn find_pending<S, C>(
    store: &S,
    clients: &C,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<PendingDevice, Lookup>
where
    S: DeviceStore,
    C: ClientStore + TenantStore,
{
    let user_code = UserCode::parse(typed).ok_or(Lookup::Unknown)?;
    let record = store
        .find_device_by_user_code(&user_code.hash())
        .await?
        .filter(|r| r.status == DeviceStatus::Pending && r.expires_at > now)
        .ok_or(Lookup::Unknown)?;
    let client = clients
        .find_client(&record.client_id)
        .await?
        .ok_or(Lookup::Unknown)?;
    if !tenant_enabled(clients, &client.tenant_id).await? {
        return Err(Lookup::Unknown);
    }
    Ok(PendingDevice {
        record,
        client,
        user_code,
    })
}

/// This browser's session as it counts for `pending`'s client (the authorization endpoint's
/// tenant rule).
pub async fn bind_session<S: UserStore>(
    store: &S,
    session: Option<Session>,
    pending: &PendingDevice,
) -> Result<Option<BoundSession>, StoreError> {
    bind_session_to_client(store, session, &pending.client).await
}

/// The session a sign-in at the device page just started, bound to its user.
pub fn bind_new_session(
    session: Session,
    signed_in: Authenticated,
    pending: &PendingDevice,
) -> Option<BoundSession> {
    bind_new_session_to_client(session, signed_in, &pending.client)
}

/// The scope the consent screen shows and an approval grants: the requested one, admin scopes
/// narrowed to what the user holds. Empty when nothing would be left.
pub fn consent_scope(pending: &PendingDevice, signed_in: &BoundSession) -> ScopeSet {
    granted_scope(&pending.record.scope, &signed_in.user().admin_scopes)
}

/// Records the user's decision (RFC 8628 §3.3); `false` when the request was decided
/// meanwhile or expired. Approving with nothing left to grant counts as a denial.
pub async fn decide<S: DeviceStore>(
    store: &S,
    pending: &PendingDevice,
    signed_in: &BoundSession,
    allow: bool,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let scope = consent_scope(pending, signed_in);
    let decision = Decision {
        approved: allow && !scope.is_empty(),
        user_id: signed_in.user().id.clone(),
        auth_time: signed_in.session().auth_time,
        scope,
    };
    store
        .decide_device(&pending.record.device_code_hash, &decision, now)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_ignore_case_dashes_and_spaces_rfc8628_6_1() {
        let a = UserCode::parse("BCDF-GHJK").unwrap();
        for typed in [
            "bcdfghjk",
            "bcdf-ghjk",
            " BCDF GHJK ",
            "b-c-d-f-g-h-j-k",
            "BcDf\tGhJk",
        ] {
            assert_eq!(UserCode::parse(typed).as_ref(), Some(&a), "{typed}");
        }
        assert_eq!(a.display(), "BCDF-GHJK");
        assert_eq!(
            a.hash().to_hex(),
            UserCode::parse("bcdfghjk").unwrap().hash().to_hex()
        );
    }

    #[test]
    fn user_codes_outside_the_alphabet_or_length_are_refused_rfc8628_6_1() {
        for typed in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "BCDF-GHJA",
            "BCDF-GHJ0",
            "BCDF-GHJO",
            "BCDF_GHJK",
            "ÄCDF-GHJK",
        ] {
            assert!(UserCode::parse(typed).is_none(), "{typed}");
        }
        assert!(UserCode::parse(&"B".repeat(100)).is_none());
    }

    #[test]
    fn generated_user_codes_parse_back_and_vary_rfc8628_6_1() {
        let codes: Vec<UserCode> = (0..50).map(|_| UserCode::generate()).collect();
        for c in &codes {
            let shown = c.display();
            assert_eq!(shown.len(), 9);
            assert_eq!(UserCode::parse(&shown).as_ref(), Some(c));
            assert_eq!(UserCode::parse(&shown.to_lowercase()).as_ref(), Some(c));
        }
        let distinct: std::collections::HashSet<String> =
            codes.iter().map(UserCode::display).collect();
        assert!(distinct.len() > 45);
        assert!(!format!("{:?}", codes[0]).contains(&codes[0].display()));
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            DeviceStatus::Pending,
            DeviceStatus::Approved,
            DeviceStatus::Denied,
            DeviceStatus::Consumed,
        ] {
            assert_eq!(DeviceStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(DeviceStatus::parse("x"), None);
    }
}

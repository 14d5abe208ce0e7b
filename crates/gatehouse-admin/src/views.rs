//! What operator actions answer: typed views of clients, users, tenants, API keys, signing
//! keys, trusts and audit pages. Their JSON members are the operator contract (CLI `--json`
//! output, admin API bodies); views never hold a stored secret or hash, and a secret shown
//! once is a [`ShownOnce`], which `Debug` never prints.

use std::fmt;

use chrono::{DateTime, Utc};
use gatehouse_core::apikey::ApiKey;
use gatehouse_core::audit::AuditEvent;
use gatehouse_core::client::Client;
use gatehouse_core::jwt_bearer::Trust;
use gatehouse_core::tenant::Tenant;
use gatehouse_core::user::User;
use gatehouse_core::{ClientId, TenantId, UserId};
use gatehouse_store::{StoredKey, StoredUser};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Timestamp formats of the contract: `rfc3339` (`+00:00`, fractional seconds as stored) for
/// clients, users, signing keys and trusts; `secs` (`Z`, whole seconds) for tenants and API keys.
mod time {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::Serializer;

    pub fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }
    pub fn rfc3339_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => rfc3339(t, s),
            None => s.serialize_none(),
        }
    }
    pub fn secs<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
    pub fn secs_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => secs(t, s),
            None => s.serialize_none(),
        }
    }
}

/// A secret shown to its owner this once (a client secret, an API key). Serialized as the
/// plain string; never printed by `Debug`, never stored.
#[derive(Clone, Serialize)]
#[serde(transparent)]
pub struct ShownOnce(String);

impl ShownOnce {
    pub(crate) fn new(secret: &str) -> Self {
        Self(secret.to_owned())
    }
    /// The plaintext, for the one answer that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ShownOnce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShownOnce(..)")
    }
}

/// A client as operators see it: never its secret.
#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    pub client_id: ClientId,
    pub name: String,
    pub tenant: TenantId,
    pub auth_method: &'static str,
    pub grant_types: Vec<&'static str>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scope: String,
    pub id_token_alg: &'static str,
    /// `None`: the server's default algorithm.
    pub access_token_alg: Option<&'static str>,
    pub access_token_ttl: Option<i64>,
    pub require_pkce: bool,
    pub refresh_grace_seconds: i64,
    pub refresh_idle_ttl: Option<i64>,
    pub refresh_absolute_ttl: Option<i64>,
    /// The client that may act for this client's users (RFC 8693 §4.4).
    pub may_act: Option<String>,
    #[serde(serialize_with = "time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// Changes whenever the secret is replaced (a digest of its stored hash, which is itself a
    /// digest): lets entity tags notice a rotation. Never serialized.
    #[serde(skip)]
    pub secret_version: Option<String>,
}

impl From<&Client> for ClientView {
    fn from(c: &Client) -> Self {
        Self {
            client_id: c.id.clone(),
            name: c.name.clone(),
            tenant: c.tenant_id.clone(),
            auth_method: c.auth_method.as_str(),
            grant_types: c.grant_types.iter().map(|g| g.as_str()).collect(),
            redirect_uris: c
                .redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            post_logout_redirect_uris: c
                .post_logout_redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            scope: c.allowed_scopes.to_string(),
            id_token_alg: c.id_token_alg.as_str(),
            access_token_alg: c.access_token_alg.map(|a| a.as_str()),
            access_token_ttl: c.access_token_ttl,
            require_pkce: c.require_pkce,
            refresh_grace_seconds: c.refresh_grace_seconds,
            refresh_idle_ttl: c.refresh_idle_ttl,
            refresh_absolute_ttl: c.refresh_absolute_ttl,
            may_act: c.may_act.as_ref().map(ToString::to_string),
            created_at: c.created_at,
            secret_version: c.secret_hash.as_ref().map(|h| {
                let d = Sha256::digest(h.to_hex().as_bytes());
                d.iter().take(8).map(|b| format!("{b:02x}")).collect()
            }),
        }
    }
}

/// `client list`: a tenant's clients.
#[derive(Debug, Clone, Serialize)]
pub struct ClientList {
    pub tenant: TenantId,
    pub clients: Vec<ClientView>,
}

/// A deleted client or trust.
#[derive(Debug, Clone, Serialize)]
pub struct Deleted {
    pub id: String,
    pub deleted: bool,
}

/// A newly registered client, with its secret shown this once (`None` for public and
/// `private_key_jwt` clients).
#[derive(Debug, Clone, Serialize)]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: ClientView,
    pub jwks_uri: Option<String>,
    pub client_secret: Option<ShownOnce>,
}

/// A client whose secret was just replaced, with the new secret shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct RotatedClientSecret {
    #[serde(flatten)]
    pub client: ClientView,
    pub client_secret: ShownOnce,
}

/// A user as operators see it: never the password hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone_number: Option<String>,
    /// The OIDC address claim as stored (OIDC Core §5.1.1), e.g. `{"formatted": "…"}`.
    pub address: Option<serde_json::Value>,
    pub tenant: TenantId,
    pub admin_scopes: Vec<String>,
    #[serde(serialize_with = "time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// A disabled user cannot sign in, and its sessions and refresh tokens were ended.
    pub disabled: bool,
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<&StoredUser> for UserView {
    fn from(s: &StoredUser) -> Self {
        let mut v = UserView::from(&s.user);
        v.disabled = s.disabled_at.is_some();
        v.disabled_at = s.disabled_at;
        v
    }
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone(),
            name: u.profile.name.clone(),
            given_name: u.profile.given_name.clone(),
            family_name: u.profile.family_name.clone(),
            phone_number: u.profile.phone_number.clone(),
            address: u.profile.address.clone(),
            tenant: u.tenant_id.clone(),
            admin_scopes: u.admin_scopes.iter().map(str::to_owned).collect(),
            created_at: u.created_at,
            disabled: false,
            disabled_at: None,
        }
    }
}

/// `user list`: a page of a tenant's users by id.
#[derive(Debug, Clone, Serialize)]
pub struct UserList {
    pub tenant: TenantId,
    pub users: Vec<UserView>,
    /// The cursor for the next page (the last id), when there may be more.
    pub next_after: Option<String>,
}

/// A user just disabled, enabled or given a new password, and what that ended.
#[derive(Debug, Clone, Serialize)]
pub struct UserChange {
    #[serde(flatten)]
    pub user: UserView,
    /// Sessions (sign-in and console) ended by this change.
    pub sessions_ended: u64,
    /// Grants revoked by this change: their refresh tokens stop at once and their access
    /// tokens introspect as inactive.
    pub grants_revoked: u64,
}

/// A deleted user.
#[derive(Debug, Clone, Serialize)]
pub struct DeletedUser {
    pub id: UserId,
    pub username: String,
    pub deleted: bool,
}

/// One browser session of a user (sign-in page or console). `id` is a handle derived from
/// the stored digest: neither the cookie nor its stored hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    pub id: String,
    #[serde(serialize_with = "time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "time::rfc3339")]
    pub auth_time: DateTime<Utc>,
    #[serde(serialize_with = "time::rfc3339")]
    pub last_seen_at: DateTime<Utc>,
    #[serde(serialize_with = "time::rfc3339")]
    pub expires_at: DateTime<Utc>,
}

/// A user's sessions.
#[derive(Debug, Clone, Serialize)]
pub struct SessionList {
    pub user: UserId,
    pub username: String,
    pub sessions: Vec<SessionView>,
}

/// Sessions just ended.
#[derive(Debug, Clone, Serialize)]
pub struct EndedSessions {
    pub user: UserId,
    pub ended: u64,
}

/// A deleted tenant and what was deleted with it (the audit trail keeps its events).
#[derive(Debug, Clone, Serialize)]
pub struct DeletedTenant {
    pub id: TenantId,
    pub name: String,
    pub deleted: bool,
    pub users: u64,
    pub clients: u64,
    pub api_keys: u64,
    pub trusts: u64,
}

/// A tenant and its API-key policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantView {
    pub id: TenantId,
    pub name: String,
    #[serde(serialize_with = "time::secs")]
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    /// `enabled` or `disabled`.
    pub api_access: &'static str,
    pub api_access_enabled: bool,
    pub max_api_keys: u32,
    /// Space-separated scopes the tenant's API keys may carry; `None` = unrestricted.
    pub allowed_scopes: Option<String>,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            created_at: t.created_at,
            disabled: t.disabled,
            api_access: if t.api_access_enabled {
                "enabled"
            } else {
                "disabled"
            },
            api_access_enabled: t.api_access_enabled,
            max_api_keys: t.max_api_keys,
            allowed_scopes: t.allowed_scopes.as_ref().map(ToString::to_string),
        }
    }
}

/// `tenant list`.
#[derive(Debug, Clone, Serialize)]
pub struct TenantList {
    pub tenants: Vec<TenantView>,
}

/// An API key as listed: never the secret, nor its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyView {
    pub id: String,
    pub tenant: TenantId,
    pub name: String,
    pub prefix: String,
    /// The prefix followed by dots.
    pub masked: String,
    pub scopes: Vec<String>,
    pub environment: &'static str,
    pub allowed_ips: Vec<String>,
    pub rate_limit_class: Option<String>,
    #[serde(serialize_with = "time::secs")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "time::secs")]
    pub expires_at: DateTime<Utc>,
    /// "N days left" / "expired N days ago", at the time of the request.
    pub expires: String,
    pub days_left: i64,
    pub expired: bool,
    /// Expired, or expiring within the configured warning period.
    pub expiry_warning: bool,
    #[serde(serialize_with = "time::secs_opt")]
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub revoked: bool,
    #[serde(serialize_with = "time::secs_opt")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyView {
    /// The key as seen at `now`, warning about expiry within `warning_days`.
    pub fn new(k: &ApiKey, now: DateTime<Utc>, warning_days: i64) -> Self {
        Self {
            id: k.id.clone(),
            tenant: k.tenant_id.clone(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            masked: k.masked(),
            scopes: k.scopes.iter().map(str::to_owned).collect(),
            environment: k.environment.as_str(),
            allowed_ips: k.allowed_ips.iter().map(ToString::to_string).collect(),
            rate_limit_class: k.rate_limit_class.clone(),
            created_at: k.created_at,
            expires_at: k.expires_at,
            expires: k.expiry_text(now),
            days_left: k.days_left(now),
            expired: k.is_expired(now),
            expiry_warning: k.expiry_warning(now, warning_days),
            last_used_at: k.last_used_at,
            last_used_ip: k.last_used_ip.clone(),
            revoked: k.is_revoked(),
            revoked_at: k.revoked_at,
        }
    }

    /// Neither expired nor revoked: only active keys count against the tenant's limit.
    pub fn is_active(&self) -> bool {
        !self.expired && !self.revoked
    }
}

/// A newly created API key, with its secret shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKeyView,
    pub secret: ShownOnce,
}

/// `apikey list`: a tenant's keys and where it stands against its limit.
#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyList {
    pub tenant: TenantId,
    pub api_access_enabled: bool,
    pub max_api_keys: u32,
    pub active_api_keys: usize,
    pub api_keys: Vec<ApiKeyView>,
}

/// A revoked key.
#[derive(Debug, Clone, Serialize)]
pub struct RevokedApiKey {
    pub id: String,
    /// The key's tenant (not part of the answer: callers use it to show the tenant's keys).
    #[serde(skip)]
    pub tenant: TenantId,
    pub revoked: bool,
    #[serde(serialize_with = "time::secs_opt")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A signing key: public information only.
#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    pub kid: String,
    pub alg: &'static str,
    pub active: bool,
    /// `next`, `active` or `retired`.
    pub status: &'static str,
    #[serde(serialize_with = "time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub activates_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub retired_at: Option<DateTime<Utc>>,
    pub encrypted: bool,
}

impl From<&StoredKey> for KeyView {
    fn from(k: &StoredKey) -> Self {
        Self {
            kid: k.kid.clone(),
            alg: k.alg.as_str(),
            active: k.active,
            status: k.status.as_str(),
            created_at: k.created_at,
            activates_at: k.activates_at,
            retired_at: k.retired_at,
            encrypted: k.encrypted,
        }
    }
}

/// `key list`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

/// A JWT bearer trust (RFC 7523 §2.1), without its keys.
#[derive(Debug, Clone, Serialize)]
pub struct TrustView {
    pub id: String,
    pub issuer: String,
    pub subject: String,
    pub scope: String,
    pub tenant: TenantId,
    #[serde(serialize_with = "time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl From<&Trust> for TrustView {
    fn from(t: &Trust) -> Self {
        Self {
            id: t.id.clone(),
            issuer: t.issuer.clone(),
            subject: t.subject.clone(),
            scope: t.scopes.to_string(),
            tenant: t.tenant_id.clone(),
            created_at: t.created_at,
        }
    }
}

/// A resource server (RFC 8707).
#[derive(Debug, Clone, Serialize)]
pub struct ResourceView {
    pub id: String,
    pub identifier: String,
    pub scope: String,
    pub access_token_ttl: Option<i64>,
    pub alg: Option<&'static str>,
    pub tenant: TenantId,
    #[serde(serialize_with = "time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl From<&gatehouse_core::resource::ResourceServer> for ResourceView {
    fn from(r: &gatehouse_core::resource::ResourceServer) -> Self {
        Self {
            id: r.id.clone(),
            identifier: r.identifier.to_string(),
            scope: r.scopes.to_string(),
            access_token_ttl: r.access_token_ttl,
            alg: r.access_token_alg.map(gatehouse_core::SigningAlg::as_str),
            tenant: r.tenant_id.clone(),
            created_at: r.created_at,
        }
    }
}

/// The resource servers of a tenant.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceList {
    pub resources: Vec<ResourceView>,
}

/// `trust list`: a tenant's trusts.
#[derive(Debug, Clone, Serialize)]
pub struct TrustList {
    pub tenant: TenantId,
    pub trusts: Vec<TrustView>,
}

/// A page of the audit trail, oldest first; `next_after` is the cursor for the next call (the
/// last id returned, or the `after` asked for when none).
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub next_after: i64,
}

/// A new initial access token of dynamic registration (RFC 7591 §3): the token is shown in
/// this answer only.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedRegistrationToken {
    pub token: ShownOnce,
    pub tenant_id: TenantId,
    #[serde(serialize_with = "time::rfc3339")]
    pub expires_at: DateTime<Utc>,
    /// `null`: any number of registrations until it expires.
    pub max_uses: Option<u32>,
}

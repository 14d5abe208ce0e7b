//! Governed API keys (issue 4): validation of what an operator asks for (name, scopes,
//! validity, environment, IP allowlist, rate-limit class), the secret format, and the record
//! the store keeps. The secret is a bearer credential (RFC 6750) kept only as its SHA-256
//! (RFC 9700 §4.14 spirit: no plaintext credentials at rest).
//!
//! Secret format: `<prefix><body><check>`
//! - `prefix`: per environment, configurable ([`ApiKeyPrefixes`], default `gh_live_` /
//!   `gh_test_`), lowercase ASCII letters, digits and `_`;
//! - `body`: 32 random bytes (256 bits) in lowercase RFC 4648 base32 without padding, 52 chars;
//! - `check`: the first 5 bytes of SHA-256(`prefix` ‖ `body`), base32, 8 chars.
//!
//! [`parse_api_key`] recognises the format and verifies the checksum with no database lookup,
//! so a mistyped or truncated key is refused cheaply (and secret scanners can do the same).

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use crate::field::{Field, FieldError};
use crate::secret::{Secret, SecretHash, random_bytes};
use crate::tenant::Tenant;
use crate::values::{ScopeSet, TenantId};

/// The characters refused in API-key names (issue 4).
pub const FORBIDDEN_NAME_CHARS: &[char] = &[
    '\\', '/', '[', ']', '"', '!', '@', '#', '$', '%', '^', '&', '(', ')', '=', '{', '}', ';',
];
pub const MAX_NAME_LEN: usize = 256;
pub const MIN_VALIDITY_DAYS: i64 = 10;
pub const MAX_VALIDITY_DAYS: i64 = 365;
pub const DEFAULT_VALIDITY_DAYS: i64 = 90;
/// Listings warn about keys expiring within this many days (configurable by callers).
pub const DEFAULT_EXPIRY_WARNING_DAYS: i64 = 20;
/// Largest number of IP allowlist entries per key.
pub const MAX_ALLOWLIST_ENTRIES: usize = 64;

const BODY_BYTES: usize = 32;
const BODY_LEN: usize = 52; // ceil(256 / 5)
const CHECK_BYTES: usize = 5;
const CHECK_LEN: usize = 8; // 40 / 5
/// How many characters of the body are shown after the prefix in listings.
const SHOWN_BODY_CHARS: usize = 4;
const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// `live` or `test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    Live,
    Test,
}

impl Environment {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "live" => Ok(Self::Live),
            "test" => Ok(Self::Test),
            other => Err(FieldError::new(
                Field::Environment,
                format!("expected live or test, got {other:?}"),
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Test => "test",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why configured API-key prefixes are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error("API key {0} prefix must be 1 to 32 of a-z, 0-9 and _")]
    Format(Environment),
    #[error("API key prefixes of live and test must differ")]
    Same,
}

/// The secret prefixes per environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyPrefixes {
    pub live: String,
    pub test: String,
}

impl Default for ApiKeyPrefixes {
    fn default() -> Self {
        Self {
            live: "gh_live_".into(),
            test: "gh_test_".into(),
        }
    }
}

impl ApiKeyPrefixes {
    /// Checks configured prefixes: 1–32 of `[a-z0-9_]`, and different from each other.
    pub fn new(live: &str, test: &str) -> Result<Self, PrefixError> {
        for (env, p) in [(Environment::Live, live), (Environment::Test, test)] {
            if p.is_empty() || p.len() > 32 || !p.bytes().all(is_prefix_byte) {
                return Err(PrefixError::Format(env));
            }
        }
        if live == test {
            return Err(PrefixError::Same);
        }
        Ok(Self {
            live: live.into(),
            test: test.into(),
        })
    }
    pub fn for_env(&self, env: Environment) -> &str {
        match env {
            Environment::Live => &self.live,
            Environment::Test => &self.test,
        }
    }
}

fn is_prefix_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(B32[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn checksum(prefix: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prefix.as_bytes());
    h.update(body.as_bytes());
    let d = h.finalize();
    base32(&d[..CHECK_BYTES])
}

/// A newly generated API-key secret. Not `Debug`-printable, `Display` or `Serialize`.
pub struct GeneratedKey {
    secret: Secret,
    /// The leading part shown in listings (`prefix` + 4 body characters).
    pub shown_prefix: String,
}

impl GeneratedKey {
    /// A fresh secret for `env` under `prefixes`.
    pub fn generate(prefixes: &ApiKeyPrefixes, env: Environment) -> Self {
        let prefix = prefixes.for_env(env);
        let body = base32(&random_bytes::<BODY_BYTES>());
        let check = checksum(prefix, &body);
        let shown_prefix = format!("{prefix}{}", &body[..SHOWN_BODY_CHARS]);
        Self {
            secret: Secret::from_presented(&format!("{prefix}{body}{check}")),
            shown_prefix,
        }
    }
    /// The plaintext, for the one moment it is shown to its owner.
    pub fn expose(&self) -> &str {
        self.secret.expose()
    }
    /// What the store keeps.
    pub fn hash(&self) -> SecretHash {
        self.secret.hash()
    }
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("shown_prefix", &self.shown_prefix)
            .finish_non_exhaustive()
    }
}

/// Why a presented string is not a well-formed API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedKey {
    #[error("too short or too long to be an API key")]
    Length,
    #[error("characters outside the API key alphabet")]
    Alphabet,
    #[error("checksum mismatch (mistyped or truncated key)")]
    Checksum,
}

/// A presented key whose format and checksum are valid.
pub struct ParsedKey {
    secret: Secret,
    prefix_len: usize,
}

impl ParsedKey {
    /// The environment prefix (e.g. `gh_live_`).
    pub fn prefix(&self) -> &str {
        &self.secret.expose()[..self.prefix_len]
    }
    /// The SHA-256 to look the key up by.
    pub fn hash(&self) -> SecretHash {
        self.secret.hash()
    }
}

impl fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedKey")
            .field("prefix", &self.prefix())
            .finish_non_exhaustive()
    }
}

/// Recognises an API key and checks its checksum, without any lookup. Any prefix of
/// `[a-z0-9_]{1,32}` is accepted here (prefixes are configurable); the database decides
/// whether the key exists.
pub fn parse_api_key(presented: &str) -> Result<ParsedKey, MalformedKey> {
    let tail = BODY_LEN + CHECK_LEN;
    if presented.len() <= tail || presented.len() > tail + 32 {
        return Err(MalformedKey::Length);
    }
    if !presented.is_ascii() {
        return Err(MalformedKey::Alphabet);
    }
    let prefix_len = presented.len() - tail;
    let (prefix, rest) = presented.split_at(prefix_len);
    if !prefix.bytes().all(is_prefix_byte) || !rest.bytes().all(|b| B32.contains(&b)) {
        return Err(MalformedKey::Alphabet);
    }
    let (body, check) = rest.split_at(BODY_LEN);
    if !crate::secret::ct_eq_str(&checksum(prefix, body), check) {
        return Err(MalformedKey::Checksum);
    }
    Ok(ParsedKey {
        secret: Secret::from_presented(presented),
        prefix_len,
    })
}

/// Checks an API-key name: 1–256 characters, none of [`FORBIDDEN_NAME_CHARS`] and no control
/// characters. The name appears in the audit trail, so it should say what the key is for.
pub fn validate_name(name: &str) -> Result<(), FieldError> {
    let n = name.chars().count();
    if name.trim().is_empty() || n > MAX_NAME_LEN {
        return Err(FieldError::new(
            Field::Name,
            format!("an API key name has 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    if name.chars().any(|c| FORBIDDEN_NAME_CHARS.contains(&c)) {
        let list: Vec<String> = FORBIDDEN_NAME_CHARS.iter().map(char::to_string).collect();
        return Err(FieldError::new(
            Field::Name,
            format!("these characters are not allowed: {}", list.join(" ")),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            Field::Name,
            "control characters are not allowed",
        ));
    }
    Ok(())
}

/// Checks a validity period in days: 10 to 365.
pub fn validate_validity_days(days: i64) -> Result<(), FieldError> {
    if !(MIN_VALIDITY_DAYS..=MAX_VALIDITY_DAYS).contains(&days) {
        return Err(FieldError::new(
            Field::ValidityDays,
            format!("must be between {MIN_VALIDITY_DAYS} and {MAX_VALIDITY_DAYS} days, got {days}"),
        ));
    }
    Ok(())
}

/// Checks a rate-limit class name: 1–64 of `[A-Za-z0-9_.-]`.
pub fn validate_rate_limit_class(s: &str) -> Result<(), FieldError> {
    if s.is_empty()
        || s.len() > 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(FieldError::new(
            Field::RateLimitClass,
            "1 to 64 of A-Z, a-z, 0-9, _, - and .",
        ));
    }
    Ok(())
}

/// One entry of an IP allowlist: an address with a prefix length (a bare address is a /32 or
/// /128). Parsed with `std::net` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    len: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                Field::AllowedIps,
                format!("{s:?} is not an IP address or CIDR block"),
            )
        };
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
                l.parse::<u8>().map_err(|_| bad())?
            }
            Some(_) => return Err(bad()),
        };
        if len > max {
            return Err(bad());
        }
        Ok(Self { addr, len })
    }

    /// Whether `ip` lies in this block. An IPv4-mapped IPv6 address matches IPv4 blocks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A stored API key (never the secret: only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub tenant_id: TenantId,
    pub name: String,
    /// The leading characters of the secret, shown in listings followed by dots.
    pub prefix: String,
    pub secret_hash: SecretHash,
    pub scopes: ScopeSet,
    pub environment: Environment,
    /// Empty = any address.
    pub allowed_ips: Vec<IpNet>,
    pub rate_limit_class: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
}

impl ApiKey {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
    /// Active = neither expired nor revoked; only active keys count against the limit.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        !self.is_expired(now) && !self.is_revoked()
    }
    /// Whether `ip` may use the key (always, when there is no allowlist).
    pub fn ip_allowed(&self, ip: Option<IpAddr>) -> bool {
        if self.allowed_ips.is_empty() {
            return true;
        }
        ip.is_some_and(|ip| self.allowed_ips.iter().any(|n| n.contains(ip)))
    }
    /// The masked secret for listings: the prefix followed by dots.
    pub fn masked(&self) -> String {
        format!("{}...", self.prefix)
    }
    /// Days until expiry (negative once expired: whole days since).
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        // Rounded up while valid ("1 day left" on the last day), down once expired.
        let secs = (self.expires_at - now).num_seconds();
        if secs >= 0 {
            (secs + 86_399) / 86_400
        } else {
            -((-secs) / 86_400)
        }
    }
    /// "N days left" / "expired N days ago".
    pub fn expiry_text(&self, now: DateTime<Utc>) -> String {
        let d = self.days_left(now);
        if self.is_expired(now) {
            let ago = d.abs();
            format!("expired {ago} day{} ago", if ago == 1 { "" } else { "s" })
        } else {
            format!("{d} day{} left", if d == 1 { "" } else { "s" })
        }
    }
    /// Expired, or expiring within `warning_days`.
    pub fn expiry_warning(&self, now: DateTime<Utc>, warning_days: i64) -> bool {
        self.is_expired(now) || self.expires_at - now <= TimeDelta::days(warning_days)
    }
}

/// What an operator asks for when creating a key (raw input of the CLI, API or console).
#[derive(Debug, Clone, Default)]
pub struct ApiKeyRequest {
    pub name: String,
    pub scope: Option<String>,
    pub validity_days: Option<i64>,
    pub environment: Option<String>,
    pub allow_ips: Vec<String>,
    pub rate_limit_class: Option<String>,
}

/// Parses the scopes asked for a key (none when absent).
pub fn parse_scopes(scope: Option<&str>) -> Result<ScopeSet, FieldError> {
    ScopeSet::parse(scope.unwrap_or("")).map_err(|e| FieldError::new(Field::Scope, e))
}

/// Why an API key cannot be created for a tenant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateRefused {
    /// A field of the request is refused.
    #[error("{0}")]
    Invalid(FieldError),
    #[error("tenant {0} is disabled")]
    TenantDisabled(String),
    #[error("API access is not enabled for tenant {0}; ask an administrator to enable it")]
    ApiAccessDisabled(String),
    #[error(
        "tenant {tenant} already has its maximum of {max} active API keys; revoke one or wait for one to expire"
    )]
    LimitReached { tenant: String, max: u32 },
}

/// A validated key, ready to store, and its secret (to show once).
#[derive(Debug)]
pub struct NewApiKey {
    pub key: ApiKey,
    pub secret: GeneratedKey,
}

impl ApiKeyRequest {
    /// Validates the request against the tenant's policy (disabled, API access, scopes, the
    /// limit given its current `active_keys`) and generates the secret.
    pub fn validate(
        self,
        tenant: &Tenant,
        active_keys: u64,
        prefixes: &ApiKeyPrefixes,
        now: DateTime<Utc>,
    ) -> Result<NewApiKey, CreateRefused> {
        use CreateRefused::Invalid;
        validate_name(&self.name).map_err(Invalid)?;
        let days = self.validity_days.unwrap_or(DEFAULT_VALIDITY_DAYS);
        validate_validity_days(days).map_err(Invalid)?;
        let environment = match self.environment.as_deref() {
            None => Environment::Live,
            Some(e) => Environment::parse(e).map_err(Invalid)?,
        };
        let scopes = parse_scopes(self.scope.as_deref()).map_err(Invalid)?;
        let disallowed = tenant.disallowed_scopes(&scopes);
        if !disallowed.is_empty() {
            return Err(Invalid(FieldError::new(
                Field::Scope,
                format!(
                    "not allowed for tenant {}: {}",
                    tenant.id,
                    disallowed.join(" ")
                ),
            )));
        }
        if self.allow_ips.len() > MAX_ALLOWLIST_ENTRIES {
            return Err(Invalid(FieldError::new(
                Field::AllowedIps,
                format!("at most {MAX_ALLOWLIST_ENTRIES} entries"),
            )));
        }
        let allowed_ips = self
            .allow_ips
            .iter()
            .map(|s| IpNet::parse(s.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Invalid)?;
        if let Some(c) = &self.rate_limit_class {
            validate_rate_limit_class(c).map_err(Invalid)?;
        }
        if tenant.disabled {
            return Err(CreateRefused::TenantDisabled(tenant.id.to_string()));
        }
        if !tenant.api_access_enabled {
            return Err(CreateRefused::ApiAccessDisabled(tenant.id.to_string()));
        }
        if active_keys >= u64::from(tenant.max_api_keys) {
            return Err(CreateRefused::LimitReached {
                tenant: tenant.id.to_string(),
                max: tenant.max_api_keys,
            });
        }
        let secret = GeneratedKey::generate(prefixes, environment);
        let key = ApiKey {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant.id.clone(),
            name: self.name,
            prefix: secret.shown_prefix.clone(),
            secret_hash: secret.hash(),
            scopes,
            environment,
            allowed_ips,
            rate_limit_class: self.rate_limit_class,
            created_at: now,
            expires_at: now + TimeDelta::days(days),
            revoked_at: None,
            last_used_at: None,
            last_used_ip: None,
        };
        Ok(NewApiKey { key, secret })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::TenantRegistration;

    fn tenant() -> Tenant {
        TenantRegistration {
            name: "Acme".into(),
            scope: Some("files:read files:write".into()),
            ..Default::default()
        }
        .validate(Utc::now())
        .unwrap()
    }

    fn req(name: &str) -> ApiKeyRequest {
        ApiKeyRequest {
            name: name.into(),
            ..Default::default()
        }
    }

    fn create(r: ApiKeyRequest, t: &Tenant, active: u64) -> Result<NewApiKey, CreateRefused> {
        r.validate(t, active, &ApiKeyPrefixes::default(), Utc::now())
    }

    #[test]
    fn names_reject_each_forbidden_character_and_say_which() {
        for c in FORBIDDEN_NAME_CHARS {
            let err = validate_name(&format!("ci{c}deploy")).unwrap_err();
            assert_eq!(err.field, Field::Name);
            assert!(err.reason.contains("not allowed"), "{c}: {err}");
            assert!(
                err.reason.contains("\\ / [ ] \" ! @ # $ % ^ & ( ) = { } ;"),
                "{err}"
            );
        }
        assert!(validate_name("Monitoring dashboard - prod_1.2, ok?").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name(&"é".repeat(256)).is_ok());
        assert!(validate_name(&"é".repeat(257)).is_err());
    }

    #[test]
    fn validity_is_10_to_365_days_default_90() {
        assert!(validate_validity_days(9).is_err());
        assert!(validate_validity_days(10).is_ok());
        assert!(validate_validity_days(365).is_ok());
        assert_eq!(
            validate_validity_days(366).unwrap_err().field,
            Field::ValidityDays
        );
        let now = Utc::now();
        let k = req("ci")
            .validate(&tenant(), 0, &ApiKeyPrefixes::default(), now)
            .unwrap();
        assert_eq!(k.key.expires_at - now, TimeDelta::days(90));
        assert_eq!(k.key.days_left(now), 90);
        assert_eq!(k.key.days_left(now + TimeDelta::hours(1)), 90);
        assert_eq!(
            k.key
                .days_left(now + TimeDelta::days(90) - TimeDelta::hours(1)),
            1
        );
    }

    #[test]
    fn the_limit_counts_active_keys() {
        let t = tenant();
        assert!(create(req("a"), &t, 3).is_ok());
        assert_eq!(
            create(req("a"), &t, 4).unwrap_err(),
            CreateRefused::LimitReached {
                tenant: t.id.to_string(),
                max: 4
            }
        );
    }

    #[test]
    fn tenant_policy_is_enforced() {
        let mut t = tenant();
        let mut r = req("a");
        r.scope = Some("files:read admin:all".into());
        assert!(
            create(r, &t, 0)
                .unwrap_err()
                .to_string()
                .contains("admin:all")
        );
        t.api_access_enabled = false;
        assert!(matches!(
            create(req("a"), &t, 0),
            Err(CreateRefused::ApiAccessDisabled(_))
        ));
        t.disabled = true;
        assert!(matches!(
            create(req("a"), &t, 0),
            Err(CreateRefused::TenantDisabled(_))
        ));
    }

    #[test]
    fn secret_has_the_env_prefix_256_bits_and_a_valid_checksum() {
        let p = ApiKeyPrefixes::default();
        let live = GeneratedKey::generate(&p, Environment::Live);
        let test = GeneratedKey::generate(&p, Environment::Test);
        assert!(live.expose().starts_with("gh_live_"));
        assert!(test.expose().starts_with("gh_test_"));
        assert!(live.expose().starts_with(&live.shown_prefix));
        assert_eq!(live.expose().len(), "gh_live_".len() + 52 + 8);
        let parsed = parse_api_key(live.expose()).unwrap();
        assert_eq!(parsed.prefix(), "gh_live_");
        assert_eq!(parsed.hash(), live.hash());
        assert_ne!(
            live.expose(),
            GeneratedKey::generate(&p, Environment::Live).expose()
        );
        let custom = ApiKeyPrefixes::new("acme_", "acmetest_").unwrap();
        let k = GeneratedKey::generate(&custom, Environment::Test);
        assert_eq!(parse_api_key(k.expose()).unwrap().prefix(), "acmetest_");
        assert!(ApiKeyPrefixes::new("A-", "b_").is_err());
    }

    #[test]
    fn checksum_catches_a_changed_character_and_truncation() {
        let k = GeneratedKey::generate(&ApiKeyPrefixes::default(), Environment::Live);
        let s = k.expose();
        for i in 0..s.len() {
            let mut b = s.as_bytes().to_vec();
            b[i] = if b[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(b).unwrap();
            assert!(parse_api_key(&changed).is_err(), "change at {i} not caught");
        }
        assert!(parse_api_key(&s[..s.len() - 1]).is_err());
        assert!(parse_api_key(&s[1..]).is_err());
        assert_eq!(parse_api_key(&s[..40]).unwrap_err(), MalformedKey::Length);
        assert!(parse_api_key(&format!("{s}a")).is_err());
        assert!(parse_api_key("").is_err());
        assert!(parse_api_key(&"é".repeat(40)).is_err());
    }

    #[test]
    fn ip_allowlist_matches_cidrs_of_both_families() {
        let n = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(n.contains("10.1.200.3".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!n.contains("10.2.0.1".parse().unwrap()));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(
            IpNet::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            IpNet::parse("192.0.2.1")
                .unwrap()
                .contains("192.0.2.1".parse().unwrap())
        );
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "x",
            "::/129",
            "1.2.3.4/",
            "1.2.3.4/+1",
        ] {
            assert_eq!(
                IpNet::parse(bad).unwrap_err().field,
                Field::AllowedIps,
                "{bad}"
            );
        }
    }

    #[test]
    fn expiry_text_and_warning() {
        let now = Utc::now();
        let mut k = req("a")
            .validate(&tenant(), 0, &ApiKeyPrefixes::default(), now)
            .unwrap()
            .key;
        assert_eq!(k.expiry_text(now), "90 days left");
        assert!(!k.expiry_warning(now, 20));
        assert!(k.expiry_warning(now + TimeDelta::days(71), 20));
        let later = now + TimeDelta::days(93);
        assert!(k.is_expired(later));
        assert_eq!(k.expiry_text(later), "expired 3 days ago");
        assert!(k.is_active(now));
        k.revoked_at = Some(now);
        assert!(!k.is_active(now));
        assert_eq!(k.masked(), format!("{}...", k.prefix));
    }
}

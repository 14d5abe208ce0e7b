//! Server settings: built-in defaults, then `config/gatehouse.toml` (or `--config`), then
//! `GATEHOUSE_*` environment variables, in that order of precedence (see the operator contract).

use std::collections::BTreeMap;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The class of keys created without one.
pub const DEFAULT_CLASS: &str = "default";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The issuer identifier; endpoints are published under it.
    pub issuer: String,
    /// The address to listen on.
    pub listen: String,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    pub tokens: TokenSettings,
    pub session: SessionSettings,
    /// Descriptions of scopes for the consent page; unknown scopes show their name.
    pub scopes: BTreeMap<String, String>,
    /// HTTP worker threads (0 = one per core).
    pub workers: usize,
    pub keys: KeySettings,
    /// The key-encryption key of private signing keys: `GATEHOUSE_MASTER_KEY`, else the file
    /// `keys.master_key_file`. Never serialized; its `Debug` is redacted.
    #[serde(skip)]
    pub master_key: Option<gatehouse_jose::MasterKey>,
    /// Signed client authentication and JWT bearer assertions (RFC 7523).
    pub client_auth: ClientAuthSettings,
    /// API keys: secret prefixes and the listing's expiry warning.
    pub api_keys: ApiKeySettings,
    /// Where requests come from: the proxies whose `X-Forwarded-For` is believed.
    pub network: NetworkSettings,
    /// Retired login-limit keys (refused with the name of their replacement).
    pub rate_limits: RateLimitSettings,
    /// Throttling of failed password sign-ins (login page and console).
    pub login_throttle: LoginThrottleSettings,
    /// The bounded Argon2id pool.
    pub password_hashing: PasswordHashingSettings,
}

/// `[network]`: the client address seen by IP allowlists and the audit trail.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSettings {
    /// IP addresses or CIDR blocks of reverse proxies in front of Gatehouse. Only when the
    /// connection comes from one of them is `X-Forwarded-For` read (the right-most address not
    /// itself a trusted proxy is the client). Empty (default): the peer address is the client.
    pub trusted_proxies: Vec<String>,
}

impl NetworkSettings {
    /// The parsed proxy blocks (checked by [`Settings::validated`]).
    pub fn proxies(&self) -> Result<Vec<gatehouse_core::apikey::IpNet>, String> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                gatehouse_core::apikey::IpNet::parse(p).map_err(|_| {
                    format!("network.trusted_proxies: {p:?} is not an IP address or CIDR block")
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiKeySettings {
    /// Prefix of `live` secrets (1–32 of a-z, 0-9, _).
    pub live_prefix: String,
    /// Prefix of `test` secrets.
    pub test_prefix: String,
    /// Listings warn about keys expiring within this many days.
    pub expiry_warning_days: i64,
    /// Admin-API rate limits per key, by class; keys without a class (or of a class no longer
    /// configured) use `default`.
    pub rate_limit_classes: BTreeMap<String, RateLimitClass>,
    /// Lifetime in seconds of access tokens exchanged for an API key (RFC 8693), capped by
    /// the key's own expiry. 1 to 86400, default 300.
    pub exchange_token_ttl: i64,
}

/// The limits of one API-key class, per key; 0 = unlimited.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitClass {
    pub reads_per_minute: u32,
    pub writes_per_minute: u32,
    /// Resource servers' limits for creates (POST), updates (PUT/PATCH) and deletes, published
    /// at introspection; each defaults to `writes_per_minute`. The admin API counts only
    /// reads and writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creates_per_minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updates_per_minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletes_per_minute: Option<u32>,
}

impl Default for ApiKeySettings {
    fn default() -> Self {
        let p = gatehouse_core::apikey::ApiKeyPrefixes::default();
        Self {
            live_prefix: p.live,
            test_prefix: p.test,
            expiry_warning_days: gatehouse_core::apikey::DEFAULT_EXPIRY_WARNING_DAYS,
            exchange_token_ttl: gatehouse_core::token_exchange::DEFAULT_EXCHANGE_TTL,
            rate_limit_classes: BTreeMap::from([(
                DEFAULT_CLASS.to_owned(),
                RateLimitClass {
                    reads_per_minute: 1200,
                    writes_per_minute: 120,
                    creates_per_minute: None,
                    updates_per_minute: None,
                    deletes_per_minute: Some(30),
                },
            )]),
        }
    }
}

/// `[rate_limits]`: formerly per-minute limits on every login attempt. The keys are kept only
/// so that a configuration still using them fails to load with a message naming what
/// replaced them, instead of silently losing its limits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_attempts_per_ip_per_minute: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_attempts_per_user_per_minute: Option<u32>,
}

impl RateLimitSettings {
    fn check_retired(&self) -> Result<(), String> {
        let retired = [
            (
                "login_attempts_per_ip_per_minute",
                self.login_attempts_per_ip_per_minute,
                "login_throttle.address_free_failures and login_throttle.address_decay_seconds",
            ),
            (
                "login_attempts_per_user_per_minute",
                self.login_attempts_per_user_per_minute,
                "login_throttle.user_address_free_failures and login_throttle.user_address_decay_seconds",
            ),
        ];
        for (key, value, replacement) in retired {
            if value.is_some() {
                return Err(format!(
                    "rate_limits.{key} was removed: sign-ins are now throttled by failures only; \
                     use {replacement} instead (see docs/configuration.md)"
                ));
            }
        }
        Ok(())
    }
}

/// `[login_throttle]`: failed password sign-ins, counted per username at an address and per
/// address (`gatehouse_core::throttle`; defaults and reasoning in `docs/security.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginThrottleSettings {
    /// Failures for one username from one address before any wait.
    pub user_address_free_failures: u32,
    /// Seconds after which one such failure is forgotten.
    pub user_address_decay_seconds: u32,
    /// Failures from one address (any username) before any wait.
    pub address_free_failures: u32,
    /// Seconds after which one such failure is forgotten.
    pub address_decay_seconds: u32,
    /// The first wait; it doubles with each further failure.
    pub initial_wait_seconds: u32,
    /// The longest wait.
    pub max_wait_seconds: u32,
    /// Most keys kept in memory per node (the oldest-to-expire go first when full).
    pub max_tracked_keys: usize,
}

impl Default for LoginThrottleSettings {
    fn default() -> Self {
        let p = gatehouse_core::throttle::ThrottlePolicy::default();
        Self {
            user_address_free_failures: p.per_user_and_address.free_failures,
            user_address_decay_seconds: p.per_user_and_address.decay_seconds,
            address_free_failures: p.per_address.free_failures,
            address_decay_seconds: p.per_address.decay_seconds,
            initial_wait_seconds: p.initial_wait,
            max_wait_seconds: p.max_wait,
            max_tracked_keys: 100_000,
        }
    }
}

impl LoginThrottleSettings {
    /// The core policy.
    pub fn policy(&self) -> gatehouse_core::throttle::ThrottlePolicy {
        use gatehouse_core::throttle::{ThrottlePolicy, ThrottleRule};
        ThrottlePolicy {
            per_user_and_address: ThrottleRule {
                free_failures: self.user_address_free_failures,
                decay_seconds: self.user_address_decay_seconds,
            },
            per_address: ThrottleRule {
                free_failures: self.address_free_failures,
                decay_seconds: self.address_decay_seconds,
            },
            initial_wait: self.initial_wait_seconds,
            max_wait: self.max_wait_seconds,
        }
    }

    fn check(&self) -> Result<(), String> {
        for (key, v) in [
            (
                "user_address_decay_seconds",
                self.user_address_decay_seconds,
            ),
            ("address_decay_seconds", self.address_decay_seconds),
        ] {
            if !(1..=86_400).contains(&v) {
                return Err(format!("login_throttle.{key} must be between 1 and 86400"));
            }
        }
        if !(1..=86_400).contains(&self.max_wait_seconds)
            || !(1..=self.max_wait_seconds).contains(&self.initial_wait_seconds)
        {
            return Err("login_throttle: 1 <= initial_wait_seconds <= max_wait_seconds <= 86400 is required".into());
        }
        if !(1_000..=10_000_000).contains(&self.max_tracked_keys) {
            return Err("login_throttle.max_tracked_keys must be between 1000 and 10000000".into());
        }
        Ok(())
    }
}

/// `[password_hashing]`: the bounded Argon2id pool of `crate::hash_pool`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordHashingSettings {
    /// Hashes computed at once (each holds 19 MiB); 0 = one per CPU core.
    pub concurrency: usize,
    /// Sign-ins that may wait for a free slot; more are answered 503 at once.
    pub queue: usize,
    /// Longest wait for a slot, in milliseconds, before a 503.
    pub max_queue_wait_ms: u64,
}

impl Default for PasswordHashingSettings {
    fn default() -> Self {
        Self {
            concurrency: 0,
            queue: 32,
            max_queue_wait_ms: 2000,
        }
    }
}

impl PasswordHashingSettings {
    /// The pool's shape, with `concurrency = 0` resolved to the number of cores.
    pub fn pool_size(&self) -> crate::hash_pool::PoolSize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        crate::hash_pool::PoolSize {
            slots: if self.concurrency == 0 {
                cores
            } else {
                self.concurrency
            },
            queue: self.queue,
            max_queue_wait: std::time::Duration::from_millis(self.max_queue_wait_ms),
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.concurrency > 256 {
            return Err(
                "password_hashing.concurrency must be at most 256 (each slot holds 19 MiB)".into(),
            );
        }
        if self.queue > 10_000 {
            return Err("password_hashing.queue must be at most 10000".into());
        }
        if !(1..=60_000).contains(&self.max_queue_wait_ms) {
            return Err("password_hashing.max_queue_wait_ms must be between 1 and 60000".into());
        }
        Ok(())
    }
}

impl ApiKeySettings {
    /// The class a key of class `class` is counted in (its own when configured, else
    /// `default`, as the admin API counts it) and that class's per-minute limits by request
    /// kind, as introspection publishes them to resource servers.
    pub fn published_limits(&self, class: Option<&str>) -> Option<(String, BTreeMap<String, u32>)> {
        let default = crate::rate_limit::DEFAULT_CLASS;
        let name = class
            .filter(|c| self.rate_limit_classes.contains_key(*c))
            .unwrap_or(default);
        let c = self.rate_limit_classes.get(name)?;
        let w = c.writes_per_minute;
        let limits = [
            ("read", c.reads_per_minute),
            ("create", c.creates_per_minute.unwrap_or(w)),
            ("update", c.updates_per_minute.unwrap_or(w)),
            ("delete", c.deletes_per_minute.unwrap_or(w)),
        ];
        Some((
            name.to_owned(),
            limits.map(|(k, v)| (k.to_owned(), v)).into(),
        ))
    }

    /// The configured prefixes (checked by [`Settings::validated`]).
    pub fn prefixes(&self) -> Result<gatehouse_core::apikey::ApiKeyPrefixes, String> {
        gatehouse_core::apikey::ApiKeyPrefixes::new(&self.live_prefix, &self.test_prefix)
            .map_err(|e| format!("api_keys: {e}"))
    }

    /// What the operator actions on API keys need of these settings.
    pub fn policy(&self) -> Result<gatehouse_admin::api_keys::ApiKeyPolicy, String> {
        Ok(gatehouse_admin::api_keys::ApiKeyPolicy {
            prefixes: self.prefixes()?,
            rate_limit_classes: self.rate_limit_classes.keys().cloned().collect(),
            expiry_warning_days: self.expiry_warning_days,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientAuthSettings {
    /// Longest accepted assertion lifetime (`exp` ahead of now), seconds.
    pub max_assertion_lifetime: i64,
    /// Tolerated clock skew for `exp`, `iat` and `nbf`, seconds.
    pub clock_skew: i64,
    /// Whether clients' `jwks_uri` may point to private, link-local or other internal
    /// addresses (off: such fetches are refused, against SSRF).
    pub allow_internal_jwks_uri: bool,
}

impl Default for ClientAuthSettings {
    fn default() -> Self {
        Self {
            max_assertion_lifetime: 300,
            clock_skew: 60,
            allow_internal_jwks_uri: false,
        }
    }
}

/// `[keys]`: scheduled rotation of signing keys and their encryption at rest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeySettings {
    /// Seconds a key signs before the scheduler replaces it; 0 disables scheduled rotation.
    pub rotation_interval: i64,
    /// Seconds a new key is published in the JWKS before it signs.
    pub prepublish: i64,
    /// A file holding the 32-byte master key (hex or base64); `GATEHOUSE_MASTER_KEY` wins.
    pub master_key_file: String,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            rotation_interval: 90 * 86_400,
            prepublish: 86_400,
            master_key_file: String::new(),
        }
    }
}

/// The environment variable holding the master key (operator contract).
pub use gatehouse_admin::signing_keys::MASTER_KEY_ENV;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    pub access_token_ttl: i64,
    pub id_token_ttl: i64,
    /// Idle lifetime of a refresh token (the older name of `refresh_token_idle_ttl`, used when
    /// that one is not set).
    pub refresh_token_ttl: i64,
    /// Idle lifetime of a refresh token: each one expires this long after it is issued.
    pub refresh_token_idle_ttl: Option<i64>,
    /// Absolute lifetime of a refresh-token family: first issue plus this, whatever rotations.
    pub refresh_token_absolute_ttl: i64,
    pub code_ttl: i64,
    /// `aud` of access tokens; the issuer when empty.
    pub audience: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// Absolute lifetime of a login session, seconds.
    pub ttl: i64,
    /// A session unused for this long ends, seconds.
    pub idle_ttl: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            issuer: "http://127.0.0.1:8080".into(),
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://data/gatehouse.db?mode=rwc".into(),
            tokens: TokenSettings::default(),
            session: SessionSettings::default(),
            scopes: default_scope_descriptions(),
            workers: 0,
            keys: KeySettings::default(),
            master_key: None,
            client_auth: ClientAuthSettings::default(),
            api_keys: ApiKeySettings::default(),
            network: NetworkSettings::default(),
            rate_limits: RateLimitSettings::default(),
            login_throttle: LoginThrottleSettings::default(),
            password_hashing: PasswordHashingSettings::default(),
        }
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            access_token_ttl: 3600,
            id_token_ttl: 3600,
            refresh_token_ttl: 30 * 86_400,
            refresh_token_idle_ttl: None,
            refresh_token_absolute_ttl: 90 * 86_400,
            code_ttl: 60,
            audience: String::new(),
        }
    }
}

impl TokenSettings {
    /// The idle lifetime in effect: `refresh_token_idle_ttl`, else `refresh_token_ttl`.
    pub fn refresh_token_idle_ttl(&self) -> i64 {
        self.refresh_token_idle_ttl
            .unwrap_or(self.refresh_token_ttl)
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            ttl: 12 * 3600,
            idle_ttl: 3600,
        }
    }
}

fn default_scope_descriptions() -> BTreeMap<String, String> {
    [
        ("openid", "Sign you in with your account"),
        ("profile", "See your username and name"),
        ("email", "See your e-mail address"),
        ("offline_access", "Stay connected when you are not using it"),
        ("address", "See your postal address"),
        ("phone", "See your phone number"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

impl Settings {
    /// Loads settings: defaults, then the file (`path`, or `config/gatehouse.toml` when it
    /// exists), then the environment.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        match path {
            Some(p) if !p.exists() => {
                return Err(format!("--config: {} does not exist", p.display()));
            }
            Some(p) => fig = fig.merge(Toml::file(p)),
            None if Path::new("config/gatehouse.toml").exists() => {
                fig = fig.merge(Toml::file("config/gatehouse.toml"))
            }
            None => {}
        }
        let fig = fig.merge(
            Env::prefixed("GATEHOUSE_")
                .only(&["issuer", "listen", "database_url"])
                .map(|k| k.as_str().to_ascii_lowercase().into()),
        );
        let mut s: Settings = fig.extract().map_err(|e| format!("configuration: {e}"))?;
        if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
            s.master_key = Some(gatehouse_jose::MasterKey::parse(&text).map_err(|e| {
                format!("{MASTER_KEY_ENV}: {e} (expected 32 bytes as 64 hex digits or base64)")
            })?);
        }
        s.validated()
    }

    /// Normalises and checks the settings.
    pub fn validated(mut self) -> Result<Self, String> {
        while self.issuer.ends_with('/') {
            self.issuer.pop();
        }
        let url = url::Url::parse(&self.issuer).map_err(|e| format!("issuer: {e}"))?;
        if !matches!(url.scheme(), "http" | "https")
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err("issuer must be an http(s) URL without query or fragment".into());
        }
        self.check_lifetimes()?;
        let k = &self.keys;
        if k.prepublish < 0 {
            return Err("keys.prepublish must not be negative".into());
        }
        if k.rotation_interval < 0
            || (k.rotation_interval > 0 && k.rotation_interval <= k.prepublish)
        {
            return Err(
                "keys.rotation_interval must be 0 (off) or longer than keys.prepublish".into(),
            );
        }
        if self.master_key.is_none() && !k.master_key_file.is_empty() {
            let path = &k.master_key_file;
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("keys.master_key_file: cannot read {path}: {e}"))?;
            self.master_key = Some(gatehouse_jose::MasterKey::parse(&text).map_err(|e| {
                format!("keys.master_key_file: {e} (expected 32 bytes as 64 hex digits or base64)")
            })?);
        }
        let t = &self.tokens;
        if t.refresh_token_idle_ttl() > t.refresh_token_absolute_ttl {
            return Err(
                "tokens.refresh_token_idle_ttl must not exceed tokens.refresh_token_absolute_ttl"
                    .into(),
            );
        }
        self.api_keys.prefixes()?;
        self.network.proxies()?;
        for name in self.api_keys.rate_limit_classes.keys() {
            gatehouse_core::apikey::validate_rate_limit_class(name).map_err(|_| {
                format!("api_keys.rate_limit_classes: {name:?} is not a valid class name (1 to 64 of A-Z, a-z, 0-9, _, - and .)")
            })?;
        }
        if !(0..=365).contains(&self.api_keys.expiry_warning_days) {
            return Err("api_keys.expiry_warning_days must be between 0 and 365".into());
        }
        if !(1..=86_400).contains(&self.api_keys.exchange_token_ttl) {
            return Err("api_keys.exchange_token_ttl must be between 1 and 86400".into());
        }
        self.rate_limits.check_retired()?;
        self.login_throttle.check()?;
        self.password_hashing.check()?;
        Ok(self)
    }

    /// Lower (and a few upper) bounds of the lifetimes, in seconds.
    fn check_lifetimes(&self) -> Result<(), String> {
        let t = &self.tokens;
        if !(0..=300).contains(&self.client_auth.clock_skew) {
            return Err("client_auth.clock_skew must be between 0 and 300 seconds".into());
        }
        if self.client_auth.max_assertion_lifetime > 3600 {
            return Err("client_auth.max_assertion_lifetime must be at most 3600 seconds".into());
        }
        for (name, v, min) in [
            ("tokens.access_token_ttl", t.access_token_ttl, 60),
            ("tokens.id_token_ttl", t.id_token_ttl, 60),
            ("tokens.refresh_token_ttl", t.refresh_token_ttl, 60),
            (
                "tokens.refresh_token_idle_ttl",
                t.refresh_token_idle_ttl.unwrap_or(t.refresh_token_ttl),
                60,
            ),
            (
                "tokens.refresh_token_absolute_ttl",
                t.refresh_token_absolute_ttl,
                60,
            ),
            ("tokens.code_ttl", t.code_ttl, 10),
            ("session.ttl", self.session.ttl, 60),
            ("session.idle_ttl", self.session.idle_ttl, 60),
            (
                "client_auth.max_assertion_lifetime",
                self.client_auth.max_assertion_lifetime,
                10,
            ),
        ] {
            if v < min {
                return Err(format!("{name} must be at least {min} seconds"));
            }
        }
        Ok(())
    }

    /// The login session lifetimes.
    pub fn session_policy(&self) -> gatehouse_core::session::SessionPolicy {
        gatehouse_core::session::SessionPolicy {
            ttl: self.session.ttl,
            idle_ttl: self.session.idle_ttl,
        }
    }

    /// The assertion rules: `aud` is the issuer or the token endpoint URL.
    pub fn assertion_rules(&self) -> gatehouse_core::client_auth::AssertionRules {
        gatehouse_core::client_auth::AssertionRules {
            audiences: vec![self.issuer.clone(), format!("{}/oauth/token", self.issuer)],
            max_lifetime: self.client_auth.max_assertion_lifetime,
            skew: self.client_auth.clock_skew,
        }
    }

    pub fn is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    pub fn policy(&self) -> gatehouse_core::policy::Policy {
        let mut p = gatehouse_core::policy::Policy::new(self.issuer.clone());
        p.access_token_ttl = self.tokens.access_token_ttl;
        p.id_token_ttl = self.tokens.id_token_ttl;
        p.refresh_token_ttl = self.tokens.refresh_token_idle_ttl();
        p.refresh_token_absolute_ttl = self.tokens.refresh_token_absolute_ttl;
        p.code_ttl = self.tokens.code_ttl;
        if !self.tokens.audience.is_empty() {
            p.access_token_audience = self.tokens.audience.clone();
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_config_file_holds_the_built_in_throttle_and_pool_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/gatehouse.toml");
        let s: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(path))
            .extract()
            .unwrap();
        let d = Settings::default();
        assert_eq!(s.login_throttle.policy(), d.login_throttle.policy());
        assert_eq!(
            s.login_throttle.max_tracked_keys,
            d.login_throttle.max_tracked_keys
        );
        assert_eq!(
            s.password_hashing.pool_size(),
            d.password_hashing.pool_size()
        );
        assert!(s.validated().is_ok());
    }

    #[test]
    fn bad_throttle_and_pool_settings_are_refused_by_name() {
        let mut s = Settings::default();
        s.login_throttle.initial_wait_seconds = 1000;
        let err = s.validated().unwrap_err();
        assert!(err.contains("initial_wait_seconds"), "{err}");
        let mut s = Settings::default();
        s.password_hashing.max_queue_wait_ms = 0;
        let err = s.validated().unwrap_err();
        assert!(err.contains("password_hashing.max_queue_wait_ms"), "{err}");
        let mut s = Settings::default();
        s.rate_limits.login_attempts_per_user_per_minute = Some(10);
        let err = s.validated().unwrap_err();
        assert!(
            err.contains("login_throttle.user_address_free_failures"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod published_limits_tests {
    use super::*;

    #[test]
    fn introspection_publishes_the_keys_class_or_the_default() {
        let mut s = ApiKeySettings::default();
        s.rate_limit_classes.insert(
            "bulk".into(),
            RateLimitClass {
                reads_per_minute: 6000,
                writes_per_minute: 600,
                creates_per_minute: None,
                updates_per_minute: Some(0),
                deletes_per_minute: Some(60),
            },
        );
        let limits = |pairs: [(&str, u32); 4]| {
            pairs
                .map(|(k, v)| (k.to_owned(), v))
                .into_iter()
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            s.published_limits(Some("bulk")),
            Some((
                "bulk".into(),
                limits([
                    ("read", 6000),
                    ("create", 600),
                    ("update", 0),
                    ("delete", 60)
                ])
            ))
        );
        let default = Some((
            "default".into(),
            limits([
                ("read", 1200),
                ("create", 120),
                ("update", 120),
                ("delete", 30),
            ]),
        ));
        assert_eq!(s.published_limits(None), default);
        // A class no longer configured counts as `default`, as the admin API counts it.
        assert_eq!(s.published_limits(Some("gone")), default);
    }
}

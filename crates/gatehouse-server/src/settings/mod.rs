//! Server settings: built-in defaults, then `config/gatehouse.toml` (or `--config`), then
//! `GATEHOUSE_*` environment variables, in that order of precedence (see the operator contract).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

mod api_keys;
mod cache;
mod client_metadata;
mod log;
mod metrics;
mod network;
mod problems;
mod protocol;
mod redis;
mod registration;
mod server;
mod sign_in;
mod storage;
mod tls;

pub use api_keys::{ApiKeySettings, DEFAULT_CLASS, RateLimitClass};
pub use cache::CacheSettings;
pub use client_metadata::ClientMetadataSettings;
pub use network::NetworkSettings;
pub use problems::{Origin, Problem, SettingsError, env_var_of};
pub use protocol::{ClientAuthSettings, KeySettings, SessionSettings, TokenSettings};
pub use registration::RegistrationSettings;
pub use sign_in::{LoginThrottleSettings, PasswordHashingSettings, RateLimitSettings};
// Running in production: the listener, direct HTTPS, metrics, logs, shared limits.
pub use log::{LogFormat, LogSettings};
pub use metrics::MetricsSettings;
pub use redis::{RedisSettings, RedisUrl};
pub use server::ServerSettings;
pub use storage::{AuditSettings, DatabaseSettings, HousekeepingSettings};
pub use tls::TlsSettings;

/// The log line format, `text` or `json` (wins over `[log] format`).
pub const LOG_FORMAT_ENV: &str = "GATEHOUSE_LOG_FORMAT";
/// The Redis URL for shared rate limits (wins over `[redis] url`).
pub const REDIS_URL_ENV: &str = "GATEHOUSE_REDIS_URL";

/// The environment variable holding the master key (operator contract).
pub use gatehouse_admin::signing_keys::MASTER_KEY_ENV;

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
    /// Connection timeouts and limits of the listener, the drain on shutdown.
    pub server: ServerSettings,
    /// Optional direct HTTPS.
    pub tls: TlsSettings,
    /// The Prometheus endpoint.
    pub metrics: MetricsSettings,
    /// Log line format.
    pub log: LogSettings,
    /// A Redis shared by the nodes for their rate limits (optional).
    pub redis: RedisSettings,
    /// How often the in-memory caches ask whether clients, tenants or revocations changed.
    pub cache: CacheSettings,
    /// Client ID Metadata Documents: URLs as `client_id` (off by default).
    pub client_metadata: ClientMetadataSettings,
    /// Pushed authorization requests (RFC 9126).
    pub par: ParSettings,
    /// DPoP (RFC 9449).
    pub dpop: DpopSettings,
    /// Dynamic client registration (RFC 7591): open or by initial access token, the policy.
    pub registration: RegistrationSettings,
    /// Connecting to the database and migrating it.
    pub database: DatabaseSettings,
    /// The background purge of expired rows.
    pub housekeeping: HousekeepingSettings,
    /// Audit trail retention.
    pub audit: AuditSettings,
}

/// `[par]`: pushed authorization requests (RFC 9126).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParSettings {
    /// Every client must push its authorization requests first (RFC 9126 §5
    /// `require_pushed_authorization_requests`).
    pub require_pushed_authorization_requests: bool,
}

/// `[dpop]`: DPoP (RFC 9449).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DpopSettings {
    /// The token endpoint requires a server nonce in DPoP proofs (RFC 9449 §8): a proof
    /// without a current one is answered `use_dpop_nonce` with a `DPoP-Nonce` header.
    pub require_nonce: bool,
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
            server: ServerSettings::default(),
            tls: TlsSettings::default(),
            metrics: MetricsSettings::default(),
            log: LogSettings::default(),
            redis: RedisSettings::default(),
            cache: CacheSettings::default(),
            client_metadata: ClientMetadataSettings::default(),
            par: ParSettings::default(),
            dpop: DpopSettings::default(),
            registration: RegistrationSettings::default(),
            database: DatabaseSettings::default(),
            housekeeping: HousekeepingSettings::default(),
            audit: AuditSettings::default(),
        }
    }
}

/// Extracts the settings from `fig`. On failure every section is extracted on its own, so
/// that a problem in one does not hide the problems of another; the settings returned then
/// hold the defaults for the sections in error.
fn extract(fig: &Figment) -> (Settings, Vec<Problem>) {
    let first = match fig.extract::<Settings>() {
        Ok(s) => return (s, Vec::new()),
        Err(e) => e,
    };
    let mut s = Settings::default();
    let mut out = Vec::new();
    macro_rules! sections {
        ($($name:ident),* $(,)?) => {$(
            match fig.extract_inner(stringify!($name)) {
                Ok(v) => s.$name = v,
                Err(e) => out.extend(problems::from_figment(e, Some(stringify!($name)))),
            }
        )*};
    }
    sections!(
        issuer,
        listen,
        database_url,
        tokens,
        session,
        scopes,
        workers,
        keys,
        client_auth,
        api_keys,
        network,
        rate_limits,
        login_throttle,
        password_hashing,
        server,
        tls,
        metrics,
        log,
        redis,
        cache,
        client_metadata,
        par,
        registration,
        database,
        housekeeping,
        audit,
    );
    type Top = BTreeMap<String, figment::value::Value>;
    let known = Figment::from(Serialized::defaults(Settings::default()))
        .extract::<Top>()
        .unwrap_or_default();
    for key in fig.extract::<Top>().unwrap_or_default().keys() {
        if !known.contains_key(key) {
            let origin = problems::origin_of(fig, key);
            out.push(Problem::new(key, origin, "unknown setting"));
        }
    }
    // A section missing from the list above still has its problem reported.
    if out.is_empty() {
        out.extend(problems::from_figment(first, None));
    }
    problems::dedup(&mut out);
    (s, out)
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

/// The configuration file read when `--config` is not given (relative to the working
/// directory), if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "config/gatehouse.toml";

/// What loading found besides the settings, for the log and `gatehouse config check`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
    /// The issuer was not set but the listen address was: the issuer follows the listen address.
    pub issuer_follows_listen: bool,
    /// A relative SQLite path as configured, before it was made absolute (against the working
    /// directory).
    pub relative_database_path: Option<String>,
}

impl Settings {
    /// Loads settings: defaults, then the file (`path`, or [`DEFAULT_CONFIG_FILE`] when it
    /// exists), then the environment. The error lists every problem found.
    pub fn load(path: Option<&Path>) -> Result<Self, SettingsError> {
        Self::load_reported(path).map(|(s, _)| s)
    }

    /// [`Settings::load`], with what loading decided on the way ([`LoadReport`]).
    pub fn load_reported(path: Option<&Path>) -> Result<(Self, LoadReport), SettingsError> {
        let file = match path {
            Some(p) if !p.is_file() => {
                return Err(SettingsError::one(Problem::new(
                    "--config",
                    Origin::File(p.to_path_buf()),
                    "no such file (give the path of a TOML configuration file)",
                )));
            }
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
        };
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(f) = &file {
            fig = fig.merge(Toml::file(f));
        }
        let fig = fig.merge(
            Env::prefixed("GATEHOUSE_")
                .only(&["issuer", "listen", "database_url"])
                .map(|k| k.as_str().to_ascii_lowercase().into()),
        );
        // Variables of nested settings, each named in full.
        let fig = fig.merge(Env::raw().only(&[LOG_FORMAT_ENV, REDIS_URL_ENV]).map(|k| {
            if k.as_str().eq_ignore_ascii_case(LOG_FORMAT_ENV) {
                "log.format".into()
            } else {
                "redis.url".into()
            }
        }));
        let (mut s, mut problems) = extract(&fig);
        if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
            match gatehouse_jose::MasterKey::parse(&text) {
                Ok(k) => s.master_key = Some(k),
                Err(e) => problems.push(Problem::new(
                    "master key",
                    Origin::Env(MASTER_KEY_ENV.into()),
                    format!("{e} (expected 32 bytes as 64 hex digits or base64)"),
                )),
            }
        }
        let mut report = LoadReport {
            file,
            ..LoadReport::default()
        };
        report.issuer_follows_listen = s.follow_listen(&fig);
        report.relative_database_path = s.resolve_sqlite_path();
        let (s, checked) = s.checked();
        problems.extend(checked.into_iter().map(|mut p| {
            p.origin = problems::origin_of(&fig, &p.field);
            p
        }));
        match problems.is_empty() {
            true => Ok((s, report)),
            false => Err(SettingsError { problems }),
        }
    }

    /// When the listen address is set and the issuer is not, the issuer follows the listen
    /// address (an unspecified host becomes 127.0.0.1). Returns whether it did.
    fn follow_listen(&mut self, fig: &Figment) -> bool {
        let set = |field| problems::origin_of(fig, field) != Origin::Default;
        if set("issuer") || !set("listen") {
            return false;
        }
        let Ok(addr) = self.listen.parse::<std::net::SocketAddr>() else {
            return false;
        };
        let host = match addr.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let scheme = if self.tls.enabled() { "https" } else { "http" };
        self.issuer = format!("{scheme}://{host}:{}", addr.port());
        true
    }

    /// Makes a relative SQLite path absolute, once, against the working directory, so that
    /// every message and log names the real file. Returns the relative path it replaced.
    fn resolve_sqlite_path(&mut self) -> Option<String> {
        let rest = self.database_url.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        if path.is_empty() || path.starts_with('/') || path.starts_with(":memory:") {
            return None;
        }
        let cwd = std::env::current_dir().ok()?;
        let absolute = cwd.join(path);
        let resolved = match query {
            Some(q) => format!("sqlite://{}?{q}", absolute.display()),
            None => format!("sqlite://{}", absolute.display()),
        };
        let relative = path.to_owned();
        self.database_url = resolved;
        Some(relative)
    }

    /// The SQLite file of `database_url`, if it names one.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self.database_url.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or(rest);
        if path.is_empty() || path.starts_with(":memory:") || rest.contains("mode=memory") {
            return None;
        }
        Some(PathBuf::from(path))
    }

    /// `database_url` without its password, for logs and messages.
    pub fn database_display(&self) -> String {
        match url::Url::parse(&self.database_url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.database_url.clone(),
        }
    }

    /// Normalises and checks the settings; the error lists every problem.
    pub fn validated(self) -> Result<Self, SettingsError> {
        let (s, problems) = self.checked();
        match problems.is_empty() {
            true => Ok(s),
            false => Err(SettingsError { problems }),
        }
    }

    /// Normalises the settings and finds every problem (each check independent of the others).
    fn checked(mut self) -> (Self, Vec<Problem>) {
        while self.issuer.ends_with('/') {
            self.issuer.pop();
        }
        let mut out = Vec::new();
        if let Err(m) = self.read_master_key_file() {
            out.push(Problem::from_message(&m));
        }
        let checks = [
            self.check_issuer(),
            self.check_lifetimes(),
            self.check_keys(),
            self.check_refresh_lifetimes(),
            self.check_api_keys(),
            self.network.proxies().map(|_| ()),
            self.rate_limits.check_retired(),
            self.login_throttle.check(),
            self.password_hashing.check(),
            self.server.check(),
            self.tls.check(),
            self.metrics.check(),
            self.cache.check(),
            self.client_metadata.check(),
            self.registration.check(),
            self.redis.check(),
            storage::check(&self.database, &self.housekeeping, &self.audit),
            self.keys.check_propagation(),
        ];
        out.extend(
            checks
                .into_iter()
                .filter_map(Result::err)
                .map(|m| Problem::from_message(&m)),
        );
        (self, out)
    }

    fn check_issuer(&self) -> Result<(), String> {
        let url = url::Url::parse(&self.issuer).map_err(|e| format!("issuer: {e}"))?;
        if !matches!(url.scheme(), "http" | "https")
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err("issuer must be an http(s) URL without query or fragment".into());
        }
        Ok(())
    }

    fn check_keys(&self) -> Result<(), String> {
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
        Ok(())
    }

    /// `keys.master_key_file`, unless `GATEHOUSE_MASTER_KEY` gave the key.
    fn read_master_key_file(&mut self) -> Result<(), String> {
        let path = &self.keys.master_key_file;
        if self.master_key.is_some() || path.is_empty() {
            return Ok(());
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("keys.master_key_file: cannot read {path}: {e}"))?;
        self.master_key = Some(gatehouse_jose::MasterKey::parse(&text).map_err(|e| {
            format!("keys.master_key_file: {e} (expected 32 bytes as 64 hex digits or base64)")
        })?);
        Ok(())
    }

    fn check_refresh_lifetimes(&self) -> Result<(), String> {
        let t = &self.tokens;
        if t.refresh_token_idle_ttl() > t.refresh_token_absolute_ttl {
            return Err(
                "tokens.refresh_token_idle_ttl must not exceed tokens.refresh_token_absolute_ttl"
                    .into(),
            );
        }
        Ok(())
    }

    fn check_api_keys(&self) -> Result<(), String> {
        self.api_keys.prefixes()?;
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
        Ok(())
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
            ("tokens.device_code_ttl", t.device_code_ttl, 60),
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

    /// The device authorization endpoint's settings (RFC 8628): the verification page under
    /// the issuer, and `[tokens] device_code_ttl`.
    pub fn device_settings(&self) -> gatehouse_core::device::DeviceSettings {
        gatehouse_core::device::DeviceSettings {
            verification_uri: format!("{}/device", self.issuer),
            ttl: self.tokens.device_code_ttl,
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
        p.access_token_alg = self.tokens.access_token_alg;
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
    fn the_shipped_config_file_holds_the_operations_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/gatehouse.toml");
        let s: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(path))
            .extract()
            .unwrap();
        let d = Settings::default();
        let show = |s: &Settings| {
            format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {}",
                s.server,
                s.tls,
                s.metrics,
                s.log,
                s.redis,
                s.database,
                s.housekeeping,
                s.audit,
                s.keys.propagation_delay,
                s.keys.reload_interval
            )
        };
        assert_eq!(show(&s), show(&d));
    }

    #[test]
    fn bad_operations_settings_are_refused_by_name() {
        let refused = |f: &dyn Fn(&mut Settings)| {
            let mut s = Settings::default();
            f(&mut s);
            s.validated().unwrap_err()
        };
        type Tweak = &'static dyn Fn(&mut Settings);
        let cases: [(Tweak, &str); 10] = [
            (
                &|s| s.database.connect_timeout = 0,
                "database.connect_timeout",
            ),
            (
                &|s| s.housekeeping.batch_size = 0,
                "housekeeping.batch_size",
            ),
            (
                &|s| s.audit.retention_days = 100_000,
                "audit.retention_days",
            ),
            (&|s| s.server.body_timeout = 0, "server.body_timeout"),
            (&|s| s.server.max_connections = 0, "server.max_connections"),
            (&|s| s.tls.cert_file = "c.pem".into(), "tls.key_file"),
            (&|s| s.metrics.listen = "nowhere".into(), "metrics.listen"),
            (
                &|s| s.redis.url = RedisUrl::new("http://redis:6379"),
                "redis.url",
            ),
            (&|s| s.keys.propagation_delay = 9, "keys.propagation_delay"),
            (&|s| s.keys.reload_interval = 6, "keys.reload_interval"),
        ];
        for (f, name) in cases {
            let err = refused(f);
            assert!(err.contains(name), "{err}");
        }
        let mut s = Settings::default();
        s.redis.url = RedisUrl::new("redis://:hunter2@redis:6379");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.server.max_connections_per_worker(3), 3334);
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

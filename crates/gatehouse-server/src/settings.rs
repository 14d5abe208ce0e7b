//! Server settings: built-in defaults, then `config/gatehouse.toml` (or `--config`), then
//! `GATEHOUSE_*` environment variables, in that order of precedence (see the operator contract).

use std::collections::BTreeMap;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

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
    /// API keys: secret prefixes and the listing's expiry warning.
    pub api_keys: ApiKeySettings,
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
}

impl Default for ApiKeySettings {
    fn default() -> Self {
        let p = gatehouse_core::apikey::ApiKeyPrefixes::default();
        Self {
            live_prefix: p.live,
            test_prefix: p.test,
            expiry_warning_days: gatehouse_core::apikey::DEFAULT_EXPIRY_WARNING_DAYS,
        }
    }
}

impl ApiKeySettings {
    /// The configured prefixes (checked by [`Settings::validated`]).
    pub fn prefixes(&self) -> Result<gatehouse_core::apikey::ApiKeyPrefixes, String> {
        gatehouse_core::apikey::ApiKeyPrefixes::new(&self.live_prefix, &self.test_prefix)
            .map_err(|e| format!("api_keys: {e}"))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    pub access_token_ttl: i64,
    pub id_token_ttl: i64,
    pub refresh_token_ttl: i64,
    pub code_ttl: i64,
    /// `aud` of access tokens; the issuer when empty.
    pub audience: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// Absolute lifetime of a login session, seconds.
    pub ttl: i64,
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
            api_keys: ApiKeySettings::default(),
        }
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            access_token_ttl: 3600,
            id_token_ttl: 3600,
            refresh_token_ttl: 30 * 86_400,
            code_ttl: 60,
            audience: String::new(),
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { ttl: 12 * 3600 }
    }
}

fn default_scope_descriptions() -> BTreeMap<String, String> {
    [
        ("openid", "Sign you in with your account"),
        ("profile", "See your username and name"),
        ("email", "See your e-mail address"),
        ("offline_access", "Stay connected when you are not using it"),
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
        let s: Settings = fig.extract().map_err(|e| format!("configuration: {e}"))?;
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
        let t = &self.tokens;
        for (name, v, min) in [
            ("tokens.access_token_ttl", t.access_token_ttl, 60),
            ("tokens.id_token_ttl", t.id_token_ttl, 60),
            ("tokens.refresh_token_ttl", t.refresh_token_ttl, 60),
            ("tokens.code_ttl", t.code_ttl, 10),
            ("session.ttl", self.session.ttl, 60),
        ] {
            if v < min {
                return Err(format!("{name} must be at least {min} seconds"));
            }
        }
        self.api_keys.prefixes()?;
        if !(0..=365).contains(&self.api_keys.expiry_warning_days) {
            return Err("api_keys.expiry_warning_days must be between 0 and 365".into());
        }
        Ok(self)
    }

    pub fn is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    pub fn policy(&self) -> gatehouse_core::policy::Policy {
        let mut p = gatehouse_core::policy::Policy::new(self.issuer.clone());
        p.access_token_ttl = self.tokens.access_token_ttl;
        p.id_token_ttl = self.tokens.id_token_ttl;
        p.refresh_token_ttl = self.tokens.refresh_token_ttl;
        p.code_ttl = self.tokens.code_ttl;
        if !self.tokens.audience.is_empty() {
            p.access_token_audience = self.tokens.audience.clone();
        }
        p
    }
}

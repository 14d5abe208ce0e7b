//! `[api_keys]`: secret prefixes, expiry warnings, rate-limit classes and the limits
//! introspection publishes for them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The class of keys created without one.
pub const DEFAULT_CLASS: &str = "default";

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

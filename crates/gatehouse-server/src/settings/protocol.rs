//! Protocol lifetimes and rules: `[tokens]`, `[session]`, `[keys]`, `[client_auth]`.

use serde::{Deserialize, Serialize};

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
    /// Seconds a key rotated by hand (`gatehouse key rotate`, the admin API) is published
    /// before it signs, so that every node (and every resource server refreshing the JWKS) has
    /// it before the first token it signs arrives. At least twice `reload_interval`.
    pub propagation_delay: i64,
    /// Seconds between two reloads of the key ring from the database on every node (and runs
    /// of the rotation scheduler), 1 to 5.
    pub reload_interval: i64,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            rotation_interval: 90 * 86_400,
            prepublish: 86_400,
            master_key_file: String::new(),
            propagation_delay: 10,
            reload_interval: 5,
        }
    }
}

impl KeySettings {
    /// Checks that a key is published long enough before it signs for every node to load it.
    pub fn check_propagation(&self) -> Result<(), String> {
        if !(1..=5).contains(&self.reload_interval) {
            return Err("keys.reload_interval must be between 1 and 5 seconds".into());
        }
        let min = 2 * self.reload_interval;
        if !(min..=86_400).contains(&self.propagation_delay) {
            return Err(format!(
                "keys.propagation_delay must be between {min} (twice keys.reload_interval) and 86400 seconds"
            ));
        }
        Ok(())
    }

    /// How long a key rotated by hand is published before it signs.
    pub fn propagation(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.propagation_delay)
    }

    /// The reload period of the key ring.
    pub fn reload_period(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.reload_interval.clamp(1, 5).unsigned_abs())
    }
}

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
    /// Lifetime of a device authorization (RFC 8628 §3.2 `expires_in`), seconds.
    pub device_code_ttl: i64,
    /// `aud` of access tokens; the issuer when empty.
    pub audience: String,
    /// The algorithm of access tokens for clients created without `--access-token-alg`:
    /// `RS256` (default) or `ES256` (about ten times cheaper to sign).
    pub access_token_alg: gatehouse_core::SigningAlg,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// Absolute lifetime of a login session, seconds.
    pub ttl: i64,
    /// A session unused for this long ends, seconds.
    pub idle_ttl: i64,
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
            device_code_ttl: 600,
            audience: String::new(),
            access_token_alg: gatehouse_core::SigningAlg::RS256,
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

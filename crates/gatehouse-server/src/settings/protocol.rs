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

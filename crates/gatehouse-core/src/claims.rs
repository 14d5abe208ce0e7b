//! JWT claim sets Gatehouse issues: access tokens (RFC 9068 §2.2) and ID tokens (OIDC Core §2).

use serde::{Deserialize, Serialize};

/// The JOSE `typ` of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// The JOSE `typ` of ID tokens.
pub const ID_TOKEN_TYP: &str = "JWT";

/// Claims of a JWT access token (RFC 9068 §2.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_time: Option<i64>,
    /// The grant this token belongs to; checked against revocations at userinfo.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gid: Option<String>,
    /// The tenant the token belongs to: the user's for tokens issued for a user, the client's
    /// for client-only tokens. A token of a disabled tenant is refused everywhere.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tenant: Option<String>,
    /// For tokens exchanged from an API key (RFC 8693): the key's id (also `sub`). Such a
    /// token is refused as soon as the key is revoked or expired.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub api_key: Option<String>,
    /// For tokens exchanged from an API key: the key's name, for the resource server's logs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub api_key_name: Option<String>,
}

/// Claims of an ID token (OIDC Core §2, §3.1.3.6), plus the user's claims released by scope.
#[derive(Debug, Clone, Serialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub azp: String,
    pub iat: i64,
    pub exp: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The access token's hash, when one is issued with the ID token (OIDC Core §3.1.3.6,
    /// §3.2.2.10, §3.3.2.11).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The code's hash, when the ID token comes with a code (OIDC Core §3.3.2.11).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_hash: Option<String>,
    #[serde(flatten)]
    pub user_claims: serde_json::Map<String, serde_json::Value>,
}

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
    /// The key the token is bound to (RFC 9449 §6.1: `{"jkt": <thumbprint>}`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cnf: Option<Confirmation>,
    /// Who acts for `sub` (RFC 8693 §4.1), on tokens issued by a delegation exchange: the
    /// client that exchanged, with the earlier actors nested inside.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub act: Option<Actor>,
    /// The party that may exchange this token to act for `sub` (RFC 8693 §4.4): the client
    /// the token's client names (`client create --may-act`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub may_act: Option<Actor>,
}

/// An actor (RFC 8693 §4.1 `act`, §4.4 `may_act`): identity claims only, the previous actor
/// of a chain nested in `act` (§4.1: only the outermost is the current actor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub act: Option<Box<Actor>>,
}

impl Actor {
    /// An actor without a chain.
    pub fn new(sub: impl Into<String>) -> Self {
        Self {
            sub: sub.into(),
            act: None,
        }
    }

    /// How many actors the chain holds (this one included).
    pub fn depth(&self) -> usize {
        1 + self.act.as_ref().map_or(0, |a| a.depth())
    }
}

/// A token's confirmation claim (RFC 7800 §3.1, RFC 9449 §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The RFC 7638 thumbprint of the DPoP key.
    pub jkt: String,
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
    /// The party that may exchange this ID token to act for `sub` (RFC 8693 §4.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub may_act: Option<Actor>,
    #[serde(flatten)]
    pub user_claims: serde_json::Map<String, serde_json::Value>,
}

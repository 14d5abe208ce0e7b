//! Server-wide protocol settings the grant logic needs (lifetimes, issuer, audience).

/// Lifetimes are in seconds.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The issuer identifier (OIDC Discovery §3, RFC 8414 §2); `iss` of every token.
    pub issuer: String,
    /// `aud` of access tokens (RFC 9068 §3).
    pub access_token_audience: String,
    pub access_token_ttl: i64,
    pub id_token_ttl: i64,
    /// Idle lifetime of a refresh token: each token expires this long after it is issued
    /// (configured as `tokens.refresh_token_idle_ttl`, or its older name `refresh_token_ttl`).
    pub refresh_token_ttl: i64,
    /// Absolute lifetime of a refresh-token family: no token of a grant outlives the first
    /// issue plus this (`tokens.refresh_token_absolute_ttl`).
    pub refresh_token_absolute_ttl: i64,
    /// Authorization codes live 60 s by default (RFC 6749 §4.1.2 recommends at most 10 min).
    pub code_ttl: i64,
    /// The algorithm of access tokens for clients that chose none (`tokens.access_token_alg`).
    pub access_token_alg: crate::values::SigningAlg,
}

impl Policy {
    /// Defaults for an issuer: 1 h access and ID tokens, refresh tokens idle 30 d and at most
    /// 90 d per grant, 60 s codes.
    pub fn new(issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        Self {
            access_token_audience: issuer.clone(),
            issuer,
            access_token_ttl: 3600,
            id_token_ttl: 3600,
            refresh_token_ttl: 30 * 86_400,
            refresh_token_absolute_ttl: 90 * 86_400,
            code_ttl: 60,
            access_token_alg: crate::values::SigningAlg::RS256,
        }
    }
}

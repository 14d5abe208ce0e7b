//! What a verified credential says, typed: who (subject, client, tenant), what (scopes), until
//! when, and, for API keys, the key and its rate-limit class. The same value comes out of a JWT
//! access token (RFC 9068 §2.2) and of an API key's introspection answer (RFC 7662 §2.2), so
//! handlers do not care which one the caller used.

use crate::ratelimit::ClassLimits;
use crate::scope::ScopeSet;

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A JWT access token (RFC 9068), verified locally against the JWKS.
    AccessToken,
    /// An API key, introspected at the authorization server (RFC 7662).
    ApiKey,
}

/// An API key behind the request: presented directly, or exchanged for the access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    /// The key's id (not its secret).
    pub id: String,
    pub name: Option<String>,
    /// `live` or `test`.
    pub environment: Option<String>,
    /// The key's rate-limit class as published by the authorization server.
    pub rate_limit_class: Option<String>,
    /// The class's limits per minute, as published; they override the local defaults.
    pub rate_limits: Option<ClassLimits>,
    /// IP addresses and CIDR blocks the key may be used from (empty: anywhere).
    pub allowed_ips: Vec<String>,
}

/// A verified credential. Holds no token or key value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub kind: CredentialKind,
    /// `iss`: the authorization server.
    pub issuer: String,
    /// `sub`: the user, or for client-only tokens the client, or the API key's id.
    pub subject: String,
    /// `client_id`: the OAuth client the token was issued to (none for an API key).
    pub client_id: Option<String>,
    /// The tenant (organization) the credential belongs to.
    pub tenant: Option<String>,
    pub scopes: ScopeSet,
    /// `aud` of a token (empty for API keys).
    pub audiences: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
    pub issued_at: Option<i64>,
    /// `jti` of a token.
    pub jti: Option<String>,
    /// `cnf.jkt`: the token is bound to this DPoP key (RFC 9449 §6.1).
    pub dpop_jkt: Option<String>,
    /// `act.sub` of a delegated token (RFC 8693 §4.1): the party acting for `subject` (a
    /// service that exchanged the user's token). `None` when the subject acts itself.
    pub actor: Option<String>,
    pub api_key: Option<ApiKeyInfo>,
}

impl Claims {
    /// Whether the credential carries this exact scope.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// Who rate limits count against: the API key (whether presented or exchanged for the
    /// token), else the OAuth client, else the subject.
    pub fn rate_limit_identity(&self) -> String {
        if let Some(k) = &self.api_key {
            return format!("key:{}", k.id);
        }
        match &self.client_id {
            Some(c) => format!("client:{c}"),
            None => format!("sub:{}", self.subject),
        }
    }
}

//! Which field of an operator's request is at fault, as a typed name.
//!
//! The rules of registration (clients, users, tenants, API keys) name the field they refuse
//! with a [`Field`], never with the spelling of one surface: the CLI shows it as its flag
//! (`--redirect-uri`), the admin API as the JSON member (`redirect_uris`), the console next to
//! the form input. Each surface keeps that mapping in one function of its own.

use std::fmt;

/// A field of an operator's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The tenant the request acts in.
    Tenant,
    /// The display name of a client, tenant or API key, or the full name of a user.
    Name,
    /// The scopes of a client, an API key or a trust.
    Scope,
    GrantTypes,
    RedirectUris,
    PostLogoutRedirectUris,
    AuthMethod,
    IdTokenAlg,
    AccessTokenAlg,
    AccessTokenTtl,
    PkceOptional,
    RefreshGraceSeconds,
    RefreshIdleTtl,
    RefreshAbsoluteTtl,
    /// Public keys given inline (a JWKS document).
    Jwks,
    JwksUri,
    Username,
    Email,
    Password,
    GivenName,
    FamilyName,
    Phone,
    Address,
    AdminScopes,
    /// Whether a tenant may use API keys.
    ApiAccess,
    /// The scopes a tenant's API keys may carry.
    AllowedScopes,
    MaxApiKeys,
    ValidityDays,
    Environment,
    AllowedIps,
    RateLimitClass,
    /// A signing algorithm of a new signing key.
    Alg,
    Issuer,
    Subject,
    /// A resource server's identifier (RFC 8707 §2).
    Identifier,
    /// The resources a client is restricted to (RFC 8707).
    Resources,
    /// The cursor of a listing.
    After,
    /// The page size of a listing.
    Limit,
    /// A lifetime in seconds (an initial access token's).
    Ttl,
    /// How many times something may be used (an initial access token).
    MaxUses,
    /// The client that may act for a client's users (RFC 8693 §4.4).
    MayAct,
}

impl Field {
    /// A neutral name for logs and messages that belong to no surface.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Tenant => "tenant",
            Field::Name => "name",
            Field::Scope => "scope",
            Field::GrantTypes => "grant_types",
            Field::RedirectUris => "redirect_uris",
            Field::PostLogoutRedirectUris => "post_logout_redirect_uris",
            Field::AuthMethod => "auth_method",
            Field::IdTokenAlg => "id_token_alg",
            Field::AccessTokenAlg => "access_token_alg",
            Field::AccessTokenTtl => "access_token_ttl",
            Field::PkceOptional => "pkce_optional",
            Field::RefreshGraceSeconds => "refresh_grace_seconds",
            Field::RefreshIdleTtl => "refresh_idle_ttl",
            Field::RefreshAbsoluteTtl => "refresh_absolute_ttl",
            Field::Jwks => "jwks",
            Field::JwksUri => "jwks_uri",
            Field::Username => "username",
            Field::Email => "email",
            Field::Password => "password",
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::Phone => "phone",
            Field::Address => "address",
            Field::AdminScopes => "admin_scopes",
            Field::ApiAccess => "api_access",
            Field::AllowedScopes => "allowed_scopes",
            Field::MaxApiKeys => "max_api_keys",
            Field::ValidityDays => "validity_days",
            Field::Environment => "environment",
            Field::AllowedIps => "allowed_ips",
            Field::RateLimitClass => "rate_limit_class",
            Field::Alg => "alg",
            Field::Issuer => "issuer",
            Field::Subject => "subject",
            Field::Identifier => "identifier",
            Field::Resources => "resources",
            Field::After => "after",
            Field::Limit => "limit",
            Field::Ttl => "ttl",
            Field::MaxUses => "max_uses",
            Field::MayAct => "may_act",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused value: which field, and why. `Display` shows the reason only, because every
/// surface names the field in its own terms before it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct FieldError {
    pub field: Field,
    /// Why the value is refused, in words that name no surface (no flag, no JSON member).
    pub reason: String,
}

impl FieldError {
    pub fn new(field: Field, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

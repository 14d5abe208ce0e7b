//! Tenants (organizations): the partition that owns users, clients and API keys, and the API-key
//! policy each one carries (issue 4: `api_access_enabled`, the maximum of active keys, the
//! allowed scopes). Pure types and validation; storage is in `gatehouse-store`.
//!
//! [`TenantStore`] is the port the token paths use to refuse a disabled tenant's clients,
//! users and tokens at once (one lookup by primary key per request).

// Used only by our own generic code on actix workers; see `ports`.
#![allow(async_fn_in_trait)]

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::field::{Field, FieldError};
use crate::values::{ScopeSet, TenantId};

/// Reading tenants by id.
pub trait TenantStore {
    async fn find_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
}

/// Whether the tenant exists and is not disabled. An unknown tenant counts as disabled.
pub async fn tenant_enabled<S: TenantStore>(store: &S, id: &TenantId) -> Result<bool, StoreError> {
    Ok(store.find_tenant(id).await?.is_some_and(|t| !t.disabled))
}

/// The default maximum number of active (non-expired, non-revoked) API keys per tenant.
pub const DEFAULT_MAX_API_KEYS: u32 = 4;
/// The largest maximum an operator may configure.
pub const MAX_MAX_API_KEYS: u32 = 1000;
/// Longest tenant name.
pub const MAX_TENANT_NAME_LEN: usize = 256;

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// A disabled tenant's tokens and API keys stop working at once.
    pub disabled: bool,
    /// API keys can be created and used only while this is on.
    pub api_access_enabled: bool,
    /// The maximum number of active API keys.
    pub max_api_keys: u32,
    /// The scopes this tenant's API keys may carry; `None` = unrestricted.
    pub allowed_scopes: Option<ScopeSet>,
}

impl Tenant {
    /// Whether `requested` is allowed by the tenant's scope restriction; returns the scopes
    /// that are not allowed (empty when all are).
    pub fn disallowed_scopes(&self, requested: &ScopeSet) -> Vec<String> {
        match &self.allowed_scopes {
            None => Vec::new(),
            Some(allowed) => requested.difference(allowed),
        }
    }
}

/// What an operator asks for when creating a tenant (raw CLI/API input).
#[derive(Debug, Clone, Default)]
pub struct TenantRegistration {
    pub name: String,
    /// `enabled` (default) or `disabled`.
    pub api_access: Option<String>,
    /// Space-separated scopes; `None` = unrestricted.
    pub scope: Option<String>,
    /// Default [`DEFAULT_MAX_API_KEYS`].
    pub max_api_keys: Option<u32>,
}

/// Checks a tenant's display name: 1 to 256 characters, no control characters.
pub fn validate_tenant_name(name: &str) -> Result<(), FieldError> {
    let n = name.chars().count();
    if name.trim().is_empty() || n > MAX_TENANT_NAME_LEN {
        return Err(FieldError::new(
            Field::Name,
            format!("a tenant name has 1 to {MAX_TENANT_NAME_LEN} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            Field::Name,
            "control characters are not allowed",
        ));
    }
    Ok(())
}

/// Parses `enabled` / `disabled`.
pub fn parse_api_access(s: &str) -> Result<bool, FieldError> {
    match s {
        "enabled" => Ok(true),
        "disabled" => Ok(false),
        other => Err(FieldError::new(
            Field::ApiAccess,
            format!("expected enabled or disabled, got {other:?}"),
        )),
    }
}

/// Checks a tenant's maximum of active API keys: 1 to [`MAX_MAX_API_KEYS`].
pub fn validate_max_api_keys(n: u32) -> Result<(), FieldError> {
    if n == 0 || n > MAX_MAX_API_KEYS {
        return Err(FieldError::new(
            Field::MaxApiKeys,
            format!("must be between 1 and {MAX_MAX_API_KEYS}"),
        ));
    }
    Ok(())
}

/// Parses the scopes a tenant's API keys may carry. `None` (no restriction) is said by leaving
/// the field out, so an empty list is refused rather than read as "nothing allowed".
pub fn parse_allowed_scopes(s: &str) -> Result<ScopeSet, FieldError> {
    let set = ScopeSet::parse(s).map_err(|e| FieldError::new(Field::AllowedScopes, e))?;
    if set.is_empty() {
        return Err(FieldError::new(
            Field::AllowedScopes,
            "give at least one scope, or leave the field out for no restriction",
        ));
    }
    Ok(set)
}

impl TenantRegistration {
    /// Validates the input into a new tenant with a fresh id. Operator-created tenants have
    /// API access enabled unless asked otherwise.
    pub fn validate(self, now: DateTime<Utc>) -> Result<Tenant, FieldError> {
        validate_tenant_name(&self.name)?;
        let api_access_enabled = match self.api_access.as_deref() {
            None => true,
            Some(s) => parse_api_access(s)?,
        };
        let allowed_scopes = self
            .scope
            .as_deref()
            .map(parse_allowed_scopes)
            .transpose()?;
        let max_api_keys = self.max_api_keys.unwrap_or(DEFAULT_MAX_API_KEYS);
        validate_max_api_keys(max_api_keys)?;
        Ok(Tenant {
            id: TenantId::generate(),
            name: self.name,
            created_at: now,
            disabled: false,
            api_access_enabled,
            max_api_keys,
            allowed_scopes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(name: &str) -> TenantRegistration {
        TenantRegistration {
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn operator_created_tenants_default_to_api_access_and_four_keys() {
        let t = reg("Acme").validate(Utc::now()).unwrap();
        assert!(t.api_access_enabled);
        assert!(!t.disabled);
        assert_eq!(t.max_api_keys, 4);
        assert_eq!(t.allowed_scopes, None);
    }

    #[test]
    fn bad_fields_are_named_in_the_error() {
        let mut r = reg("Acme");
        r.api_access = Some("on".into());
        assert_eq!(r.validate(Utc::now()).unwrap_err().field, Field::ApiAccess);
        let mut r = reg("Acme");
        r.scope = Some("bad\"scope".into());
        assert_eq!(
            r.validate(Utc::now()).unwrap_err().field,
            Field::AllowedScopes
        );
        let mut r = reg("Acme");
        r.scope = Some(" ".into());
        assert_eq!(
            r.validate(Utc::now()).unwrap_err().field,
            Field::AllowedScopes
        );
        let mut r = reg("Acme");
        r.max_api_keys = Some(0);
        assert_eq!(r.validate(Utc::now()).unwrap_err().field, Field::MaxApiKeys);
        assert_eq!(reg("").validate(Utc::now()).unwrap_err().field, Field::Name);
        assert!(reg(&"x".repeat(257)).validate(Utc::now()).is_err());
    }

    #[test]
    fn scope_restriction_reports_the_disallowed_scopes() {
        let mut r = reg("Acme");
        r.scope = Some("files:read files:write".into());
        let t = r.validate(Utc::now()).unwrap();
        let asked = ScopeSet::parse("files:read admin:all").unwrap();
        assert_eq!(t.disallowed_scopes(&asked), vec!["admin:all".to_owned()]);
    }
}

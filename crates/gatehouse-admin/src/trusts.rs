//! Trusts of the JWT bearer grant (RFC 7523 §2.1): assertions by an issuer about one subject,
//! signed with a registered key, may be exchanged for access tokens carrying at most the
//! trust's scopes — so admin scopes among them are handed on only by callers who hold them.

use gatehouse_core::TenantId;
use gatehouse_core::admin::{Access, Grantee, Operation, Resource};
use gatehouse_core::field::{Field, FieldError};
use gatehouse_core::jwt_bearer::Trust;
use gatehouse_core::{ScopeSet, token};
use gatehouse_jose::client_assertion::parse_public_jwks;

use crate::actor::Context;
use crate::error::OpError;
use crate::views::TrustView;

/// A trust to register.
#[derive(Debug, Clone)]
pub struct NewTrust {
    pub issuer: String,
    pub subject: String,
    /// The issuer's public keys: a JWKS document.
    pub jwks: serde_json::Value,
    /// The most an access token may carry, space separated.
    pub scope: Option<String>,
}

fn printable(field: Field, v: &str) -> Result<(), FieldError> {
    if v.trim().is_empty() || v.len() > 512 || v.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must be 1 to 512 printable characters",
        ));
    }
    Ok(())
}

/// Registers a trust in `tenant`. Trusts let outside issuers obtain tokens, so registering one
/// is a change to the tenant's clients.
pub async fn create(
    ctx: &Context<'_>,
    tenant: &TenantId,
    new: NewTrust,
) -> Result<TrustView, OpError> {
    ctx.require(Resource::Clients, Access::Write)?;
    ctx.authorize_in(Operation::Write(Resource::Clients, tenant), tenant)?;
    let scopes = ScopeSet::parse(new.scope.as_deref().unwrap_or(""))
        .map_err(|e| FieldError::new(Field::Scope, e))?;
    ctx.authorize_global(Operation::Grant(Grantee::Trust, &scopes))?;
    printable(Field::Issuer, &new.issuer)?;
    printable(Field::Subject, &new.subject)?;
    parse_public_jwks(&new.jwks).map_err(|e| FieldError::new(Field::Jwks, e))?;
    ctx.existing_tenant(tenant).await?;
    let t = Trust {
        id: format!("trust_{}", token::new_jti()),
        tenant_id: tenant.clone(),
        issuer: new.issuer,
        subject: new.subject,
        jwks: new.jwks,
        scopes,
        created_at: ctx.now,
    };
    ctx.store.insert_trust(&t).await?;
    let details = serde_json::json!({
        "issuer": t.issuer,
        "subject": t.subject,
        "scope": t.scopes.to_string(),
    });
    ctx.audit(Some(tenant.as_str()), "trust.create", &t.id, details)
        .await?;
    Ok(TrustView::from(&t))
}

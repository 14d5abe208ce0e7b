//! Trusts of the JWT bearer grant (RFC 7523 §2.1): assertions by an issuer about one subject,
//! signed with a registered key, may be exchanged for access tokens carrying at most the
//! trust's scopes — so admin scopes among them are handed on only by callers who hold them.
//! Register, list, read and delete (a deleted trust's assertions are refused at once: trusts
//! are read from storage on every JWT bearer grant).

use gatehouse_core::TenantId;
use gatehouse_core::admin::{Access, Grantee, Operation, Resource};
use gatehouse_core::field::{Field, FieldError};
use gatehouse_core::jwt_bearer::Trust;
use gatehouse_core::{ScopeSet, token};
use gatehouse_jose::client_assertion::parse_public_jwks;

use crate::actor::Context;
use crate::error::{Object, OpError};
use crate::views::{Deleted, TrustList, TrustView};

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

/// The trusts of `tenant`, by issuer and subject (never their keys).
pub async fn list(ctx: &Context<'_>, tenant: &TenantId) -> Result<TrustList, OpError> {
    ctx.require(Resource::Clients, Access::Read)?;
    ctx.authorize_in(Operation::Read(Resource::Clients, tenant), tenant)?;
    let trusts = ctx.store.list_trusts(tenant).await?;
    Ok(TrustList {
        tenant: tenant.clone(),
        trusts: trusts.iter().map(TrustView::from).collect(),
    })
}

/// The trust `id`, after the policy allowed `access` to its tenant's clients.
async fn visible(ctx: &Context<'_>, id: &str, access: Access) -> Result<Trust, OpError> {
    ctx.require(Resource::Clients, access)?;
    let not_found = || OpError::NotFound {
        what: Object::Trust,
        id: id.to_owned(),
    };
    let t = ctx.store.get_trust(id).await?.ok_or_else(not_found)?;
    let op = match access {
        Access::Read => Operation::Read(Resource::Clients, &t.tenant_id),
        Access::Write => Operation::Write(Resource::Clients, &t.tenant_id),
    };
    ctx.authorize(op, Object::Trust, id)?;
    Ok(t)
}

/// One trust.
pub async fn get(ctx: &Context<'_>, id: &str) -> Result<TrustView, OpError> {
    visible(ctx, id, Access::Read)
        .await
        .map(|t| TrustView::from(&t))
}

/// Deletes a trust: tokens already issued stay valid until they expire, new assertions of
/// its issuer and subject are refused.
pub async fn delete(ctx: &Context<'_>, id: &str) -> Result<Deleted, OpError> {
    let t = visible(ctx, id, Access::Write).await?;
    if !ctx.store.delete_trust(id).await? {
        return Err(OpError::NotFound {
            what: Object::Trust,
            id: id.to_owned(),
        });
    }
    let details = serde_json::json!({ "issuer": t.issuer, "subject": t.subject });
    ctx.audit(Some(t.tenant_id.as_str()), "trust.delete", &t.id, details)
        .await?;
    Ok(Deleted {
        id: t.id,
        deleted: true,
    })
}

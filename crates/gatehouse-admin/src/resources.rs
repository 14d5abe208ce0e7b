//! Resource servers of RFC 8707: the resources a tenant's clients may name with `resource`,
//! each with the scopes it understands and, optionally, its own access-token lifetime and
//! signing algorithm. Registering one changes what the tenant's clients can obtain, so it
//! takes the right to write the tenant's clients.

use gatehouse_core::admin::{Access, Operation, Resource};
use gatehouse_core::field::{Field, FieldError};
use gatehouse_core::resource::{ResourceServer, ResourceUri};
use gatehouse_core::{ScopeSet, SigningAlg, TenantId, token};

use crate::actor::Context;
use crate::error::{Object, OpError};
use crate::views::{ResourceList, ResourceView};

/// Longest access-token lifetime a resource may set: one day.
const MAX_TTL: i64 = 86_400;

/// A resource server to register.
#[derive(Debug, Clone)]
pub struct NewResource {
    pub identifier: String,
    /// Space separated; at least one scope.
    pub scope: String,
    pub access_token_ttl: Option<i64>,
    pub alg: Option<String>,
}

/// Parses a resource identifier given by an operator.
pub fn parse_identifier(field: Field, raw: &str) -> Result<ResourceUri, FieldError> {
    ResourceUri::parse(raw).map_err(|e| FieldError::new(field, e))
}

fn validate(
    tenant: &TenantId,
    new: NewResource,
    ctx: &Context<'_>,
) -> Result<ResourceServer, FieldError> {
    let identifier = parse_identifier(Field::Identifier, &new.identifier)?;
    let scopes = ScopeSet::parse(&new.scope).map_err(|e| FieldError::new(Field::Scope, e))?;
    if scopes.is_empty() {
        return Err(FieldError::new(
            Field::Scope,
            "at least one scope is required",
        ));
    }
    if new
        .access_token_ttl
        .is_some_and(|t| !(60..=MAX_TTL).contains(&t))
    {
        return Err(FieldError::new(
            Field::AccessTokenTtl,
            format!("must be between 60 and {MAX_TTL} seconds"),
        ));
    }
    let alg = new
        .alg
        .as_deref()
        .map(SigningAlg::parse)
        .transpose()
        .map_err(|e| FieldError::new(Field::Alg, e))?;
    Ok(ResourceServer {
        id: format!("rs_{}", token::new_jti()),
        tenant_id: tenant.clone(),
        identifier,
        scopes,
        access_token_ttl: new.access_token_ttl,
        access_token_alg: alg,
        created_at: ctx.now,
    })
}

/// Registers a resource server in `tenant`.
pub async fn create(
    ctx: &Context<'_>,
    tenant: &TenantId,
    new: NewResource,
) -> Result<ResourceView, OpError> {
    ctx.require(Resource::Clients, Access::Write)?;
    ctx.authorize_in(Operation::Write(Resource::Clients, tenant), tenant)?;
    let r = validate(tenant, new, ctx)?;
    ctx.existing_tenant(tenant).await?;
    ctx.store.insert_resource(&r).await?;
    let details = serde_json::json!({
        "identifier": r.identifier.as_str(),
        "scope": r.scopes.to_string(),
        "access_token_ttl": r.access_token_ttl,
        "alg": r.access_token_alg.map(SigningAlg::as_str),
    });
    ctx.audit(Some(tenant.as_str()), "resource.create", &r.id, details)
        .await?;
    Ok(ResourceView::from(&r))
}

/// The resource servers of `tenant`.
pub async fn list(ctx: &Context<'_>, tenant: &TenantId) -> Result<ResourceList, OpError> {
    ctx.require(Resource::Clients, Access::Read)?;
    ctx.authorize_in(Operation::Read(Resource::Clients, tenant), tenant)?;
    ctx.existing_tenant(tenant).await?;
    let all = ctx.store.list_resources(tenant).await?;
    Ok(ResourceList {
        resources: all.iter().map(ResourceView::from).collect(),
    })
}

/// Deletes the resource server `identifier` of `tenant`. Clients restricted to it stay
/// restricted (and can no longer target it).
pub async fn delete(
    ctx: &Context<'_>,
    tenant: &TenantId,
    identifier: &str,
) -> Result<ResourceView, OpError> {
    ctx.require(Resource::Clients, Access::Write)?;
    ctx.authorize_in(Operation::Write(Resource::Clients, tenant), tenant)?;
    let id = parse_identifier(Field::Identifier, identifier)?;
    ctx.existing_tenant(tenant).await?;
    let found = ctx
        .store
        .list_resources(tenant)
        .await?
        .into_iter()
        .find(|r| r.identifier == id)
        .ok_or_else(|| OpError::NotFound {
            what: Object::Resource,
            id: identifier.to_owned(),
        })?;
    ctx.store.delete_resource(tenant, &id).await?;
    let details = serde_json::json!({ "identifier": id.as_str() });
    ctx.audit(Some(tenant.as_str()), "resource.delete", &found.id, details)
        .await?;
    Ok(ResourceView::from(&found))
}

//! A tenant's API keys (issue 4): create under the tenant's policy and limit (the secret is
//! answered once, never stored), list (never the secret), revoke at once. A caller cannot mint
//! a key with admin rights it does not hold itself.

use std::collections::BTreeSet;

use gatehouse_core::TenantId;
use gatehouse_core::admin::{Access, Grantee, Operation, Resource};
use gatehouse_core::apikey::{ApiKey, ApiKeyPrefixes, ApiKeyRequest, parse_scopes};
use gatehouse_core::field::{Field, FieldError};
use gatehouse_store::CreateApiKeyError;
use serde_json::json;

use crate::actor::{Context, Precondition};
use crate::error::{Object, OpError};
use crate::views::{ApiKeyList, ApiKeyView, CreatedApiKey, RevokedApiKey, ShownOnce};

/// The deployment's API-key settings the operations need.
#[derive(Debug, Clone)]
pub struct ApiKeyPolicy {
    pub prefixes: ApiKeyPrefixes,
    /// The configured rate-limit classes; a key may name only one of them.
    pub rate_limit_classes: BTreeSet<String>,
    /// Listings warn about keys expiring within this many days.
    pub expiry_warning_days: i64,
}

/// Creates a key in `tenant`; the answer holds the secret, shown this once.
pub async fn create(
    ctx: &Context<'_>,
    policy: &ApiKeyPolicy,
    tenant: &TenantId,
    req: ApiKeyRequest,
) -> Result<CreatedApiKey, OpError> {
    ctx.require(Resource::ApiKeys, Access::Write)?;
    ctx.authorize_in(Operation::Write(Resource::ApiKeys, tenant), tenant)?;
    let scopes = parse_scopes(req.scope.as_deref())?;
    ctx.authorize_global(Operation::Grant(Grantee::ApiKey, &scopes))?;
    if let Some(class) = &req.rate_limit_class
        && !policy.rate_limit_classes.contains(class)
    {
        let known: Vec<&str> = policy
            .rate_limit_classes
            .iter()
            .map(String::as_str)
            .collect();
        return Err(FieldError::new(
            Field::RateLimitClass,
            format!(
                "no class {class:?} is configured (configured: {})",
                known.join(", ")
            ),
        )
        .into());
    }
    // The rest of the validation runs in the creating transaction, against the tenant's
    // policy and its count of active keys.
    let new = ctx
        .store
        .create_api_key(tenant, req, &policy.prefixes, ctx.now)
        .await
        .map_err(|e| match e {
            CreateApiKeyError::Refused(r) => r.into(),
            CreateApiKeyError::Store(gatehouse_store::Error::NotFound(_)) => {
                OpError::UnknownTenant(tenant.to_string())
            }
            CreateApiKeyError::Store(e) => e.into(),
        })?;
    let key = ApiKeyView::new(&new.key, ctx.now, policy.expiry_warning_days);
    let details = json!({
        "name": key.name,
        "prefix": key.prefix,
        "scopes": key.scopes,
        "environment": key.environment,
        "expires_at": key.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    ctx.audit(Some(tenant.as_str()), "api_key.create", &key.id, details)
        .await?;
    Ok(CreatedApiKey {
        key,
        secret: ShownOnce::new(new.secret.expose()),
    })
}

/// A tenant's keys (revoked and expired ones included, marked) and where it stands against
/// its limit.
pub async fn list(
    ctx: &Context<'_>,
    policy: &ApiKeyPolicy,
    tenant: &TenantId,
) -> Result<ApiKeyList, OpError> {
    ctx.require(Resource::ApiKeys, Access::Read)?;
    ctx.authorize_in(Operation::Read(Resource::ApiKeys, tenant), tenant)?;
    let Some(t) = ctx.store.get_tenant(tenant).await? else {
        return Err(OpError::UnknownTenant(tenant.to_string()));
    };
    let keys: Vec<ApiKeyView> = ctx
        .store
        .list_api_keys(tenant)
        .await?
        .iter()
        .map(|k| ApiKeyView::new(k, ctx.now, policy.expiry_warning_days))
        .collect();
    Ok(ApiKeyList {
        tenant: tenant.clone(),
        api_access_enabled: t.api_access_enabled,
        max_api_keys: t.max_api_keys,
        active_api_keys: keys.iter().filter(|k| k.is_active()).count(),
        api_keys: keys,
    })
}

/// Up to `limit` keys of `tenant` with an id greater than `after`, by id.
pub async fn page(
    ctx: &Context<'_>,
    policy: &ApiKeyPolicy,
    tenant: &TenantId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<ApiKeyView>, OpError> {
    ctx.require(Resource::ApiKeys, Access::Read)?;
    ctx.authorize_in(Operation::Read(Resource::ApiKeys, tenant), tenant)?;
    let mut keys = ctx.store.list_api_keys(tenant).await?;
    keys.retain(|k| after.is_none_or(|a| k.id.as_str() > a));
    keys.sort_by(|a, b| a.id.cmp(&b.id));
    keys.truncate(limit);
    Ok(keys
        .iter()
        .map(|k| ApiKeyView::new(k, ctx.now, policy.expiry_warning_days))
        .collect())
}

/// The key `id`, after the policy allowed `access` to keys of its tenant.
async fn visible(ctx: &Context<'_>, id: &str, access: Access) -> Result<ApiKey, OpError> {
    ctx.require(Resource::ApiKeys, access)?;
    let k = ctx
        .store
        .get_api_key(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let op = match access {
        Access::Read => Operation::Read(Resource::ApiKeys, &k.tenant_id),
        Access::Write => Operation::Write(Resource::ApiKeys, &k.tenant_id),
    };
    ctx.authorize(op, Object::ApiKey, id)?;
    Ok(k)
}

fn not_found(id: &str) -> OpError {
    OpError::NotFound {
        what: Object::ApiKey,
        id: id.to_owned(),
    }
}

/// One key (never its secret).
pub async fn get(
    ctx: &Context<'_>,
    policy: &ApiKeyPolicy,
    id: &str,
) -> Result<ApiKeyView, OpError> {
    let k = visible(ctx, id, Access::Read).await?;
    Ok(ApiKeyView::new(&k, ctx.now, policy.expiry_warning_days))
}

/// Revokes a key, effective at once: the next request with it is refused.
pub async fn revoke(
    ctx: &Context<'_>,
    id: &str,
    precondition: Precondition<'_, ApiKey>,
) -> Result<RevokedApiKey, OpError> {
    let k = visible(ctx, id, Access::Write).await?;
    if precondition.is_some_and(|p| !p(&k)) {
        return Err(OpError::Stale);
    }
    let k = ctx
        .store
        .revoke_api_key(id, ctx.now)
        .await
        .map_err(|e| match e {
            gatehouse_store::Error::NotFound(_) => not_found(id),
            e => e.into(),
        })?;
    ctx.audit(
        Some(k.tenant_id.as_str()),
        "api_key.revoke",
        &k.id,
        json!({ "name": k.name, "prefix": k.prefix }),
    )
    .await?;
    Ok(RevokedApiKey {
        id: k.id,
        tenant: k.tenant_id,
        revoked: true,
        revoked_at: k.revoked_at,
    })
}

//! Tenants (organizations): creating, deleting and governing them are platform actions; a
//! tenant administrator reads and renames its own tenant. Every surface names a tenant by id
//! or by name through [`resolve`].

use gatehouse_core::TenantId;
use gatehouse_core::admin::{Access, Operation, Principal, Resource};
use gatehouse_core::field::{Field, FieldError};
use gatehouse_core::tenant::{
    Tenant, TenantRegistration, parse_allowed_scopes, parse_api_access, validate_max_api_keys,
    validate_tenant_name,
};
use serde_json::json;

use crate::actor::{Context, Precondition};
use crate::error::{Object, OpError};
use crate::views::{DeletedTenant, TenantList, TenantView};

/// Changes to a tenant; absent fields stay. Only a platform administrator may change
/// `disabled`, `api_access`, `max_api_keys` and `allowed_scopes`.
#[derive(Debug, Clone, Default)]
pub struct TenantChanges {
    pub name: Option<String>,
    pub disabled: Option<bool>,
    /// `enabled` or `disabled`.
    pub api_access: Option<String>,
    pub max_api_keys: Option<u32>,
    /// Space-separated scopes; empty lifts the restriction.
    pub allowed_scopes: Option<String>,
}

impl TenantChanges {
    fn governs(&self) -> bool {
        self.disabled.is_some()
            || self.api_access.is_some()
            || self.max_api_keys.is_some()
            || self.allowed_scopes.is_some()
    }
}

/// Creates a tenant.
pub async fn create(ctx: &Context<'_>, reg: TenantRegistration) -> Result<TenantView, OpError> {
    ctx.authorize_global(Operation::CreateTenant)?;
    let t = reg.validate(ctx.now)?;
    ctx.store.insert_tenant(&t).await?;
    let view = TenantView::from(&t);
    let details = serde_json::to_value(&view).map_err(|e| OpError::Storage(e.to_string()))?;
    ctx.audit(Some(t.id.as_str()), "tenant.create", t.id.as_str(), details)
        .await?;
    Ok(view)
}

/// The tenants the caller may see, as stored.
pub async fn list(ctx: &Context<'_>) -> Result<TenantList, OpError> {
    ctx.require(Resource::Organizations, Access::Read)?;
    let tenants = ctx.store.list_tenants().await?;
    Ok(TenantList {
        tenants: tenants
            .iter()
            .filter(|t| visible(ctx, t))
            .map(TenantView::from)
            .collect(),
    })
}

fn visible(ctx: &Context<'_>, t: &Tenant) -> bool {
    ctx.authorize_in(Operation::Read(Resource::Organizations, &t.id), &t.id)
        .is_ok()
}

/// Up to `limit` tenants the caller may see with an id greater than `after`, by id.
pub async fn page(
    ctx: &Context<'_>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<TenantView>, OpError> {
    let mut tenants = list(ctx).await?.tenants;
    tenants.retain(|t| after.is_none_or(|a| t.id.as_str() > a));
    tenants.sort_by(|a, b| a.id.cmp(&b.id));
    tenants.truncate(limit);
    Ok(tenants)
}

/// The caller's own tenant (any admin scope may read it).
pub async fn own(ctx: &Context<'_>) -> Result<TenantView, OpError> {
    let home = ctx.actor.principal.home_tenant();
    ctx.authorize_in(Operation::ReadOwnTenant, &home)?;
    load(ctx, home.as_str()).await.map(|t| TenantView::from(&t))
}

/// One tenant by id.
pub async fn get(ctx: &Context<'_>, id: &str) -> Result<TenantView, OpError> {
    ctx.require(Resource::Organizations, Access::Read)?;
    let tid = parse_id(id)?;
    ctx.authorize_in(Operation::Read(Resource::Organizations, &tid), &tid)?;
    load(ctx, id).await.map(|t| TenantView::from(&t))
}

/// The tenant a page or form about `resource` shows, when the caller has `access` to
/// `resource` in it.
pub async fn context(
    ctx: &Context<'_>,
    tenant: &TenantId,
    resource: Resource,
    access: Access,
) -> Result<TenantView, OpError> {
    ctx.require(resource, access)?;
    let op = match access {
        Access::Read => Operation::Read(resource, tenant),
        Access::Write => Operation::Write(resource, tenant),
    };
    ctx.authorize_in(op, tenant)?;
    match ctx.store.get_tenant(tenant).await? {
        Some(t) => Ok(TenantView::from(&t)),
        None => Err(OpError::UnknownTenant(tenant.to_string())),
    }
}

fn parse_id(id: &str) -> Result<TenantId, OpError> {
    TenantId::parse(id).map_err(|_| OpError::NotFound {
        what: Object::Tenant,
        id: id.to_owned(),
    })
}

async fn load(ctx: &Context<'_>, id: &str) -> Result<Tenant, OpError> {
    ctx.store
        .get_tenant(&parse_id(id)?)
        .await?
        .ok_or_else(|| OpError::NotFound {
            what: Object::Tenant,
            id: id.to_owned(),
        })
}

/// The validated values of [`TenantChanges`].
struct Checked {
    api_access: Option<bool>,
    /// `Some(None)` lifts the restriction.
    allowed_scopes: Option<Option<gatehouse_core::ScopeSet>>,
}

fn check(changes: &TenantChanges) -> Result<Checked, OpError> {
    if let Some(n) = &changes.name {
        validate_tenant_name(n)?;
    }
    if let Some(n) = changes.max_api_keys {
        validate_max_api_keys(n)?;
    }
    let api_access = changes
        .api_access
        .as_deref()
        .map(parse_api_access)
        .transpose()?;
    let allowed_scopes = match changes.allowed_scopes.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(s) => Some(Some(parse_allowed_scopes(s)?)),
    };
    Ok(Checked {
        api_access,
        allowed_scopes,
    })
}

/// Renames, disables or enables a tenant, or changes its API-key policy. Everything is
/// validated before the first write; each change is its own audit event. The `default`
/// tenant cannot be disabled.
pub async fn update(
    ctx: &Context<'_>,
    id: &str,
    changes: TenantChanges,
    precondition: Precondition<'_, TenantView>,
) -> Result<TenantView, OpError> {
    ctx.require(Resource::Organizations, Access::Write)?;
    let tid = parse_id(id)?;
    ctx.authorize_in(Operation::Write(Resource::Organizations, &tid), &tid)?;
    if changes.governs() {
        ctx.authorize_in(Operation::GovernTenant(&tid), &tid)?;
    }
    let current = TenantView::from(&load(ctx, id).await?);
    if precondition.is_some_and(|p| !p(&current)) {
        return Err(OpError::Stale);
    }
    let checked = check(&changes)?;
    if changes.disabled == Some(true) && tid.as_str() == TenantId::DEFAULT {
        return Err(OpError::Refused(format!(
            "the {} tenant cannot be disabled: it is the operator's home tenant, and its \
             platform administrators would be locked out",
            TenantId::DEFAULT
        )));
    }
    let (store, t) = (ctx.store, tid.as_str());
    let mut latest = None;
    if let Some(n) = &changes.name {
        latest = Some(store.rename_tenant(&tid, n).await?);
        ctx.audit(Some(t), "tenant.rename", t, json!({ "name": n }))
            .await?;
    }
    if let Some(d) = changes.disabled {
        latest = Some(store.set_tenant_disabled(&tid, d).await?);
        let action = if d { "tenant.disable" } else { "tenant.enable" };
        ctx.audit(Some(t), action, t, json!({})).await?;
    }
    if let Some(enabled) = checked.api_access {
        latest = Some(store.set_tenant_api_access(&tid, enabled).await?);
        let details = json!({ "api_access_enabled": enabled });
        ctx.audit(Some(t), "tenant.api_access", t, details).await?;
    }
    if let Some(n) = changes.max_api_keys {
        latest = Some(store.set_tenant_max_api_keys(&tid, n).await?);
        let details = json!({ "max_api_keys": n });
        ctx.audit(Some(t), "tenant.max_api_keys", t, details)
            .await?;
    }
    if let Some(s) = checked.allowed_scopes {
        latest = Some(store.set_tenant_allowed_scopes(&tid, s.as_ref()).await?);
        let details = json!({ "allowed_scopes": s.as_ref().map(ToString::to_string) });
        ctx.audit(Some(t), "tenant.allowed_scopes", t, details)
            .await?;
    }
    Ok(latest.map_or(current, |t| TenantView::from(&t)))
}

/// The tenant `given` names: its id, else its name among the tenants the caller may see (so a
/// name never reveals another tenant). A name several visible tenants share is refused with
/// their ids.
pub async fn resolve(ctx: &Context<'_>, given: &str) -> Result<TenantId, OpError> {
    if let Ok(id) = TenantId::parse(given)
        && ctx.store.tenant_exists(&id).await?
    {
        return Ok(id);
    }
    let may_see = |t: &Tenant| match &ctx.actor.principal {
        Principal::LocalOperator { .. } => true,
        Principal::Admin(p) => p.may_access_tenant(&t.id),
    };
    let named: Vec<Tenant> = ctx
        .store
        .tenants_named(given)
        .await?
        .into_iter()
        .filter(may_see)
        .collect();
    match named.as_slice() {
        [] => Err(OpError::UnknownTenant(given.to_owned())),
        [one] => Ok(one.id.clone()),
        many => {
            let ids: Vec<&str> = many.iter().map(|t| t.id.as_str()).collect();
            Err(FieldError::new(
                Field::Tenant,
                format!(
                    "{} tenants are named {given:?}; give one of their ids: {}",
                    many.len(),
                    ids.join(", ")
                ),
            )
            .into())
        }
    }
}

/// The tenant a request names (by id or name), or the caller's own when it names none.
pub async fn resolve_or_home(ctx: &Context<'_>, given: Option<&str>) -> Result<TenantId, OpError> {
    match given {
        None => Ok(ctx.actor.principal.home_tenant()),
        Some(g) => resolve(ctx, g).await,
    }
}

/// Deletes a tenant (platform administrators) with everything it owns: users with their
/// sessions, consents, codes and refresh tokens; clients; API keys; JWT bearer trusts. The
/// audit trail keeps the tenant's events. The `default` tenant cannot be deleted.
pub async fn delete(ctx: &Context<'_>, id: &str) -> Result<DeletedTenant, OpError> {
    ctx.require(Resource::Organizations, Access::Write)?;
    let tid = parse_id(id)?;
    ctx.authorize_in(Operation::GovernTenant(&tid), &tid)?;
    if tid.as_str() == TenantId::DEFAULT {
        return Err(OpError::Refused(format!(
            "the {} tenant cannot be deleted: it is the operator's home tenant",
            TenantId::DEFAULT
        )));
    }
    let t = load(ctx, id).await?;
    let Some(removed) = ctx.store.delete_tenant(&tid).await? else {
        return Err(OpError::NotFound {
            what: Object::Tenant,
            id: id.to_owned(),
        });
    };
    let out = DeletedTenant {
        id: t.id,
        name: t.name,
        deleted: true,
        users: removed.users,
        clients: removed.clients,
        api_keys: removed.api_keys,
        trusts: removed.trusts,
    };
    let details = serde_json::to_value(&out).map_err(|e| OpError::Storage(e.to_string()))?;
    ctx.audit(Some(tid.as_str()), "tenant.delete", tid.as_str(), details)
        .await?;
    Ok(out)
}

//! Reading the audit trail (append-only; there is no operation that changes it). A caller reads
//! its own tenant's events; a platform administrator and the local operator read every
//! tenant's, or one tenant's when they name it.

use gatehouse_core::TenantId;
use gatehouse_core::admin::{Access, Operation, Resource, authorize};
use gatehouse_core::audit::AuditEvent;
use gatehouse_core::field::{Field, FieldError};
use gatehouse_store::audit::MAX_AUDIT_PAGE;

use crate::actor::Context;
use crate::error::OpError;
use crate::views::AuditPage;

/// The tenant whose events a listing shows: the named one, else every tenant when the caller
/// may read them all, else the caller's own.
fn scope(ctx: &Context<'_>, tenant: Option<&TenantId>) -> Result<Option<TenantId>, OpError> {
    ctx.require(Resource::Audit, Access::Read)?;
    match tenant {
        Some(t) => {
            ctx.authorize_in(Operation::Read(Resource::Audit, t), t)?;
            Ok(Some(t.clone()))
        }
        None if authorize(
            &ctx.actor.principal,
            Operation::ReadEveryTenant(Resource::Audit),
        )
        .is_ok() =>
        {
            Ok(None)
        }
        None => Ok(Some(ctx.actor.principal.home_tenant())),
    }
}

/// Events with an id greater than `after` (0 or more), at most `limit` (1 to 1000), oldest
/// first.
pub async fn list(
    ctx: &Context<'_>,
    tenant: Option<&TenantId>,
    after: i64,
    limit: u64,
) -> Result<AuditPage, OpError> {
    let tenant = scope(ctx, tenant)?;
    if after < 0 {
        return Err(FieldError::new(Field::After, "must be 0 or more").into());
    }
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(FieldError::new(
            Field::Limit,
            format!("must be between 1 and {MAX_AUDIT_PAGE}"),
        )
        .into());
    }
    let events = ctx
        .store
        .audit()
        .list_after(after, limit, tenant.as_ref().map(TenantId::as_str))
        .await?;
    let next_after = events.last().map_or(after, |e| e.id);
    Ok(AuditPage { events, next_after })
}

/// Up to `limit` events of `tenant` with an id below `before`, newest first (a console page
/// that pages towards older events).
pub async fn list_before(
    ctx: &Context<'_>,
    tenant: &TenantId,
    before: i64,
    limit: u64,
) -> Result<Vec<AuditEvent>, OpError> {
    scope(ctx, Some(tenant))?;
    Ok(ctx
        .store
        .audit()
        .list_before(
            before,
            limit.clamp(1, MAX_AUDIT_PAGE),
            Some(tenant.as_str()),
        )
        .await?)
}

/// The id of the newest event the caller may read (0 when none), to follow only new ones.
pub async fn last_id(ctx: &Context<'_>) -> Result<i64, OpError> {
    scope(ctx, None)?;
    Ok(ctx.store.audit().last_id().await?)
}

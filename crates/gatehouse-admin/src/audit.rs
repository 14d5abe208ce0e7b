//! Reading the audit trail (append-only; there is no operation that changes it). A caller reads
//! its own tenant's events; a platform administrator and the local operator read every
//! tenant's, or one tenant's when they name it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use gatehouse_core::TenantId;
use gatehouse_core::admin::{Access, Operation, Principal, Resource, authorize};
use gatehouse_core::audit::{ActorKind, AuditEvent};
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

/// Which events a search keeps; absent members keep everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The actor's id or name, or a part of either (case-insensitive).
    pub actor: Option<String>,
    /// The action, or its prefix (`user.` keeps every user action).
    pub action: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: Option<String>,
    /// Only events at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only events before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// A page of a search, newest first, with the names of the ids it shows.
#[derive(Debug, Clone, Default)]
pub struct FoundEvents {
    pub events: Vec<AuditEvent>,
    /// Names of users, clients and tenants by id, for those the caller may see.
    pub names: HashMap<String, String>,
    /// The cursor of the next older page (`before`), when there may be one.
    pub next_before: Option<i64>,
}

/// How many events one search examines at most: a filter that matches rarely answers a
/// shorter page and a cursor, never an unbounded scan.
pub const SEARCH_SCAN: u64 = 1000;
const SEARCH_BATCH: u64 = 200;

/// Up to `limit` events of `tenant` with ids below `before` that pass `filter`, newest first,
/// examining at most [`SEARCH_SCAN`] events.
pub async fn search(
    ctx: &Context<'_>,
    tenant: &TenantId,
    before: i64,
    limit: u64,
    filter: &AuditFilter,
) -> Result<FoundEvents, OpError> {
    scope(ctx, Some(tenant))?;
    let mut found = FoundEvents::default();
    let (mut cursor, mut scanned) = (before, 0);
    loop {
        let batch = ctx
            .store
            .audit()
            .list_before(cursor, SEARCH_BATCH, Some(tenant.as_str()))
            .await?;
        let exhausted = (batch.len() as u64) < SEARCH_BATCH;
        for e in batch {
            scanned += 1;
            cursor = e.id;
            if filter.from.is_some_and(|f| e.event.at < f) {
                return finish(ctx, found).await;
            }
            if keeps(ctx, filter, &e, &mut found.names).await? {
                found.events.push(e);
                if found.events.len() as u64 >= limit {
                    found.next_before = Some(cursor);
                    return finish(ctx, found).await;
                }
            }
        }
        if exhausted {
            return finish(ctx, found).await;
        }
        if scanned >= SEARCH_SCAN {
            found.next_before = Some(cursor);
            return finish(ctx, found).await;
        }
    }
}

/// Whether `e` passes `filter` (the actor's name is looked up, and kept, on the way).
async fn keeps(
    ctx: &Context<'_>,
    filter: &AuditFilter,
    e: &AuditEvent,
    names: &mut HashMap<String, String>,
) -> Result<bool, OpError> {
    let ev = &e.event;
    if filter.to.is_some_and(|t| ev.at >= t)
        || filter
            .action
            .as_ref()
            .is_some_and(|a| !ev.action.starts_with(a.as_str()))
        || filter
            .outcome
            .as_ref()
            .is_some_and(|o| ev.outcome.as_str() != o)
    {
        return Ok(false);
    }
    let Some(wanted) = &filter.actor else {
        return Ok(true);
    };
    let Some(actor) = &ev.actor else {
        return Ok(false);
    };
    name_of(ctx, actor, names).await?;
    let wanted = wanted.to_lowercase();
    let hit = |s: &str| s.to_lowercase().contains(&wanted);
    Ok(hit(actor) || names.get(actor).is_some_and(|n| hit(n)))
}

/// Adds the names of every actor and target of the page.
async fn finish(ctx: &Context<'_>, mut found: FoundEvents) -> Result<FoundEvents, OpError> {
    let mut ids: Vec<String> = Vec::new();
    for e in &found.events {
        let ev = &e.event;
        if matches!(ev.actor_kind, ActorKind::User | ActorKind::Client) {
            ids.extend(ev.actor.clone());
        }
        ids.extend(ev.target.clone());
    }
    for id in ids {
        name_of(ctx, &id, &mut found.names).await?;
    }
    Ok(found)
}

/// Looks up the user, client or tenant with this id (once per id) and keeps its name when
/// the caller may see its tenant.
async fn name_of(
    ctx: &Context<'_>,
    id: &str,
    names: &mut HashMap<String, String>,
) -> Result<(), OpError> {
    if names.contains_key(id) || id.len() > 128 {
        return Ok(());
    }
    let may_see = |t: &TenantId| match &ctx.actor.principal {
        Principal::LocalOperator { .. } => true,
        Principal::Admin(p) => p.may_access_tenant(t),
    };
    let store = ctx.store;
    let name = if let Some(u) = store.get_stored_user(id).await? {
        may_see(&u.user.tenant_id).then_some(u.user.username)
    } else if let Some(c) = store.get_client_by_id(id).await? {
        may_see(&c.tenant_id).then_some(c.name)
    } else if let Ok(tid) = TenantId::parse(id)
        && let Some(t) = store.get_tenant(&tid).await?
    {
        may_see(&t.id).then_some(t.name)
    } else {
        None
    };
    // An id without a visible name is remembered as itself, so it is looked up once.
    names.insert(id.to_owned(), name.unwrap_or_else(|| id.to_owned()));
    Ok(())
}

//! The audit trail: append-only `audit_events`, read with a cursor (issue 4). There is no
//! update or delete here by design.

use gatehouse_core::audit::{ActorKind, AuditEvent, NewAuditEvent, Outcome};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entities::audit_event;
use crate::{Error, Store, db_time};

/// Largest page of [`AuditLog::list_after`].
pub const MAX_AUDIT_PAGE: u64 = 1000;

/// The audit trail of a [`Store`]: `store.audit().append(..)`.
#[derive(Debug, Clone, Copy)]
pub struct AuditLog<'a> {
    store: &'a Store,
}

impl Store {
    /// The audit trail.
    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog { store: self }
    }
}

fn from_row(m: audit_event::Model) -> Result<AuditEvent, Error> {
    let bad = |what: &str| Error::Db(format!("invalid audit_events.{what} of {}", m.id));
    Ok(AuditEvent {
        id: m.id,
        event: NewAuditEvent {
            at: m.at,
            actor_kind: ActorKind::parse(&m.actor_kind).ok_or_else(|| bad("actor_kind"))?,
            outcome: Outcome::parse(&m.outcome).ok_or_else(|| bad("outcome"))?,
            tenant_id: m.tenant_id,
            actor: m.actor,
            action: m.action,
            target: m.target,
            source_ip: m.source_ip,
            request_id: m.request_id,
            details: m.details,
        },
    })
}

impl AuditLog<'_> {
    /// Appends an event; returns its id (larger than every earlier id).
    pub async fn append(&self, e: &NewAuditEvent) -> Result<i64, Error> {
        let row = audit_event::ActiveModel {
            id: NotSet,
            at: Set(db_time(e.at)),
            tenant_id: Set(e.tenant_id.clone()),
            actor_kind: Set(e.actor_kind.as_str().to_owned()),
            actor: Set(e.actor.clone()),
            action: Set(e.action.clone()),
            target: Set(e.target.clone()),
            source_ip: Set(e.source_ip.clone()),
            request_id: Set(e.request_id.clone()),
            outcome: Set(e.outcome.as_str().to_owned()),
            details: Set(e.details.clone()),
        };
        let res = audit_event::Entity::insert(row)
            .exec(self.store.db())
            .await?;
        Ok(res.last_insert_id)
    }

    /// The id of the newest event (0 when there is none), to follow only new events.
    pub async fn last_id(&self) -> Result<i64, Error> {
        Ok(audit_event::Entity::find()
            .order_by_desc(audit_event::Column::Id)
            .one(self.store.db())
            .await?
            .map_or(0, |e| e.id))
    }

    /// Up to `limit` (1..=1000) events with an id greater than `after_id`, oldest first;
    /// `tenant` restricts them to one tenant's events.
    pub async fn list_after(
        &self,
        after_id: i64,
        limit: u64,
        tenant: Option<&str>,
    ) -> Result<Vec<AuditEvent>, Error> {
        let mut q = audit_event::Entity::find().filter(audit_event::Column::Id.gt(after_id));
        if let Some(t) = tenant {
            q = q.filter(audit_event::Column::TenantId.eq(t));
        }
        q.order_by_asc(audit_event::Column::Id)
            .limit(limit.clamp(1, MAX_AUDIT_PAGE))
            .all(self.store.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// Up to `limit` (1..=1000) events with an id smaller than `before_id`, newest first
    /// (the console's "older" paging); `tenant` restricts them to one tenant's events.
    pub async fn list_before(
        &self,
        before_id: i64,
        limit: u64,
        tenant: Option<&str>,
    ) -> Result<Vec<AuditEvent>, Error> {
        let mut q = audit_event::Entity::find().filter(audit_event::Column::Id.lt(before_id));
        if let Some(t) = tenant {
            q = q.filter(audit_event::Column::TenantId.eq(t));
        }
        q.order_by_desc(audit_event::Column::Id)
            .limit(limit.clamp(1, MAX_AUDIT_PAGE))
            .all(self.store.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }
}

//! The audit trail: append-only `audit_events`, read with a cursor (issue 4). There is no
//! update or delete here by design.
//!
//! A server calls [`Store::start_audit_batching`]: appends then go through one writer task
//! that inserts whatever is waiting in one multi-row statement (group commit), so under load
//! many requests share one write transaction instead of queueing for the database's write lock
//! one by one. Each caller still waits until its own event is written (nothing is acknowledged
//! before it is stored); if the writer is gone, the caller writes directly.

use gatehouse_core::audit::{ActorKind, AuditEvent, NewAuditEvent, Outcome};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entities::audit_event;
use crate::{Error, Store, db_time};

/// Largest page of [`AuditLog::list_after`].
pub const MAX_AUDIT_PAGE: u64 = 1000;

/// Most events the writer inserts in one statement.
const MAX_BATCH: usize = 256;

type Reply = tokio::sync::oneshot::Sender<Result<i64, Error>>;

/// The sending side of the writer task.
#[derive(Debug)]
pub(crate) struct Batcher {
    tx: tokio::sync::mpsc::Sender<(NewAuditEvent, Reply)>,
}

impl Store {
    /// Starts the group-commit writer of the audit trail on the current tokio runtime (call
    /// once, from the runtime that lives as long as the server). Later calls do nothing.
    pub fn start_audit_batching(&self) {
        if self.audit_batcher.get().is_some() {
            return;
        }
        let (tx, rx) = tokio::sync::mpsc::channel(4 * MAX_BATCH);
        if self.audit_batcher.set(Batcher { tx }).is_ok() {
            tokio::spawn(write_batches(self.clone(), rx));
        }
    }
}

async fn write_batches(store: Store, mut rx: tokio::sync::mpsc::Receiver<(NewAuditEvent, Reply)>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let events: Vec<&NewAuditEvent> = batch.iter().map(|(e, _)| e).collect();
        match store.audit().insert_many(&events).await {
            Ok(ids) if ids.len() == batch.len() => {
                for ((_, reply), id) in batch.into_iter().zip(ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            // The statement failed (or returned no ids): one by one, so one bad event cannot
            // take the others with it.
            _ => {
                for (e, reply) in batch {
                    let _ = reply.send(store.audit().insert_one(&e).await);
                }
            }
        }
    }
}

fn to_row(e: &NewAuditEvent) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
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
    }
}

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
    /// Appends an event; returns its id (larger than every earlier id). Waits until the event
    /// is stored, through the batching writer when one runs.
    pub async fn append(&self, e: &NewAuditEvent) -> Result<i64, Error> {
        if let Some(b) = self.store.audit_batcher.get() {
            let (reply, answer) = tokio::sync::oneshot::channel();
            if b.tx.send((e.clone(), reply)).await.is_ok()
                && let Ok(result) = answer.await
            {
                return result;
            }
        }
        self.insert_one(e).await
    }

    async fn insert_one(&self, e: &NewAuditEvent) -> Result<i64, Error> {
        let res = audit_event::Entity::insert(to_row(e))
            .exec(self.store.db())
            .await?;
        Ok(res.last_insert_id)
    }

    /// One multi-row insert; the ids in the order of `events`.
    async fn insert_many(&self, events: &[&NewAuditEvent]) -> Result<Vec<i64>, Error> {
        if let [one] = events {
            return Ok(vec![self.insert_one(one).await?]);
        }
        let mut keys = audit_event::Entity::insert_many(events.iter().map(|e| to_row(e)))
            .exec_with_returning_keys(self.store.db())
            .await?;
        // Ids are assigned in insertion order; RETURNING need not list them in that order.
        keys.sort_unstable();
        Ok(keys)
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

//! The audit trail: append-only `audit_events`, read with a cursor (issue 4). There is no
//! update or delete here by design.
//!
//! A server calls [`Store::start_audit_batching`]: appends then go through one writer task
//! that inserts whatever is waiting in one multi-row statement (group commit), so under load
//! many requests share one write transaction instead of queueing for the database's write lock
//! one by one. [`AuditLog::append`] waits until its event is written (nothing is acknowledged
//! before it is stored); [`AuditLog::append_buffered`] only queues it (the events that are not
//! security decisions, see `gatehouse_core::audit::Durability`), and
//! [`Store::flush_audit`] waits for everything queued before it. If the writer is gone,
//! callers write directly.
//!
//! Buffered events wait up to [`LINGER`] for company before the writer commits them, so a busy
//! token endpoint pays for one small transaction every few milliseconds rather than one per
//! request (each costs a round trip to the database and, on SQLite, a WAL commit). An append
//! that waits for its commit, or a flush, cuts the wait short: security decisions are written
//! at once. The linger counts from when the oldest waiting event was queued, so events that
//! queued while the last batch was being written (they have waited already) go straight into
//! the next one, and a commit takes up to [`MAX_COMMIT`] events: the writer's throughput is
//! not capped at one batch per linger.
//!
//! The cursor is commit-ordered (issue 10): on PostgreSQL every insert runs in a transaction
//! that first takes one advisory lock (a lone event: one statement whose `FROM` takes it);
//! SQLite has one writer at a time anyway (a lone event is one `INSERT` that commits on its
//! own, a batch one `BEGIN IMMEDIATE` transaction), so ids are assigned in commit order across
//! all nodes, and a reader polling "after N" can never see id N+2 committed while N+1 is still
//! to come. The lock is held for one short insert per batch.

use gatehouse_core::audit::{ActorKind, AuditEvent, NewAuditEvent, Outcome};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DbBackend, EntityTrait, Iterable, QueryFilter, QueryOrder, QuerySelect, Statement,
};

use crate::entities::audit_event;
use crate::{Error, Store, db_time};

/// Largest page of [`AuditLog::list_after`].
pub const MAX_AUDIT_PAGE: u64 = 1000;

/// Most events the writer inserts in one statement.
const MAX_BATCH: usize = 256;
/// Most events the writer commits in one transaction (in statements of at most [`MAX_BATCH`]).
pub const MAX_COMMIT: usize = 4 * MAX_BATCH;
/// Most events waiting for the writer; beyond, appends wait for room (back-pressure).
const QUEUE: usize = 4 * MAX_COMMIT;
/// Longest a buffered event waits for others before it is written (see the module docs).
pub const LINGER: std::time::Duration = std::time::Duration::from_millis(10);

/// The key of the PostgreSQL advisory lock that orders audit inserts by commit ("gh-audit").
const AUDIT_LOCK_KEY: i64 = 0x6768_2d61_7564_6974;

type Reply = tokio::sync::oneshot::Sender<Result<i64, Error>>;

/// What the writer task is asked to do.
// Almost every job is an append, so boxing the event would only add an allocation per event;
// the channel allocates its slots as they fill.
#[allow(clippy::large_enum_variant)]
enum Job {
    /// Write the event; answer the id when someone waits for it.
    Append {
        event: NewAuditEvent,
        reply: Option<Reply>,
        queued: tokio::time::Instant,
    },
    /// Answer once everything queued before has been written.
    Flush(tokio::sync::oneshot::Sender<()>),
}

impl Job {
    /// An append queued now.
    fn append(event: NewAuditEvent, reply: Option<Reply>) -> Self {
        Self::Append {
            event,
            reply,
            queued: tokio::time::Instant::now(),
        }
    }
}

/// The sending side of the writer task.
#[derive(Debug)]
pub(crate) struct Batcher {
    tx: tokio::sync::mpsc::Sender<Job>,
    /// Wakes the writer from its linger: someone waits for a commit.
    urgent: std::sync::Arc<tokio::sync::Notify>,
}

impl Batcher {
    /// Queues a job someone waits for, and cuts the writer's linger short.
    async fn send_urgent(&self, job: Job) -> bool {
        let sent = self.tx.send(job).await.is_ok();
        self.urgent.notify_one();
        sent
    }
}

impl Store {
    /// Starts the group-commit writer of the audit trail on the current tokio runtime (call
    /// once, from the runtime that lives as long as the server). Later calls do nothing.
    pub fn start_audit_batching(&self) {
        if self.audit_batcher.get().is_some() {
            return;
        }
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
        let urgent = std::sync::Arc::new(tokio::sync::Notify::new());
        let batcher = Batcher {
            tx,
            urgent: urgent.clone(),
        };
        if self.audit_batcher.set(batcher).is_ok() {
            tokio::spawn(write_batches(self.clone(), rx, urgent));
        }
    }
}

impl Store {
    /// Waits until every audit event queued before this call is written (a no-op without the
    /// writer). The server calls it when it stops, after draining requests.
    pub async fn flush_audit(&self) {
        if let Some(b) = self.audit_batcher.get() {
            let (done, wait) = tokio::sync::oneshot::channel();
            if b.send_urgent(Job::Flush(done)).await {
                let _ = wait.await;
            }
        }
    }
}

async fn write_batches(
    store: Store,
    mut rx: tokio::sync::mpsc::Receiver<Job>,
    urgent: std::sync::Arc<tokio::sync::Notify>,
) {
    while let Some(first) = rx.recv().await {
        if let Job::Append {
            reply: None,
            queued,
            ..
        } = &first
        {
            // Only buffered events so far: let others gather until the oldest has waited
            // LINGER (the writer is not polled while it sleeps, so queueing wakes nobody),
            // unless someone waits for a commit.
            if let Some(until) = linger_until(*queued, tokio::time::Instant::now()) {
                tokio::select! {
                    () = tokio::time::sleep_until(until) => {}
                    () = urgent.notified() => {}
                }
            }
        }
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Append { event, reply, .. } => batch.push((event, reply)),
                // Everything queued before the flush is in this batch: answer after writing it.
                Job::Flush(done) => {
                    flushes.push(done);
                    break;
                }
            }
            if batch.len() < MAX_COMMIT {
                next = rx.try_recv().ok();
            }
        }
        write_batch(&store, batch).await;
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Until when the writer lets an event queued at `queued` wait for company, seen at `now`;
/// `None` when it has waited [`LINGER`] already (it queued while the last batch was written).
fn linger_until(
    queued: tokio::time::Instant,
    now: tokio::time::Instant,
) -> Option<tokio::time::Instant> {
    let until = queued + LINGER;
    (until > now).then_some(until)
}

async fn write_batch(store: &Store, batch: Vec<(NewAuditEvent, Option<Reply>)>) {
    if batch.is_empty() {
        return;
    }
    let events: Vec<&NewAuditEvent> = batch.iter().map(|(e, _)| e).collect();
    match store.audit().insert_many(&events).await {
        Ok(ids) if ids.len() == batch.len() => {
            for ((_, reply), id) in batch.into_iter().zip(ids) {
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(id));
                }
            }
        }
        // The statement failed (or returned no ids): one by one, so one bad event cannot
        // take the others with it.
        _ => {
            for (e, reply) in batch {
                let result = store.audit().insert_one(&e).await;
                match reply {
                    Some(reply) => {
                        let _ = reply.send(result);
                    }
                    None => {
                        if let Err(err) = result {
                            tracing::warn!(error = %err, action = %e.action, "buffered audit event not written");
                        }
                    }
                }
            }
        }
    }
}

/// `items` cut into runs of 256, 128, … 1 items, largest first, in order. A multi-row `INSERT`
/// is a different statement for every row count, and every connection keeps its last 100
/// prepared statements: one statement per batch length filled each connection's cache with
/// large inserts under load. With these runs at most nine inserts exist, each prepared once per
/// connection.
fn power_of_two_chunks<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        let run = MAX_BATCH.min(1 << rest.len().checked_ilog2()?);
        let (chunk, tail) = rest.split_at(run);
        rest = tail;
        Some(chunk)
    })
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
            if b.send_urgent(Job::append(e.clone(), Some(reply))).await
                && let Ok(result) = answer.await
            {
                return result;
            }
        }
        self.insert_one(e).await
    }

    /// Queues an event for the writer without waiting for its commit (it is written within
    /// the next batch; only a crash of the process before then loses it). Waits only when
    /// the queue is full (back-pressure); without the writer it writes directly.
    pub async fn append_buffered(&self, e: NewAuditEvent) -> Result<(), Error> {
        let e = match self.store.audit_batcher.get() {
            Some(b) => match b.tx.send(Job::append(e, None)).await {
                Ok(()) => return Ok(()),
                Err(tokio::sync::mpsc::error::SendError(Job::Append { event, .. })) => event,
                Err(_) => return Ok(()),
            },
            None => e,
        };
        self.insert_one(&e).await.map(|_| ())
    }

    async fn insert_one(&self, e: &NewAuditEvent) -> Result<i64, Error> {
        if self.store.db.get_database_backend() == DbBackend::Sqlite {
            // One statement commits on its own, and SQLite has one writer at a time: the id is
            // in commit order without a transaction (which would cost two more statements).
            let res = audit_event::Entity::insert(to_row(e))
                .exec(&self.store.db)
                .await?;
            return Ok(res.last_insert_id);
        }
        // PostgreSQL: one statement that commits on its own, and whose `FROM` takes the
        // advisory lock before the row (and its id) is produced, instead of `BEGIN`, the lock,
        // the `INSERT` and `COMMIT`: one round trip instead of four.
        let row = to_row(e);
        let (mut columns, mut values) = (Vec::new(), Vec::new());
        for column in audit_event::Column::iter() {
            if let Set(value) = row.get(column) {
                columns.push(column);
                values.push(Expr::val(value));
            }
        }
        let lock = Query::select()
            .expr(Func::cust("pg_advisory_xact_lock").arg(AUDIT_LOCK_KEY))
            .to_owned();
        let ordered = Query::select()
            .exprs(values)
            .from_subquery(lock, "ordered")
            .to_owned();
        let insert = Query::insert()
            .into_table(audit_event::Entity)
            .columns(columns)
            .select_from(ordered)
            .map_err(|e| Error::Db(e.to_string()))?
            .returning_col(audit_event::Column::Id)
            .to_owned();
        let stmt = DbBackend::Postgres.build(&insert);
        let row = self.store.db.query_one_raw(stmt).await?;
        let row = row.ok_or_else(|| Error::Db("the audit insert returned no id".into()))?;
        Ok(row.try_get::<i64>("", "id")?)
    }

    /// One multi-row insert; the ids in the order of `events`.
    async fn insert_many(&self, events: &[&NewAuditEvent]) -> Result<Vec<i64>, Error> {
        if let [one] = events {
            return Ok(vec![self.insert_one(one).await?]);
        }
        let txn = self.ordered_txn().await?;
        let mut keys = Vec::with_capacity(events.len());
        for chunk in power_of_two_chunks(events) {
            let ids = audit_event::Entity::insert_many(chunk.iter().map(|e| to_row(e)))
                .exec_with_returning_keys(&txn)
                .await?;
            keys.extend(ids);
        }
        txn.commit().await?;
        // Ids are assigned in insertion order; RETURNING need not list them in that order.
        keys.sort_unstable();
        Ok(keys)
    }

    /// A write transaction in which ids are taken in commit order (see the module docs).
    async fn ordered_txn(&self) -> Result<sea_orm::DatabaseTransaction, Error> {
        let txn = self.store.begin_write().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [AUDIT_LOCK_KEY.into()],
            ))
            .await?;
        }
        Ok(txn)
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

#[cfg(test)]
mod tests {
    use super::{LINGER, MAX_BATCH, MAX_COMMIT, linger_until, power_of_two_chunks};
    use tokio::time::Instant;

    #[test]
    fn batches_are_cut_into_at_most_nine_statement_shapes_in_order() {
        let mut shapes = std::collections::BTreeSet::new();
        for len in 0..=MAX_COMMIT + 3 {
            let items: Vec<usize> = (0..len).collect();
            let chunks: Vec<&[usize]> = power_of_two_chunks(&items).collect();
            assert_eq!(chunks.concat(), items, "every item once, in order ({len})");
            for c in &chunks {
                assert!(
                    c.len().is_power_of_two() && c.len() <= MAX_BATCH,
                    "{len}: {}",
                    c.len()
                );
                shapes.insert(c.len());
            }
            if len <= MAX_BATCH {
                assert_eq!(
                    chunks.len(),
                    len.count_ones() as usize,
                    "one run per bit ({len})"
                );
            }
        }
        assert_eq!(shapes.len(), 9);
    }

    #[test]
    fn an_event_lingers_only_until_it_has_waited_linger() {
        let queued = Instant::now();
        assert_eq!(linger_until(queued, queued), Some(queued + LINGER));
        let later = queued + LINGER / 2;
        assert_eq!(linger_until(queued, later), Some(queued + LINGER));
        // Queued while the last batch was written, for longer than the linger: no wait.
        assert_eq!(linger_until(queued, queued + LINGER), None);
        assert_eq!(linger_until(queued, queued + 3 * LINGER), None);
    }
}

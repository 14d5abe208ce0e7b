//! The audit trail: append-only `audit_events`, read with a cursor (issue 4). There is no
//! update or delete here by design.
//!
//! A server calls [`Store::start_audit_batching`]: appends then go through one writer task
//! that inserts whatever is waiting together (group commit), so under load many requests share
//! one write instead of queueing for the database's write lock one by one. [`AuditLog::append`] waits until its event is written (nothing is acknowledged
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
//! the next one, and the writer takes up to [`MAX_COMMIT`] events at once: its throughput is
//! not capped at one batch per linger.
//!
//! A write is one `INSERT … SELECT` that commits on its own, one per 96 KiB (`STATEMENT_BYTES`)
//! of a batch: on SQLite it reads the events from one JSON array parameter, on PostgreSQL from
//! one array parameter per column (parsing a JSON array cost PostgreSQL half as much CPU again
//! per event). One statement text for any number of events, prepared once per connection, with
//! no query built per event.
//!
//! The cursor is commit-ordered (issue 10): on PostgreSQL that insert's `FROM` first takes one
//! advisory lock, which is held until it commits; SQLite has one writer at a time anyway. So
//! ids are assigned in commit order across all nodes, and a reader polling "after N" can never
//! see id N+2 committed while N+1 is still to come. The lock is held for one short insert per
//! batch.

use gatehouse_core::audit::{ActorKind, AuditEvent, NewAuditEvent, Outcome};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};

use crate::entities::audit_event;
use crate::{Error, Store, db_time};

/// Largest page of [`AuditLog::list_after`].
pub const MAX_AUDIT_PAGE: u64 = 1000;

/// Most events the writer takes from the queue at once.
pub const MAX_COMMIT: usize = 1024;
/// Most bytes of events (as JSON, or as PostgreSQL's array values) one statement carries; more
/// events go into the next one. Well under glibc's 128 KiB `mmap` threshold: a larger buffer
/// would be mapped and unmapped, and the first unmapping raises the threshold, and with it how
/// much freed memory every allocator arena keeps (measured: 8 MiB more peak RSS under token
/// load on PostgreSQL with one statement per batch).
const STATEMENT_BYTES: usize = 96 * 1024;
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

/// Writes `batch` in statements of at most [`STATEMENT_BYTES`] and answers whoever waits.
async fn write_batch(store: &Store, mut batch: Vec<(NewAuditEvent, Option<Reply>)>) {
    while !batch.is_empty() {
        let events: Vec<&NewAuditEvent> = batch.iter().map(|(e, _)| e).collect();
        let backend = store.db.get_database_backend();
        let Ok((statement, n)) = Prepared::prefix(backend, &events) else {
            return write_one_by_one(store, batch).await;
        };
        let written = store.audit().insert_prepared(statement).await;
        let rest = batch.split_off(n);
        match written {
            Ok(ids) if ids.len() == n => {
                for ((_, reply), id) in batch.into_iter().zip(ids) {
                    if let Some(reply) = reply {
                        let _ = reply.send(Ok(id));
                    }
                }
            }
            // The statement failed (or returned too few ids): one by one, so one bad event
            // cannot take the others with it.
            _ => write_one_by_one(store, batch).await,
        }
        batch = rest;
    }
}

async fn write_one_by_one(store: &Store, batch: Vec<(NewAuditEvent, Option<Reply>)>) {
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

/// The longest prefix of a batch (one event at least) that fits in [`STATEMENT_BYTES`],
/// ready for its one statement.
enum Prepared<'a> {
    /// SQLite: the events as one JSON array ([`INSERT_SQLITE`]).
    Json(String),
    /// PostgreSQL: the events column by column, bound as arrays ([`INSERT_POSTGRES`]).
    Columns(Box<Columns<'a>>),
}

impl<'a> Prepared<'a> {
    /// The longest prefix of `events` that fits, and how many events it holds.
    fn prefix(backend: DbBackend, events: &[&'a NewAuditEvent]) -> Result<(Self, usize), Error> {
        Ok(match backend {
            DbBackend::Postgres => {
                let columns = Columns::prefix(events)?;
                let n = columns.at.len();
                (Self::Columns(Box::new(columns)), n)
            }
            _ => {
                let (json, n) = statement_json(events)?;
                (Self::Json(json), n)
            }
        })
    }
}

/// Events column by column, for PostgreSQL's `unnest` (binary arrays: PostgreSQL parses no
/// JSON but each event's details, as it would for any `jsonb` value).
#[derive(Default)]
struct Columns<'a> {
    at: Vec<chrono::DateTime<chrono::Utc>>,
    tenant_id: Vec<Option<&'a str>>,
    actor_kind: Vec<&'static str>,
    actor: Vec<Option<&'a str>>,
    action: Vec<&'a str>,
    target: Vec<Option<&'a str>>,
    source_ip: Vec<Option<&'a str>>,
    request_id: Vec<Option<&'a str>>,
    outcome: Vec<&'static str>,
    details: Vec<String>,
}

/// Hands `events` to `add` (which answers how many bytes the event took) until
/// [`STATEMENT_BYTES`] are taken, one event at least; how many events it took.
fn take_prefix<'a>(
    events: &[&'a NewAuditEvent],
    mut add: impl FnMut(&'a NewAuditEvent) -> Result<usize, Error>,
) -> Result<usize, Error> {
    let (mut n, mut bytes) = (0, 0);
    for e in events {
        if n > 0 && bytes >= STATEMENT_BYTES {
            break;
        }
        bytes += add(e)?;
        n += 1;
    }
    Ok(n)
}

impl<'a> Columns<'a> {
    /// The longest prefix of `events` (one event at least) whose values fit in
    /// [`STATEMENT_BYTES`].
    fn prefix(events: &[&'a NewAuditEvent]) -> Result<Self, Error> {
        let mut c = Self::default();
        take_prefix(events, |e| c.push(e))?;
        Ok(c)
    }

    /// Appends one event; the bytes its values take.
    fn push(&mut self, e: &'a NewAuditEvent) -> Result<usize, Error> {
        let details = serde_json::to_string(&e.details).map_err(|e| Error::Db(e.to_string()))?;
        let text = [
            &e.tenant_id,
            &e.actor,
            &e.target,
            &e.source_ip,
            &e.request_id,
        ];
        // Each value is sent with a 4-byte length; 64 bytes cover the times and the kinds.
        let bytes = 64
            + e.action.len()
            + details.len()
            + text
                .iter()
                .map(|t| 4 + t.as_deref().map_or(0, str::len))
                .sum::<usize>();
        self.at.push(db_time(e.at));
        self.tenant_id.push(e.tenant_id.as_deref());
        self.actor_kind.push(e.actor_kind.as_str());
        self.actor.push(e.actor.as_deref());
        self.action.push(&e.action);
        self.target.push(e.target.as_deref());
        self.source_ip.push(e.source_ip.as_deref());
        self.request_id.push(e.request_id.as_deref());
        self.outcome.push(e.outcome.as_str());
        self.details.push(details);
        Ok(bytes)
    }
}

/// The JSON array of the longest prefix of `events` (one event at least) that fits in
/// [`STATEMENT_BYTES`], and how many events it holds.
fn statement_json(events: &[&NewAuditEvent]) -> Result<(String, usize), Error> {
    // Room for the limit and one more event, allocated once (growing would cross the mmap
    // threshold, see STATEMENT_BYTES).
    let room = if events.len() > 1 {
        STATEMENT_BYTES + 16 * 1024
    } else {
        1024
    };
    let mut json = Vec::with_capacity(room);
    json.push(b'[');
    let n = take_prefix(events, |e| {
        let before = json.len();
        if before > 1 {
            json.push(b',');
        }
        serde_json::to_writer(&mut json, &Row::of(e)).map_err(|e| Error::Db(e.to_string()))?;
        Ok(json.len() - before)
    })?;
    json.push(b']');
    let json = String::from_utf8(json).map_err(|e| Error::Db(e.to_string()))?;
    Ok((json, n))
}

/// One event as the insert statement reads it from its JSON parameter (see [`INSERT_SQLITE`]).
#[derive(serde::Serialize)]
struct Row<'a> {
    /// As sqlx writes a `DateTime<Utc>` into SQLite (RFC 3339, only the digits there are),
    /// so that stored times compare as they always did.
    at: String,
    tenant_id: Option<&'a str>,
    actor_kind: &'static str,
    actor: Option<&'a str>,
    action: &'a str,
    target: Option<&'a str>,
    source_ip: Option<&'a str>,
    request_id: Option<&'a str>,
    outcome: &'static str,
    details: &'a serde_json::Value,
}

impl<'a> Row<'a> {
    fn of(e: &'a NewAuditEvent) -> Self {
        Self {
            at: db_time(e.at).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
            tenant_id: e.tenant_id.as_deref(),
            actor_kind: e.actor_kind.as_str(),
            actor: e.actor.as_deref(),
            action: &e.action,
            target: e.target.as_deref(),
            source_ip: e.source_ip.as_deref(),
            request_id: e.request_id.as_deref(),
            outcome: e.outcome.as_str(),
            details: &e.details,
        }
    }
}

/// Inserts the events of its one parameter, a JSON array of [`Row`]s, in array order. One
/// statement text for any number of events: prepared once per connection, nothing to build
/// per event but its JSON, and it commits on its own (SQLite has one writer at a time, so the
/// ids are in commit order without a transaction).
const INSERT_SQLITE: &str = "INSERT INTO audit_events \
    (at, tenant_id, actor_kind, actor, action, target, source_ip, request_id, outcome, details) \
    SELECT value ->> 'at', value ->> 'tenant_id', value ->> 'actor_kind', value ->> 'actor', \
    value ->> 'action', value ->> 'target', value ->> 'source_ip', value ->> 'request_id', \
    value ->> 'outcome', value -> 'details' \
    FROM json_each(?) ORDER BY key RETURNING id";

/// [`INSERT_SQLITE`] for PostgreSQL, from ten arrays (one per column, see [`Columns`]): the
/// `FROM` first takes the advisory lock that orders audit ids by commit, and every row (so
/// every id) is produced after it, in one statement that commits on its own: one round trip
/// instead of `BEGIN`, the lock, the insert and `COMMIT`.
const INSERT_POSTGRES: &str = "INSERT INTO audit_events \
    (at, tenant_id, actor_kind, actor, action, target, source_ip, request_id, outcome, details) \
    SELECT e.at, e.tenant_id, e.actor_kind, e.actor, e.action, e.target, e.source_ip, \
    e.request_id, e.outcome, e.details::jsonb \
    FROM (SELECT pg_advisory_xact_lock($11)) AS ordered, \
    unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
    $7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY \
    AS e(at, tenant_id, actor_kind, actor, action, target, source_ip, request_id, outcome, \
    details, n) \
    ORDER BY e.n RETURNING id";

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
        let (statement, _) = Prepared::prefix(self.store.db.get_database_backend(), &[e])?;
        let ids = self.insert_prepared(statement).await?;
        ids.first()
            .copied()
            .ok_or_else(|| Error::Db("the audit insert returned no id".into()))
    }

    /// One statement that inserts the events of `statement` and commits; their ids in order.
    async fn insert_prepared(&self, statement: Prepared<'_>) -> Result<Vec<i64>, Error> {
        let mut ids = match statement {
            Prepared::Json(json) => {
                let backend = self.store.db.get_database_backend();
                let stmt = Statement::from_sql_and_values(backend, INSERT_SQLITE, [json.into()]);
                self.store
                    .db
                    .query_all_raw(stmt)
                    .await?
                    .iter()
                    .map(|row| row.try_get::<i64>("", "id"))
                    .collect::<Result<Vec<_>, _>>()?
            }
            Prepared::Columns(c) => {
                use sqlx::Row as _;
                // SeaORM binds no arrays: this one statement goes to sqlx, on SeaORM's pool.
                let pool = self.store.db.get_postgres_connection_pool();
                let db = |e: sqlx::Error| Error::Db(e.to_string());
                sqlx::query(INSERT_POSTGRES)
                    .bind(c.at)
                    .bind(c.tenant_id)
                    .bind(c.actor_kind)
                    .bind(c.actor)
                    .bind(c.action)
                    .bind(c.target)
                    .bind(c.source_ip)
                    .bind(c.request_id)
                    .bind(c.outcome)
                    .bind(c.details)
                    .bind(AUDIT_LOCK_KEY)
                    .fetch_all(pool)
                    .await
                    .map_err(db)?
                    .iter()
                    .map(|row| row.try_get::<i64, _>("id"))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db)?
            }
        };
        // Ids are assigned in order; RETURNING need not list them in that order.
        ids.sort_unstable();
        Ok(ids)
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
    use super::{Columns, LINGER, STATEMENT_BYTES, linger_until, statement_json};
    use gatehouse_core::audit::NewAuditEvent;
    use tokio::time::Instant;

    fn event(detail: usize) -> NewAuditEvent {
        NewAuditEvent::operator(
            chrono::Utc::now(),
            Some("default"),
            "token.issue",
            "target",
            serde_json::json!({ "padding": "x".repeat(detail) }),
        )
    }

    #[test]
    fn a_batch_is_cut_into_statements_that_stay_under_the_limit_and_keep_every_event() {
        let events: Vec<NewAuditEvent> = (0..1024).map(|i| event(200 + i % 300)).collect();
        let mut rest: Vec<&NewAuditEvent> = events.iter().collect();
        let mut actions = Vec::new();
        while !rest.is_empty() {
            let (json, n) = statement_json(&rest).expect("json");
            assert!(n >= 1 && n <= rest.len());
            // Under the limit but for the event that crossed it (at most ~650 bytes here).
            assert!(json.len() < STATEMENT_BYTES + 1024, "{}", json.len());
            let rows: Vec<serde_json::Value> = serde_json::from_str(&json).expect("an array");
            assert_eq!(rows.len(), n);
            for (row, e) in rows.iter().zip(&rest) {
                assert_eq!(row["action"], "token.issue");
                assert_eq!(row["details"], e.details, "each event in order");
            }
            actions.push(n);
            rest.drain(..n);
        }
        assert!(
            actions.len() > 1,
            "1,024 events of 300+ bytes need more than one statement"
        );
        assert_eq!(actions.iter().sum::<usize>(), events.len());
        // An event larger than the limit still goes, alone.
        let big = event(2 * STATEMENT_BYTES);
        let (json, n) = statement_json(&[&big, &events[0]]).expect("json");
        assert_eq!(n, 1);
        assert!(json.len() > 2 * STATEMENT_BYTES);
    }

    #[test]
    fn postgres_columns_are_cut_the_same_way() {
        let events: Vec<NewAuditEvent> = (0..1024).map(|i| event(200 + i % 300)).collect();
        let mut rest: Vec<&NewAuditEvent> = events.iter().collect();
        let mut statements = 0;
        while !rest.is_empty() {
            let c = Columns::prefix(&rest).expect("columns");
            let n = c.at.len();
            assert!(n >= 1 && n <= rest.len());
            let details: usize = c.details.iter().map(String::len).sum();
            assert!(details < STATEMENT_BYTES, "{details}");
            for (i, e) in rest[..n].iter().enumerate() {
                assert_eq!(c.details[i], e.details.to_string(), "each event in order");
                assert_eq!(c.action[i], "token.issue");
                assert_eq!(c.target[i], Some("target"));
                assert_eq!(c.actor[i], None);
            }
            assert!(
                [
                    &c.tenant_id,
                    &c.actor,
                    &c.target,
                    &c.source_ip,
                    &c.request_id
                ]
                .iter()
                .all(|col| col.len() == n)
                    && [c.actor_kind.len(), c.action.len(), c.outcome.len()] == [n; 3],
                "one value per event in every column"
            );
            statements += 1;
            rest.drain(..n);
        }
        assert!(statements > 1);
        let big = event(2 * STATEMENT_BYTES);
        assert_eq!(
            Columns::prefix(&[&big, &events[0]])
                .expect("columns")
                .at
                .len(),
            1
        );
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

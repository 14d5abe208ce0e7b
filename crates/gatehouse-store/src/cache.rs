//! In-memory caches of what the token hot path reads (issue 9): clients, their protocol options
//! (`client_options`: DPoP required, PAR required, allowed resources), tenants and registered
//! resource servers (together the "directory") and the revocation lists (revoked access-token `jti`s and revoked grants), kept
//! current on every node by one row per cache in `cache_generations`.
//!
//! - Every write that changes a cached table bumps its generation **in the same transaction**:
//!   database triggers do it (migration `m20261204_000030`), whatever wrote. This crate's write
//!   paths also clear or extend this node's copy at once.
//! - A read first makes sure the generations were checked within the check interval (default
//!   [`DEFAULT_CHECK_INTERVAL`]; 0 = before every read): one primary-key read of two rows. A
//!   generation that moved clears the directory (entries are refilled by the reads that miss)
//!   or reloads the revocation lists. So a disabled tenant, a deleted client, a rotated secret
//!   or a revoked token stops at once on the node that wrote it and within the check interval
//!   on every other node (and every CLI process).
//! - A failed check clears everything and answers from the database (which then fails too):
//!   a cache never answers for longer than the interval without a successful check.
//! - Bounded: at most [`MAX_ENTRIES`] clients and tenants (the map is emptied when full), and
//!   revocation lists of at most [`MAX_ENTRIES`] entries each; longer lists are not cached
//!   (every revocation check then reads the database). Unknown ids are never cached, so a
//!   flood of made-up client ids cannot fill the cache.
//! - A read that missed stores its row only if no invalidation happened while it read (the
//!   `epoch`), so a row read just before a write can never be cached after it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use gatehouse_core::client::Client;
use gatehouse_core::resource::ResourceServer;
use gatehouse_core::tenant::Tenant;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect, Statement};

use crate::entities::{revoked_grant, revoked_token};
use crate::resources::ClientOptions;

/// How long a node answers from its caches before it checks the generations again.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Most entries of each cache.
pub const MAX_ENTRIES: usize = 65_536;

#[derive(Default)]
struct Directory {
    /// Incremented by every invalidation.
    epoch: u64,
    clients: HashMap<String, Client>,
    tenants: HashMap<String, Tenant>,
    /// By client id; only for clients that exist (the options of a known client).
    options: HashMap<String, ClientOptions>,
    /// By (tenant, identifier); only resources that exist.
    resources: HashMap<(String, String), ResourceServer>,
}

impl Directory {
    fn len(&self) -> usize {
        self.clients.len() + self.tenants.len() + self.options.len() + self.resources.len()
    }

    fn clear(&mut self) {
        self.clients.clear();
        self.tenants.clear();
        self.options.clear();
        self.resources.clear();
    }
}

#[derive(Default)]
struct Revoked {
    /// Whether the lists below are the whole (current) lists; otherwise ask the database.
    complete: bool,
    jtis: HashSet<String>,
    grants: HashSet<String>,
}

/// What the last successful check saw.
#[derive(Default)]
struct Seen {
    directory: Option<i64>,
    revocation: Option<i64>,
}

/// The caches of one [`crate::Store`] (shared by its clones).
pub(crate) struct Caches {
    interval_ms: AtomicU64,
    /// Set by a successful check; `None` forces the next read to check.
    checked_at: Mutex<Option<Instant>>,
    /// Serialises checks and local additions to the revocation lists.
    seen: tokio::sync::Mutex<Seen>,
    directory: RwLock<Directory>,
    revoked: RwLock<Revoked>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (clients, tenants) = self
            .directory
            .read()
            .map(|d| (d.clients.len(), d.tenants.len()))
            .unwrap_or_default();
        f.debug_struct("Caches")
            .field("interval_ms", &self.interval_ms.load(Ordering::Relaxed))
            .field("clients", &clients)
            .field("tenants", &tenants)
            .finish_non_exhaustive()
    }
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            interval_ms: AtomicU64::new(
                u64::try_from(DEFAULT_CHECK_INTERVAL.as_millis()).unwrap_or(100),
            ),
            checked_at: Mutex::new(None),
            seen: tokio::sync::Mutex::new(Seen::default()),
            directory: RwLock::new(Directory::default()),
            revoked: RwLock::new(Revoked::default()),
        }
    }
}

impl Caches {
    pub(crate) fn set_interval(&self, interval: Duration) {
        let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        self.interval_ms.store(ms, Ordering::Relaxed);
    }

    fn fresh(&self) -> bool {
        let interval = Duration::from_millis(self.interval_ms.load(Ordering::Relaxed));
        if interval.is_zero() {
            return false;
        }
        self.checked_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| at.elapsed() < interval)
    }

    fn set_checked(&self, at: Option<Instant>) {
        if let Ok(mut c) = self.checked_at.lock() {
            *c = at;
        }
    }

    /// Makes sure the generations were checked within the interval (see the module docs).
    pub(crate) async fn check(&self, db: &impl ConnectionTrait) {
        if self.fresh() {
            return;
        }
        let mut seen = self.seen.lock().await;
        if self.fresh() {
            return;
        }
        let started = Instant::now();
        match self.check_locked(db, &mut seen).await {
            Ok(()) => self.set_checked(Some(started)),
            Err(e) => {
                tracing::warn!(error = %e, "cache generations unreadable; answering from the database");
                *seen = Seen::default();
                self.clear_directory();
                self.set_revoked(None);
                self.set_checked(None);
            }
        }
    }

    async fn check_locked(&self, db: &impl ConnectionTrait, seen: &mut Seen) -> Result<(), DbErr> {
        let (directory, revocation) = read_generations(db).await?;
        if seen.directory != Some(directory) {
            self.clear_directory();
            seen.directory = Some(directory);
        }
        if seen.revocation != Some(revocation) {
            self.set_revoked(load_revoked(db).await?);
            seen.revocation = Some(revocation);
        }
        Ok(())
    }

    /// Makes the next cached read check the generations (after a write of this node that
    /// removed entries, so it holds here at once).
    pub(crate) fn recheck(&self) {
        self.set_checked(None);
    }

    /// Forgets every client, client option, tenant and resource (this node's part of an
    /// invalidation).
    pub(crate) fn clear_directory(&self) {
        if let Ok(mut d) = self.directory.write() {
            d.epoch += 1;
            d.clear();
        }
    }

    fn set_revoked(&self, lists: Option<(HashSet<String>, HashSet<String>)>) {
        if let Ok(mut r) = self.revoked.write() {
            *r = match lists {
                Some((jtis, grants)) => Revoked {
                    complete: true,
                    jtis,
                    grants,
                },
                None => Revoked::default(),
            };
        }
    }

    /// The epoch to pass to [`Caches::put_client`] / [`Caches::put_tenant`] after a miss.
    pub(crate) fn epoch(&self) -> Option<u64> {
        self.directory.read().ok().map(|d| d.epoch)
    }

    pub(crate) fn client(&self, id: &str) -> Option<Client> {
        self.directory.read().ok()?.clients.get(id).cloned()
    }

    pub(crate) fn tenant(&self, id: &str) -> Option<Tenant> {
        self.directory.read().ok()?.tenants.get(id).cloned()
    }

    pub(crate) fn client_options(&self, client: &str) -> Option<ClientOptions> {
        self.directory.read().ok()?.options.get(client).cloned()
    }

    pub(crate) fn put_client_options(&self, epoch: Option<u64>, client: &str, o: &ClientOptions) {
        self.put(epoch, |d| {
            d.options.insert(client.to_owned(), o.clone());
        });
    }

    pub(crate) fn resource(&self, tenant: &str, identifier: &str) -> Option<ResourceServer> {
        let d = self.directory.read().ok()?;
        d.resources
            .get(&(tenant.to_owned(), identifier.to_owned()))
            .cloned()
    }

    pub(crate) fn put_resource(&self, epoch: Option<u64>, r: &ResourceServer) {
        self.put(epoch, |d| {
            let key = (r.tenant_id.to_string(), r.identifier.to_string());
            d.resources.insert(key, r.clone());
        });
    }

    pub(crate) fn put_client(&self, epoch: Option<u64>, c: &Client) {
        self.put(epoch, |d| {
            d.clients.insert(c.id.as_str().to_owned(), c.clone());
        });
    }

    pub(crate) fn put_tenant(&self, epoch: Option<u64>, t: &Tenant) {
        self.put(epoch, |d| {
            d.tenants.insert(t.id.as_str().to_owned(), t.clone());
        });
    }

    fn put(&self, epoch: Option<u64>, insert: impl FnOnce(&mut Directory)) {
        let Ok(mut d) = self.directory.write() else {
            return;
        };
        if epoch != Some(d.epoch) {
            return;
        }
        if d.len() >= MAX_ENTRIES {
            d.clear();
        }
        insert(&mut d);
    }

    /// `Some(answer)` when the revocation lists are complete.
    pub(crate) fn jti_revoked(&self, jti: &str) -> Option<bool> {
        let r = self.revoked.read().ok()?;
        r.complete.then(|| r.jtis.contains(jti))
    }

    pub(crate) fn grant_revoked(&self, grant: &str) -> Option<bool> {
        let r = self.revoked.read().ok()?;
        r.complete.then(|| r.grants.contains(grant))
    }

    /// Records a revocation this node just committed (serialised with reloads, so a reload
    /// that read the lists before the commit cannot drop it).
    pub(crate) async fn add_revoked(&self, jti: Option<&str>, grant: Option<&str>) {
        let _seen = self.seen.lock().await;
        if let Ok(mut r) = self.revoked.write() {
            if !r.complete {
                return;
            }
            if r.jtis.len() + r.grants.len() >= 2 * MAX_ENTRIES {
                *r = Revoked::default();
                return;
            }
            if let Some(j) = jti {
                r.jtis.insert(j.to_owned());
            }
            if let Some(g) = grant {
                r.grants.insert(g.to_owned());
            }
        }
    }
}

async fn read_generations(db: &impl ConnectionTrait) -> Result<(i64, i64), DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT name, generation FROM cache_generations",
        ))
        .await?;
    let (mut directory, mut revocation) = (None, None);
    for row in rows {
        let name: String = row.try_get("", "name")?;
        let generation: i64 = row.try_get("", "generation")?;
        match name.as_str() {
            "directory" => directory = Some(generation),
            "revocation" => revocation = Some(generation),
            _ => {}
        }
    }
    match (directory, revocation) {
        (Some(d), Some(r)) => Ok((d, r)),
        _ => Err(DbErr::RecordNotFound("cache_generations rows".into())),
    }
}

/// The revocation lists, or `None` when one is longer than [`MAX_ENTRIES`] (not cached).
async fn load_revoked(
    db: &impl ConnectionTrait,
) -> Result<Option<(HashSet<String>, HashSet<String>)>, DbErr> {
    let over = u64::try_from(MAX_ENTRIES + 1).unwrap_or(u64::MAX);
    let jtis: Vec<String> = revoked_token::Entity::find()
        .select_only()
        .column(revoked_token::Column::Jti)
        .limit(over)
        .into_tuple()
        .all(db)
        .await?;
    let grants: Vec<String> = revoked_grant::Entity::find()
        .select_only()
        .column(revoked_grant::Column::GrantId)
        .limit(over)
        .into_tuple()
        .all(db)
        .await?;
    if jtis.len() > MAX_ENTRIES || grants.len() > MAX_ENTRIES {
        return Ok(None);
    }
    Ok(Some((
        jtis.into_iter().collect(),
        grants.into_iter().collect(),
    )))
}

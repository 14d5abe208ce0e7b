//! # gatehouse-store: storage on SeaORM (SQLite and PostgreSQL)
//!
//! [`Store`] implements the storage ports of `gatehouse_core::ports` ([`ports`]) and the operator
//! operations of the CLI ([`admin`]). [`Store::connect`] opens a pool for a `sqlite:` or
//! `postgres://` URL and applies the [`migration`]s.
//!
//! Invariants:
//! - secrets (codes, refresh tokens, session ids, client secrets) are stored only as the hex
//!   SHA-256 digests of `gatehouse_core::secret`;
//! - every "at most once" transition (redeeming a code, rotating a refresh token) is a single
//!   conditional `UPDATE`, never a read followed by a write;
//! - timestamps are stored at microsecond precision on both backends (PostgreSQL's resolution),
//!   so what is read back equals what was written.
// Unit tests may read the system clock and run long; shipped code may not.
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::too_many_lines))]

pub mod admin;
pub mod admin_queries;
pub mod apikeys;
pub mod audit;
pub mod backup;
pub mod cache;
pub mod client_keys;
pub mod connect;
pub mod console;
pub mod device_authorizations;
pub mod entities;
pub mod grant_claims;
mod grant_terms;
pub mod health;
pub mod migration;
pub mod migrations;
pub mod ports;
pub mod purge;
pub mod pushed_requests;
pub mod registration;
pub mod reseal;
pub mod resources;
pub mod revocation;
pub mod session_activity;
pub mod signing_keys;
pub mod tenants;
pub mod test_support;
pub mod user_admin;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqlErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

pub use admin::Purged;
pub use apikeys::CreateApiKeyError;
pub use audit::AuditLog;
pub use health::PoolStatus;
pub use migration::Migrator;
pub use purge::{PurgePolicy, PurgeReport};
pub use signing_keys::KeyStatus;
pub use signing_keys::StoredKey;
pub use user_admin::{Ended, StoredUser, TenantRemoval, UserSession};

/// The key of the PostgreSQL advisory lock that serialises migrations across nodes
/// (ASCII "gatehous" as a big-endian integer).
const MIGRATION_LOCK_KEY: i64 = 0x6761_7465_686f_7573;

/// Most connections of a file-backed SQLite pool: two per core, from 2 to 8. SQLite allows one
/// writer at a time; WAL lets the readers proceed meanwhile, and `busy_timeout` makes writers
/// wait instead of failing. Each connection is a thread with its own page and statement
/// caches, so connections beyond what the cores can keep busy only cost memory.
fn sqlite_max_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores.saturating_mul(2)).map_or(8, |n| n.clamp(2, 8))
}
/// How long a SQLite connection beyond the first stays open unused (a burst's extra
/// connections and their memory are given back after it).
const SQLITE_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const POSTGRES_MAX_CONNECTIONS: u32 = 16;

/// An error of the store's own operations (connecting, administration).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The record conflicts with an existing one (for example a taken username).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record the operation needs does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database cannot be reached; the message names the server and the cause.
    #[error("{0}")]
    Connect(String),
    /// Migrations are pending and the caller asked not to run them.
    #[error("{} database migration(s) pending: {}; run `gatehouse migrate`", .0.len(), .0.join(", "))]
    MigrationsPending(Vec<String>),
    /// The database failed, or stored data could not be read back.
    #[error("database: {0}")]
    Db(String),
}

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        Error::Db(e.to_string())
    }
}

impl From<Error> for gatehouse_core::StoreError {
    fn from(e: Error) -> Self {
        gatehouse_core::StoreError::backend(e)
    }
}

/// The storage of Gatehouse: a pool of database connections. Cheap to clone; clones share the pool.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// Set by [`Store::start_audit_batching`]: appends go through one writer task.
    audit_batcher: std::sync::Arc<std::sync::OnceLock<audit::Batcher>>,
    /// Clients, tenants and revocation lists in memory, kept current across nodes.
    pub(crate) cache: std::sync::Arc<cache::Caches>,
    /// A SQLite file: migrations run on a connection of their own with foreign keys off
    /// (see [`Store::migrate`]).
    migrate_apart: bool,
}

impl Store {
    /// Opens a pool for `database_url` and applies the pending migrations, connecting within
    /// [`connect::DEFAULT_CONNECT_TIMEOUT`]. See [`Store::open`] and [`Store::migrate`].
    pub async fn connect(database_url: &str) -> Result<Store, Error> {
        Store::connect_within(database_url, connect::DEFAULT_CONNECT_TIMEOUT).await
    }

    /// [`Store::connect`] with a connect timeout.
    pub async fn connect_within(database_url: &str, timeout: Duration) -> Result<Store, Error> {
        // Several processes opening a new SQLite file at once race to switch it to WAL, and
        // SQLite answers that switch with "database is locked" without waiting on the busy
        // timeout. The first one wins within milliseconds; the others simply try again.
        let mut attempt = 0;
        loop {
            let result = match Store::open(database_url, timeout).await {
                Ok(store) => store.migrate().await.map(|()| store),
                Err(e) => Err(e),
            };
            match result {
                Err(Error::Db(m)) if attempt < 20 && m.contains("database is locked") => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// Opens a pool for `database_url` without migrating. Connecting (and later, waiting for a
    /// pooled connection) gives up after `timeout`; a PostgreSQL server that cannot be reached
    /// is reported with its host, port and the cause ([`connect`]).
    ///
    /// - `sqlite:` URLs (e.g. `sqlite://data/gatehouse.db?mode=rwc`): the parent directory of
    ///   the file is created if missing; connections use WAL, `synchronous=NORMAL`, foreign keys
    ///   and a 10 s busy timeout. `sqlite::memory:` (or `mode=memory`) uses a single connection
    ///   that is never recycled, since the database lives only as long as its connection.
    /// - `postgres://` / `postgresql://` URLs: a normal pool.
    pub async fn open(database_url: &str, timeout: Duration) -> Result<Store, Error> {
        let mut opts = ConnectOptions::new(database_url.to_owned());
        opts.sqlx_logging(false)
            .connect_timeout(timeout)
            .acquire_timeout(timeout);
        let mut migrate_apart = false;
        if database_url.starts_with("sqlite:") {
            migrate_apart = sqlite_options(database_url, &mut opts)?;
        } else if database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
        {
            connect::probe_postgres(database_url, timeout).await?;
            opts.max_connections(POSTGRES_MAX_CONNECTIONS);
        } else {
            return Err(Error::Db(
                "unsupported database URL: use sqlite: or postgres://".into(),
            ));
        }
        let db = Database::connect(opts).await?;
        Ok(Store {
            db,
            audit_batcher: Default::default(),
            cache: Default::default(),
            migrate_apart,
        })
    }

    /// Wraps an open connection without migrating it.
    pub fn from_connection(db: DatabaseConnection) -> Store {
        Store {
            db,
            audit_batcher: Default::default(),
            cache: Default::default(),
            migrate_apart: false,
        }
    }

    /// How long this store answers clients, tenants and revocation checks from memory before
    /// it checks the cache generations again (see [`cache`]); zero checks before every read.
    /// Applies to every clone.
    pub fn set_cache_check_interval(&self, interval: Duration) {
        self.cache.set_interval(interval);
    }

    /// The underlying connection pool.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, so that two writers never both
    /// hold a read lock they must upgrade (which would fail at once instead of waiting).
    pub(crate) async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction, DbErr> {
        begin_write(&self.db).await
    }
}

async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    let mut options = TransactionOptions::default();
    if db.get_database_backend() == DbBackend::Sqlite {
        options.sqlite_transaction_mode = Some(SqliteTransactionMode::Immediate);
    }
    db.begin_with_options(options).await
}

/// The SQLite part of [`Store::open`]; whether the database is a file (not in memory).
fn sqlite_options(database_url: &str, opts: &mut ConnectOptions) -> Result<bool, Error> {
    let parsed = SqliteConnectOptions::from_str(database_url)
        .map_err(|e| Error::Db(format!("invalid SQLite URL: {e}")))?;
    let in_memory = database_url.contains(":memory:") || database_url.contains("mode=memory");
    if in_memory {
        opts.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    } else {
        if let Some(dir) = parsed
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Db(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        opts.max_connections(sqlite_max_connections())
            .min_connections(1)
            .idle_timeout(SQLITE_IDLE_TIMEOUT);
    }
    opts.map_sqlx_sqlite_opts(move |o| {
        let o = o.foreign_keys(true).busy_timeout(SQLITE_BUSY_TIMEOUT);
        if in_memory {
            o
        } else {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
        }
    });
    Ok(!in_memory)
}

/// Applies pending migrations, serialised as described on [`Store::migrate`].
async fn migrate(db: &DatabaseConnection) -> Result<(), Error> {
    let txn = begin_write(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [MIGRATION_LOCK_KEY.into()],
        ))
        .await?;
    }
    Migrator::up(&txn, None).await?;
    txn.commit().await?;
    tracing::debug!("database schema is up to date");
    Ok(())
}

/// A timestamp as the database keeps it: truncated to whole microseconds.
pub(crate) fn db_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// Whether the database refused a row for a unique key.
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub(crate) fn is_fk_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_)))
}

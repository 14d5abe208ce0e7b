//! What a readiness probe and the metrics ask of the database: does it answer, is the schema
//! the one this build expects, and how busy is the connection pool.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;

use crate::{Error, Migrator, Store};

/// The connection pool right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections lent out to a query or transaction.
    pub in_use: u32,
    /// Open connections waiting for work.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

impl Store {
    /// Runs a trivial query on a pooled connection.
    pub async fn ping(&self) -> Result<(), Error> {
        self.db().ping().await.map_err(Error::from)
    }

    /// Whether every migration this build knows has been applied (a newer build may have
    /// applied more: that is fine for this one).
    pub async fn migrations_current(&self) -> Result<bool, Error> {
        let backend = self.db().get_database_backend();
        let rows = self
            .db()
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT version FROM seaql_migrations",
            ))
            .await?;
        let applied: HashSet<String> = rows
            .iter()
            .filter_map(|r| r.try_get::<String>("", "version").ok())
            .collect();
        Ok(Migrator::migrations()
            .iter()
            .all(|m| applied.contains(m.name())))
    }

    /// The pool's connections in use, idle, and its maximum.
    pub fn pool_status(&self) -> PoolStatus {
        let (size, idle, max) = match self.db().get_database_backend() {
            DbBackend::Postgres => {
                let p = self.db().get_postgres_connection_pool();
                (p.size(), p.num_idle(), p.options().get_max_connections())
            }
            DbBackend::Sqlite => {
                let p = self.db().get_sqlite_connection_pool();
                (p.size(), p.num_idle(), p.options().get_max_connections())
            }
            _ => (0, 0, 0),
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        PoolStatus {
            in_use: size.saturating_sub(idle),
            idle,
            max,
        }
    }
}

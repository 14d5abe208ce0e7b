//! Running and checking the schema [`crate::migration`]s: what `gatehouse migrate [--check]`
//! and `serve --no-migrate` ask of the store.
//!
//! Migrations run in one transaction. On PostgreSQL that transaction first takes
//! `pg_advisory_xact_lock`, so nodes starting together migrate one after the other (the lock
//! is released by the commit); on SQLite it is a `BEGIN IMMEDIATE` write transaction, which
//! has the same effect across processes. A SQLite file is migrated on a connection of its own
//! with foreign keys off, as SQLite requires for rebuilding a table that others reference (a
//! migration that rebuilds one checks every foreign key before it commits).

use std::collections::HashSet;

use sea_orm::sqlx::sqlite::SqlitePoolOptions;
use sea_orm::{ConnectionTrait, SqlxSqliteConnector, Statement};
use sea_orm_migration::{MigratorTrait, SchemaManager};

use crate::{Error, Migrator, Store};

impl Store {
    /// Applies the pending migrations (none: nothing changes, and no write lock is taken, so
    /// a command run beside a busy server never waits for, or fails on, SQLite's write lock).
    pub async fn migrate(&self) -> Result<(), Error> {
        if self.pending_migrations().await?.is_empty() {
            return Ok(());
        }
        if !self.migrate_apart {
            return crate::migrate(self.db()).await;
        }
        let opts = self
            .db()
            .get_sqlite_connection_pool()
            .connect_options()
            .as_ref()
            .clone()
            .foreign_keys(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(|e| Error::Db(e.to_string()))?;
        let db = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
        let result = crate::migrate(&db).await;
        let _ = db.close().await;
        result
    }

    /// The names of the migrations this build knows and the database has not applied, in
    /// order. Reads only: a new database answers every migration.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, Error> {
        let manager = SchemaManager::new(self.db());
        let applied: HashSet<String> = if manager.has_table("seaql_migrations").await? {
            let backend = self.db().get_database_backend();
            self.db()
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT version FROM seaql_migrations",
                ))
                .await?
                .iter()
                .filter_map(|r| r.try_get::<String>("", "version").ok())
                .collect()
        } else {
            HashSet::new()
        };
        Ok(Migrator::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .filter(|name| !applied.contains(name))
            .collect())
    }

    /// `Ok` when no migration is pending, else [`Error::MigrationsPending`] naming them.
    pub async fn require_migrated(&self) -> Result<(), Error> {
        let pending = self.pending_migrations().await?;
        if pending.is_empty() {
            Ok(())
        } else {
            Err(Error::MigrationsPending(pending))
        }
    }
}

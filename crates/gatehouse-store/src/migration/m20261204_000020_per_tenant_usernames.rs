//! Usernames unique per tenant (issue 10): `users.username` was unique across all tenants, so
//! creating a user in one tenant answered "already exists" for a name only another tenant had,
//! which told one tenant's operators about another tenant's users. From here on the pair
//! `(tenant_id, username)` is unique (index `idx_users_tenant_id_username`).
//!
//! - PostgreSQL: the column's constraint `users_username_key` is dropped and the unique index
//!   created.
//! - SQLite cannot drop a column constraint, so the table is rebuilt the way SQLite documents
//!   ("making other kinds of table schema changes"): a new table with every column of `users`
//!   as the earlier migrations left it, the rows copied, the old table dropped, the new one
//!   renamed. The store runs SQLite migrations on a connection with foreign keys off, so the
//!   drop does not cascade into sessions, codes, refresh tokens and consents, and then checks
//!   every foreign key before it commits.
//!
//! Each step looks at the schema first, so a re-run changes nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UNIQUE_INDEX: &str = "idx_users_tenant_id_username";

/// `users` as migrations 1, 4 and 7 left it, without the unique `username` column constraint.
const SQLITE_USERS_NEW: &str = r#"CREATE TABLE "users_new" (
    "id" text NOT NULL PRIMARY KEY,
    "tenant_id" text NOT NULL,
    "username" text NOT NULL,
    "email" text NULL,
    "password_hash" text NOT NULL,
    "created_at" timestamp_with_timezone_text NOT NULL,
    "name" text NULL,
    "given_name" text NULL,
    "family_name" text NULL,
    "phone_number" text NULL,
    "address" text NULL,
    "admin_scopes" text NULL,
    CONSTRAINT "fk_users_tenant_id" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON DELETE CASCADE
)"#;

const USER_COLUMNS: &str = r#""id", "tenant_id", "username", "email", "password_hash", "created_at", "name", "given_name", "family_name", "phone_number", "address", "admin_scopes""#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE users DROP CONSTRAINT IF EXISTS users_username_key",
                )
                .await?;
            }
            DbBackend::Sqlite => rebuild_sqlite_users(db).await?,
            _ => {}
        }
        if !manager.has_index("users", UNIQUE_INDEX).await? {
            manager
                .create_index(
                    Index::create()
                        .name(UNIQUE_INDEX)
                        .table("users")
                        .col("tenant_id")
                        .col("username")
                        .unique()
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Rebuilds `users` without the column constraint, when the table still has it.
async fn rebuild_sqlite_users(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let create = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'",
        ))
        .await?
        .map(|r| r.try_get::<String>("", "sql"))
        .transpose()?
        .unwrap_or_default();
    if !create.contains("UNIQUE") {
        return Ok(());
    }
    for sql in [
        SQLITE_USERS_NEW.to_owned(),
        format!("INSERT INTO users_new ({USER_COLUMNS}) SELECT {USER_COLUMNS} FROM users"),
        "DROP TABLE users".to_owned(),
        "ALTER TABLE users_new RENAME TO users".to_owned(),
        r#"CREATE INDEX IF NOT EXISTS "idx_users_tenant_id" ON "users" ("tenant_id")"#.to_owned(),
    ] {
        db.execute_unprepared(&sql).await?;
    }
    let dangling = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA foreign_key_check",
        ))
        .await?;
    if !dangling.is_empty() {
        return Err(DbErr::Migration(format!(
            "rebuilding users left {} rows without their parent",
            dangling.len()
        )));
    }
    Ok(())
}

//! Caching of client options and resource servers (issue 9): every write to `client_options`
//! (DPoP required, PAR required, allowed resources) and to `resource_servers` moves the
//! `directory` generation, like writes to `clients` and `tenants` (migration 000030), so the
//! nodes that cache them (`crate::cache`) drop their copies within the check interval. Inserts
//! count too: a client without a row is cached with the default options.
//!
//! Triggers are replaced or created only when missing, so a re-run changes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose every write moves the `directory` generation.
const TABLES: [&str; 2] = ["client_options", "resource_servers"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == sea_orm::DbBackend::Postgres;
        for table in TABLES {
            for event in ["INSERT", "UPDATE", "DELETE"] {
                let trigger = format!("cache_gen_{table}_{}", event.to_lowercase());
                if postgres {
                    // `gatehouse_bump_directory()` is created by migration 000030.
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trigger} ON {table}"))
                        .await?;
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {trigger} AFTER {event} ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_directory()"
                    ))
                    .await?;
                } else {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {event} ON {table} \
                         BEGIN UPDATE cache_generations SET generation = generation + 1 \
                         WHERE name = 'directory'; END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

//! `cache_generations`: one row per in-memory cache of the nodes (`directory`: clients and
//! tenants; `revocation`: revoked access tokens and grants), whose `generation` every write to
//! those tables increments in its own transaction. Nodes compare it with what they last saw
//! to know when to drop or reload their caches (`crate::cache`, issue 9).
//!
//! The increments are database triggers (after an update or delete of `clients` or `tenants`,
//! after an insert or delete of `revoked_tokens` or `revoked_grants`), so no write path — this
//! crate's, a later one, or an operator's SQL — can change a cached table without the nodes
//! noticing. Row-level on SQLite, statement-level on PostgreSQL.
//!
//! Every step checks first or replaces, so a re-run changes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_table("cache_generations").await? {
            manager
                .create_table(
                    Table::create()
                        .table("cache_generations")
                        .col(ColumnDef::new("name").text().not_null().primary_key())
                        .col(
                            ColumnDef::new("generation")
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .take(),
                )
                .await?;
        }
        for name in ["directory", "revocation"] {
            let insert = Query::insert()
                .into_table("cache_generations")
                .columns(["name", "generation"])
                .values_panic([name.into(), 0i64.into()])
                .on_conflict(OnConflict::column("name").do_nothing().to_owned())
                .take();
            manager.exec_stmt(insert).await?;
        }
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == sea_orm::DbBackend::Postgres;
        if postgres {
            for name in ["directory", "revocation"] {
                db.execute_unprepared(&format!(
                    "CREATE OR REPLACE FUNCTION gatehouse_bump_{name}() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN UPDATE cache_generations \
                     SET generation = generation + 1 WHERE name = '{name}'; RETURN NULL; END $$"
                ))
                .await?;
            }
        }
        for (table, events, name) in TRIGGERS {
            for event in events {
                let trigger = format!("cache_gen_{table}_{}", event.to_lowercase());
                if postgres {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trigger} ON {table}"))
                        .await?;
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {trigger} AFTER {event} ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_{name}()"
                    ))
                    .await?;
                } else {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {event} ON {table} \
                         BEGIN UPDATE cache_generations SET generation = generation + 1 \
                         WHERE name = '{name}'; END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// The table, its rows and its triggers appear together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// Which writes of which table move which generation (constant names only).
const TRIGGERS: [(&str, [&str; 2], &str); 4] = [
    ("clients", ["UPDATE", "DELETE"], "directory"),
    ("tenants", ["UPDATE", "DELETE"], "directory"),
    ("revoked_tokens", ["INSERT", "DELETE"], "revocation"),
    ("revoked_grants", ["INSERT", "DELETE"], "revocation"),
];

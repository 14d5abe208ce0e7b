//! `cache_generations`: one row per in-memory cache of the nodes (`directory`: clients and
//! tenants; `revocation`: revoked access tokens and grants), whose `generation` every write to
//! those tables increments in its own transaction. Nodes compare it with what they last saw
//! to know when to drop or reload their caches (`crate::cache`, issue 9).
//!
//! Creating the table and its two rows checks first, so a re-run changes nothing.

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
        Ok(())
    }
}

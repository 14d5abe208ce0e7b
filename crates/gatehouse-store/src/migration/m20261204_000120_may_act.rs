//! Token exchange for delegation (RFC 8693, issue 12): `clients.may_act`, the id of the one
//! other client that may act for this client's users (its tokens carry `may_act`); NULL for
//! none.
//!
//! The column is added only when missing, so a re-run is harmless on both backends.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("clients", "may_act").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table("clients")
                    .add_column(ColumnDef::new("may_act").text().null())
                    .take(),
            )
            .await
    }
}

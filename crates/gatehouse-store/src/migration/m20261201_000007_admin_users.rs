//! Admin users (issue 4): `users.admin_scopes`, the admin scopes a user holds, space-separated
//! (`admin:all`, `read:users`, …; see `gatehouse_core::admin`). NULL for ordinary users. A user
//! holding admin scopes may sign in to the admin console, and only admin scopes the user holds
//! are ever granted to the user's tokens.
//!
//! The column is added only when missing, so a re-run is harmless on both backends.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("users", "admin_scopes").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(ColumnDef::new("admin_scopes").text().null())
                    .take(),
            )
            .await
    }
}

//! Disabled users (issue 11): `users.disabled_at`, when an operator disabled the user; NULL for
//! a user who may sign in. A disabled user is absent for every protocol path (the `UserStore`
//! port does not return it), so it can neither sign in nor refresh, and its sessions and
//! refresh tokens were ended when it was disabled.
//!
//! The column is added only when missing, so a re-run is harmless on both backends.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("users", "disabled_at").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(
                        ColumnDef::new("disabled_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .take(),
            )
            .await
    }
}

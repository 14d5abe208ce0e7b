//! Token lifecycle (RFC 7009 revocation, refresh rotation policy):
//!
//! - `revoked_tokens`: revoked access tokens by `jti`, kept until their `exp`;
//! - `refresh_tokens.family_expires_at` (the absolute deadline of the token's family; NULL for
//!   tokens issued before this migration) and `refresh_tokens.replaced_by` (hex SHA-256 of the
//!   token it was exchanged for);
//! - `clients.refresh_grace_seconds` (0 = strict rotation), `clients.refresh_idle_ttl` and
//!   `clients.refresh_absolute_ttl` (NULL = the server's settings).
//!
//! SQLite takes one `ADD COLUMN` per `ALTER TABLE`, and neither backend has a portable
//! `ADD COLUMN IF NOT EXISTS`, so each column is added alone and only when missing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn add_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: ColumnDef,
) -> Result<(), DbErr> {
    let name = column.get_column_name();
    if manager.has_column(table, &name).await? {
        return Ok(());
    }
    manager
        .alter_table(Table::alter().table(table).add_column(column).take())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("revoked_tokens")
                    .if_not_exists()
                    .col(ColumnDef::new("jti").text().not_null().primary_key())
                    .col(
                        ColumnDef::new("expires_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new("revoked_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_revoked_tokens_expires_at")
                    .table("revoked_tokens")
                    .col("expires_at")
                    .if_not_exists()
                    .take(),
            )
            .await?;
        add_column(
            manager,
            "refresh_tokens",
            ColumnDef::new("family_expires_at")
                .timestamp_with_time_zone()
                .null()
                .take(),
        )
        .await?;
        add_column(
            manager,
            "refresh_tokens",
            ColumnDef::new("replaced_by").text().null().take(),
        )
        .await?;
        add_column(
            manager,
            "clients",
            ColumnDef::new("refresh_grace_seconds")
                .big_integer()
                .not_null()
                .default(0)
                .take(),
        )
        .await?;
        for col in ["refresh_idle_ttl", "refresh_absolute_ttl"] {
            add_column(
                manager,
                "clients",
                ColumnDef::new(col).big_integer().null().take(),
            )
            .await?;
        }
        Ok(())
    }

    /// One transaction on both backends, so a failure leaves the schema as it was.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

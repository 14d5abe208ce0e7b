//! `pushed_requests`: pushed authorization requests (RFC 9126), by the SHA-256 of their
//! `request_uri`, with the client they are bound to and their expiry. `IF NOT EXISTS`, so a
//! re-run changes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("pushed_requests")
                    .if_not_exists()
                    .col(ColumnDef::new("uri_hash").text().not_null().primary_key())
                    .col(ColumnDef::new("client_id").text().not_null())
                    .col(ColumnDef::new("params").text().not_null())
                    .col(
                        ColumnDef::new("expires_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pushed_requests_expires_at")
                    .table("pushed_requests")
                    .col("expires_at")
                    .if_not_exists()
                    .take(),
            )
            .await
    }
}

//! Dynamic client registration (RFC 7591 / 7592):
//!
//! - `registration_tokens`: initial access tokens by the SHA-256 (hex) of the token, with
//!   their tenant, expiry, optional use limit and use count;
//! - `client_registrations`: per dynamically registered client, the SHA-256 (hex) of its
//!   registration access token (deleted with the client).
//!
//! `IF NOT EXISTS`, so a re-run changes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn created_at() -> ColumnDef {
    ColumnDef::new("created_at")
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("registration_tokens")
                    .if_not_exists()
                    .col(ColumnDef::new("token_hash").text().not_null().primary_key())
                    .col(ColumnDef::new("tenant_id").text().not_null())
                    .col(
                        ColumnDef::new("expires_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new("max_uses").big_integer().null())
                    .col(ColumnDef::new("uses").big_integer().not_null().default(0))
                    .col(created_at())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_registration_tokens_tenant_id")
                            .from("registration_tokens", "tenant_id")
                            .to("tenants", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_registration_tokens_expires_at")
                    .table("registration_tokens")
                    .col("expires_at")
                    .if_not_exists()
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("client_registrations")
                    .if_not_exists()
                    .col(ColumnDef::new("client_id").text().not_null().primary_key())
                    .col(ColumnDef::new("token_hash").text().not_null())
                    .col(created_at())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_client_registrations_client_id")
                            .from("client_registrations", "client_id")
                            .to("clients", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await
    }
}

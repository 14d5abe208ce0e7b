//! Signed client authentication and service accounts (RFC 7523, OIDC Core §9):
//! - `clients.jwks` / `clients.jwks_uri`: the public keys of `private_key_jwt` clients;
//! - `assertion_replays`: every accepted assertion `jti` until it expires (single use);
//! - `jwt_bearer_trusts`: issuers and subjects whose assertions the JWT bearer grant accepts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite adds only one at a time. Checked first, so a re-run is a
        // no-op on both backends.
        if !manager.has_column("clients", "jwks").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table("clients")
                        .add_column(ColumnDef::new("jwks").json_binary().null())
                        .take(),
                )
                .await?;
        }
        if !manager.has_column("clients", "jwks_uri").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table("clients")
                        .add_column(ColumnDef::new("jwks_uri").text().null())
                        .take(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("assertion_replays")
                    .if_not_exists()
                    .col(ColumnDef::new("key_hash").text().not_null().primary_key())
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
                    .name("idx_assertion_replays_expires_at")
                    .table("assertion_replays")
                    .col("expires_at")
                    .if_not_exists()
                    .take(),
            )
            .await?;
        create_trusts(manager).await
    }
}

/// The JWT bearer grant's trusted issuers and subjects, unique per pair.
async fn create_trusts(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("jwt_bearer_trusts")
                .if_not_exists()
                .col(ColumnDef::new("id").text().not_null().primary_key())
                .col(ColumnDef::new("tenant_id").text().not_null())
                .col(ColumnDef::new("issuer").text().not_null())
                .col(ColumnDef::new("subject").text().not_null())
                .col(ColumnDef::new("jwks").json_binary().not_null())
                .col(ColumnDef::new("scopes").text().not_null())
                .col(
                    ColumnDef::new("created_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_jwt_bearer_trusts_tenant_id")
                        .from("jwt_bearer_trusts", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("idx_jwt_bearer_trusts_issuer_subject")
                .table("jwt_bearer_trusts")
                .col("issuer")
                .col("subject")
                .unique()
                .if_not_exists()
                .take(),
        )
        .await?;
    Ok(())
}

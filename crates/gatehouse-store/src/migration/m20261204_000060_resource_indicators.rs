//! Resource indicators (RFC 8707) and per-client protocol options:
//!
//! - `resource_servers`: the resources a tenant registered (identifier unique per tenant,
//!   space-separated scopes, optional access-token lifetime and algorithm);
//! - `client_options`: per client, the resources it is restricted to (space-separated URIs,
//!   empty: any of its tenant's) and whether it must use pushed authorization requests;
//! - `grant_resources`: the resources an authorization request named, by grant id.
//!
//! Every statement is `IF NOT EXISTS`, so a re-run changes nothing.

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
                    .table("resource_servers")
                    .if_not_exists()
                    .col(ColumnDef::new("id").text().not_null().primary_key())
                    .col(ColumnDef::new("tenant_id").text().not_null())
                    .col(ColumnDef::new("identifier").text().not_null())
                    .col(ColumnDef::new("scopes").text().not_null())
                    .col(ColumnDef::new("access_token_ttl").big_integer().null())
                    .col(ColumnDef::new("access_token_alg").text().null())
                    .col(created_at())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_resource_servers_tenant_id")
                            .from("resource_servers", "tenant_id")
                            .to("tenants", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_resource_servers_tenant_identifier")
                    .table("resource_servers")
                    .col("tenant_id")
                    .col("identifier")
                    .unique()
                    .if_not_exists()
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("client_options")
                    .if_not_exists()
                    .col(ColumnDef::new("client_id").text().not_null().primary_key())
                    .col(ColumnDef::new("resources").text().not_null())
                    .col(ColumnDef::new("require_par").boolean().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_client_options_client_id")
                            .from("client_options", "client_id")
                            .to("clients", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("grant_resources")
                    .if_not_exists()
                    .col(ColumnDef::new("grant_id").text().not_null().primary_key())
                    .col(ColumnDef::new("resources").text().not_null())
                    .col(created_at())
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_grant_resources_created_at")
                    .table("grant_resources")
                    .col("created_at")
                    .if_not_exists()
                    .take(),
            )
            .await
    }
}

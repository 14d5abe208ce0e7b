//! `device_authorizations`: the device authorization grant (RFC 8628), by the SHA-256 of the
//! device code, with the SHA-256 of the user code (unique: the verification page looks it
//! up), the client, the scope, the status (`pending`, `approved`, `denied`, `consumed`), the
//! deciding user, the polling interval and last poll, and the expiry. `IF NOT EXISTS`, so a
//! re-run changes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let time = |name: &'static str| ColumnDef::new(name).timestamp_with_time_zone().take();
        manager
            .create_table(
                Table::create()
                    .table("device_authorizations")
                    .if_not_exists()
                    .col(
                        ColumnDef::new("device_code_hash")
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("user_code_hash").text().not_null())
                    .col(ColumnDef::new("client_id").text().not_null())
                    .col(ColumnDef::new("scope").text().not_null())
                    .col(ColumnDef::new("status").text().not_null())
                    .col(ColumnDef::new("user_id").text().null())
                    .col(time("auth_time").null().take())
                    .col(ColumnDef::new("poll_interval").big_integer().not_null())
                    .col(time("last_polled_at").null().take())
                    .col(time("expires_at").not_null().take())
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_device_authorizations_user_code")
                    .table("device_authorizations")
                    .col("user_code_hash")
                    .unique()
                    .if_not_exists()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_device_authorizations_client_expires")
                    .table("device_authorizations")
                    .col("client_id")
                    .col("expires_at")
                    .if_not_exists()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_device_authorizations_expires_at")
                    .table("device_authorizations")
                    .col("expires_at")
                    .if_not_exists()
                    .take(),
            )
            .await
    }
}

//! Grace-period retries answered with the same pair, and `client_secret_jwt`:
//!
//! - `refresh_tokens.rotation_salt` (hex, NULL for strict-rotation clients and for tokens
//!   issued before): with the presented token it determines the successor
//!   (`gatehouse_core::rotation`), so no token is stored in a usable form;
//! - `clients.hmac_secret` (NULL except for `client_secret_jwt` clients): the client secret as
//!   HS256 needs it, always sealed with AES-256-GCM under the master key
//!   (`gatehouse_jose::envelope`), base64.
//!
//! Every step checks the schema first, so a re-run changes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, def) in [
            (
                "refresh_tokens",
                "rotation_salt",
                ColumnDef::new("rotation_salt").text().null().take(),
            ),
            (
                "clients",
                "hmac_secret",
                ColumnDef::new("hmac_secret").text().null().take(),
            ),
        ] {
            if !manager.has_column(table, column).await? {
                let mut def = def;
                manager
                    .alter_table(Table::alter().table(table).add_column(&mut def).take())
                    .await?;
            }
        }
        Ok(())
    }
}

//! DPoP (RFC 9449):
//!
//! - `client_options.dpop_required`: token requests of the client must carry a DPoP proof
//!   (false for every existing row);
//! - `authorization_codes.dpop_jkt`: the key a code is bound to (`dpop_jkt`, §10);
//! - `refresh_tokens.dpop_jkt`: the key a public client's refresh token is bound to (§5).
//!
//! The `jti` of DPoP proofs needs no table of its own: it goes to `assertion_replays` under the
//! `dpop:<jkt>` namespace. Each column is added alone and only when missing (SQLite takes one
//! `ADD COLUMN` per `ALTER TABLE`), so a re-run changes nothing.

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
        add_column(
            manager,
            "client_options",
            ColumnDef::new("dpop_required")
                .boolean()
                .not_null()
                .default(false)
                .take(),
        )
        .await?;
        for table in ["authorization_codes", "refresh_tokens"] {
            add_column(
                manager,
                table,
                ColumnDef::new("dpop_jkt").text().null().take(),
            )
            .await?;
        }
        Ok(())
    }
}

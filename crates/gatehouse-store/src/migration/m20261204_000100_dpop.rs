//! DPoP (RFC 9449): `client_options.dpop_required` (token requests of the client must carry a
//! DPoP proof), false for every existing row.
//!
//! The `jti` of DPoP proofs needs no table of its own: it goes to `assertion_replays` under the
//! `dpop:<jkt>` namespace. The column is added only when missing, so a re-run changes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager
            .has_column("client_options", "dpop_required")
            .await?
        {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table("client_options")
                    .add_column(
                        ColumnDef::new("dpop_required")
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .take(),
            )
            .await
    }
}

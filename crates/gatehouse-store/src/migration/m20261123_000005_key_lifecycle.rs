//! Signing-key life cycle and encryption at rest: adds to `signing_keys`
//!
//! - `status` (`next` | `active` | `retired`): a `next` key is published in the JWKS before it
//!   signs anything (RFC 7517 §5: relying parties cache the key set, so a new key must be there
//!   before the first token it signs); existing rows become `active` or `retired` from `active`;
//! - `activates_at`: when the key became (or, for a `next` key, becomes) the signing key;
//!   existing rows get their `created_at`;
//! - `encrypted`: whether `private_key` is an AES-256-GCM envelope (see `gatehouse_jose::envelope`)
//!   rather than plain PKCS#8 DER; existing rows are plaintext;
//! - a unique partial index allowing at most one `next` key per algorithm, so two nodes
//!   scheduling a rotation at once cannot both succeed.
//!
//! `active` stays the column that says which key signs (nodes of the previous release read only
//! it); `status` tells a pre-published key from a retired one. The column default is `active` so
//! that a row inserted by a previous-release node (always active) reads back consistently.
//! Every step checks the schema first, so a re-run changes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "signing_keys";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column(TABLE, "status").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(TABLE)
                        .add_column(ColumnDef::new("status").text().not_null().default("active"))
                        .take(),
                )
                .await?;
            let retire = Query::update()
                .table(TABLE)
                .value("status", "retired")
                .and_where(Expr::col("active").eq(false))
                .take();
            manager.exec_stmt(retire).await?;
        }
        if !manager.has_column(TABLE, "activates_at").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(TABLE)
                        .add_column(
                            ColumnDef::new("activates_at")
                                .timestamp_with_time_zone()
                                .null(),
                        )
                        .take(),
                )
                .await?;
            let backfill = Query::update()
                .table(TABLE)
                .value("activates_at", Expr::col("created_at"))
                .and_where(Expr::col("activates_at").is_null())
                .take();
            manager.exec_stmt(backfill).await?;
        }
        if !manager.has_column(TABLE, "encrypted").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(TABLE)
                        .add_column(
                            ColumnDef::new("encrypted")
                                .boolean()
                                .not_null()
                                .default(false),
                        )
                        .take(),
                )
                .await?;
        }
        // Partial indexes are spelled the same on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS idx_signing_keys_one_next \
                 ON signing_keys (alg) WHERE status = 'next'",
            )
            .await?;
        Ok(())
    }

    /// Column additions and the backfill commit together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

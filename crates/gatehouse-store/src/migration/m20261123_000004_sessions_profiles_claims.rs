//! Sessions with an idle timeout, user profile claims, and OIDC claims requests.
//!
//! - `sessions.last_seen_at`: when the session was last used (NULL for sessions created before
//!   this migration: they count as last seen at `created_at`).
//! - `users.name`, `given_name`, `family_name`, `phone_number`, `address`: optional profile
//!   fields released by the `profile`, `phone` and `address` scopes (OIDC Core §5.1, §5.4);
//!   `address` holds the JSON object of OIDC Core §5.1.1 as text.
//! - `grant_claims`: the `claims` request parameter (OIDC Core §5.5) of a grant, by grant id, so
//!   that the ID token at the code exchange and every later UserInfo call can honour it.
//!
//! Columns are added one statement at a time (SQLite alters one column per statement) and only
//! when missing, so a re-run is harmless on both backends.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn add_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: ColumnDef,
) -> Result<(), DbErr> {
    let mut column = column;
    let name = column.get_column_name();
    if manager.has_column(table, &name).await? {
        return Ok(());
    }
    manager
        .alter_table(Table::alter().table(table).add_column(&mut column).take())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            "sessions",
            ColumnDef::new("last_seen_at")
                .timestamp_with_time_zone()
                .null()
                .take(),
        )
        .await?;
        for col in [
            "name",
            "given_name",
            "family_name",
            "phone_number",
            "address",
        ] {
            add_column(manager, "users", ColumnDef::new(col).text().null().take()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("grant_claims")
                    .if_not_exists()
                    .col(ColumnDef::new("grant_id").text().not_null().primary_key())
                    .col(ColumnDef::new("claims").text().not_null())
                    .col(
                        ColumnDef::new("created_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_grant_claims_created_at")
                    .table("grant_claims")
                    .col("created_at")
                    .if_not_exists()
                    .take(),
            )
            .await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

//! Issue 4 foundation: tenant policy columns, `api_keys`, and the append-only `audit_events`.
//!
//! The existing `tenants` rows (the seeded `default` tenant) get `disabled = false`,
//! `api_access_enabled = true`, `max_api_keys = 4`, `allowed_scopes = NULL`. API access on for
//! `default` opens nothing by itself (no key exists until an operator creates one) and keeps
//! single-tenant installations working without an extra step; `gatehouse tenant api-access
//! default disabled` turns it off.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().take()
}

fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().take()
}

fn time(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

fn time_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .take()
}

fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(format!("idx_{table}_{}", columns.join("_")))
        .table(table)
        .if_not_exists();
    for c in columns {
        idx.col(*c);
    }
    idx.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let columns = [
            ColumnDef::new("disabled")
                .boolean()
                .not_null()
                .default(false)
                .take(),
            ColumnDef::new("api_access_enabled")
                .boolean()
                .not_null()
                .default(true)
                .take(),
            ColumnDef::new("max_api_keys")
                .integer()
                .not_null()
                .default(4)
                .take(),
            text_null("allowed_scopes"),
        ];
        for mut col in columns {
            manager
                .alter_table(Table::alter().table("tenants").add_column(&mut col).take())
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .if_not_exists()
                    .col(ColumnDef::new("id").text().not_null().primary_key())
                    .col(text("tenant_id"))
                    .col(text("name"))
                    .col(text("prefix"))
                    .col(text("secret_hash").unique_key().take())
                    .col(text("scopes"))
                    .col(text("environment"))
                    .col(ColumnDef::new("allowed_ips").json_binary().not_null())
                    .col(text_null("rate_limit_class"))
                    .col(time("created_at"))
                    .col(time("expires_at"))
                    .col(time_null("revoked_at"))
                    .col(time_null("last_used_at"))
                    .col(text_null("last_used_ip"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_tenant_id")
                            .from("api_keys", "tenant_id")
                            .to("tenants", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(index("api_keys", &["tenant_id"]))
            .await?;

        create_audit_events(manager).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// The append-only audit trail.
async fn create_audit_events(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("audit_events")
                .if_not_exists()
                .col(
                    ColumnDef::new("id")
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(time("at"))
                .col(text_null("tenant_id"))
                .col(text("actor_kind"))
                .col(text_null("actor"))
                .col(text("action"))
                .col(text_null("target"))
                .col(text_null("source_ip"))
                .col(text_null("request_id"))
                .col(text("outcome"))
                .col(ColumnDef::new("details").json_binary().not_null())
                .take(),
        )
        .await?;
    manager
        .create_index(index("audit_events", &["tenant_id"]))
        .await?;
    Ok(())
}

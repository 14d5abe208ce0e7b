//! The initial schema: every table of Gatehouse, its indexes, and the `default` tenant.
//!
//! Column types: identifiers, hashes and scope strings are `text`; timestamps are
//! `timestamp with time zone` (RFC 3339 text on SQLite); lists and JWKs are `jsonb` (text on
//! SQLite); the private key is `bytea` / `blob`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().take()
}

fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().take()
}

fn text_pk(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().primary_key().take()
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

fn flag(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).boolean().not_null().take()
}

fn json(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).json_binary().not_null().take()
}

/// A foreign key from `table.column` to `target.id`-like column, deleting dependants with it.
fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    target_col: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, target_col)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// A plain index `idx_<table>_<columns>`.
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

/// Tenants, users and clients.
async fn create_identity_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("tenants")
                .if_not_exists()
                .col(text_pk("id"))
                .col(text("name"))
                .col(time("created_at"))
                .take(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table("users")
                .if_not_exists()
                .col(text_pk("id"))
                .col(text("tenant_id"))
                .col(text("username").unique_key().take())
                .col(text_null("email"))
                .col(text("password_hash"))
                .col(time("created_at"))
                .foreign_key(&mut fk("users", "tenant_id", "tenants", "id"))
                .take(),
        )
        .await?;
    manager.create_index(index("users", &["tenant_id"])).await?;

    manager
        .create_table(
            Table::create()
                .table("clients")
                .if_not_exists()
                .col(text_pk("id"))
                .col(text("tenant_id"))
                .col(text("name"))
                .col(text_null("secret_hash"))
                .col(text("auth_method"))
                .col(json("redirect_uris"))
                .col(json("post_logout_redirect_uris"))
                .col(json("grant_types"))
                .col(text("allowed_scopes"))
                .col(text("id_token_alg"))
                .col(text("access_token_alg"))
                .col(ColumnDef::new("access_token_ttl").big_integer().null())
                .col(flag("require_pkce"))
                .col(time("created_at"))
                .foreign_key(&mut fk("clients", "tenant_id", "tenants", "id"))
                .take(),
        )
        .await?;
    manager
        .create_index(index("clients", &["tenant_id"]))
        .await?;
    Ok(())
}

/// Authorization codes and refresh tokens.
async fn create_code_and_refresh_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("authorization_codes")
                .if_not_exists()
                .col(text_pk("code_hash"))
                .col(text("client_id"))
                .col(text("user_id"))
                .col(text("redirect_uri"))
                .col(flag("redirect_uri_in_request"))
                .col(text("scope"))
                .col(text_null("nonce"))
                .col(text_null("code_challenge"))
                .col(time("auth_time"))
                .col(text("grant_id"))
                .col(time("expires_at"))
                .col(time_null("redeemed_at"))
                .foreign_key(&mut fk("authorization_codes", "client_id", "clients", "id"))
                .foreign_key(&mut fk("authorization_codes", "user_id", "users", "id"))
                .take(),
        )
        .await?;
    manager
        .create_index(index("authorization_codes", &["expires_at"]))
        .await?;
    manager
        .create_index(index("authorization_codes", &["grant_id"]))
        .await?;
    manager
        .create_index(index("authorization_codes", &["client_id"]))
        .await?;
    manager
        .create_index(index("authorization_codes", &["user_id"]))
        .await?;

    manager
        .create_table(
            Table::create()
                .table("refresh_tokens")
                .if_not_exists()
                .col(text_pk("token_hash"))
                .col(text("grant_id"))
                .col(text("client_id"))
                .col(text("user_id"))
                .col(text("scope"))
                .col(text("granted_scope"))
                .col(time("auth_time"))
                .col(time("issued_at"))
                .col(time("expires_at"))
                .col(time_null("used_at"))
                .col(flag("revoked"))
                .foreign_key(&mut fk("refresh_tokens", "client_id", "clients", "id"))
                .foreign_key(&mut fk("refresh_tokens", "user_id", "users", "id"))
                .take(),
        )
        .await?;
    manager
        .create_index(index("refresh_tokens", &["grant_id"]))
        .await?;
    manager
        .create_index(index("refresh_tokens", &["expires_at"]))
        .await?;
    manager
        .create_index(index("refresh_tokens", &["client_id"]))
        .await?;
    manager
        .create_index(index("refresh_tokens", &["user_id"]))
        .await?;
    Ok(())
}

/// Revoked grants and consents.
async fn create_revocation_and_consent_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("revoked_grants")
                .if_not_exists()
                .col(text_pk("grant_id"))
                .col(time("revoked_at"))
                .take(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table("consents")
                .if_not_exists()
                .col(text("user_id"))
                .col(text("client_id"))
                .col(text("scope"))
                .col(time("updated_at"))
                .primary_key(
                    Index::create()
                        .name("pk_consents")
                        .col("user_id")
                        .col("client_id"),
                )
                .foreign_key(&mut fk("consents", "client_id", "clients", "id"))
                .foreign_key(&mut fk("consents", "user_id", "users", "id"))
                .take(),
        )
        .await?;
    manager
        .create_index(index("consents", &["client_id"]))
        .await?;
    Ok(())
}

/// Login sessions and signing keys.
async fn create_session_and_key_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("sessions")
                .if_not_exists()
                .col(text_pk("id_hash"))
                .col(text("user_id"))
                .col(time("auth_time"))
                .col(text("csrf_token"))
                .col(time("expires_at"))
                .col(time("created_at"))
                .foreign_key(&mut fk("sessions", "user_id", "users", "id"))
                .take(),
        )
        .await?;
    manager
        .create_index(index("sessions", &["user_id"]))
        .await?;
    manager
        .create_index(index("sessions", &["expires_at"]))
        .await?;

    manager
        .create_table(
            Table::create()
                .table("signing_keys")
                .if_not_exists()
                .col(text_pk("kid"))
                .col(text("alg"))
                .col(ColumnDef::new("private_key").blob().not_null())
                .col(json("public_jwk"))
                .col(time("created_at"))
                .col(flag("active"))
                .col(time_null("retired_at"))
                .take(),
        )
        .await?;
    manager
        .create_index(index("signing_keys", &["alg", "active"]))
        .await?;
    manager
        .create_index(index("signing_keys", &["created_at"]))
        .await?;
    Ok(())
}

/// The default tenant; a no-op if it is already there.
// Seeding records when the tenant was created: wall-clock time is what is meant here.
#[allow(clippy::disallowed_methods)]
async fn seed_default_tenant(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let seed = Query::insert()
        .into_table("tenants")
        .columns(["id", "name", "created_at"])
        .values_panic([
            Expr::value("default"),
            Expr::value("Default"),
            Expr::value(chrono::Utc::now()),
        ])
        .on_conflict(OnConflict::column("id").do_nothing().to_owned())
        .take();
    manager.exec_stmt(seed).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_identity_tables(manager).await?;
        create_code_and_refresh_tables(manager).await?;
        create_revocation_and_consent_tables(manager).await?;
        create_session_and_key_tables(manager).await?;
        seed_default_tenant(manager).await
    }

    /// Runs the initial migration in one transaction on every backend (SQLite and PostgreSQL
    /// both have transactional DDL), so a failed first start leaves nothing half-created.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

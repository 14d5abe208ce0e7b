//! `api_keys`: tenants' API keys, kept by the hex SHA-256 of the secret (never the secret).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub id: String,
    #[sea_orm(column_type = "Text", indexed)]
    pub tenant_id: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    /// The leading characters of the secret shown in listings.
    #[sea_orm(column_type = "Text")]
    pub prefix: String,
    #[sea_orm(column_type = "Text", unique)]
    pub secret_hash: String,
    /// Space-separated scopes.
    #[sea_orm(column_type = "Text")]
    pub scopes: String,
    #[sea_orm(column_type = "Text")]
    pub environment: String,
    /// JSON array of CIDR strings; empty = any address.
    #[sea_orm(column_type = "JsonBinary")]
    pub allowed_ips: Json,
    #[sea_orm(column_type = "Text", nullable)]
    pub rate_limit_class: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_used_ip: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

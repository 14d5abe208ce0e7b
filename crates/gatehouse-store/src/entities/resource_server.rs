//! `resource_servers`: the resources (RFC 8707) a tenant registered; `identifier` is unique
//! per tenant and becomes the `aud` of access tokens for the resource.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_servers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub id: String,
    #[sea_orm(column_type = "Text")]
    pub tenant_id: String,
    #[sea_orm(column_type = "Text")]
    pub identifier: String,
    /// Space-separated scope tokens.
    #[sea_orm(column_type = "Text")]
    pub scopes: String,
    pub access_token_ttl: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub access_token_alg: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `jwt_bearer_trusts`: issuers and subjects whose signed assertions the JWT bearer grant
//! (RFC 7523 §2.1) exchanges for access tokens; `jwks` holds their public keys.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jwt_bearer_trusts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub id: String,
    #[sea_orm(column_type = "Text")]
    pub tenant_id: String,
    #[sea_orm(column_type = "Text")]
    pub issuer: String,
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub jwks: Json,
    /// Space-separated scope tokens.
    #[sea_orm(column_type = "Text")]
    pub scopes: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

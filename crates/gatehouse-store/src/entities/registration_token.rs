//! `registration_tokens`: initial access tokens of dynamic registration (RFC 7591 §3) by the
//! SHA-256 (hex) of the token.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registration_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub token_hash: String,
    #[sea_orm(column_type = "Text")]
    pub tenant_id: String,
    pub expires_at: DateTimeUtc,
    /// `None`: unlimited until expiry.
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `pushed_requests`: pushed authorization requests (RFC 9126) by the SHA-256 (hex) of their
//! `request_uri`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pushed_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub uri_hash: String,
    #[sea_orm(column_type = "Text")]
    pub client_id: String,
    /// The authorization parameters, URL-encoded.
    #[sea_orm(column_type = "Text")]
    pub params: String,
    #[sea_orm(indexed)]
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

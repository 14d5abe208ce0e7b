//! `sessions`: browser login sessions, keyed by the hex SHA-256 of the cookie value.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub id_hash: String,
    #[sea_orm(column_type = "Text", indexed)]
    pub user_id: String,
    pub auth_time: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub csrf_token: String,
    #[sea_orm(indexed)]
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    /// When the session was last used (idle timeout); NULL means `created_at`.
    pub last_seen_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `device_authorizations`: device authorization requests (RFC 8628) by the SHA-256 (hex) of
//! their device code.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "device_authorizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub device_code_hash: String,
    #[sea_orm(column_type = "Text", unique)]
    pub user_code_hash: String,
    #[sea_orm(column_type = "Text")]
    pub client_id: String,
    #[sea_orm(column_type = "Text")]
    pub scope: String,
    /// `pending`, `approved`, `denied` or `consumed`.
    #[sea_orm(column_type = "Text")]
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub user_id: Option<String>,
    pub auth_time: Option<DateTimeUtc>,
    /// Seconds between polls (grows with `slow_down`).
    pub poll_interval: i64,
    pub last_polled_at: Option<DateTimeUtc>,
    #[sea_orm(indexed)]
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

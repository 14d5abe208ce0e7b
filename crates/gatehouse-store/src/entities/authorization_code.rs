//! `authorization_codes`: issued codes, keyed by the hex SHA-256 of the code. `redeemed_at` is
//! set exactly once, by a conditional `UPDATE` (see [`crate::ports`]).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorization_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub code_hash: String,
    #[sea_orm(column_type = "Text")]
    pub client_id: String,
    #[sea_orm(column_type = "Text")]
    pub user_id: String,
    #[sea_orm(column_type = "Text")]
    pub redirect_uri: String,
    pub redirect_uri_in_request: bool,
    #[sea_orm(column_type = "Text")]
    pub scope: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub nonce: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub code_challenge: Option<String>,
    pub auth_time: DateTimeUtc,
    #[sea_orm(column_type = "Text", indexed)]
    pub grant_id: String,
    #[sea_orm(indexed)]
    pub expires_at: DateTimeUtc,
    pub redeemed_at: Option<DateTimeUtc>,
    /// RFC 7638 thumbprint of the DPoP key it is bound to (RFC 9449); migration 000100.
    #[sea_orm(column_type = "Text", nullable)]
    pub dpop_jkt: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

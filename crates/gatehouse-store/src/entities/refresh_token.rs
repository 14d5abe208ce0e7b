//! `refresh_tokens`: refresh tokens of grants, keyed by the hex SHA-256 of the token.
//! `used_at` is set exactly once on rotation (with `replaced_by`, the successor's hash); `revoked`
//! is set for the whole grant on revocation.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub token_hash: String,
    #[sea_orm(column_type = "Text", indexed)]
    pub grant_id: String,
    #[sea_orm(column_type = "Text")]
    pub client_id: String,
    #[sea_orm(column_type = "Text")]
    pub user_id: String,
    #[sea_orm(column_type = "Text")]
    pub scope: String,
    #[sea_orm(column_type = "Text")]
    pub granted_scope: String,
    pub auth_time: DateTimeUtc,
    pub issued_at: DateTimeUtc,
    #[sea_orm(indexed)]
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub revoked: bool,
    /// The family's absolute deadline; NULL for tokens issued before it existed.
    pub family_expires_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub replaced_by: Option<String>,
    /// Hex; set for clients with a grace period (see `gatehouse_core::rotation`).
    #[sea_orm(column_type = "Text", nullable)]
    pub rotation_salt: Option<String>,
    /// RFC 7638 thumbprint of the DPoP key it is bound to (RFC 9449); migration 000100.
    #[sea_orm(column_type = "Text", nullable)]
    pub dpop_jkt: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `users`: resource owners, with their Argon2id password hash (PHC string) and optional
//! profile claims (OIDC Core §5.1).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub id: String,
    #[sea_orm(column_type = "Text", indexed)]
    pub tenant_id: String,
    /// Unique within the tenant (`idx_users_tenant_id_username`).
    #[sea_orm(column_type = "Text")]
    pub username: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub email: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub password_hash: String,
    pub created_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub name: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub given_name: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub family_name: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub phone_number: Option<String>,
    /// The OIDC address claim (Core §5.1.1), a JSON object as text.
    #[sea_orm(column_type = "Text", nullable)]
    pub address: Option<String>,
    /// The admin scopes the user holds, space-separated; NULL for ordinary users.
    #[sea_orm(column_type = "Text", nullable)]
    pub admin_scopes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

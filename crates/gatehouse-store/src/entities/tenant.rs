//! `tenants`: the partitions clients and users belong to. The migration seeds `default`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub id: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub created_at: DateTimeUtc,
    pub disabled: bool,
    pub api_access_enabled: bool,
    pub max_api_keys: i32,
    /// Space-separated scopes; `None` = unrestricted.
    #[sea_orm(column_type = "Text", nullable)]
    pub allowed_scopes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

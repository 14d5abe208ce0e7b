//! `clients`: registered OAuth clients. Lists (redirect URIs, grant types) are JSON arrays of
//! strings; the secret is kept only as the hex SHA-256 digest.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub id: String,
    #[sea_orm(column_type = "Text", indexed)]
    pub tenant_id: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    /// Hex SHA-256 of the client secret; `None` for public clients.
    #[sea_orm(column_type = "Text", nullable)]
    pub secret_hash: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub auth_method: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub redirect_uris: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub post_logout_redirect_uris: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub grant_types: Json,
    /// Space-separated scope tokens.
    #[sea_orm(column_type = "Text")]
    pub allowed_scopes: String,
    #[sea_orm(column_type = "Text")]
    pub id_token_alg: String,
    #[sea_orm(column_type = "Text")]
    pub access_token_alg: String,
    pub access_token_ttl: Option<i64>,
    pub require_pkce: bool,
    /// Refresh rotation grace period, seconds; 0 = strict.
    pub refresh_grace_seconds: i64,
    pub refresh_idle_ttl: Option<i64>,
    pub refresh_absolute_ttl: Option<i64>,
    pub created_at: DateTimeUtc,
    /// The public JWKS of a `private_key_jwt` client registered inline (migration 000003).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub jwks: Option<Json>,
    /// The `jwks_uri` of a `private_key_jwt` client (migration 000003).
    #[sea_orm(column_type = "Text", nullable)]
    pub jwks_uri: Option<String>,
    /// The secret of a `client_secret_jwt` client as an AES-256-GCM envelope under the master
    /// key, base64 (migration 000010). Never plaintext.
    #[sea_orm(column_type = "Text", nullable)]
    pub hmac_secret: Option<String>,
    /// The client that may act for this client's users (RFC 8693 §4.4; migration 000120).
    #[sea_orm(column_type = "Text", nullable)]
    pub may_act: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

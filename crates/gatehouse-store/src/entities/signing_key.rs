//! `signing_keys`: the server's JWS keys. The private key is PKCS#8 DER, or an AES-256-GCM
//! envelope of it when `encrypted`; the public half is a JWK (JSON). At most one key per
//! algorithm is `active` and at most one is `next` (published ahead of use); retired keys stay
//! published until pruned, so tokens they signed still verify.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub kid: String,
    #[sea_orm(column_type = "Text")]
    pub alg: String,
    /// PKCS#8 DER, or its envelope when `encrypted`. Never logged: this type's `Debug` omits it.
    #[sea_orm(column_type = "Blob")]
    pub private_key: Vec<u8>,
    #[sea_orm(column_type = "JsonBinary")]
    pub public_jwk: Json,
    pub created_at: DateTimeUtc,
    pub active: bool,
    pub retired_at: Option<DateTimeUtc>,
    /// `next`, `active` or `retired` (`active` above stays authoritative for signing).
    #[sea_orm(column_type = "Text")]
    pub status: String,
    /// When the key became, or (for a `next` key) becomes, the signing key.
    pub activates_at: Option<DateTimeUtc>,
    /// Whether `private_key` is encrypted with the master key.
    pub encrypted: bool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("signing_key::Model")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("active", &self.active)
            .field("retired_at", &self.retired_at)
            .field("status", &self.status)
            .field("activates_at", &self.activates_at)
            .field("encrypted", &self.encrypted)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `client_options`: per-client protocol options beyond the registration — the resources
//! (RFC 8707) the client is restricted to, and whether it must push its authorization
//! requests (RFC 9126 §6), and whether the requests it authenticates (token, PAR,
//! introspection, revocation) must carry a DPoP proof (RFC 9449; also set by dynamic
//! registration's `dpop_bound_access_tokens`). A client without a row has no restriction.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_options")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub client_id: String,
    /// Space-separated resource identifiers; empty: any of the tenant's.
    #[sea_orm(column_type = "Text")]
    pub resources: String,
    pub require_par: bool,
    /// Requests the client authenticates must carry a DPoP proof (RFC 9449); added by
    /// migration 000100.
    pub dpop_required: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! Request and response bodies of the user-management endpoints added for issue 11 (update,
//! disable and enable, password reset, sessions) and of tenant deletion, for deserialization
//! and for the OpenAPI document.

#![allow(dead_code)] // response shapes exist for the OpenAPI document only

use serde::Deserialize;
use utoipa::ToSchema;

/// Changes to a user; absent members stay, `""` clears an optional text.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    pub email: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Replaces the user's admin scopes (`[]` removes them); only scopes the caller holds.
    pub admin_scopes: Option<Vec<String>>,
}

/// A new password for a user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    pub password: String,
}

/// A user after a disable, enable or password reset, with what the change ended.
#[derive(ToSchema)]
pub struct UserChangeBody {
    pub id: String,
    pub tenant: String,
    pub username: String,
    pub disabled: bool,
    pub disabled_at: Option<String>,
    pub sessions_ended: u64,
    /// Grants revoked: their refresh tokens stop and their access tokens introspect inactive.
    pub grants_revoked: u64,
}

#[derive(ToSchema)]
pub struct SessionBody {
    /// A handle for ending this session (neither the cookie nor its stored digest).
    pub id: String,
    pub created_at: String,
    pub auth_time: String,
    pub last_seen_at: String,
    pub expires_at: String,
}

#[derive(ToSchema)]
pub struct SessionListBody {
    pub user: String,
    pub username: String,
    pub sessions: Vec<SessionBody>,
}

#[derive(ToSchema)]
pub struct EndedSessionsBody {
    pub user: String,
    pub ended: u64,
}

/// A deleted tenant and the counts of what was deleted with it.
#[derive(ToSchema)]
pub struct DeletedTenantBody {
    pub id: String,
    pub name: String,
    pub deleted: bool,
    pub users: u64,
    pub clients: u64,
    pub api_keys: u64,
    pub trusts: u64,
}

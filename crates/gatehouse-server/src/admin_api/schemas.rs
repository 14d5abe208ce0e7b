//! Request and response bodies of the admin API, for deserialization and for the OpenAPI
//! document. Responses are the typed views of `gatehouse_admin::views`, serialized as they
//! are; the response structs here describe those shapes.

#![allow(dead_code)] // response shapes exist for the OpenAPI document only

use serde::Deserialize;
use utoipa::ToSchema;

/// An error answer.
#[derive(ToSchema)]
pub struct ErrorBody {
    /// `invalid_token`, `insufficient_scope`, `invalid_request`, `not_found`, `conflict`,
    /// `api_key_limit_reached`, `precondition_failed`, `temporarily_unavailable` or
    /// `server_error`.
    pub error: String,
    pub error_description: String,
    /// The request field at fault, when one is.
    pub field: Option<String>,
}

#[derive(ToSchema)]
pub struct VersionDoc {
    pub api: String,
    pub version: String,
}

/// A page of a list: `next_after` is the cursor for the next page (`null` on the last).
#[derive(ToSchema)]
pub struct Page {
    pub items: Vec<serde_json::Value>,
    pub next_after: Option<String>,
    /// The URL of the next page.
    pub next: Option<String>,
}

#[derive(ToSchema)]
pub struct TenantBody {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub disabled: bool,
    /// `enabled` or `disabled`.
    pub api_access: String,
    pub api_access_enabled: bool,
    pub max_api_keys: u32,
    /// Space-separated scopes API keys of the tenant may carry; `null` = unrestricted.
    pub allowed_scopes: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    pub name: String,
    /// `enabled` (default) or `disabled`.
    pub api_access: Option<String>,
    /// Space-separated scopes allowed to the tenant's API keys.
    pub allowed_scopes: Option<String>,
    pub max_api_keys: Option<u32>,
}

/// Changes to a tenant; absent fields stay. Only a platform administrator may change
/// `disabled`, `api_access`, `max_api_keys` and `allowed_scopes`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTenant {
    pub name: Option<String>,
    pub disabled: Option<bool>,
    /// `enabled` or `disabled`.
    pub api_access: Option<String>,
    pub max_api_keys: Option<u32>,
    /// Space-separated scopes; `""` lifts the restriction.
    pub allowed_scopes: Option<String>,
}

#[derive(ToSchema)]
pub struct UserBody {
    pub id: String,
    pub tenant: String,
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<serde_json::Value>,
    pub admin_scopes: Vec<String>,
    pub created_at: String,
    /// A disabled user cannot sign in; its sessions and refresh tokens were ended.
    pub disabled: bool,
    pub disabled_at: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Defaults to the caller's tenant.
    pub tenant: Option<String>,
    pub username: String,
    pub email: Option<String>,
    pub password: String,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Admin scopes of a console/admin user (`admin:all`, `read:users`, …); only scopes the
    /// caller holds may be given.
    pub admin_scopes: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub struct ClientBody {
    pub client_id: String,
    pub tenant: String,
    pub name: String,
    pub auth_method: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scope: String,
    pub id_token_alg: String,
    /// `RS256` or `ES256`; `null`: the server's `[tokens] access_token_alg`.
    pub access_token_alg: Option<String>,
    pub access_token_ttl: Option<i64>,
    pub require_pkce: bool,
    pub created_at: String,
    /// Only in the answers of creation and secret rotation: shown this once.
    pub client_secret: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    pub tenant: Option<String>,
    pub name: String,
    #[serde(default)]
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub scope: Option<String>,
    /// `client_secret_basic` (default), `client_secret_post` or `none`.
    pub auth_method: Option<String>,
    pub id_token_alg: Option<String>,
    /// `RS256` or `ES256`; absent: the server's `[tokens] access_token_alg`.
    pub access_token_alg: Option<String>,
    pub access_token_ttl: Option<i64>,
    #[serde(default)]
    pub pkce_optional: bool,
    pub refresh_grace_seconds: Option<i64>,
    pub refresh_idle_ttl: Option<i64>,
    pub refresh_absolute_ttl: Option<i64>,
    /// Registered resources (RFC 8707) the client may target; empty: any of its tenant's.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Authorization requests must be pushed first (RFC 9126).
    #[serde(default)]
    pub require_par: bool,
    /// Requests the client authenticates (token, PAR, introspection, revocation) must carry a
    /// DPoP proof (RFC 9449).
    #[serde(default)]
    pub dpop_required: bool,
    /// The id of the client (of the same tenant) that may exchange this client's tokens to act
    /// for its users (RFC 8693 §4.4 `may_act`).
    pub may_act: Option<String>,
}

/// A resource server (RFC 8707).
#[derive(ToSchema)]
pub struct ResourceBody {
    pub id: String,
    pub identifier: String,
    pub scope: String,
    pub access_token_ttl: Option<i64>,
    pub alg: Option<String>,
    pub tenant: String,
    pub created_at: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResource {
    pub tenant: Option<String>,
    /// An absolute URI without fragment: the `aud` of access tokens for the resource.
    pub identifier: String,
    /// The scopes the resource understands, space separated.
    pub scope: String,
    pub access_token_ttl: Option<i64>,
    /// `RS256` or `ES256`.
    pub alg: Option<String>,
}

/// Changes to a client; an absent member stays as it is, a list replaces the whole list.
/// Checked as a registration is; the authentication method is not changed here.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchClient {
    pub name: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Space-separated scopes the client may obtain.
    pub scope: Option<String>,
    pub id_token_alg: Option<String>,
    pub access_token_ttl: Option<i64>,
    pub pkce_optional: Option<bool>,
    pub refresh_grace_seconds: Option<i64>,
    pub refresh_idle_ttl: Option<i64>,
    pub refresh_absolute_ttl: Option<i64>,
    /// The client that may act for this client's users (RFC 8693 §4.4); `""` removes it.
    pub may_act: Option<String>,
}

#[derive(ToSchema)]
pub struct ApiKeyBody {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub prefix: String,
    /// The prefix followed by dots; the secret itself is never listed.
    pub masked: String,
    pub scopes: Vec<String>,
    pub environment: String,
    pub allowed_ips: Vec<String>,
    pub rate_limit_class: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
    pub revoked_at: Option<String>,
    /// Only in the answer of creation: shown this once.
    pub secret: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub tenant: Option<String>,
    pub name: String,
    /// Space-separated scopes. Admin scopes beyond the caller's own are refused.
    pub scope: Option<String>,
    pub validity_days: Option<i64>,
    /// `live` (default) or `test`.
    pub environment: Option<String>,
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    pub rate_limit_class: Option<String>,
}

#[derive(ToSchema)]
pub struct SigningKeyBody {
    pub kid: String,
    pub alg: String,
    pub active: bool,
    /// `next`, `active` or `retired`.
    pub status: String,
    pub created_at: String,
    pub activates_at: Option<String>,
    pub retired_at: Option<String>,
    pub encrypted: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// `RS256` or `ES256`.
    pub alg: String,
}

#[derive(ToSchema)]
pub struct AuditPage {
    pub events: Vec<serde_json::Value>,
    /// The cursor for the next call: the last id returned, or `after` when none.
    pub next_after: i64,
}

/// A new initial access token of dynamic client registration (RFC 7591 §3).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRegistrationToken {
    /// The tenant of the clients it registers (default: the caller's).
    pub tenant: Option<String>,
    /// Lifetime in seconds (60..7776000; default 86400).
    pub ttl: Option<i64>,
    /// How many clients it may register (default: any number until it expires).
    pub max_uses: Option<u32>,
}

/// An initial access token, shown in this answer only.
#[derive(ToSchema)]
pub struct RegistrationTokenBody {
    /// The bearer token for `POST /oauth/register`.
    pub token: String,
    pub tenant_id: String,
    /// RFC 3339.
    pub expires_at: String,
    pub max_uses: Option<u32>,
}

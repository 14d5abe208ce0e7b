//! Initial access tokens of dynamic client registration (RFC 7591 §3): an operator hands one
//! to a developer, whose software then registers clients at `POST /oauth/register` in the
//! token's tenant. Registering clients is writing the tenant's clients, so creating a token
//! takes that right. The token is shown once; only its SHA-256 is stored.

use gatehouse_core::TenantId;
use gatehouse_core::admin::{Access, Operation, Resource};
use gatehouse_core::registration::InitialAccessToken;
use serde_json::json;

use crate::actor::Context;
use crate::error::OpError;
use crate::views::{CreatedRegistrationToken, ShownOnce};

/// Creates an initial access token for `tenant`, valid `ttl` seconds (default one day) for
/// `max_uses` registrations (default: any number until it expires).
pub async fn create(
    ctx: &Context<'_>,
    tenant: &TenantId,
    ttl: Option<i64>,
    max_uses: Option<u32>,
) -> Result<CreatedRegistrationToken, OpError> {
    ctx.require(Resource::Clients, Access::Write)?;
    ctx.authorize_in(Operation::Write(Resource::Clients, tenant), tenant)?;
    let (token, secret) = InitialAccessToken::generate(tenant.clone(), ttl, max_uses, ctx.now)?;
    ctx.existing_tenant(tenant).await?;
    ctx.store.insert_initial_token(&token).await?;
    // The audit names the token by a prefix of its hash: enough to correlate, nothing to use.
    let handle: String = token.hash.to_hex().chars().take(16).collect();
    ctx.audit(
        Some(tenant.as_str()),
        "registration_token.create",
        &handle,
        json!({ "expires_at": token.expires_at.to_rfc3339(), "max_uses": max_uses }),
    )
    .await?;
    Ok(CreatedRegistrationToken {
        token: ShownOnce::new(secret.expose()),
        tenant_id: tenant.clone(),
        expires_at: token.expires_at,
        max_uses,
    })
}

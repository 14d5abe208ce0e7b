//! The UserInfo endpoint (OIDC Core §5.3, claims by scope §5.4 and by name §5.5) and
//! bearer-token rules (RFC 6750 §3.1). The token is one of our JWT access tokens (RFC 9068),
//! verified through the [`AccessTokenVerifier`] port (signature, `typ`, `iss`, `aud`); expiry is
//! checked here against the injected clock. Access tokens revoked by `jti` (RFC 7009) or with
//! their grant are refused, and so are tokens of a disabled tenant.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::apikey_auth::ApiKeyLookup;
use crate::claims::AccessTokenClaims;
use crate::claims_request::ClaimsRequestStore;
use crate::error::{Error, ErrorCode, OAuthError};
use crate::introspection::backing_live;
use crate::ports::{GrantStore, UserStore};
use crate::revocation::{AccessTokenVerifier, RevokedTokenStore};
use crate::tenant::TenantStore;
use crate::values::{GrantId, ScopeSet, UserId};

/// The claims of the user a bearer token was issued for: `sub` plus the claims its scope
/// releases. Any token that is not a live access token of ours is `invalid_token`.
pub async fn userinfo<S, V>(
    store: &S,
    verifier: &V,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>, Error>
where
    S: UserStore + GrantStore + ClaimsRequestStore + RevokedTokenStore + TenantStore + ApiKeyLookup,
    V: AccessTokenVerifier,
{
    let claims = verifier
        .verify_access_token(token)
        .ok_or_else(|| OAuthError::invalid_token("the access token is invalid or expired"))?;
    user_claims(store, &claims, now).await
}

/// The claims for a verified access token.
async fn user_claims<S>(
    store: &S,
    claims: &AccessTokenClaims,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>, Error>
where
    S: UserStore + GrantStore + ClaimsRequestStore + RevokedTokenStore + TenantStore + ApiKeyLookup,
{
    let invalid = || Error::OAuth(OAuthError::invalid_token("the access token is not valid"));
    if claims.exp <= now.timestamp() {
        return Err(OAuthError::invalid_token("the access token has expired").into());
    }
    // Only tokens issued for a user (through a grant) can read user claims.
    let grant = claims
        .gid
        .as_deref()
        .and_then(|g| GrantId::parse(g).ok())
        .ok_or_else(invalid)?;
    if store.is_grant_revoked(&grant).await?
        || store.is_access_token_revoked(&claims.jti).await?
        || !backing_live(store, claims, now).await?
    {
        return Err(invalid());
    }
    let scope = ScopeSet::parse(&claims.scope).map_err(|_| invalid())?;
    if !scope.contains("openid") {
        return Err(
            OAuthError::new(ErrorCode::InsufficientScope, "the openid scope is required").into(),
        );
    }
    let user_id = UserId::parse(&claims.sub).map_err(|_| invalid())?;
    let user = store.find_user(&user_id).await?.ok_or_else(invalid)?;
    let mut out = Map::new();
    out.insert("sub".into(), Value::String(user.id.to_string()));
    // Scope claims, plus those the `claims` parameter asked for by name (OIDC Core §5.5).
    let requested = store.find_claims_request(&grant).await?;
    out.extend(
        user.claims_for_request(
            &scope,
            requested
                .iter()
                .flat_map(|r| r.userinfo.iter().map(String::as_str)),
        ),
    );
    Ok(out)
}

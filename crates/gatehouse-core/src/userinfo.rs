//! The UserInfo endpoint (OIDC Core §5.3, claims by scope §5.4 and by name §5.5) and
//! bearer-token rules (RFC 6750 §3.1). The token is one of our JWT access tokens (RFC 9068),
//! verified through the [`AccessTokenVerifier`] port (signature, `typ`, `iss`, `aud`); expiry is
//! checked here against the injected clock. Access tokens revoked by `jti` (RFC 7009) or with
//! their grant are refused, and so are tokens of a disabled tenant. A DPoP-bound token
//! (RFC 9449 §7.1) is accepted only with the DPoP scheme and a proof of its key, never as a
//! bearer token (`crate::dpop::check_presentation`).

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
    proof_jkt: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>, Error>
where
    S: UserStore + GrantStore + ClaimsRequestStore + RevokedTokenStore + TenantStore + ApiKeyLookup,
    V: AccessTokenVerifier,
{
    let claims = verifier
        .verify_access_token(token)
        .ok_or_else(|| OAuthError::invalid_token("the access token is invalid or expired"))?;
    user_claims(store, &claims, proof_jkt, now).await
}

/// The claims for a verified access token presented with a proof of `proof_jkt` (DPoP
/// scheme) or as a bearer token (`None`).
async fn user_claims<S>(
    store: &S,
    claims: &AccessTokenClaims,
    proof_jkt: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>, Error>
where
    S: UserStore + GrantStore + ClaimsRequestStore + RevokedTokenStore + TenantStore + ApiKeyLookup,
{
    let invalid = || Error::OAuth(OAuthError::invalid_token("the access token is not valid"));
    if claims.exp <= now.timestamp() {
        return Err(OAuthError::invalid_token("the access token has expired").into());
    }
    // A DPoP-bound token (RFC 9449 §7.1) only with a proof of its key, never as a bearer token.
    crate::dpop::check_presentation(claims, proof_jkt)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::ACCESS_TOKEN_TYP;
    use crate::fakes::{self, FakeSigner, FakeStore, FakeVerifier};
    use crate::ports::TokenSigner;
    use crate::values::SigningAlg;

    /// A fake access token of user `u1` with `scope`, in grant `grant` if any.
    fn token(scope: &str, grant: Option<&str>, now: DateTime<Utc>) -> String {
        let mut c = fakes::claims_of(&fakes::access_token("c1", grant, now));
        c["scope"] = scope.into();
        FakeSigner
            .sign(SigningAlg::RS256, ACCESS_TOKEN_TYP, &c)
            .unwrap()
    }

    async fn code(store: &FakeStore, t: &str, now: DateTime<Utc>) -> ErrorCode {
        let e = userinfo(store, &FakeVerifier, t, None, now)
            .await
            .unwrap_err();
        e.to_oauth().code
    }

    #[tokio::test]
    async fn a_live_token_of_a_user_with_openid_reads_their_claims_oidc_5_3() {
        let now = Utc::now();
        let store = FakeStore::default();
        store.add_user("u1");
        let claims = userinfo(
            &store,
            &FakeVerifier,
            &token("openid", Some("g1"), now),
            None,
            now,
        )
        .await
        .unwrap();
        assert_eq!(claims["sub"], "u1");
    }

    #[tokio::test]
    async fn other_tokens_are_invalid_token_or_insufficient_scope_rfc6750_3_1() {
        let now = Utc::now();
        let store = FakeStore::default();
        store.add_user("u1");
        assert_eq!(code(&store, "garbage", now).await, ErrorCode::InvalidToken);
        // No user behind it (client_credentials), expired, revoked with its grant.
        let client_only = token("openid", None, now);
        assert_eq!(
            code(&store, &client_only, now).await,
            ErrorCode::InvalidToken
        );
        let old = token("openid", Some("g1"), now - chrono::Duration::hours(2));
        assert_eq!(code(&store, &old, now).await, ErrorCode::InvalidToken);
        let no_openid = token("email", Some("g1"), now);
        assert_eq!(
            code(&store, &no_openid, now).await,
            ErrorCode::InsufficientScope
        );
        store
            .revoke_grant(&GrantId::parse("g1").unwrap(), now)
            .await
            .unwrap();
        let revoked = token("openid", Some("g1"), now);
        assert_eq!(code(&store, &revoked, now).await, ErrorCode::InvalidToken);
    }
}

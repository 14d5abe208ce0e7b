//! Checking the tokens presented for a delegation (RFC 8693 §2.1 `subject_token` and
//! `actor_token`): ours, live (not expired, not revoked, tenant enabled, user present), and
//! what they say about whom.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{IssuedTokenVerifier, PresentedToken, SubjectKind};
use crate::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims, Actor, ID_TOKEN_TYP};
use crate::error::Error;
use crate::grant::mint::live_user;
use crate::introspection::{IntrospectionStore, backing_live, is_revoked};
use crate::ports::UserStore;
use crate::values::{GrantId, ScopeSet, TenantId, UserId};

/// What a verified subject or actor token says.
#[derive(Debug, Clone)]
pub(super) struct Verified {
    pub(super) sub: String,
    /// The client the token was issued to.
    pub(super) client_id: String,
    pub(super) tenant: TenantId,
    /// `None` for ID tokens (they carry no scope).
    pub(super) scope: Option<ScopeSet>,
    pub(super) grant_id: Option<GrantId>,
    pub(super) auth_time: Option<i64>,
    pub(super) exp: i64,
    pub(super) act: Option<Actor>,
    pub(super) may_act: Option<Actor>,
}

/// The claims of an ID token this exchange reads (OIDC Core §2).
#[derive(Deserialize)]
struct IdTokenSubject {
    sub: String,
    aud: String,
    exp: i64,
    #[serde(default)]
    auth_time: Option<i64>,
    #[serde(default)]
    may_act: Option<Actor>,
}

/// A presented subject or actor token, if it is a live token of this server: `None` for
/// anything else (the caller answers `invalid_grant`).
pub(super) async fn verify<S, K>(
    store: &S,
    keys: &K,
    issuer: &str,
    presented: &PresentedToken,
    now: DateTime<Utc>,
) -> Result<Option<Verified>, Error>
where
    S: IntrospectionStore + UserStore,
    K: IssuedTokenVerifier,
{
    let token = presented.token.expose();
    let verified = match presented.kind {
        SubjectKind::AccessToken => {
            let Some(claims) = keys
                .verify_issued(token, ACCESS_TOKEN_TYP, issuer)
                .and_then(|v| serde_json::from_value::<AccessTokenClaims>(v).ok())
            else {
                return Ok(None);
            };
            if claims.exp <= now.timestamp()
                || claims.api_key.is_some()
                || is_revoked(store, &claims).await?
                || !backing_live(store, &claims, now).await?
            {
                return Ok(None);
            }
            let Some(tenant) = claims
                .tenant
                .as_deref()
                .and_then(|t| TenantId::parse(t).ok())
            else {
                return Ok(None);
            };
            let grant_id = match claims.gid.as_deref().map(GrantId::parse) {
                None => None,
                Some(Ok(g)) => Some(g),
                Some(Err(_)) => return Ok(None),
            };
            // A user's token (it belongs to a grant): the user must still be there.
            if grant_id.is_some() && !user_live(store, &claims.sub, &tenant).await? {
                return Ok(None);
            }
            let Ok(scope) = ScopeSet::parse(&claims.scope) else {
                return Ok(None);
            };
            Verified {
                sub: claims.sub,
                client_id: claims.client_id,
                tenant,
                scope: Some(scope),
                grant_id,
                auth_time: claims.auth_time,
                exp: claims.exp,
                act: claims.act,
                may_act: claims.may_act,
            }
        }
        SubjectKind::IdToken => {
            let Some(claims) = keys
                .verify_issued(token, ID_TOKEN_TYP, issuer)
                .and_then(|v| serde_json::from_value::<IdTokenSubject>(v).ok())
            else {
                return Ok(None);
            };
            if claims.exp <= now.timestamp() {
                return Ok(None);
            }
            let Ok(user) = UserId::parse(&claims.sub) else {
                return Ok(None);
            };
            let Some(user) = live_user(store, store, &user).await? else {
                return Ok(None);
            };
            Verified {
                sub: claims.sub,
                client_id: claims.aud,
                tenant: user.tenant_id,
                scope: None,
                grant_id: None,
                auth_time: claims.auth_time,
                exp: claims.exp,
                act: None,
                may_act: claims.may_act,
            }
        }
    };
    Ok(Some(verified))
}

/// Whether the user `sub` still exists, is enabled and belongs to `tenant`.
async fn user_live<S: UserStore + IntrospectionStore>(
    store: &S,
    sub: &str,
    tenant: &TenantId,
) -> Result<bool, Error> {
    let Ok(id) = UserId::parse(sub) else {
        return Ok(false);
    };
    Ok(live_user(store, store, &id)
        .await?
        .is_some_and(|u| &u.tenant_id == tenant))
}

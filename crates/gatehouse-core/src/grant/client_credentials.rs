//! The client credentials grant (RFC 6749 §4.4): a confidential client obtains an access token
//! for itself. Public clients are refused (§4.4: "MUST only be used by confidential clients");
//! the scope is at most the client's, without the OIDC scopes that describe a user; no refresh
//! token is issued (§4.4.3).

use chrono::{DateTime, Utc};

use crate::client::{Client, GrantType};
use crate::error::{Error, OAuthError};
use crate::grant::mint::{AccessTokenSubject, Issued, Minter, TokenResponse, new_jti};
use crate::params::Params;
use crate::ports::TokenSigner;
use crate::resource::{self, ResourceStore, ResourceUri};
use crate::values::ScopeSet;

/// Scopes that describe a user: a client acting for itself has none of them.
pub(crate) const USER_SCOPES: [&str; 4] = ["openid", "offline_access", "profile", "email"];

/// `grant_type=client_credentials` (RFC 6749 §4.4.2), with an optional `resource`
/// (RFC 8707 §2.2).
#[derive(Debug)]
pub struct ClientCredentialsRequest {
    pub scope: Option<ScopeSet>,
    pub resource: Option<ResourceUri>,
}

impl ClientCredentialsRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            scope: p.scope()?,
            resource: resource::requested_one(p)?,
        })
    }
}

/// Issues an access token to the authenticated `client` for itself (for `req.resource` when
/// named: any resource the client may target, its scopes limiting the token's).
pub async fn issue<S: ResourceStore, K: TokenSigner>(
    store: &S,
    mint: &Minter<'_, K>,
    client: &Client,
    req: ClientCredentialsRequest,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Error> {
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client_credentials",
        )
        .into());
    }
    let allowed = client.allowed_scopes.without(&USER_SCOPES);
    let scope = match req.scope {
        Some(s) if !s.is_subset(&allowed) => {
            let extra = s.difference(&allowed).join(" ");
            return Err(OAuthError::invalid_scope(format!(
                "scope not allowed for this client: {extra}"
            ))
            .into());
        }
        Some(s) => s,
        None => allowed,
    };
    let target = resource::token_target(store, client, None, req.resource.as_ref()).await?;
    let scope = resource::access_scope(&scope, target.as_ref())?;
    let subject = AccessTokenSubject {
        sub: client.id.as_str(),
        tenant: &client.tenant_id,
        scope: &scope,
        auth_time: None,
        grant_id: None,
        resource: target.as_ref(),
        act: None,
    };
    let jti = new_jti();
    let access_token = mint.access_token(client, &subject, &jti, now)?;
    let issued = Issued {
        grant_type: GrantType::ClientCredentials.as_str(),
        client_id: client.id.to_string(),
        jti,
        sub: client.id.to_string(),
        tenant: client.tenant_id.to_string(),
        grant_id: None,
    };
    let ttl = mint.access_ttl_for(client, target.as_ref());
    Ok(TokenResponse::bearer(access_token, ttl, &scope, issued))
}

#[cfg(test)]
mod tests {
    use crate::ErrorCode;
    use crate::audit::Outcome;
    use crate::client::{AuthMethod, GrantType};
    use crate::client_auth::ClientCredentials;
    use crate::fakes::{self, Registered, TokenHarness, answer, claims_of};
    use crate::secret::Secret;
    use crate::values::ScopeSet;

    fn setup(scope: &str) -> (TokenHarness, Registered) {
        let h = TokenHarness::default();
        let mut c = fakes::client("svc");
        c.grant_types = vec![GrantType::ClientCredentials];
        c.allowed_scopes = ScopeSet::parse(scope).unwrap();
        let reg = h.register(c);
        (h, reg)
    }

    const CC: (&str, &str) = ("grant_type", "client_credentials");

    #[tokio::test]
    async fn a_client_gets_a_token_for_itself_without_user_scopes_rfc6749_4_4_3() {
        let (h, reg) = setup("openid profile api:read api:write");
        let out = h.token(reg.creds(), &[CC], chrono::Utc::now()).await;
        let body = answer(&out).unwrap();
        assert_eq!(body["scope"], "api:read api:write");
        assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
        let at = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(
            (at["sub"].as_str(), at["client_id"].as_str()),
            (Some("svc"), Some("svc"))
        );
        assert_eq!(at["tenant"], "default");
        assert!(at.get("gid").is_none());
        let e = &out.events[0];
        assert_eq!(
            (e.action.as_str(), e.outcome),
            ("token.issue", Outcome::Success)
        );
        assert_eq!(e.details["grant_type"], "client_credentials");
        assert_eq!(e.details["sub"], "svc");
        assert_eq!(e.tenant_id.as_deref(), Some("default"));
    }

    #[tokio::test]
    async fn scopes_beyond_the_client_are_invalid_scope_rfc6749_4_4_2() {
        let (h, reg) = setup("openid api:read");
        let now = chrono::Utc::now();
        let narrow = h
            .token(reg.creds(), &[CC, ("scope", "api:read")], now)
            .await;
        assert_eq!(answer(&narrow).unwrap()["scope"], "api:read");
        for scope in ["api:read admin", "openid"] {
            let out = h.token(reg.creds(), &[CC, ("scope", scope)], now).await;
            assert_eq!(answer(&out), Err(ErrorCode::InvalidScope), "{scope}");
            assert!(out.events.is_empty());
        }
    }

    #[tokio::test]
    async fn public_clients_are_refused_rfc6749_4_4() {
        let h = TokenHarness::default();
        let mut c = fakes::client("spa");
        c.grant_types = vec![GrantType::ClientCredentials];
        c.auth_method = AuthMethod::None;
        let reg = h.register(c);
        let out = h.token(reg.creds(), &[CC], chrono::Utc::now()).await;
        assert_eq!(answer(&out), Err(ErrorCode::UnauthorizedClient));
    }

    #[tokio::test]
    async fn missing_or_wrong_credentials_are_invalid_client_rfc6749_5_2() {
        let (h, reg) = setup("api:read");
        let now = chrono::Utc::now();
        let out = h.token(None, &[CC], now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidClient));
        let wrong = ClientCredentials::Basic {
            client_id: reg.id.clone(),
            secret: Secret::from_presented("not-the-secret"),
        };
        let out = h.token(Some(wrong), &[CC], now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidClient));
        // A confidential client cannot pretend to be public.
        let public = ClientCredentials::None { client_id: reg.id };
        let out = h.token(Some(public), &[CC], now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidClient));
        assert!(out.events.is_empty());
    }
}

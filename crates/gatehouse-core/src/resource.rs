//! Resource indicators (RFC 8707): which protected resource an access token is for.
//!
//! Operators register resource servers per tenant ([`ResourceServer`]: identifier, scopes,
//! optional token lifetime and signing algorithm). A client may target any registered resource
//! of its tenant unless it was restricted to a list ([`ResourceStore::client_resources`]).
//!
//! - At the authorization endpoint (§2.1) `resource` may be repeated; every value must be an
//!   absolute URI without a fragment ([`ResourceUri`]), registered in the client's tenant and
//!   allowed for the client ([`admit`]); the list is kept with the grant.
//! - At the token endpoint (§2.2) one `resource` names the audience of the access token; with a
//!   grant it must be one the grant was issued for, which is how a refresh downscopes. Without
//!   `resource`, a grant for exactly one resource gets a token for it ([`token_target`]).
//!   Gatehouse issues one audience per access token (as node-oidc-provider does), so a token
//!   request naming several resources is `invalid_target`.
//! - The token's `aud` is the identifier, its scope the granted scope limited to the resource's
//!   registered scopes ([`access_scope`]), its lifetime and algorithm the resource's when set.
//!
//! Every refusal is `invalid_target` (§2), except an empty scope after the limit, which is
//! `invalid_scope` (RFC 6749 §5.2).

use chrono::{DateTime, Utc};

use crate::client::Client;
use crate::error::{Error, OAuthError, StoreError};
use crate::params::Params;
use crate::values::{ClientId, GrantId, MAX_PARAM_LEN, ScopeSet, SigningAlg, TenantId};

/// At most this many `resource` values in one authorization request.
pub const MAX_RESOURCES: usize = 8;

/// A resource indicator: an absolute URI without a fragment (RFC 8707 §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceUri(String);

impl ResourceUri {
    /// Parses a resource indicator; the error is an `error_description` / field reason.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.is_empty() || s.len() > MAX_PARAM_LEN {
            return Err("resource must be an absolute URI of at most 2048 characters");
        }
        let url = url::Url::parse(s).map_err(|_| "resource must be an absolute URI")?;
        if url.fragment().is_some() || s.contains('#') {
            return Err("resource must not contain a fragment");
        }
        if url.cannot_be_a_base() {
            return Err("resource must be an absolute URI with an authority");
        }
        // Kept as sent: the token's `aud` is the identifier exactly as registered.
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ResourceUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registered resource server of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceServer {
    pub id: String,
    pub tenant_id: TenantId,
    pub identifier: ResourceUri,
    /// The scopes the resource understands; an access token for it carries no other.
    pub scopes: ScopeSet,
    /// Access-token lifetime for this resource, in seconds (else the client's or the server's).
    pub access_token_ttl: Option<i64>,
    /// Access-token signing algorithm for this resource (else the client's).
    pub access_token_alg: Option<SigningAlg>,
    pub created_at: DateTime<Utc>,
}

/// What resource indicators need from storage.
#[allow(async_fn_in_trait)]
pub trait ResourceStore {
    async fn find_resource(
        &self,
        tenant: &TenantId,
        identifier: &ResourceUri,
    ) -> Result<Option<ResourceServer>, StoreError>;
    /// The resources `client` is restricted to; empty: any of its tenant's.
    async fn client_resources(&self, client: &ClientId) -> Result<Vec<ResourceUri>, StoreError>;
    /// Keeps the resources an authorization request asked for with its grant.
    async fn save_grant_resources(
        &self,
        grant: &GrantId,
        resources: &[ResourceUri],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// The `resource` values of a request, parsed and without duplicates (RFC 8707 §2).
pub fn requested(params: &Params) -> Result<Vec<ResourceUri>, OAuthError> {
    let mut out: Vec<ResourceUri> = Vec::new();
    for raw in params.get_all("resource") {
        let r = ResourceUri::parse(raw).map_err(OAuthError::invalid_target)?;
        if !out.contains(&r) {
            out.push(r);
        }
        if out.len() > MAX_RESOURCES {
            return Err(OAuthError::invalid_target("too many resource values"));
        }
    }
    Ok(out)
}

/// The one `resource` of a token request, if any (one audience per access token).
pub fn requested_one(params: &Params) -> Result<Option<ResourceUri>, OAuthError> {
    let mut all = requested(params)?;
    if all.len() > 1 {
        return Err(OAuthError::invalid_target(
            "name one resource per token request",
        ));
    }
    Ok(all.pop())
}

/// The registered resource `r` of `client`'s tenant, if the client may target it.
async fn allowed<S: ResourceStore>(
    store: &S,
    client: &Client,
    r: &ResourceUri,
) -> Result<ResourceServer, Error> {
    let unknown = || OAuthError::invalid_target(format!("unknown resource {r}"));
    let server = store
        .find_resource(&client.tenant_id, r)
        .await?
        .ok_or_else(unknown)?;
    let restricted = store.client_resources(&client.id).await?;
    if !restricted.is_empty() && !restricted.contains(r) {
        return Err(OAuthError::invalid_target(format!("this client may not target {r}")).into());
    }
    Ok(server)
}

/// Checks the resources of an authorization request (RFC 8707 §2.1): each registered in the
/// client's tenant and allowed for the client.
pub async fn admit<S: ResourceStore>(
    store: &S,
    client: &Client,
    resources: &[ResourceUri],
) -> Result<(), Error> {
    for r in resources {
        allowed(store, client, r).await?;
    }
    Ok(())
}

/// The resource an access token is for (RFC 8707 §2.2). `granted` is the list the user's
/// grant was issued for, or `None` when there is no grant (client credentials).
pub async fn token_target<S: ResourceStore>(
    store: &S,
    client: &Client,
    granted: Option<&[ResourceUri]>,
    requested: Option<&ResourceUri>,
) -> Result<Option<ResourceServer>, Error> {
    let chosen = match (granted, requested) {
        (None | Some([]), None) => return Ok(None),
        (Some([only]), None) => only,
        (Some(_), None) => {
            return Err(OAuthError::invalid_target(
                "the grant is for several resources: name one with resource",
            )
            .into());
        }
        (Some(list), Some(r)) if !list.contains(r) => {
            return Err(OAuthError::invalid_target(format!(
                "the grant was not issued for resource {r}"
            ))
            .into());
        }
        (_, Some(r)) => r,
    };
    allowed(store, client, chosen).await.map(Some)
}

/// The scope of an access token for `target`: the granted scope limited to the resource's
/// registered scopes; `invalid_scope` when nothing is left.
pub fn access_scope(
    granted: &ScopeSet,
    target: Option<&ResourceServer>,
) -> Result<ScopeSet, OAuthError> {
    let Some(target) = target else {
        return Ok(granted.clone());
    };
    let outside = granted.difference(&target.scopes);
    let outside: Vec<&str> = outside.iter().map(String::as_str).collect();
    let scope = granted.without(&outside);
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "none of the granted scopes belongs to resource {}",
            target.identifier
        )));
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_is_an_absolute_uri_without_fragment_rfc8707_2() {
        assert!(ResourceUri::parse("https://mcp.example/mcp").is_ok());
        assert!(ResourceUri::parse("urn:example:api").is_err());
        assert!(ResourceUri::parse("/relative").is_err());
        assert!(ResourceUri::parse("https://api.example/#frag").is_err());
        assert!(ResourceUri::parse("https://api.example/#").is_err());
        assert!(ResourceUri::parse("").is_err());
    }

    #[test]
    fn token_requests_name_one_resource_rfc8707_2_2() {
        let p = Params::from_query("resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb").unwrap();
        assert_eq!(requested(&p).unwrap().len(), 2);
        let e = requested_one(&p).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::InvalidTarget);
        let p = Params::from_query("resource=https%3A%2F%2Fa%23x").unwrap();
        assert_eq!(
            requested(&p).unwrap_err().code,
            crate::ErrorCode::InvalidTarget
        );
    }

    #[test]
    fn the_access_scope_is_limited_to_the_resource() {
        let server = ResourceServer {
            id: "r".into(),
            tenant_id: TenantId::default_tenant(),
            identifier: ResourceUri::parse("https://api.example").unwrap(),
            scopes: ScopeSet::parse("files:read files:write").unwrap(),
            access_token_ttl: None,
            access_token_alg: None,
            created_at: chrono::Utc::now(),
        };
        let granted = ScopeSet::parse("openid files:read").unwrap();
        assert_eq!(
            access_scope(&granted, Some(&server)).unwrap().to_string(),
            "files:read"
        );
        assert_eq!(access_scope(&granted, None).unwrap(), granted);
        let e = access_scope(&ScopeSet::parse("openid").unwrap(), Some(&server)).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::InvalidScope);
    }
}

//! Pushed authorization requests (RFC 9126).
//!
//! - [`push`] (§2): the client authenticates exactly as at the token endpoint, its request is
//!   validated exactly as at the authorization endpoint (the same `authorize` steps, errors as
//!   JSON), and it gets a `request_uri` of 256 random bits, stored only as a hash, valid for
//!   [`PAR_TTL`] seconds and bound to the client. A pushed request must not carry
//!   `request_uri` itself (§2.1). A pushed `request` object (§3) is verified as at the
//!   authorization endpoint (`crate::request_object`) and its parameters are the ones pushed.
//! - [`expand`] (§4): at the authorization endpoint, `request_uri` is taken from storage
//!   once (single use: one conditional delete decides), must be unexpired and issued to the
//!   `client_id` of the request; the pushed parameters then replace the request's. A client
//!   has at most [`MAX_PENDING_PER_CLIENT`] unexpired pushed requests.
//! - [`check_required`] (§5, §6): a client registered with `require_par`, or every client when
//!   the server requires it, may only start an authorization with a pushed request. This is
//!   enforced where requests enter the authorization endpoint; the login and consent forms
//!   carry the expanded request onward.
//! - DPoP (RFC 9449 §10.1): a proof sent with the push binds the code to its key
//!   ([`crate::dpop::bind_pushed`]); a client registered "DPoP required" must send one here
//!   too ([`crate::dpop::check_required`]), as wherever it authenticates.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::authorize::{self, AuthorizeError};
use crate::client_auth::{
    AssertionVerifier, ClientAuthContext, ClientCredentials, ClientDirectory, ReplayStore,
    authenticate_required,
};
use crate::error::{Error, OAuthError, StoreError};
use crate::params::Params;
use crate::request_object::{self, RequestObjectContext, RequestObjectVerifier};
use crate::resource::ResourceStore;
use crate::secret::{Secret, SecretHash};
use crate::values::ClientId;

/// The `request_uri` prefix of RFC 9126 §2.2.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Lifetime of a pushed request, in seconds (RFC 9126 §2.2 suggests 5 to 600).
pub const PAR_TTL: i64 = 60;
/// Most unexpired pushed requests one client may have: pushing is open to public clients,
/// which only name themselves, so this bounds what a flood can store.
pub const MAX_PENDING_PER_CLIENT: u64 = 50;
/// Parameters of the push that authenticate the client and are not kept.
const CREDENTIAL_PARAMS: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

/// A stored pushed request.
#[derive(Debug, Clone)]
pub struct PushedRequest {
    pub uri_hash: SecretHash,
    pub client_id: ClientId,
    /// The authorization parameters, URL-encoded.
    pub params: String,
    pub expires_at: DateTime<Utc>,
}

/// Storage of pushed requests.
#[allow(async_fn_in_trait)]
pub trait ParStore {
    async fn insert_pushed(&self, r: &PushedRequest) -> Result<(), StoreError>;
    /// How many unexpired pushed requests `client` has.
    async fn pending_pushed(
        &self,
        client: &ClientId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Removes and returns the request; of concurrent calls at most one gets it.
    async fn take_pushed(&self, uri_hash: &SecretHash)
    -> Result<Option<PushedRequest>, StoreError>;
}

/// The answer of a push (RFC 9126 §2.2). Holds the `request_uri`: no `Debug`.
#[derive(Serialize)]
pub struct PushResponse {
    pub request_uri: String,
    pub expires_in: i64,
}

/// A pushed authorization request as received (its credentials are parsed separately).
pub struct PushRequest {
    params: Params,
}

impl PushRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        if p.get("request_uri").is_some() {
            return Err(OAuthError::invalid_request(
                "a pushed request must not contain request_uri",
            ));
        }
        let mut params = p.clone();
        for name in CREDENTIAL_PARAMS {
            params = params.with(name, None);
        }
        Ok(Self { params })
    }
}

/// Authenticates the client, validates its request (taken from its request object, if it
/// sent one: RFC 9126 §3) and stores it (RFC 9126 §2). `issuer` is the audience of request
/// objects.
pub async fn push<C, R, V, S>(
    ctx: &ClientAuthContext<'_, C, R, V>,
    store: &S,
    presented: Option<&ClientCredentials>,
    req: PushRequest,
    issuer: &str,
    proof: Option<&crate::dpop::ProofKey>,
) -> Result<PushResponse, Error>
where
    C: ClientDirectory,
    R: ReplayStore,
    V: AssertionVerifier + RequestObjectVerifier,
    S: ParStore + ResourceStore + crate::dpop::DpopClientStore,
{
    let now = ctx.now;
    let client = authenticate_required(ctx, presented).await?;
    crate::dpop::check_required(store, &client.id, proof).await?;
    if req
        .params
        .get("client_id")
        .is_some_and(|id| id != client.id.as_str())
    {
        return Err(
            OAuthError::invalid_request("client_id is not the authenticated client").into(),
        );
    }
    let params = match req.params.get("request") {
        Some(jws) => {
            let objects = RequestObjectContext {
                clients: ctx.clients,
                replay: ctx.store,
                verifier: ctx.verifier,
                issuer,
                now,
            };
            request_object::unpack(&objects, &client, jws).await?
        }
        None => req.params.with("client_id", Some(client.id.to_string())),
    };
    // A DPoP proof with the push binds the code to its key (RFC 9449 §10.1).
    let params = crate::dpop::bind_pushed(params, proof)?;
    let as_json = |e: AuthorizeError| match e {
        AuthorizeError::Page(e) | AuthorizeError::Redirect { error: e, .. } => Error::OAuth(e),
        AuthorizeError::Internal(e) => e,
    };
    let resolved = authorize::resolve_client(ctx.clients, &params)
        .await
        .map_err(as_json)?;
    let areq = authorize::validate(resolved, &params).map_err(as_json)?;
    authorize::admit_resources(store, areq)
        .await
        .map_err(as_json)?;
    if store.pending_pushed(&client.id, now).await? >= MAX_PENDING_PER_CLIENT {
        return Err(OAuthError::invalid_request(
            "too many pending pushed requests for this client; use or let them expire",
        )
        .into());
    }
    let secret = Secret::generate();
    store
        .insert_pushed(&PushedRequest {
            uri_hash: secret.hash(),
            client_id: client.id.clone(),
            params: params.to_query(),
            expires_at: now + chrono::Duration::seconds(PAR_TTL),
        })
        .await?;
    Ok(PushResponse {
        request_uri: format!("{REQUEST_URI_PREFIX}{}", secret.expose()),
        expires_in: PAR_TTL,
    })
}

/// The request's parameters after its `request_uri`, if any, was redeemed (RFC 9126 §4), and
/// whether they were pushed. Errors are for a page (the client is not known to be genuine).
pub async fn expand<S: ParStore>(
    store: &S,
    params: Params,
    now: DateTime<Utc>,
) -> Result<(Params, bool), Error> {
    // Any other `request_uri` (a request object by reference, OIDC Core §6.2) is left to the
    // authorization endpoint, which refuses it after checking the redirect URI.
    let Some(token) = params
        .get("request_uri")
        .and_then(|u| u.strip_prefix(REQUEST_URI_PREFIX))
    else {
        return Ok((params, false));
    };
    let bad = |d: &'static str| Error::OAuth(OAuthError::invalid_request(d));
    let record = store
        .take_pushed(&Secret::from_presented(token).hash())
        .await?
        .ok_or_else(|| bad("request_uri is unknown, expired or already used"))?;
    if record.expires_at <= now {
        return Err(bad("request_uri is unknown, expired or already used"));
    }
    if params.get("client_id") != Some(record.client_id.as_str()) {
        return Err(bad("request_uri was issued to another client"));
    }
    let pushed = Params::from_query(&record.params).map_err(Error::OAuth)?;
    Ok((pushed, true))
}

/// Whether an authorization request may proceed: pushed, or neither the server nor the
/// client requires pushing (RFC 9126 §5, §6).
pub fn check_required(
    pushed: bool,
    server_requires: bool,
    client_requires: bool,
) -> Result<(), OAuthError> {
    if pushed || !(server_requires || client_requires) {
        return Ok(());
    }
    Err(OAuthError::invalid_request(
        "this client must use a pushed authorization request (request_uri)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushing_is_required_by_the_server_or_the_client_rfc9126_5_6() {
        assert!(check_required(false, false, false).is_ok());
        assert!(check_required(true, true, true).is_ok());
        assert!(check_required(false, true, false).is_err());
        assert!(check_required(false, false, true).is_err());
    }

    #[test]
    fn a_push_may_not_carry_request_uri_and_drops_credentials_rfc9126_2_1() {
        let p = Params::from_query("request_uri=x&client_id=c").unwrap();
        assert!(PushRequest::parse(&p).is_err());
        let p = Params::from_query("client_id=c&client_secret=s&scope=openid").unwrap();
        let r = PushRequest::parse(&p).unwrap();
        assert!(r.params.get("client_secret").is_none());
        assert_eq!(r.params.get("scope"), Some("openid"));
    }
}

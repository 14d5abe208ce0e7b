//! The authorization endpoint (RFC 6749 §4.1.1–§4.1.2, OIDC Core §3.1.2, RFC 7636 §4.3,
//! RFC 9207, RFC 9700 §4.1).
//!
//! The request is handled in three steps, and each can fail in its own way:
//! 1. [`resolve_client`]: find the client and the redirect URI. Until both are known to be
//!    registered, errors are shown to the user on a page and never redirected (RFC 6749
//!    §4.1.2.1: no open redirector). A client of a disabled tenant is unknown.
//! 2. [`validate`]: every other parameter. Errors now go back to the client's redirect URI
//!    with `error`, `error_description`, `state` and `iss`.
//! 3. [`next_step`]: given the user's session and consent, decide between showing the login
//!    page, the consent page, or issuing a code ([`issue_code`]).
//!
//! Sessions are bound to their tenant: a browser's session counts for a request only through
//! [`bind_session`] (or [`bind_new_session`] right after a sign-in), which accept it only when
//! its user belongs to the client's tenant. Every later step — `prompt=none`, the existing
//! session, consent (shown and posted), code issuance — takes the resulting
//! [`BoundSession`], so a session of another tenant's user behaves as if nobody were signed in,
//! and admin scopes ([`AuthorizationRequest::for_user`]) are only ever granted to a client of
//! the user's own tenant.
//!
//! Responses go back in the query (`response_mode=query`, the default for `code`), in the
//! fragment (`response_mode=fragment`, the default and the only redirect for responses that carry
//! a token) or as an auto-submitted HTML form (`response_mode=form_post`, OAuth 2.0 Form Post
//! Response Mode §2); see [`AuthorizationResponse`] and [`response_type`]. The implicit and
//! hybrid flows (OIDC Core §3.2, §3.3) are opt-in per client and issue in [`implicit`]. The `claims` parameter (OIDC Core §5.5) is kept with the
//! grant; `display`, `ui_locales`, `claims_locales`, `acr_values` and `id_token_hint` are
//! accepted and do not change the flow.

use chrono::{DateTime, Utc};

use crate::admin::{ADMIN_ALL, is_admin_scope};
use crate::claims_request::{ClaimsRequest, ClaimsRequestStore};
use crate::client::{Client, GrantType};
use crate::error::StoreError;
use crate::error::{Error, ErrorCode, OAuthError};
use crate::params::Params;
use crate::policy::Policy;
use crate::ports::{ClientStore, CodeRecord, CodeStore, Session, UserStore};
use crate::resource::{self, ResourceStore, ResourceUri};
use crate::secret::Secret;
use crate::session::BoundSession;
use crate::signin::Authenticated;
use crate::tenant::{TenantStore, tenant_enabled};
use crate::values::{
    ClientId, GrantId, MAX_PARAM_LEN, PkceChallenge, RedirectUri, ScopeSet, UserId,
};

mod code;
pub mod implicit;
mod response;
pub mod response_type;
mod session;

pub use code::{denied_response, issue_code};
use code::{save_code, save_grant_request};
pub use response::{AuthorizationResponse, RedirectTarget};
use response_type::check_response_mode;
pub use response_type::{ResponseMode, ResponseType};
pub use session::{
    Interaction, NextStep, bind_new_session, bind_new_session_to_client, bind_session,
    bind_session_to_client, next_step,
};

/// A failure of the authorization endpoint.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or redirect URI is not trustworthy: show an error page, do not redirect.
    Page(OAuthError),
    /// Send the error back to the client's redirect URI (already validated).
    Redirect {
        target: RedirectTarget,
        error: OAuthError,
    },
    /// An internal failure.
    Internal(Error),
}

impl From<Error> for AuthorizeError {
    fn from(e: Error) -> Self {
        AuthorizeError::Internal(e)
    }
}

/// Step 1 result: a known client and a registered redirect URI.
#[derive(Debug, Clone)]
pub struct ResolvedClient {
    pub client: Client,
    pub target: RedirectTarget,
    /// Whether the request carried `redirect_uri` (then the token request must repeat it).
    pub redirect_uri_in_request: bool,
}

/// Step 1: the client and its redirect URI; failures are [`AuthorizeError::Page`]. A client of
/// a disabled (or vanished) tenant is an unknown client, so nobody signs in to such a tenant.
pub async fn resolve_client<S: ClientStore + TenantStore>(
    store: &S,
    params: &Params,
) -> Result<ResolvedClient, AuthorizeError> {
    let page = |d: &'static str| AuthorizeError::Page(OAuthError::invalid_request(d));
    let client = known_client(store, params).await?;
    let (redirect_uri, in_request) = match params.get("redirect_uri") {
        Some(raw) => {
            let requested =
                RedirectUri::parse(raw).map_err(|_| page("the redirect_uri is not a valid URI"))?;
            if client.match_redirect_uri(&requested).is_none() {
                return Err(page("the redirect_uri is not registered for this client"));
            }
            (requested, true)
        }
        // OIDC requires redirect_uri; plain OAuth may omit it when exactly one is registered.
        None => match client.redirect_uris.as_slice() {
            [only] if !wants_openid(params) => (only.clone(), false),
            [] => return Err(page("this client has no registered redirect URI")),
            _ => return Err(page("the request has no redirect_uri")),
        },
    };
    let state = params.get("state").map(str::to_owned);
    if state.as_ref().is_some_and(|s| s.len() > MAX_PARAM_LEN) {
        return Err(page("state is too long"));
    }
    Ok(ResolvedClient {
        client,
        target: RedirectTarget {
            redirect_uri,
            state,
            // Errors about any other parameter (including an unknown response_mode) go back in
            // this mode; a response_type with a token never answers in the query.
            mode: ResponseMode::of_request(params),
        },
        redirect_uri_in_request: in_request,
    })
}

/// The client named by the request's `client_id`, if it exists in an enabled tenant; failures
/// are [`AuthorizeError::Page`] (the first half of [`resolve_client`]).
pub async fn known_client<S: ClientStore + TenantStore>(
    store: &S,
    params: &Params,
) -> Result<Client, AuthorizeError> {
    let page = |d: &'static str| AuthorizeError::Page(OAuthError::invalid_request(d));
    let client_id = params
        .get("client_id")
        .ok_or_else(|| page("the request has no client_id"))?;
    let client_id = ClientId::parse(client_id).map_err(|_| page("the client_id is not valid"))?;
    let client = store
        .find_client(&client_id)
        .await
        .map_err(|e| AuthorizeError::Internal(e.into()))?
        .ok_or_else(|| AuthorizeError::Page(OAuthError::invalid_client("unknown client_id")))?;
    if !tenant_enabled(store, &client.tenant_id)
        .await
        .map_err(|e| AuthorizeError::Internal(e.into()))?
    {
        return Err(AuthorizeError::Page(OAuthError::invalid_client(
            "unknown client_id",
        )));
    }
    Ok(client)
}

fn wants_openid(params: &Params) -> bool {
    params
        .get("scope")
        .is_some_and(|s| s.split(' ').any(|t| t == "openid"))
}

/// The `prompt` parameter (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub target: RedirectTarget,
    pub redirect_uri_in_request: bool,
    /// What the response carries: a code, an ID token, an access token (any of them).
    pub response_type: ResponseType,
    pub scope: ScopeSet,
    pub nonce: Option<String>,
    pub code_challenge: Option<PkceChallenge>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// The `claims` parameter (OIDC Core §5.5), when sent and not empty.
    pub claims: Option<ClaimsRequest>,
    /// The `resource` values (RFC 8707 §2.1), checked against the registry by
    /// [`admit_resources`].
    pub resources: Vec<ResourceUri>,
    /// `dpop_jkt` (RFC 9449 §10): the code is bound to this DPoP key.
    pub dpop_jkt: Option<String>,
    /// The original parameters, carried through the login and consent forms.
    pub params: Params,
}

impl AuthorizationRequest {
    /// The request as granted to the signed-in user: admin scopes the user does not hold are
    /// dropped (RFC 6749 §3.3: the server may grant less than requested; the token response's
    /// `scope` then says what was granted). An error when nothing would be left. The user
    /// belongs to this client's tenant ([`BoundSession`]), so an admin scope never reaches a
    /// client of another tenant.
    pub fn for_user(mut self, signed_in: &BoundSession) -> Result<Self, AuthorizeError> {
        let granted = granted_scope(&self.scope, &signed_in.user().admin_scopes);
        if granted.is_empty() {
            return Err(AuthorizeError::Redirect {
                target: self.target.clone(),
                error: OAuthError::invalid_scope("the user does not hold the requested scopes"),
            });
        }
        self.scope = granted;
        Ok(self)
    }

    /// The request as it continues after the user has just authenticated: `prompt=login` and
    /// `max_age` are satisfied, so they are dropped from what the consent form carries.
    pub fn after_login(mut self) -> Self {
        self.prompt.login = false;
        self.max_age = None;
        let prompt = self.prompt.consent.then(|| "consent".to_owned());
        self.params = self.params.with("prompt", prompt).with("max_age", None);
        self
    }
}

/// The part of `requested` that may be granted to a user holding the admin scopes `held`:
/// every non-admin scope, and each admin scope whose rights the user has (`admin:all` covers
/// all of them, `write:X` covers `read:X`).
pub fn granted_scope(requested: &ScopeSet, held: &ScopeSet) -> ScopeSet {
    let covered = |s: &str| {
        held.contains(s)
            || held.contains(ADMIN_ALL)
            || s.strip_prefix("read:")
                .is_some_and(|r| held.contains(&format!("write:{r}")))
    };
    let dropped: Vec<&str> = requested
        .iter()
        .filter(|s| is_admin_scope(s) && !covered(s))
        .collect();
    requested.without(&dropped)
}

/// Step 2: validate everything else; failures are redirected to the client.
pub fn validate(
    resolved: ResolvedClient,
    params: &Params,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let ResolvedClient {
        client,
        target,
        redirect_uri_in_request,
    } = resolved;
    let c = check_params(params, &client, &target).map_err(|error| AuthorizeError::Redirect {
        target: target.clone(),
        error,
    })?;
    let login_hint = params
        .get("login_hint")
        .map(|h| h.chars().take(256).collect());
    Ok(AuthorizationRequest {
        client,
        target,
        redirect_uri_in_request,
        response_type: c.response_type,
        scope: c.scope,
        nonce: c.nonce,
        code_challenge: c.code_challenge,
        prompt: c.prompt,
        max_age: c.max_age,
        login_hint,
        claims: c.claims,
        resources: c.resources,
        dpop_jkt: c.dpop_jkt,
        params: params.clone(),
    })
}

/// Step 2, continued: every `resource` is registered in the client's tenant and allowed for
/// the client (RFC 8707 §2.1); otherwise `invalid_target` goes back to the client.
pub async fn admit_resources<S: ResourceStore>(
    store: &S,
    req: AuthorizationRequest,
) -> Result<AuthorizationRequest, AuthorizeError> {
    match resource::admit(store, &req.client, &req.resources).await {
        Ok(()) => Ok(req),
        Err(Error::OAuth(error)) => Err(AuthorizeError::Redirect {
            target: req.target,
            error,
        }),
        Err(e) => Err(AuthorizeError::Internal(e)),
    }
}

/// The parameters [`validate`] checks, once they passed.
struct Checked {
    response_type: ResponseType,
    scope: ScopeSet,
    code_challenge: Option<PkceChallenge>,
    nonce: Option<String>,
    prompt: Prompt,
    max_age: Option<i64>,
    claims: Option<ClaimsRequest>,
    resources: Vec<ResourceUri>,
    dpop_jkt: Option<String>,
}

/// Every check of step 2, in the order the errors are reported.
fn check_params(
    params: &Params,
    client: &Client,
    target: &RedirectTarget,
) -> Result<Checked, OAuthError> {
    let response_type = check_shape(params, client, target)?;
    let scope = requested_scope(params, client)?;
    // PKCE protects the code; a response without one has nothing for it to bind.
    let code_challenge = if response_type.code {
        code_challenge(params, client)?
    } else {
        None
    };
    let nonce = params.get("nonce").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_PARAM_LEN) {
        return Err(OAuthError::invalid_request("nonce is too long"));
    }
    if response_type.id_token {
        // OIDC Core §3.2.2.1, §3.3.2.11: an ID token from the authorization endpoint is bound
        // to the browser's session only through the nonce, so it is required.
        if nonce.as_deref().is_none_or(str::is_empty) {
            return Err(OAuthError::invalid_request(
                "nonce is required when response_type includes id_token",
            ));
        }
        if !scope.contains("openid") {
            return Err(OAuthError::invalid_request(
                "response_type id_token needs the openid scope",
            ));
        }
    }
    let prompt = prompt(params)?;
    let max_age = max_age(params)?;
    let claims = match params.get("claims") {
        Some(raw) => Some(ClaimsRequest::parse(raw).map_err(OAuthError::invalid_request)?)
            .filter(|c| !c.is_empty()),
        None => None,
    };
    let resources = resource::requested(params)?;
    let dpop_jkt = crate::dpop::parse_jkt(params.get("dpop_jkt"))?;
    Ok(Checked {
        response_type,
        scope,
        code_challenge,
        nonce,
        prompt,
        max_age,
        claims,
        resources,
        dpop_jkt,
    })
}

/// `response_type`, request objects, `response_mode`, and whether the client may use the flow
/// it asks for: the code flow needs the `authorization_code` grant; anything that returns a
/// token from this endpoint needs the client's `implicit` opt-in (RFC 9700 §2.1.2) and a
/// redirect URI that is exactly one registered (no loopback port variation).
fn check_shape(
    params: &Params,
    client: &Client,
    target: &RedirectTarget,
) -> Result<ResponseType, OAuthError> {
    let fail = |code: ErrorCode, d: String| OAuthError::new(code, d);
    let response_type = match params.get("response_type") {
        Some(raw) => ResponseType::parse(raw)?,
        None => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "missing parameter response_type".into(),
            ));
        }
    };
    // A request object is unpacked where requests enter (`crate::request_object::expand`,
    // `crate::par::push`); one still here came through a login or consent form.
    if params.get("request").is_some() {
        return Err(fail(
            ErrorCode::InvalidRequestObject,
            "a request object is accepted only at the authorization and PAR endpoints".into(),
        ));
    }
    // A pushed `request_uri` was redeemed on entry; any other would have to be fetched from
    // the client (RFC 9101 §5.2), which this server does not do.
    if params.get("request_uri").is_some() {
        return Err(fail(
            ErrorCode::RequestUriNotSupported,
            "request_uri is supported only as the result of a pushed authorization request".into(),
        ));
    }
    if response_type.front_channel_tokens() && !client.allows_grant(GrantType::Implicit) {
        return Err(fail(
            ErrorCode::UnsupportedResponseType,
            format!(
                "response_type {:?} is not enabled for this client (it needs the implicit grant type); use code",
                response_type.as_str()
            ),
        ));
    }
    check_response_mode(params, response_type)?;
    if response_type.code && !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(fail(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow".into(),
        ));
    }
    if response_type.front_channel_tokens()
        && !client
            .redirect_uris
            .iter()
            .any(|r| r.as_str() == target.redirect_uri.as_str())
    {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "a response with tokens goes only to a redirect_uri exactly as registered".into(),
        ));
    }
    Ok(response_type)
}

/// The `scope` parameter: required, and within the client's allowed scopes.
fn requested_scope(params: &Params, client: &Client) -> Result<ScopeSet, OAuthError> {
    let scope = ScopeSet::parse(params.get("scope").unwrap_or_default())
        .map_err(OAuthError::invalid_scope)?;
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope("scope is required"));
    }
    if !scope.is_subset(&client.allowed_scopes) {
        let extra = scope.difference(&client.allowed_scopes).join(" ");
        return Err(OAuthError::invalid_scope(format!(
            "scope not allowed for this client: {extra}"
        )));
    }
    Ok(scope)
}

/// PKCE (RFC 7636 §4.3): S256 only; required for public clients and, by default, for all.
fn code_challenge(params: &Params, client: &Client) -> Result<Option<PkceChallenge>, OAuthError> {
    let challenge = match params.get("code_challenge") {
        Some(c) => Some(
            PkceChallenge::parse(c, params.get("code_challenge_method"))
                .map_err(OAuthError::invalid_request)?,
        ),
        None if params.get("code_challenge_method").is_some() => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method without code_challenge",
            ));
        }
        None => None,
    };
    if challenge.is_none() && (client.require_pkce || client.is_public()) {
        return Err(OAuthError::invalid_request(
            "code_challenge (PKCE, S256) is required",
        ));
    }
    Ok(challenge)
}

/// The `prompt` parameter (OIDC Core §3.1.2.1); `none` stands alone.
fn prompt(params: &Params) -> Result<Prompt, OAuthError> {
    let mut prompt = Prompt::default();
    for p in params
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
    {
        match p {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            other => {
                return Err(OAuthError::invalid_request(format!(
                    "unknown prompt value {other:?}"
                )));
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

/// The `max_age` parameter (OIDC Core §3.1.2.1), in seconds.
fn max_age(params: &Params) -> Result<Option<i64>, OAuthError> {
    params
        .get("max_age")
        .map(|m| {
            m.parse::<u32>()
                .map(i64::from)
                .map_err(|_| OAuthError::invalid_request("max_age must be a non-negative integer"))
        })
        .transpose()
}

#[cfg(test)]
mod tests;

//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2–§3): validating a request
//! to the `end_session_endpoint`.
//!
//! The client is identified by the `aud` of a verified `id_token_hint`, by `client_id`, or by
//! both, which must then agree (§2). A `post_logout_redirect_uri` is honoured only when it is
//! exactly one of that client's registered `post_logout_redirect_uris` (§3: no open redirector);
//! otherwise the request fails with an error page and never redirects. `state` is appended to
//! the redirect (§3). Verifying the hint's signature and issuer is the caller's job (it holds
//! the keys); an expired hint is acceptable (§2: the OP need not reject it).

use crate::client::Client;
use crate::error::{Error, OAuthError};
use crate::params::Params;
use crate::ports::ClientStore;
use crate::values::{ClientId, MAX_PARAM_LEN, RedirectUri};

/// What a verified `id_token_hint` says.
#[derive(Debug, Clone)]
pub struct IdTokenHint {
    /// The user the token was issued for.
    pub sub: String,
    /// Its audience: the client ids it was issued to.
    pub aud: Vec<String>,
}

impl IdTokenHint {
    /// Reads `sub` and `aud` (a string or an array of strings) from verified claims.
    pub fn from_claims(claims: &serde_json::Value) -> Option<IdTokenHint> {
        let sub = claims.get("sub")?.as_str()?.to_owned();
        let aud = match claims.get("aud")? {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?,
            _ => return None,
        };
        Some(IdTokenHint { sub, aud })
    }
}

/// A validated logout request.
#[derive(Debug, Clone)]
pub struct EndSessionRequest {
    /// The client that asked, when known.
    pub client: Option<Client>,
    /// Where to send the user afterwards: the registered URI with `state` added.
    pub redirect: Option<String>,
    /// The verified hint, when one was sent.
    pub hint: Option<IdTokenHint>,
}

/// Validates a logout request. `hint` is the outcome of verifying `id_token_hint`: `None`
/// when absent, `Some(None)` when present but not a valid ID token of ours.
pub async fn validate<S: ClientStore>(
    store: &S,
    params: &Params,
    hint: Option<Option<IdTokenHint>>,
) -> Result<EndSessionRequest, Error> {
    let bad = |d: &'static str| Error::OAuth(OAuthError::invalid_request(d));
    let hint = match hint {
        None => None,
        Some(Some(h)) => Some(h),
        Some(None) => return Err(bad("id_token_hint is not a valid ID token of this server")),
    };
    let client_id = match params.get("client_id") {
        Some(raw) => Some(ClientId::parse(raw).map_err(|_| bad("the client_id is not valid"))?),
        None => None,
    };
    let client_id = match (&hint, client_id) {
        (Some(h), Some(id)) => {
            if !h.aud.iter().any(|a| a == id.as_str()) {
                return Err(bad(
                    "client_id does not match the audience of id_token_hint",
                ));
            }
            Some(id)
        }
        (Some(h), None) => match h.aud.as_slice() {
            [one] => Some(
                ClientId::parse(one)
                    .map_err(|_| bad("the id_token_hint has an unknown audience"))?,
            ),
            _ => return Err(bad("id_token_hint has several audiences; send client_id")),
        },
        (None, id) => id,
    };
    let client = match client_id {
        Some(id) => Some(
            store
                .find_client(&id)
                .await?
                .ok_or_else(|| Error::OAuth(OAuthError::invalid_client("unknown client_id")))?,
        ),
        None => None,
    };
    let state = params.get("state");
    if state.is_some_and(|s| s.len() > MAX_PARAM_LEN) {
        return Err(bad("state is too long"));
    }
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(raw) => {
            let Some(client) = &client else {
                return Err(bad(
                    "post_logout_redirect_uri needs id_token_hint or client_id to identify the client",
                ));
            };
            let uri = RedirectUri::parse(raw)
                .map_err(|_| bad("post_logout_redirect_uri is not a valid URI"))?;
            // Exact string match only: no loopback port leniency for logout redirects.
            if !client
                .post_logout_redirect_uris
                .iter()
                .any(|r| r.as_str() == uri.as_str())
            {
                return Err(bad(
                    "post_logout_redirect_uri is not registered for this client",
                ));
            }
            Some(with_state(uri.as_str(), state))
        }
    };
    Ok(EndSessionRequest {
        client,
        redirect,
        hint,
    })
}

fn with_state(uri: &str, state: Option<&str>) -> String {
    let Some(state) = state else {
        return uri.to_owned();
    };
    match url::Url::parse(uri) {
        Ok(mut u) => {
            u.query_pairs_mut().append_pair("state", state);
            u.into()
        }
        Err(_) => uri.to_owned(),
    }
}

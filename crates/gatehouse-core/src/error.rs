//! The error type of the protocol layer.
//!
//! [`ErrorCode`] is the closed set of wire error codes of RFC 6749 §4.1.2.1 and §5.2,
//! RFC 6750 §3.1, and OpenID Connect Core §3.1.2.6. [`Error`] adds the internal failures
//! (storage, signing) that must never leak to the wire as anything but `server_error`.
//! The mapping to HTTP responses lives in exactly one place: `gatehouse-server`'s `error` module.

use std::borrow::Cow;
use std::fmt;

/// A wire error code. Each variant's doc is its RFC meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// RFC 6749 §5.2: the request is missing a parameter, repeats one, or is otherwise malformed.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed (unknown client, bad secret, wrong method).
    InvalidClient,
    /// RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked, used, or was
    /// issued to another client or redirect URI; or the PKCE verifier does not match (RFC 7636 §4.6).
    InvalidGrant,
    /// RFC 6749 §5.2 / §4.1.2.1: the client may not use this grant or response type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is not supported by this server.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1: the response type is not supported.
    UnsupportedResponseType,
    /// RFC 6749 §5.2 / §4.1.2.1: the requested scope is invalid, unknown or exceeds what was granted.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the resource owner or the server denied the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: an unexpected condition prevented the server from fulfilling the request.
    ServerError,
    /// OIDC Core §3.1.2.6: `prompt=none` but the user is not logged in.
    LoginRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` but consent is needed.
    ConsentRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` but some other interaction is needed.
    InteractionRequired,
    /// OIDC Core §6: the `request` / `request_uri` parameters are not supported.
    RequestNotSupported,
    /// OIDC Core §6: `request_uri` is not supported.
    RequestUriNotSupported,
    /// RFC 9101 §6.2, OIDC Core §3.1.2.6: the request object is invalid (unsigned, not signed
    /// by the client's registered keys, expired, for another audience or client, replayed).
    InvalidRequestObject,
    /// RFC 6750 §3.1: the access token is missing, expired, revoked or malformed.
    InvalidToken,
    /// RFC 6750 §3.1: the token lacks the scope the resource needs.
    InsufficientScope,
    /// RFC 8707 §2: the requested resource is invalid, unknown, or not allowed for the client
    /// or the grant.
    InvalidTarget,
    /// RFC 8628 §3.5: the user has not yet decided; keep polling at the interval.
    AuthorizationPending,
    /// RFC 8628 §3.5: still pending, and the device polls too fast: add 5 s to its interval.
    SlowDown,
    /// RFC 8628 §3.5: the device code has expired; start a new device authorization.
    ExpiredToken,
}

impl ErrorCode {
    /// The code as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidRequestObject => "invalid_request_object",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidTarget => "invalid_target",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol error: a wire code and a human-readable description (RFC 6749 `error_description`).
/// The description never contains secrets or internal state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }
    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }
    pub fn invalid_scope(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, d)
    }
    pub fn unauthorized_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, d)
    }
    pub fn invalid_request_object(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequestObject, d)
    }
    pub fn invalid_target(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidTarget, d)
    }
    pub fn invalid_token(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidToken, d)
    }
}

/// The error behind a [`StoreError::Backend`]: the database driver's own error, kept as the
/// source so the log shows the whole chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure of a storage port. Its message is logged, never sent to a client (who sees a
/// bare `server_error`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database (or another backing service) failed or could not be reached.
    #[error("storage: {0}")]
    Backend(#[source] BoxError),
    /// A stored value does not read back: the row was corrupted or written by something else.
    #[error("storage: invalid {what} in the database: {detail}")]
    Corrupt { what: String, detail: String },
    /// In-memory state behind a lock is unusable because a thread panicked while holding it.
    #[error("storage: {0} is unusable after a panic")]
    Poisoned(&'static str),
}

impl StoreError {
    /// A backend failure from any error (or message).
    pub fn backend(e: impl Into<BoxError>) -> Self {
        StoreError::Backend(e.into())
    }

    /// A stored value of `what` (e.g. `clients.redirect_uris`) that does not parse back.
    pub fn corrupt(what: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}

/// The error of the protocol layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A protocol error for the client, with its RFC code.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// The storage failed; answered as `server_error`.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing failed; answered as `server_error`.
    #[error("signing: {0}")]
    Signing(#[from] crate::ports::SignError),
}

impl Error {
    /// The wire view: protocol errors as they are, internal failures as a bare `server_error`.
    pub fn to_oauth(&self) -> OAuthError {
        match self {
            Error::OAuth(e) => e.clone(),
            Error::Store(_) | Error::Signing(_) => OAuthError::new(
                ErrorCode::ServerError,
                "the server could not complete the request",
            ),
        }
    }
}

impl From<ErrorCode> for OAuthError {
    fn from(code: ErrorCode) -> Self {
        OAuthError::new(code, code.as_str())
    }
}

//! The crate's errors: [`VerifyError`] (why a request's credentials were not accepted, with
//! the RFC 6750 §3.1 / RFC 9449 §7.1 error code each maps to) and [`BuildError`] (a bad
//! configuration, found at start-up).
//!
//! Descriptions are fixed strings chosen here, never text taken from the request or from the
//! authorization server, so nothing an attacker sends is reflected into a response header.

/// Why a request was refused. [`crate::Rejection`] turns it into an HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No credentials at all: `401` with a challenge and no error code (RFC 6750 §3.1).
    #[error("no credentials")]
    Missing,
    /// A malformed request, e.g. two `Authorization` headers or a DPoP token without a proof:
    /// `invalid_request`, `400` (RFC 6750 §3.1).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// The token is malformed, expired, revoked, of the wrong audience or signed by an unknown
    /// key: `invalid_token`, `401` (RFC 6750 §3.1).
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// The DPoP proof is missing, malformed, replayed or does not match the request or the
    /// token: `invalid_dpop_proof`, `401` (RFC 9449 §7.1).
    #[error("invalid DPoP proof: {0}")]
    InvalidDpopProof(&'static str),
    /// The proof lacks the nonce this server requires: `use_dpop_nonce`, `401`, with the
    /// nonce to use in a `DPoP-Nonce` header (RFC 9449 §9).
    #[error("DPoP nonce required")]
    UseDpopNonce(String),
    /// The credential is valid but lacks a scope: `insufficient_scope`, `403`, naming the
    /// scope needed (RFC 6750 §3.1).
    #[error("insufficient scope: {0}")]
    InsufficientScope(String),
    /// The authorization server could not be reached or gave an unusable answer: `503`. The
    /// detail is for logs only.
    #[error("authorization server unavailable: {0}")]
    Unavailable(String),
}

impl VerifyError {
    /// The RFC error code, if the challenge carries one.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Self::Missing | Self::Unavailable(_) => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
            Self::UseDpopNonce(_) => Some("use_dpop_nonce"),
            Self::InsufficientScope(_) => Some("insufficient_scope"),
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest(_) => 400,
            Self::InsufficientScope(_) => 403,
            Self::Unavailable(_) => 503,
            _ => 401,
        }
    }

    /// A short description safe to send (no request or upstream text).
    pub fn description(&self) -> Option<&str> {
        match self {
            Self::Missing | Self::Unavailable(_) | Self::UseDpopNonce(_) => None,
            Self::InvalidRequest(d) | Self::InvalidToken(d) | Self::InvalidDpopProof(d) => Some(d),
            Self::InsufficientScope(_) => Some("the token lacks a required scope"),
        }
    }
}

/// A configuration that cannot work, reported when the verifier is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gatehouse-verify configuration: {0}")]
pub struct BuildError(pub String);

//! How a grant refuses: the RFC 6749 §5.2 error, plus the security incident it detected, if
//! any (a replayed code, RFC 6749 §4.1.2; a reused refresh token, RFC 9700 §4.14.2). Grants
//! only report incidents; the token endpoint's entry turns them into audit events
//! (`crate::token_events`), so every event of the token side is built in one place.

use crate::error::{Error, OAuthError, StoreError};
use crate::values::{GrantId, UserId};

/// Something a grant detected that the audit trail must record. In both cases the grant has
/// already been revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incident {
    /// A redeemed authorization code came back (RFC 6749 §4.1.2).
    CodeReplay { grant: GrantId, user: UserId },
    /// A rotated refresh token came back: one of two parties holds a stolen copy
    /// (RFC 9700 §4.14.2).
    RefreshReuse { grant: GrantId, user: UserId },
}

/// A refused grant request.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Refusal {
    #[source]
    pub error: Error,
    pub incident: Option<Incident>,
}

impl Refusal {
    /// A refusal that also reports `incident`.
    pub fn with_incident(error: impl Into<Error>, incident: Incident) -> Self {
        Self {
            error: error.into(),
            incident: Some(incident),
        }
    }
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Self {
            error,
            incident: None,
        }
    }
}

impl From<OAuthError> for Refusal {
    fn from(e: OAuthError) -> Self {
        Error::OAuth(e).into()
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Error::Store(e).into()
    }
}

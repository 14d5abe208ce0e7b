//! Browser login sessions: when one is still valid (OIDC Core §3.1.2.3 "authenticate the
//! End-User", RFC 9700 §4.15 advice on session lifetime).
//!
//! A session ends at the first of its absolute expiry (`expires_at`, set at login from
//! `[session] ttl`) and its idle expiry (`last_seen + [session] idle_ttl`). Every use slides
//! `last_seen`, but only writes it when it is more than [`TOUCH_INTERVAL`] seconds old, so a
//! busy browser costs one UPDATE a minute rather than one per request.
//!
//! A live session is still not a signed-in user for every client: [`BoundSession`] is a
//! session together with its user, made only by `crate::authorize` once it has checked that
//! the user belongs to the tenant of the client at hand (sessions are bound to their tenant).

#![allow(async_fn_in_trait)]

use chrono::{DateTime, Duration, Utc};

use crate::error::StoreError;
use crate::ports::Session;
use crate::secret::SecretHash;
use crate::user::User;

/// `last_seen` is written at most this often per session, in seconds.
pub const TOUCH_INTERVAL: i64 = 60;

/// Session lifetimes, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Absolute lifetime from login.
    pub ttl: i64,
    /// Longest time between two uses.
    pub idle_ttl: i64,
}

/// What a presented session is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Valid; `touch` says `last_seen` should be written now.
    Live { touch: bool },
    /// Past its absolute or idle expiry: treat as no session and delete it.
    Expired,
}

impl SessionPolicy {
    pub fn check(&self, s: &Session, now: DateTime<Utc>) -> Liveness {
        let idle_end = s.last_seen + Duration::seconds(self.idle_ttl);
        if now >= s.expires_at || now >= idle_end {
            return Liveness::Expired;
        }
        Liveness::Live {
            touch: (now - s.last_seen).num_seconds() > TOUCH_INTERVAL,
        }
    }
}

/// A live session whose user may act at the client of the current request: the user exists
/// and belongs to the client's tenant, which is enabled. Only `crate::authorize` makes one
/// (`bind_session`, `bind_new_session`), so holding one is the proof.
#[derive(Debug, Clone)]
pub struct BoundSession {
    session: Session,
    user: User,
}

impl BoundSession {
    pub(crate) fn new(session: Session, user: User) -> Self {
        Self { session, user }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn user(&self) -> &User {
        &self.user
    }
}

/// The session writes besides the basic [`crate::ports::SessionStore`].
pub trait SessionActivityStore {
    /// Records a use of the session at `now` (its new `last_seen`).
    async fn touch_session(
        &self,
        id_hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::values::UserId;

    fn session(login: DateTime<Utc>, last_seen: DateTime<Utc>) -> Session {
        Session {
            id_hash: Secret::generate().hash(),
            user_id: UserId::generate(),
            auth_time: login,
            csrf_token: "t".into(),
            expires_at: login + Duration::seconds(3600),
            last_seen,
        }
    }

    #[test]
    fn idle_and_absolute_expiry() {
        let p = SessionPolicy {
            ttl: 3600,
            idle_ttl: 600,
        };
        let t0 = Utc::now();
        let s = session(t0, t0);
        assert_eq!(
            p.check(&s, t0 + Duration::seconds(30)),
            Liveness::Live { touch: false }
        );
        assert_eq!(
            p.check(&s, t0 + Duration::seconds(90)),
            Liveness::Live { touch: true }
        );
        assert_eq!(p.check(&s, t0 + Duration::seconds(600)), Liveness::Expired);
        // Recently used, but past the absolute lifetime.
        let s = session(t0, t0 + Duration::seconds(3500));
        assert_eq!(
            p.check(&s, t0 + Duration::seconds(3550)),
            Liveness::Live { touch: false }
        );
        assert_eq!(p.check(&s, t0 + Duration::seconds(3600)), Liveness::Expired);
    }
}

//! Refresh-token rotation policy (RFC 9700 §4.14.2; RFC 6749 §6, §10.4): idle and absolute
//! lifetimes, and the optional per-client grace period for retries. The grant that applies it
//! is [`crate::grant::refresh_token`].
//!
//! - **Idle lifetime**: each refresh token expires `idle` seconds after it is issued, so a grant
//!   nobody uses dies on its own.
//! - **Absolute lifetime**: a family (the refresh tokens of one grant) never outlives its first
//!   issue plus `absolute`; rotation cannot extend it. The deadline is stored on every token of
//!   the family ([`RefreshRecord::family_expires_at`]).
//! - **Strict rotation** (the default): a refresh token is exchanged once; presenting it again
//!   revokes the whole grant, because one of two parties holds a stolen copy.
//! - **Grace period** (opt-in per client, at most
//!   [`MAX_REFRESH_GRACE_SECONDS`](crate::client::MAX_REFRESH_GRACE_SECONDS)): for `grace`
//!   seconds after a token was exchanged, the *immediately previous* token (the one whose
//!   successor has not been used yet) may be presented again and receives **the same new pair**,
//!   so a client that lost the response on the network recovers without forking the family.
//!   We never keep a refresh token in a usable form (only SHA-256 digests), so the successor is
//!   not stored but *derived*: each refresh token of a grace-period client is stored with a
//!   random [`RotationSalt`], and its successor is SHA-256 over the salt and the presented
//!   token ([`successor_token`]); the access token's `jti` and `iat` are derived and fixed the
//!   same way, so the retry's access token carries the same claims (with RS256 it is
//!   byte-identical; ES256 signatures are randomised). A database copy alone cannot compute a
//!   successor, nor can a stolen old token alone. Presenting the old token once its successor
//!   was used, or after the grace period, is reuse as above.

// Used only by our own generic code on actix workers; see `ports`.
#![allow(async_fn_in_trait)]

use chrono::{DateTime, Duration, Utc};

use crate::client::Client;
use crate::error::StoreError;
use crate::policy::Policy;
use crate::ports::{RefreshRecord, Rotation};
use crate::secret::{RotationSalt, Secret, SecretHash};
use crate::values::{ClientId, GrantId, ScopeSet, UserId};

/// The atomic transitions of rotation. Each is a single conditional write in storage, so of two
/// concurrent requests at most one wins.
pub trait RotationStore {
    /// Marks `old` used at `now` and records `successor` as its replacement, only if `old` is
    /// neither used nor revoked; exactly one caller gets [`Rotation::Rotated`].
    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        successor: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError>;
}

/// The refresh-token lifetimes that apply to one client, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshLifetimes {
    pub idle: i64,
    pub absolute: i64,
    /// 0 = strict rotation.
    pub grace: i64,
}

impl RefreshLifetimes {
    /// The client's overrides, else the server's settings.
    pub fn for_client(policy: &Policy, client: &Client) -> Self {
        Self {
            idle: client.refresh_idle_ttl.unwrap_or(policy.refresh_token_ttl),
            absolute: client
                .refresh_absolute_ttl
                .unwrap_or(policy.refresh_token_absolute_ttl),
            grace: client.refresh_grace_seconds.max(0),
        }
    }

    /// The deadline of a family: kept from the token being rotated, or set now for a new grant
    /// (and for tokens issued before absolute lifetimes existed).
    pub fn family_deadline(
        &self,
        previous: Option<&RefreshRecord>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        previous
            .and_then(|r| r.family_expires_at)
            .unwrap_or(now + Duration::seconds(self.absolute))
    }

    /// When a token issued at `now` expires: after the idle lifetime, but never after the
    /// family's deadline.
    pub fn token_expiry(&self, now: DateTime<Utc>, deadline: DateTime<Utc>) -> DateTime<Utc> {
        (now + Duration::seconds(self.idle)).min(deadline)
    }
}

/// The grant a family of refresh tokens belongs to, and its deadline.
pub struct Family<'a> {
    pub grant_id: &'a GrantId,
    pub client_id: &'a ClientId,
    pub user_id: &'a UserId,
    /// The scope the user granted; no refresh of the family may go beyond it (RFC 6749 §6).
    pub granted_scope: &'a ScopeSet,
    pub auth_time: DateTime<Utc>,
    /// The family's absolute deadline ([`RefreshLifetimes::family_deadline`]).
    pub expires_at: DateTime<Utc>,
    /// The DPoP key the family's tokens are bound to (RFC 9449 §5), if any.
    pub dpop_jkt: Option<&'a str>,
}

impl RefreshLifetimes {
    /// The record of a new refresh token `token` of `family` with `scope`, issued at `now`.
    /// Clients with a grace period get a rotation salt, so the token's successor is derivable.
    pub fn new_record(
        &self,
        token: &Secret,
        family: &Family<'_>,
        scope: &ScopeSet,
        now: DateTime<Utc>,
    ) -> RefreshRecord {
        RefreshRecord {
            token_hash: token.hash(),
            grant_id: family.grant_id.clone(),
            client_id: family.client_id.clone(),
            user_id: family.user_id.clone(),
            scope: scope.clone(),
            granted_scope: family.granted_scope.clone(),
            auth_time: family.auth_time,
            issued_at: now,
            expires_at: self.token_expiry(now, family.expires_at),
            used_at: None,
            revoked: false,
            family_expires_at: Some(family.expires_at),
            replaced_by: None,
            rotation_salt: (self.grace > 0).then(RotationSalt::generate),
            dpop_jkt: family.dpop_jkt.map(str::to_owned),
        }
    }
}

/// The successor of `presented`, a refresh token stored with `salt`.
pub fn successor_token(presented: &Secret, salt: &RotationSalt) -> Secret {
    use base64::Engine;
    Secret::from_presented(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(salt.derive(presented, "refresh_token")),
    )
}

/// The `jti` of the access token issued with the successor of `presented` (128 bits).
pub fn successor_jti(presented: &Secret, salt: &RotationSalt) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(&salt.derive(presented, "access_token_jti")[..16])
}

/// What a presented, already exchanged refresh token means.
#[derive(Debug, PartialEq, Eq)]
pub enum UsedToken {
    /// A retry within the grace period; `current` is the successor to hand out again.
    GraceRetry { current: SecretHash },
    /// Reuse: the grant must be revoked.
    Replay,
}

/// Classifies a token whose `used_at` is set. A grace retry is answered only while the
/// successor `current` is still unused (checked by the caller).
pub fn classify_used(
    record: &RefreshRecord,
    life: &RefreshLifetimes,
    now: DateTime<Utc>,
) -> UsedToken {
    match (record.used_at, &record.replaced_by) {
        (Some(used), Some(current))
            if life.grace > 0 && now < used + Duration::seconds(life.grace) =>
        {
            UsedToken::GraceRetry {
                current: current.clone(),
            }
        }
        _ => UsedToken::Replay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes;

    #[test]
    fn lifetimes_take_client_overrides() {
        let policy = Policy::new("https://issuer.example");
        let mut c = fakes::client("c1");
        assert_eq!(
            RefreshLifetimes::for_client(&policy, &c),
            RefreshLifetimes {
                idle: policy.refresh_token_ttl,
                absolute: policy.refresh_token_absolute_ttl,
                grace: 0
            }
        );
        c.refresh_idle_ttl = Some(600);
        c.refresh_absolute_ttl = Some(3600);
        c.refresh_grace_seconds = 10;
        assert_eq!(
            RefreshLifetimes::for_client(&policy, &c),
            RefreshLifetimes {
                idle: 600,
                absolute: 3600,
                grace: 10
            }
        );
    }

    #[test]
    fn expiry_never_passes_the_family_deadline() {
        let life = RefreshLifetimes {
            idle: 600,
            absolute: 1000,
            grace: 0,
        };
        let t0 = Utc::now();
        let deadline = life.family_deadline(None, t0);
        assert_eq!(deadline, t0 + Duration::seconds(1000));
        assert_eq!(life.token_expiry(t0, deadline), t0 + Duration::seconds(600));
        let later = t0 + Duration::seconds(700);
        assert_eq!(life.token_expiry(later, deadline), deadline);
    }

    #[test]
    fn only_a_recent_use_with_a_successor_is_a_grace_retry() {
        let t0 = Utc::now();
        let successor = crate::secret::Secret::generate().hash();
        let mut r = fakes::refresh_record("c1", "g1", t0);
        r.used_at = Some(t0);
        r.replaced_by = Some(successor.clone());
        let strict = RefreshLifetimes {
            idle: 600,
            absolute: 1000,
            grace: 0,
        };
        let grace = RefreshLifetimes {
            grace: 30,
            ..strict
        };
        assert_eq!(classify_used(&r, &strict, t0), UsedToken::Replay);
        assert_eq!(
            classify_used(&r, &grace, t0 + Duration::seconds(29)),
            UsedToken::GraceRetry { current: successor }
        );
        assert_eq!(
            classify_used(&r, &grace, t0 + Duration::seconds(30)),
            UsedToken::Replay
        );
        r.replaced_by = None;
        assert_eq!(classify_used(&r, &grace, t0), UsedToken::Replay);
    }
}

//! Operator operations: registering clients and users, managing signing keys, housekeeping.
//!
//! These are used by the CLI and at start-up, not by protocol requests, and return the store's
//! own [`Error`] so callers can tell a conflict from a failure.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use gatehouse_core::SigningAlg;
use gatehouse_core::client::Client;
use gatehouse_core::user::User;
use gatehouse_core::values::TenantId;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, SqlErr};

use crate::entities::{
    authorization_code, client, refresh_token, session, signing_key, tenant, user,
};
use crate::ports::{client_to_row, user_to_row};
use crate::signing_keys::{KeyStatus, new_row, retire_active};
use crate::{Error, Store, db_time};

/// How long redeemed or expired authorization codes are kept, so that a replay within this window
/// is still recognised as one (and revokes the grant) rather than answered as an unknown code.
const CODE_RETENTION: TimeDelta = TimeDelta::hours(1);

/// A signing key as stored.
#[derive(Clone)]
pub struct StoredKey {
    pub kid: String,
    pub alg: SigningAlg,
    /// The private key: PKCS#8 DER, or an envelope of it (`gatehouse_jose::envelope`) when
    /// `encrypted`. Omitted from `Debug`.
    pub private_key: Vec<u8>,
    /// Whether `private_key` is encrypted with the master key.
    pub encrypted: bool,
    /// The public key as a JWK (RFC 7517).
    pub public_jwk: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// Whether this is the key new tokens of `alg` are signed with (`status == Active`).
    pub active: bool,
    /// Where the key is in its life cycle.
    pub status: KeyStatus,
    /// When the key became (or, if `Next`, becomes) the signing key.
    pub activates_at: Option<DateTime<Utc>>,
    /// When a newer key replaced it.
    pub retired_at: Option<DateTime<Utc>>,
}

impl StoredKey {
    /// A new key record (state fields are set by the store operation that inserts it).
    pub fn new(
        kid: String,
        alg: SigningAlg,
        private_key: Vec<u8>,
        encrypted: bool,
        public_jwk: serde_json::Value,
        created_at: DateTime<Utc>,
    ) -> StoredKey {
        StoredKey {
            kid,
            alg,
            private_key,
            encrypted,
            public_jwk,
            created_at,
            active: false,
            status: KeyStatus::Next,
            activates_at: None,
            retired_at: None,
        }
    }

    /// When the key started (or starts) signing: `activates_at`, else its creation.
    pub fn activated_at(&self) -> DateTime<Utc> {
        self.activates_at.unwrap_or(self.created_at)
    }
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private_key", &"<redacted>")
            .field("encrypted", &self.encrypted)
            .field("public_jwk", &self.public_jwk)
            .field("created_at", &self.created_at)
            .field("status", &self.status)
            .field("activates_at", &self.activates_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// What [`Store::delete_expired`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub codes: u64,
    pub refresh_tokens: u64,
    pub sessions: u64,
}

pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn is_fk_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_)))
}

impl Store {
    /// Registers a client. `Conflict` if the id is taken, `NotFound` if its tenant does not exist.
    pub async fn insert_client(&self, c: &Client) -> Result<(), Error> {
        match client::Entity::insert(client_to_row(c))
            .exec_without_returning(self.db())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => {
                Err(Error::Conflict(format!("client {} already exists", c.id)))
            }
            Err(e) if is_fk_violation(&e) => {
                Err(Error::NotFound(format!("tenant {}", c.tenant_id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a user. `Conflict` if the username (or id) is taken, `NotFound` if its tenant does
    /// not exist. Uniqueness is enforced by the database, so concurrent creations cannot both win.
    pub async fn insert_user(&self, u: &User) -> Result<(), Error> {
        match user::Entity::insert(user_to_row(u))
            .exec_without_returning(self.db())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => {
                let name_taken = user::Entity::find()
                    .filter(user::Column::Username.eq(u.username.as_str()))
                    .count(self.db())
                    .await?
                    > 0;
                Err(Error::Conflict(if name_taken {
                    format!("username {:?} already exists", u.username)
                } else {
                    format!("user {} already exists", u.id)
                }))
            }
            Err(e) if is_fk_violation(&e) => {
                Err(Error::NotFound(format!("tenant {}", u.tenant_id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a tenant with this id exists.
    pub async fn tenant_exists(&self, id: &TenantId) -> Result<bool, Error> {
        Ok(tenant::Entity::find_by_id(id.as_str())
            .one(self.db())
            .await?
            .is_some())
    }

    /// All signing keys, oldest first (ties broken by kid).
    pub async fn list_signing_keys(&self) -> Result<Vec<StoredKey>, Error> {
        let rows = signing_key::Entity::find()
            .order_by_asc(signing_key::Column::CreatedAt)
            .order_by_asc(signing_key::Column::Kid)
            .all(self.db())
            .await?;
        rows.into_iter()
            .map(|m| {
                Ok(StoredKey {
                    alg: SigningAlg::parse(&m.alg).map_err(|e| {
                        Error::Db(format!("invalid signing_keys.alg of {}: {e}", m.kid))
                    })?,
                    status: KeyStatus::of_row(m.active, &m.status),
                    kid: m.kid,
                    private_key: m.private_key,
                    encrypted: m.encrypted,
                    public_jwk: m.public_jwk,
                    created_at: m.created_at,
                    active: m.active,
                    activates_at: m.activates_at,
                    retired_at: m.retired_at,
                })
            })
            .collect()
    }

    /// Makes `k` the active key of its algorithm at once (an operator's immediate rotation):
    /// in one transaction holding the key-transition lock, retires the active key(s) of that
    /// algorithm (`retired_at = now`), discards a pre-published `next` key of it (it never
    /// signed anything, and the new key restarts the rotation schedule), and inserts `k` as
    /// active from `now` (its own state fields are ignored). Retired keys are kept for
    /// verification.
    pub async fn insert_active_key(&self, k: &StoredKey, now: DateTime<Utc>) -> Result<(), Error> {
        let txn = self.begin_key_transition().await?;
        signing_key::Entity::delete_many()
            .filter(signing_key::Column::Alg.eq(k.alg.as_str()))
            .filter(signing_key::Column::Active.eq(false))
            .filter(signing_key::Column::Status.eq(KeyStatus::Next.as_str()))
            .exec(&txn)
            .await?;
        retire_active(&txn, k.alg, now).await?;
        match signing_key::Entity::insert(new_row(k, KeyStatus::Active, now))
            .exec_without_returning(&txn)
            .await
        {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                txn.rollback().await?;
                return Err(Error::Conflict(format!(
                    "signing key {} already exists",
                    k.kid
                )));
            }
            Err(e) => return Err(e.into()),
        }
        txn.commit().await?;
        Ok(())
    }

    /// Deletes retired keys whose `retired_at` is before `cutoff`; returns how many.
    /// Active and `next` keys are never deleted.
    pub async fn delete_keys_retired_before(&self, cutoff: DateTime<Utc>) -> Result<u64, Error> {
        let res = signing_key::Entity::delete_many()
            .filter(signing_key::Column::Active.eq(false))
            .filter(signing_key::Column::Status.ne(KeyStatus::Next.as_str()))
            .filter(signing_key::Column::RetiredAt.lt(db_time(cutoff)))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected)
    }

    /// Housekeeping: deletes authorization codes that expired more than an hour before `now`,
    /// refresh tokens past their expiry, and sessions past their expiry.
    pub async fn delete_expired(&self, now: DateTime<Utc>) -> Result<Purged, Error> {
        let codes = authorization_code::Entity::delete_many()
            .filter(authorization_code::Column::ExpiresAt.lt(db_time(now - CODE_RETENTION)))
            .exec(self.db())
            .await?
            .rows_affected;
        let refresh_tokens = refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::ExpiresAt.lt(db_time(now)))
            .exec(self.db())
            .await?
            .rows_affected;
        let sessions = session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lt(db_time(now)))
            .exec(self.db())
            .await?
            .rows_affected;
        Ok(Purged {
            codes,
            refresh_tokens,
            sessions,
        })
    }
}

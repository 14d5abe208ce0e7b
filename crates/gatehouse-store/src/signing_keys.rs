//! Signing-key life cycle in storage: `next` (published, not yet signing) → `active` (signs new
//! tokens) → `retired` (published until every token it signed has expired) → deleted.
//!
//! Every transition runs in one write transaction that first takes a PostgreSQL advisory lock
//! ([`KEYS_LOCK_KEY`]; on SQLite the `BEGIN IMMEDIATE` write lock has the same effect across
//! processes) and re-checks the state it depends on inside it. So when several nodes run the
//! rotation scheduler at the same moment, exactly one of them wins each transition and the
//! others see that it is already done. A unique partial index (one `next` key per algorithm)
//! backs this up in the schema.

use std::fmt;

use chrono::{DateTime, Utc};
use gatehouse_core::SigningAlg;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Statement,
};

use crate::entities::signing_key;
use crate::{Error, Store, db_time, is_unique_violation};

/// The PostgreSQL advisory lock serialising key transitions across nodes ("ghkeys" + 0x0001).
pub const KEYS_LOCK_KEY: i64 = 0x6768_6b65_7973_0001;

/// Where a key is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Published in the JWKS, not yet signing; becomes active at `activates_at`.
    Next,
    /// Signs new tokens of its algorithm.
    Active,
    /// Replaced; published until the tokens it signed have expired.
    Retired,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Next => "next",
            KeyStatus::Active => "active",
            KeyStatus::Retired => "retired",
        }
    }

    /// Reads a row's state. `active` decides whether the key signs (it is the column nodes of
    /// the previous release maintain); `status` tells a pre-published key from a retired one.
    pub(crate) fn of_row(active: bool, status: &str) -> KeyStatus {
        if active {
            KeyStatus::Active
        } else if status == "next" {
            KeyStatus::Next
        } else {
            KeyStatus::Retired
        }
    }
}

impl std::fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Store {
    /// A write transaction holding the key-transition lock (see the module documentation).
    pub(crate) async fn begin_key_transition(&self) -> Result<DatabaseTransaction, Error> {
        let txn = self.begin_write().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [KEYS_LOCK_KEY.into()],
            ))
            .await?;
        }
        Ok(txn)
    }

    /// Pre-publishes `k` as the `next` key of its algorithm, to become active at `activates_at`,
    /// provided that the active key of that algorithm is still `expected_active` and no `next`
    /// key exists. Returns whether `k` was inserted (`false`: another node already scheduled the
    /// rotation, or the active key changed meanwhile; nothing was written).
    pub async fn insert_next_key(
        &self,
        k: &StoredKey,
        activates_at: DateTime<Utc>,
        expected_active: &str,
    ) -> Result<bool, Error> {
        let txn = self.begin_key_transition().await?;
        let of_alg = signing_key::Entity::find()
            .filter(signing_key::Column::Alg.eq(k.alg.as_str()))
            .all(&txn)
            .await?;
        let active_ok = of_alg.iter().any(|m| m.active && m.kid == expected_active);
        let next_exists = of_alg
            .iter()
            .any(|m| KeyStatus::of_row(m.active, &m.status) == KeyStatus::Next);
        if !active_ok || next_exists {
            txn.rollback().await?;
            return Ok(false);
        }
        let row = new_row(k, KeyStatus::Next, activates_at);
        match signing_key::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
        {
            Ok(_) => {}
            // The partial unique index: another writer got there first.
            Err(e) if is_unique_violation(&e) => {
                txn.rollback().await?;
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        }
        txn.commit().await?;
        Ok(true)
    }

    /// Rotates by hand to `k` without ever signing with a key some node may not have loaded:
    /// in one transaction holding the key-transition lock, a `next` key already pending for
    /// the algorithm is retired (`retired_at = now`, so it stays published for a node that may
    /// already sign with it), and `k` becomes the `next` key, signing from `activates_at`.
    /// When the algorithm has no active key at all, nothing can be signed with it anywhere, so
    /// `k` becomes active at once. Returns the state `k` was stored in.
    pub async fn insert_rotated_key(
        &self,
        k: &StoredKey,
        activates_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<KeyStatus, Error> {
        let txn = self.begin_key_transition().await?;
        let has_active = signing_key::Entity::find()
            .filter(signing_key::Column::Alg.eq(k.alg.as_str()))
            .filter(signing_key::Column::Active.eq(true))
            .one(&txn)
            .await?
            .is_some();
        let (status, from) = if has_active {
            retire_pending_next(&txn, k.alg, now).await?;
            (KeyStatus::Next, activates_at)
        } else {
            (KeyStatus::Active, now)
        };
        match signing_key::Entity::insert(new_row(k, status, from))
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
        Ok(status)
    }

    /// Makes the `next` key of `alg` the active one if its `activates_at` is not after `now`:
    /// the active key is retired (`retired_at = now`). Returns the kid of the newly active key,
    /// or `None` when there is nothing to activate (or another node just did it).
    pub async fn activate_next_key(
        &self,
        alg: SigningAlg,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, Error> {
        let txn = self.begin_key_transition().await?;
        let due = signing_key::Entity::find()
            .filter(signing_key::Column::Alg.eq(alg.as_str()))
            .filter(signing_key::Column::Active.eq(false))
            .filter(signing_key::Column::Status.eq(KeyStatus::Next.as_str()))
            .filter(signing_key::Column::ActivatesAt.lte(db_time(now)))
            .order_by_asc(signing_key::Column::ActivatesAt)
            .one(&txn)
            .await?;
        let Some(next) = due else {
            txn.rollback().await?;
            return Ok(None);
        };
        retire_active(&txn, alg, now).await?;
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Active, Expr::value(true))
            .col_expr(
                signing_key::Column::Status,
                Expr::value(KeyStatus::Active.as_str()),
            )
            .filter(signing_key::Column::Kid.eq(next.kid.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(Some(next.kid))
    }

    /// Replaces the stored private key of `kid` by its encrypted envelope, only if it is still
    /// stored in plaintext. Returns whether this call encrypted it (`false` if another node did).
    pub async fn store_encrypted_private_key(
        &self,
        kid: &str,
        envelope: Vec<u8>,
    ) -> Result<bool, Error> {
        let res = signing_key::Entity::update_many()
            .col_expr(signing_key::Column::PrivateKey, Expr::value(envelope))
            .col_expr(signing_key::Column::Encrypted, Expr::value(true))
            .filter(signing_key::Column::Kid.eq(kid))
            .filter(signing_key::Column::Encrypted.eq(false))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected == 1)
    }
}

/// Retires the active key(s) of `alg` as of `now`.
pub(crate) async fn retire_active(
    txn: &DatabaseTransaction,
    alg: SigningAlg,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::Active, Expr::value(false))
        .col_expr(
            signing_key::Column::Status,
            Expr::value(KeyStatus::Retired.as_str()),
        )
        .col_expr(signing_key::Column::RetiredAt, Expr::value(db_time(now)))
        .filter(signing_key::Column::Alg.eq(alg.as_str()))
        .filter(signing_key::Column::Active.eq(true))
        .exec(txn)
        .await?;
    Ok(())
}

/// Retires the pending `next` key(s) of `alg` as of `now` (they stay published for the retired
/// window, like any key that may have signed).
async fn retire_pending_next(
    txn: &DatabaseTransaction,
    alg: SigningAlg,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    signing_key::Entity::update_many()
        .col_expr(
            signing_key::Column::Status,
            Expr::value(KeyStatus::Retired.as_str()),
        )
        .col_expr(signing_key::Column::RetiredAt, Expr::value(db_time(now)))
        .filter(signing_key::Column::Alg.eq(alg.as_str()))
        .filter(signing_key::Column::Active.eq(false))
        .filter(signing_key::Column::Status.eq(KeyStatus::Next.as_str()))
        .exec(txn)
        .await?;
    Ok(())
}

/// The row for a new key in state `status`.
pub(crate) fn new_row(
    k: &StoredKey,
    status: KeyStatus,
    activates_at: DateTime<Utc>,
) -> signing_key::ActiveModel {
    signing_key::ActiveModel {
        kid: Set(k.kid.clone()),
        alg: Set(k.alg.as_str().to_owned()),
        private_key: Set(k.private_key.clone()),
        public_jwk: Set(k.public_jwk.clone()),
        created_at: Set(db_time(k.created_at)),
        active: Set(status == KeyStatus::Active),
        retired_at: Set(None),
        status: Set(status.as_str().to_owned()),
        activates_at: Set(Some(db_time(activates_at))),
        encrypted: Set(k.encrypted),
    }
}

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

impl Store {
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

    /// Makes `k` the active key of its algorithm only if that algorithm has none (a first
    /// start): in one transaction holding the key-transition lock, so that nodes starting
    /// together on an empty database agree on one key instead of each retiring the other's.
    /// Returns `false` (and stores nothing) when another node already made one.
    pub async fn insert_first_key(&self, k: &StoredKey, now: DateTime<Utc>) -> Result<bool, Error> {
        let txn = self.begin_key_transition().await?;
        let has_active = signing_key::Entity::find()
            .filter(signing_key::Column::Alg.eq(k.alg.as_str()))
            .filter(signing_key::Column::Active.eq(true))
            .one(&txn)
            .await?
            .is_some();
        if has_active {
            txn.rollback().await?;
            return Ok(false);
        }
        signing_key::Entity::insert(new_row(k, KeyStatus::Active, now))
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        Ok(true)
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
}

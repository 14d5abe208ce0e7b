//! Signing-key life cycle in storage: `next` (published, not yet signing) → `active` (signs new
//! tokens) → `retired` (published until every token it signed has expired) → deleted.
//!
//! Every transition runs in one write transaction that first takes a PostgreSQL advisory lock
//! ([`KEYS_LOCK_KEY`]; on SQLite the `BEGIN IMMEDIATE` write lock has the same effect across
//! processes) and re-checks the state it depends on inside it. So when several nodes run the
//! rotation scheduler at the same moment, exactly one of them wins each transition and the
//! others see that it is already done. A unique partial index (one `next` key per algorithm)
//! backs this up in the schema.

use chrono::{DateTime, Utc};
use gatehouse_core::SigningAlg;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Statement,
};

use crate::admin::is_unique_violation;
use crate::entities::signing_key;
use crate::{Error, Store, StoredKey, db_time};

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

//! Storage for signed client authentication and service accounts (RFC 7523, OIDC Core §9):
//! the key sources of `private_key_jwt` clients, the single-use `jti` records, and the trusts
//! of the JWT bearer grant.
//!
//! The replay check is one `INSERT` whose primary key is the hash of (namespaced issuer, `jti`):
//! of two concurrent uses exactly one inserts, and the other gets a unique violation, which is
//! the replay. A leftover record of an expired assertion is taken over by a conditional
//! `UPDATE ... WHERE expires_at <= now`, which is atomic as well.

use base64::Engine;
use chrono::{DateTime, Utc};
use gatehouse_core::client::Client;
use gatehouse_core::client_auth::{ClientKeyStore, JtiUse, KeySource, ReplayStore, SealedSecret};
use gatehouse_core::jwt_bearer::{Trust, TrustStore};
use gatehouse_core::secret::Secret;
use gatehouse_core::values::TenantId;
use gatehouse_core::values::ValueError;
use gatehouse_core::{ClientId, ScopeSet, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, SqlErr,
};

use crate::entities::{assertion_replay, client, jwt_bearer_trust};
use crate::ports::client_to_row;
use crate::{Error, Store, db_time};

fn db_err(e: DbErr) -> StoreError {
    StoreError::backend(e)
}

pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn is_fk_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_)))
}

impl Store {
    /// Registers a client together with its key source (one `INSERT`, so nothing is half
    /// written). `Conflict` if the id is taken, `NotFound` if the tenant does not exist.
    pub async fn insert_client_with_keys(
        &self,
        c: &Client,
        keys: Option<&KeySource>,
    ) -> Result<(), Error> {
        insert_client_row(self.db(), c, keys).await
    }
}

/// The `INSERT` of [`Store::insert_client_with_keys`], on a connection or in a transaction.
pub(crate) async fn insert_client_row<D: sea_orm::ConnectionTrait>(
    db: &D,
    c: &Client,
    keys: Option<&KeySource>,
) -> Result<(), Error> {
    {
        let mut row = client_to_row(c);
        match keys {
            Some(KeySource::Jwks(v)) => row.jwks = Set(Some(v.clone())),
            Some(KeySource::Uri(u)) => row.jwks_uri = Set(Some(u.clone())),
            Some(KeySource::SealedSecret(s)) => {
                row.hmac_secret = Set(Some(
                    base64::engine::general_purpose::STANDARD.encode(&s.envelope),
                ))
            }
            None => {}
        }
        match client::Entity::insert(row).exec_without_returning(db).await {
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
}

impl Store {
    /// Registers a trust of the JWT bearer grant. `Conflict` if one exists for the same issuer
    /// and subject, `NotFound` if the tenant does not exist.
    pub async fn insert_trust(&self, t: &Trust) -> Result<(), Error> {
        let row = jwt_bearer_trust::ActiveModel {
            id: Set(t.id.clone()),
            tenant_id: Set(t.tenant_id.as_str().to_owned()),
            issuer: Set(t.issuer.clone()),
            subject: Set(t.subject.clone()),
            jwks: Set(t.jwks.clone()),
            scopes: Set(t.scopes.to_string()),
            created_at: Set(db_time(t.created_at)),
        };
        match jwt_bearer_trust::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(Error::Conflict(format!(
                "a trust for issuer {:?} and subject {:?} already exists",
                t.issuer, t.subject
            ))),
            Err(e) if is_fk_violation(&e) => {
                Err(Error::NotFound(format!("tenant {}", t.tenant_id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Housekeeping: deletes `jti` records of assertions that expired before `now`.
    pub async fn delete_expired_assertions(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        Ok(assertion_replay::Entity::delete_many()
            .filter(assertion_replay::Column::ExpiresAt.lte(db_time(now)))
            .exec(self.db())
            .await?
            .rows_affected)
    }
}

impl ClientKeyStore for Store {
    async fn client_key_source(&self, id: &ClientId) -> Result<Option<KeySource>, StoreError> {
        type Row = (Option<serde_json::Value>, Option<String>, Option<String>);
        let row: Option<Row> = client::Entity::find_by_id(id.as_str())
            .select_only()
            .column(client::Column::Jwks)
            .column(client::Column::JwksUri)
            .column(client::Column::HmacSecret)
            .into_tuple()
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(match row {
            Some((Some(jwks), _, _)) => Some(KeySource::Jwks(jwks)),
            Some((None, Some(uri), _)) => Some(KeySource::Uri(uri)),
            Some((None, None, Some(sealed))) => Some(KeySource::SealedSecret(SealedSecret {
                client_id: id.clone(),
                envelope: base64::engine::general_purpose::STANDARD
                    .decode(sealed)
                    .map_err(|e| StoreError::corrupt("clients.hmac_secret", e))?,
            })),
            _ => None,
        })
    }
}

impl ReplayStore for Store {
    async fn use_jti(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<JtiUse, StoreError> {
        // Length-prefixed, so ("a\n", "b") and ("a", "\nb") never share a key.
        let key = Secret::from_presented(&format!("{}:{issuer}\n{jti}", issuer.len()))
            .hash()
            .to_hex();
        let row = assertion_replay::ActiveModel {
            key_hash: Set(key.clone()),
            expires_at: Set(db_time(expires_at)),
        };
        match assertion_replay::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
        {
            Ok(_) => return Ok(JtiUse::Fresh),
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(db_err(e)),
        }
        // A record exists. It still counts unless its assertion has expired; then this use
        // takes it over, atomically.
        let taken_over = assertion_replay::Entity::update_many()
            .col_expr(
                assertion_replay::Column::ExpiresAt,
                Expr::value(db_time(expires_at)),
            )
            .filter(assertion_replay::Column::KeyHash.eq(key))
            .filter(assertion_replay::Column::ExpiresAt.lte(db_time(now)))
            .exec(self.db())
            .await
            .map_err(db_err)?
            .rows_affected
            == 1;
        Ok(if taken_over {
            JtiUse::Fresh
        } else {
            JtiUse::Replayed
        })
    }
}

impl TrustStore for Store {
    async fn find_trust(&self, issuer: &str, subject: &str) -> Result<Option<Trust>, StoreError> {
        let Some(m) = jwt_bearer_trust::Entity::find()
            .filter(jwt_bearer_trust::Column::Issuer.eq(issuer))
            .filter(jwt_bearer_trust::Column::Subject.eq(subject))
            .one(self.db())
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        trust_from_row(m).map(Some)
    }
}

/// A stored trust, its typed columns checked.
pub(crate) fn trust_from_row(m: jwt_bearer_trust::Model) -> Result<Trust, StoreError> {
    let bad = |c: &str, e: ValueError| StoreError::corrupt(format!("jwt_bearer_trusts.{c}"), e);
    Ok(Trust {
        tenant_id: TenantId::parse(&m.tenant_id).map_err(|e| bad("tenant_id", e))?,
        scopes: ScopeSet::parse(&m.scopes).map_err(|e| bad("scopes", e))?,
        id: m.id,
        issuer: m.issuer,
        subject: m.subject,
        jwks: m.jwks,
        created_at: m.created_at,
    })
}

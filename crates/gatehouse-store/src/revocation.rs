//! The token-lifecycle ports on [`Store`]: the revoked access-token list
//! ([`RevokedTokenStore`], RFC 7009) and the atomic transitions of refresh rotation
//! ([`RotationStore`], RFC 9700 §4.14.2).
//!
//! As for codes, "at most once" is decided by the affected row count of conditional `UPDATE`s;
//! the grace-period swap runs its two updates in one write transaction.

use chrono::{DateTime, Utc};
use gatehouse_core::StoreError;
use gatehouse_core::ports::Rotation;
use gatehouse_core::revocation::RevokedTokenStore;
use gatehouse_core::rotation::RotationStore;
use gatehouse_core::secret::SecretHash;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::entities::{refresh_token, revoked_token};
use crate::{Error, Store, db_time};

fn db_err(e: DbErr) -> StoreError {
    StoreError::backend(e)
}

impl RevokedTokenStore for Store {
    async fn revoke_access_token(
        &self,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let row = revoked_token::ActiveModel {
            jti: Set(jti.to_owned()),
            expires_at: Set(db_time(expires_at)),
            revoked_at: Set(db_time(now)),
        };
        revoked_token::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        self.cache.add_revoked(Some(jti), None).await;
        Ok(())
    }

    /// From the node's revocation lists when they are complete (see [`crate::cache`]).
    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        self.cache.check(self.db()).await;
        if let Some(answer) = self.cache.jti_revoked(jti) {
            return Ok(answer);
        }
        Ok(revoked_token::Entity::find_by_id(jti)
            .one(self.db())
            .await
            .map_err(db_err)?
            .is_some())
    }
}

impl RotationStore for Store {
    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        successor: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        let res = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(db_time(now)))
            .col_expr(
                refresh_token::Column::ReplacedBy,
                Expr::value(successor.to_hex()),
            )
            .filter(refresh_token::Column::TokenHash.eq(old.to_hex()))
            .filter(refresh_token::Column::UsedAt.is_null())
            .filter(refresh_token::Column::Revoked.eq(false))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(if res.rows_affected == 1 {
            Rotation::Rotated
        } else {
            Rotation::AlreadyUsed
        })
    }
}

impl Store {
    /// Deletes revoked-token entries whose tokens have expired (housekeeping).
    /// (The generation trigger makes the nodes reload their lists.)
    pub async fn delete_expired_revoked_tokens(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let deleted = revoked_token::Entity::delete_many()
            .filter(revoked_token::Column::ExpiresAt.lt(db_time(now)))
            .exec(self.db())
            .await?
            .rows_affected;
        self.cache.recheck();
        Ok(deleted)
    }
}

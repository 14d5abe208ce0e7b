//! [`ParStore`] on [`Store`]: pushed authorization requests (RFC 9126). Taking one is a find
//! followed by a delete whose row count decides: of concurrent uses at most one succeeds.

use chrono::{DateTime, Utc};
use gatehouse_core::par::{ParStore, PushedRequest};
use gatehouse_core::secret::SecretHash;
use gatehouse_core::{ClientId, StoreError};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::entities::pushed_request;
use crate::{Error, Store, db_time};

impl ParStore for Store {
    async fn insert_pushed(&self, r: &PushedRequest) -> Result<(), StoreError> {
        let row = pushed_request::ActiveModel {
            uri_hash: Set(r.uri_hash.to_hex()),
            client_id: Set(r.client_id.as_str().to_owned()),
            params: Set(r.params.clone()),
            expires_at: Set(db_time(r.expires_at)),
        };
        pushed_request::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn pending_pushed(
        &self,
        client: &ClientId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        pushed_request::Entity::find()
            .filter(pushed_request::Column::ClientId.eq(client.as_str()))
            .filter(pushed_request::Column::ExpiresAt.gt(db_time(now)))
            .count(self.db())
            .await
            .map_err(StoreError::backend)
    }

    async fn take_pushed(
        &self,
        uri_hash: &SecretHash,
    ) -> Result<Option<PushedRequest>, StoreError> {
        let key = uri_hash.to_hex();
        let Some(row) = pushed_request::Entity::find_by_id(key.as_str())
            .one(self.db())
            .await
            .map_err(StoreError::backend)?
        else {
            return Ok(None);
        };
        let deleted = pushed_request::Entity::delete_by_id(key.as_str())
            .exec(self.db())
            .await
            .map_err(StoreError::backend)?;
        if deleted.rows_affected != 1 {
            return Ok(None);
        }
        Ok(Some(PushedRequest {
            uri_hash: uri_hash.clone(),
            client_id: ClientId::parse(&row.client_id)
                .map_err(|e| StoreError::corrupt("pushed_requests.client_id", e))?,
            params: row.params,
            expires_at: row.expires_at,
        }))
    }
}

impl Store {
    /// Housekeeping: deletes pushed requests that expired before `now`. Returns how many.
    pub async fn delete_expired_pushed_requests(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let res = pushed_request::Entity::delete_many()
            .filter(pushed_request::Column::ExpiresAt.lte(db_time(now)))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected)
    }
}

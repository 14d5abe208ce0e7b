//! [`ClaimsRequestStore`] on [`Store`]: the OIDC `claims` request (Core §5.5) of each grant,
//! in `grant_claims`. Rows are written only for requests that carried the parameter, and are
//! pruned by [`Store::delete_stale_claims_requests`] once their grant has no refresh token left.

use chrono::{DateTime, Utc};
use gatehouse_core::claims_request::{ClaimsRequest, ClaimsRequestStore};
use gatehouse_core::{GrantId, StoreError};
use sea_orm::sea_query::Query;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::entities::{grant_claims, refresh_token};
use crate::{Error, Store, db_time};

impl ClaimsRequestStore for Store {
    async fn save_claims_request(
        &self,
        grant: &GrantId,
        request: &ClaimsRequest,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let row = grant_claims::ActiveModel {
            grant_id: Set(grant.as_str().to_owned()),
            claims: Set(request.to_json()),
            created_at: Set(db_time(now)),
        };
        grant_claims::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn find_claims_request(
        &self,
        grant: &GrantId,
    ) -> Result<Option<ClaimsRequest>, StoreError> {
        let row = grant_claims::Entity::find_by_id(grant.as_str())
            .one(self.db())
            .await
            .map_err(StoreError::backend)?;
        row.map(|r| {
            ClaimsRequest::from_json(&r.claims)
                .map_err(|e| StoreError::corrupt("grant_claims.claims", e))
        })
        .transpose()
    }
}

impl Store {
    /// Housekeeping: deletes claims requests created before `cutoff` whose grant has no refresh
    /// token left (its code and access tokens are then long expired). Returns how many.
    pub async fn delete_stale_claims_requests(&self, cutoff: DateTime<Utc>) -> Result<u64, Error> {
        let live_grants = Query::select()
            .column(refresh_token::Column::GrantId)
            .from(refresh_token::Entity)
            .take();
        let res = grant_claims::Entity::delete_many()
            .filter(grant_claims::Column::CreatedAt.lt(db_time(cutoff)))
            .filter(grant_claims::Column::GrantId.not_in_subquery(live_grants))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected)
    }
}

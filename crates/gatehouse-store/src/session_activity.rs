//! [`SessionActivityStore`] on [`Store`]: recording when a login session was last used (its
//! idle expiry, see `gatehouse_core::session`).

use chrono::{DateTime, Utc};
use gatehouse_core::StoreError;
use gatehouse_core::secret::SecretHash;
use gatehouse_core::session::SessionActivityStore;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entities::session;
use crate::{Error, Store, db_time};

impl SessionActivityStore for Store {
    async fn touch_session(
        &self,
        id_hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(db_time(now)))
            .filter(session::Column::IdHash.eq(id_hash.to_hex()))
            .exec(self.db())
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}

impl Store {
    /// Housekeeping: deletes sessions last used before `cutoff` (now minus the idle timeout).
    /// Sessions from before the idle timeout existed count as last used when created.
    pub async fn delete_idle_sessions(&self, cutoff: DateTime<Utc>) -> Result<u64, Error> {
        let cutoff = db_time(cutoff);
        let res = session::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(session::Column::LastSeenAt.lt(cutoff))
                    .add(
                        Condition::all()
                            .add(session::Column::LastSeenAt.is_null())
                            .add(session::Column::CreatedAt.lt(cutoff)),
                    ),
            )
            .exec(self.db())
            .await?;
        Ok(res.rows_affected)
    }
}

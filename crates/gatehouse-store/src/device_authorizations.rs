//! [`DeviceStore`] on [`Store`]: device authorizations (RFC 8628). Deciding one and consuming
//! one are single conditional `UPDATE`s on its status, whose row count decides the winner.

use chrono::{DateTime, Utc};
use gatehouse_core::device::{Decision, DeviceAuthorization, DeviceStatus, DeviceStore};
use gatehouse_core::secret::SecretHash;
use gatehouse_core::{ClientId, ScopeSet, StoreError, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::entities::device_authorization::{self as device, Column};
use crate::{Store, db_time};

const T: &str = "device_authorizations";

fn corrupt(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(format!("{T}.{column}"), e)
}

fn from_row(m: device::Model) -> Result<DeviceAuthorization, StoreError> {
    let hash = |column: &str, v: &str| {
        SecretHash::from_hex(v).ok_or_else(|| corrupt(column, "not a hash"))
    };
    Ok(DeviceAuthorization {
        device_code_hash: hash("device_code_hash", &m.device_code_hash)?,
        user_code_hash: hash("user_code_hash", &m.user_code_hash)?,
        client_id: ClientId::parse(&m.client_id).map_err(|e| corrupt("client_id", e))?,
        scope: ScopeSet::parse(&m.scope).map_err(|e| corrupt("scope", e))?,
        status: DeviceStatus::parse(&m.status).ok_or_else(|| corrupt("status", &m.status))?,
        user_id: m
            .user_id
            .as_deref()
            .map(UserId::parse)
            .transpose()
            .map_err(|e| corrupt("user_id", e))?,
        auth_time: m.auth_time,
        interval: m.poll_interval,
        last_polled_at: m.last_polled_at,
        expires_at: m.expires_at,
    })
}

impl Store {
    async fn find_device_where(
        &self,
        column: Column,
        hash: &SecretHash,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        device::Entity::find()
            .filter(column.eq(hash.to_hex()))
            .one(self.db())
            .await
            .map_err(StoreError::backend)?
            .map(from_row)
            .transpose()
    }
}

impl DeviceStore for Store {
    async fn insert_device(&self, d: &DeviceAuthorization) -> Result<(), StoreError> {
        let row = device::ActiveModel {
            device_code_hash: Set(d.device_code_hash.to_hex()),
            user_code_hash: Set(d.user_code_hash.to_hex()),
            client_id: Set(d.client_id.as_str().to_owned()),
            scope: Set(d.scope.to_string()),
            status: Set(d.status.as_str().to_owned()),
            user_id: Set(d.user_id.as_ref().map(|u| u.as_str().to_owned())),
            auth_time: Set(d.auth_time.map(db_time)),
            poll_interval: Set(d.interval),
            last_polled_at: Set(d.last_polled_at.map(db_time)),
            expires_at: Set(db_time(d.expires_at)),
        };
        device::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn pending_devices(
        &self,
        client: &ClientId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        device::Entity::find()
            .filter(Column::ClientId.eq(client.as_str()))
            .filter(Column::ExpiresAt.gt(db_time(now)))
            .count(self.db())
            .await
            .map_err(StoreError::backend)
    }

    async fn find_device(
        &self,
        device_code_hash: &SecretHash,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        self.find_device_where(Column::DeviceCodeHash, device_code_hash)
            .await
    }

    async fn find_device_by_user_code(
        &self,
        user_code_hash: &SecretHash,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        self.find_device_where(Column::UserCodeHash, user_code_hash)
            .await
    }

    async fn decide_device(
        &self,
        device_code_hash: &SecretHash,
        decision: &Decision,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let status = if decision.approved {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        let res = device::Entity::update_many()
            .col_expr(Column::Status, Expr::value(status.as_str()))
            .col_expr(Column::UserId, Expr::value(decision.user_id.as_str()))
            .col_expr(Column::AuthTime, Expr::value(db_time(decision.auth_time)))
            .col_expr(Column::Scope, Expr::value(decision.scope.to_string()))
            .filter(Column::DeviceCodeHash.eq(device_code_hash.to_hex()))
            .filter(Column::Status.eq(DeviceStatus::Pending.as_str()))
            .filter(Column::ExpiresAt.gt(db_time(now)))
            .exec(self.db())
            .await
            .map_err(StoreError::backend)?;
        Ok(res.rows_affected == 1)
    }

    async fn record_device_poll(
        &self,
        device_code_hash: &SecretHash,
        now: DateTime<Utc>,
        interval: i64,
    ) -> Result<(), StoreError> {
        device::Entity::update_many()
            .col_expr(Column::LastPolledAt, Expr::value(db_time(now)))
            .col_expr(Column::PollInterval, Expr::value(interval))
            .filter(Column::DeviceCodeHash.eq(device_code_hash.to_hex()))
            .exec(self.db())
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn consume_device(&self, device_code_hash: &SecretHash) -> Result<bool, StoreError> {
        let res = device::Entity::update_many()
            .col_expr(Column::Status, Expr::value(DeviceStatus::Consumed.as_str()))
            .filter(Column::DeviceCodeHash.eq(device_code_hash.to_hex()))
            .filter(Column::Status.eq(DeviceStatus::Approved.as_str()))
            .exec(self.db())
            .await
            .map_err(StoreError::backend)?;
        Ok(res.rows_affected == 1)
    }
}

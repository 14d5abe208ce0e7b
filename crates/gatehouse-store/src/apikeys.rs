//! API keys (issue 4): creation under the tenant's limit (atomically), listing, revocation,
//! deletion, and [`ApiKeyAuthStore`] for `gatehouse_core::apikey_auth`.
//! Only the hex SHA-256 of a secret is stored.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use gatehouse_core::StoreError;
use gatehouse_core::apikey::{
    ApiKey, ApiKeyPrefixes, ApiKeyRequest, CreateRefused, Environment, IpNet, NewApiKey,
};
use gatehouse_core::apikey_auth::ApiKeyAuthStore;
use gatehouse_core::audit::NewAuditEvent;
use gatehouse_core::secret::SecretHash;
use gatehouse_core::tenant::Tenant;
use gatehouse_core::values::{ScopeSet, TenantId};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::entities::{api_key, tenant};
use crate::tenants::tenant_from_row;
use crate::{Error, Store, db_time};

/// `last_used_at` is rewritten at most this often for the same address, so a busy key does not
/// turn every request into a write.
const LAST_USED_GRANULARITY: TimeDelta = TimeDelta::seconds(60);

/// Why [`Store::create_api_key`] failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateApiKeyError {
    /// The request or the tenant's policy refused it (message names the field or the reason).
    #[error("{0}")]
    Refused(#[from] CreateRefused),
    #[error(transparent)]
    Store(#[from] Error),
}

fn key_from_row(m: api_key::Model) -> Result<ApiKey, Error> {
    let bad = |what: &str| Error::Db(format!("invalid api_keys.{what} of {}", m.id));
    let allowed_ips = m
        .allowed_ips
        .as_array()
        .ok_or_else(|| bad("allowed_ips"))?
        .iter()
        .map(|v| v.as_str().and_then(|s| IpNet::parse(s).ok()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("allowed_ips"))?;
    Ok(ApiKey {
        tenant_id: TenantId::parse(&m.tenant_id).map_err(|_| bad("tenant_id"))?,
        secret_hash: SecretHash::from_hex(&m.secret_hash).ok_or_else(|| bad("secret_hash"))?,
        scopes: ScopeSet::parse(&m.scopes).map_err(|_| bad("scopes"))?,
        environment: Environment::parse(&m.environment).map_err(|_| bad("environment"))?,
        allowed_ips,
        id: m.id,
        name: m.name,
        prefix: m.prefix,
        rate_limit_class: m.rate_limit_class,
        created_at: m.created_at,
        expires_at: m.expires_at,
        revoked_at: m.revoked_at,
        last_used_at: m.last_used_at,
        last_used_ip: m.last_used_ip,
    })
}

fn active_condition(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(api_key::Column::RevokedAt.is_null())
        .add(api_key::Column::ExpiresAt.gt(db_time(now)))
}

impl Store {
    /// Creates an API key for `tenant_id`: in one write transaction, reads the tenant (locking
    /// its row on PostgreSQL), counts its active keys, validates `req` against its policy and
    /// inserts the key. Concurrent creations therefore cannot exceed the limit.
    pub async fn create_api_key(
        &self,
        tenant_id: &TenantId,
        req: ApiKeyRequest,
        prefixes: &ApiKeyPrefixes,
        now: DateTime<Utc>,
    ) -> Result<NewApiKey, CreateApiKeyError> {
        let txn = self.begin_write().await.map_err(Error::from)?;
        let mut q = tenant::Entity::find_by_id(tenant_id.as_str());
        if txn.get_database_backend() == DbBackend::Postgres {
            q = q.lock_exclusive();
        }
        let Some(row) = q.one(&txn).await.map_err(Error::from)? else {
            return Err(Error::NotFound(format!("tenant {tenant_id}")).into());
        };
        let tenant = tenant_from_row(row)?;
        let active = api_key::Entity::find()
            .filter(api_key::Column::TenantId.eq(tenant_id.as_str()))
            .filter(active_condition(now))
            .count(&txn)
            .await
            .map_err(Error::from)?;
        let new = req.validate(&tenant, active, prefixes, now)?;
        let k = &new.key;
        let row = api_key::ActiveModel {
            id: Set(k.id.clone()),
            tenant_id: Set(k.tenant_id.to_string()),
            name: Set(k.name.clone()),
            prefix: Set(k.prefix.clone()),
            secret_hash: Set(k.secret_hash.to_hex()),
            scopes: Set(k.scopes.to_string()),
            environment: Set(k.environment.as_str().to_owned()),
            allowed_ips: Set(serde_json::Value::from(
                k.allowed_ips
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            )),
            rate_limit_class: Set(k.rate_limit_class.clone()),
            created_at: Set(db_time(k.created_at)),
            expires_at: Set(db_time(k.expires_at)),
            revoked_at: Set(None),
            last_used_at: Set(None),
            last_used_ip: Set(None),
        };
        api_key::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(Error::from)?;
        txn.commit().await.map_err(Error::from)?;
        Ok(new)
    }

    /// A tenant's keys, newest first (revoked and expired ones included).
    pub async fn list_api_keys(&self, tenant_id: &TenantId) -> Result<Vec<ApiKey>, Error> {
        api_key::Entity::find()
            .filter(api_key::Column::TenantId.eq(tenant_id.as_str()))
            .order_by_desc(api_key::Column::CreatedAt)
            .order_by_asc(api_key::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(key_from_row)
            .collect()
    }

    /// How many active (non-expired, non-revoked) keys a tenant has at `now`.
    pub async fn count_active_api_keys(
        &self,
        tenant_id: &TenantId,
        now: DateTime<Utc>,
    ) -> Result<u64, Error> {
        Ok(api_key::Entity::find()
            .filter(api_key::Column::TenantId.eq(tenant_id.as_str()))
            .filter(active_condition(now))
            .count(self.db())
            .await?)
    }

    /// One key by id.
    pub async fn get_api_key(&self, id: &str) -> Result<Option<ApiKey>, Error> {
        api_key::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(key_from_row)
            .transpose()
    }

    /// Revokes a key at `now` (immediately effective). Revoking a revoked key keeps its first
    /// revocation time. `NotFound` if there is no such key.
    pub async fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<ApiKey, Error> {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(db_time(now)))
            .filter(api_key::Column::Id.eq(id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(self.db())
            .await?;
        self.get_api_key(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("API key {id}")))
    }

    /// Deletes a key; returns whether it existed.
    pub async fn delete_api_key(&self, id: &str) -> Result<bool, Error> {
        let res = api_key::Entity::delete_by_id(id).exec(self.db()).await?;
        Ok(res.rows_affected > 0)
    }
}

impl ApiKeyAuthStore for Store {
    async fn find_api_key_by_hash(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<(ApiKey, Tenant)>, StoreError> {
        let Some(row) = api_key::Entity::find()
            .filter(api_key::Column::SecretHash.eq(hash.to_hex()))
            .one(self.db())
            .await
            .map_err(Error::from)?
        else {
            return Ok(None);
        };
        let key = key_from_row(row)?;
        let tenant = tenant::Entity::find_by_id(key.tenant_id.as_str())
            .one(self.db())
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::Db(format!("API key {} has no tenant", key.id)))?;
        Ok(Some((key, tenant_from_row(tenant)?)))
    }

    async fn record_api_key_use(
        &self,
        key_id: &str,
        now: DateTime<Utc>,
        ip: Option<IpAddr>,
    ) -> Result<(), StoreError> {
        let ip = ip.map(|i| i.to_string());
        let mut stale = Condition::any()
            .add(api_key::Column::LastUsedAt.is_null())
            .add(api_key::Column::LastUsedAt.lt(db_time(now - LAST_USED_GRANULARITY)));
        stale = match &ip {
            Some(ip) => stale
                .add(api_key::Column::LastUsedIp.is_null())
                .add(api_key::Column::LastUsedIp.ne(ip.as_str())),
            None => stale.add(api_key::Column::LastUsedIp.is_not_null()),
        };
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(db_time(now)))
            .col_expr(api_key::Column::LastUsedIp, Expr::value(ip))
            .filter(api_key::Column::Id.eq(key_id))
            .filter(stale)
            .exec(self.db())
            .await
            .map_err(Error::from)?;
        Ok(())
    }

    async fn append_audit(&self, event: NewAuditEvent) -> Result<i64, StoreError> {
        self.audit().append(&event).await.map_err(|e| {
            tracing::error!(error = %e, action = %event.action, "cannot append to the audit trail");
            StoreError::from(e)
        })
    }
}

impl gatehouse_core::apikey_auth::ApiKeyLookup for Store {
    async fn find_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        Ok(self.get_api_key(id).await?)
    }
}

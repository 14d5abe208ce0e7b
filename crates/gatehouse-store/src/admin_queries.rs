//! Queries of the admin HTTP API (issue 4): keyset-paginated listings of a tenant's users and
//! clients, deletion, client updates and secret rotation, JWT bearer trusts (list, read,
//! delete) and the tenant settings the CLI does not change.
//! Pages are ordered by id, and the cursor is the last id of the previous page, so a page is
//! stable while rows are added or removed elsewhere.

use gatehouse_core::ScopeSet;
use gatehouse_core::client::Client;
use gatehouse_core::jwt_bearer::Trust;
use gatehouse_core::secret::SecretHash;
use gatehouse_core::tenant::Tenant;
use gatehouse_core::user::User;
use gatehouse_core::values::TenantId;
use sea_orm::ActiveValue::NotSet;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::client_keys::trust_from_row;
use crate::entities::{client, jwt_bearer_trust, tenant, user};
use crate::ports::{client_from_row, client_to_row, user_from_row};
use crate::tenants::tenant_from_row;
use crate::{Error, Store};

fn db(e: gatehouse_core::StoreError) -> Error {
    Error::Db(e.to_string())
}

impl Store {
    /// Up to `limit` users of `tenant` with an id greater than `after`, by id.
    pub async fn list_users_page(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<User>, Error> {
        let mut q = user::Entity::find().filter(user::Column::TenantId.eq(tenant.as_str()));
        if let Some(a) = after {
            q = q.filter(user::Column::Id.gt(a));
        }
        q.order_by_asc(user::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| user_from_row(m).map_err(db))
            .collect()
    }

    /// One user by id, whatever its tenant.
    pub async fn get_user_by_id(&self, id: &str) -> Result<Option<User>, Error> {
        user::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(|m| user_from_row(m).map_err(db))
            .transpose()
    }

    /// Deletes a user; its sessions, consents, codes and refresh tokens go with it (the
    /// foreign keys cascade). Returns whether it existed.
    pub async fn delete_user(&self, id: &str) -> Result<bool, Error> {
        let res = user::Entity::delete_by_id(id).exec(self.db()).await?;
        Ok(res.rows_affected > 0)
    }

    /// Up to `limit` clients of `tenant` with an id greater than `after`, by id.
    pub async fn list_clients_page(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<Client>, Error> {
        let mut q = client::Entity::find().filter(client::Column::TenantId.eq(tenant.as_str()));
        if let Some(a) = after {
            q = q.filter(client::Column::Id.gt(a));
        }
        q.order_by_asc(client::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| client_from_row(m).map_err(db))
            .collect()
    }

    /// One client by id, whatever its tenant.
    pub async fn get_client_by_id(&self, id: &str) -> Result<Option<Client>, Error> {
        client::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(|m| client_from_row(m).map_err(db))
            .transpose()
    }

    /// Deletes a client with its codes, refresh tokens and consents (cascade). Returns whether
    /// it existed.
    pub async fn delete_client(&self, id: &str) -> Result<bool, Error> {
        let res = client::Entity::delete_by_id(id).exec(self.db()).await?;
        // The generation trigger tells the other nodes; this one forgets at once.
        self.cache.clear_directory();
        Ok(res.rows_affected > 0)
    }

    /// Writes a client's registration as changed by an operator (name, URIs, grants, scopes,
    /// algorithm, lifetimes, PKCE); its tenant, authentication, secret and keys stay as they
    /// are. Returns whether the client existed.
    pub async fn update_client(&self, c: &Client) -> Result<bool, Error> {
        let mut row = client_to_row(c);
        row.tenant_id = NotSet;
        row.secret_hash = NotSet;
        row.auth_method = NotSet;
        row.access_token_alg = NotSet;
        row.created_at = NotSet;
        let result = client::Entity::update(row).exec(self.db()).await;
        self.cache.clear_directory();
        match result {
            Ok(_) => Ok(true),
            Err(DbErr::RecordNotUpdated) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The JWT bearer trusts of `tenant`, by issuer and subject.
    pub async fn list_trusts(&self, tenant: &TenantId) -> Result<Vec<Trust>, Error> {
        jwt_bearer_trust::Entity::find()
            .filter(jwt_bearer_trust::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(jwt_bearer_trust::Column::Issuer)
            .order_by_asc(jwt_bearer_trust::Column::Subject)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| trust_from_row(m).map_err(db))
            .collect()
    }

    /// One trust by id, whatever its tenant.
    pub async fn get_trust(&self, id: &str) -> Result<Option<Trust>, Error> {
        jwt_bearer_trust::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(|m| trust_from_row(m).map_err(db))
            .transpose()
    }

    /// Deletes a trust: its issuer's assertions are refused from now on. Returns whether it
    /// existed.
    pub async fn delete_trust(&self, id: &str) -> Result<bool, Error> {
        let res = jwt_bearer_trust::Entity::delete_by_id(id)
            .exec(self.db())
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Replaces the secret hash of a confidential client (rotation: the old secret stops
    /// working at once). Returns whether such a client existed.
    pub async fn set_client_secret_hash(&self, id: &str, hash: &SecretHash) -> Result<bool, Error> {
        self.set_client_secret(id, hash, None).await
    }

    /// Replaces a client's secret hash and, for a `client_secret_jwt` client, its sealed HS256
    /// secret, in one `UPDATE` (the two never disagree). `false` if no client with a secret has
    /// that id.
    pub async fn set_client_secret(
        &self,
        id: &str,
        hash: &SecretHash,
        sealed: Option<&[u8]>,
    ) -> Result<bool, Error> {
        let mut update = client::Entity::update_many()
            .col_expr(client::Column::SecretHash, Expr::value(hash.to_hex()));
        if let Some(envelope) = sealed {
            use base64::Engine;
            update = update.col_expr(
                client::Column::HmacSecret,
                Expr::value(base64::engine::general_purpose::STANDARD.encode(envelope)),
            );
        }
        let res = update
            .filter(client::Column::Id.eq(id))
            .filter(client::Column::SecretHash.is_not_null())
            .exec(self.db())
            .await?;
        self.cache.clear_directory();
        Ok(res.rows_affected > 0)
    }

    /// Sets a tenant's limit of active API keys (validated by the caller).
    pub async fn set_tenant_max_api_keys(&self, id: &TenantId, max: u32) -> Result<Tenant, Error> {
        let n = i32::try_from(max).map_err(|_| Error::Db("max_api_keys out of range".into()))?;
        self.update_tenant_column(id, tenant::Column::MaxApiKeys, Expr::value(n))
            .await
    }

    /// Sets (or, with `None`, lifts) the scopes a tenant's API keys may carry.
    pub async fn set_tenant_allowed_scopes(
        &self,
        id: &TenantId,
        scopes: Option<&ScopeSet>,
    ) -> Result<Tenant, Error> {
        let v: Option<String> = scopes.map(ToString::to_string);
        self.update_tenant_column(id, tenant::Column::AllowedScopes, Expr::value(v))
            .await
    }

    async fn update_tenant_column(
        &self,
        id: &TenantId,
        col: tenant::Column,
        value: Expr,
    ) -> Result<Tenant, Error> {
        let res = tenant::Entity::update_many()
            .col_expr(col, value)
            .filter(tenant::Column::Id.eq(id.as_str()))
            .exec(self.db())
            .await?;
        self.cache.clear_directory();
        if res.rows_affected == 0 {
            return Err(Error::NotFound(format!("tenant {id}")));
        }
        tenant::Entity::find_by_id(id.as_str())
            .one(self.db())
            .await?
            .map(tenant_from_row)
            .transpose()?
            .ok_or_else(|| Error::NotFound(format!("tenant {id}")))
    }
}

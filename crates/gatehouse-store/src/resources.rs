//! Resource indicators (RFC 8707) on [`Store`]: the registered resource servers of each
//! tenant (`resource_servers`), the per-client options (`client_options`: allowed resources,
//! `require_par`), and the resources each grant was issued for (`grant_resources`, pruned like
//! the claims requests once the grant has no refresh token left).

use chrono::{DateTime, Utc};
use gatehouse_core::client::Client;
use gatehouse_core::client_auth::KeySource;
use gatehouse_core::resource::{ResourceServer, ResourceStore, ResourceUri};
use gatehouse_core::{ClientId, GrantId, ScopeSet, SigningAlg, StoreError, TenantId};
use sea_orm::sea_query::Query;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::client_keys::{insert_client_row, is_unique_violation};
use crate::entities::{client, client_options, grant_resources, refresh_token, resource_server};
use crate::{Error, Store, db_time};

/// A client's protocol options beyond its registration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// The resources the client may target; empty: any of its tenant's.
    pub resources: Vec<ResourceUri>,
    /// Authorization requests must be pushed first (RFC 9126 §6).
    pub require_par: bool,
    /// Requests the client authenticates must carry a DPoP proof (RFC 9449; token, PAR,
    /// introspection, revocation).
    pub dpop_required: bool,
}

impl ClientOptions {
    fn is_default(&self) -> bool {
        self.resources.is_empty() && !self.require_par && !self.dpop_required
    }
}

fn join(list: &[ResourceUri]) -> String {
    list.iter()
        .map(ResourceUri::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn split(what: &str, s: &str) -> Result<Vec<ResourceUri>, StoreError> {
    s.split(' ')
        .filter(|r| !r.is_empty())
        .map(|r| ResourceUri::parse(r).map_err(|e| StoreError::corrupt(what, e)))
        .collect()
}

fn from_row(r: resource_server::Model) -> Result<ResourceServer, StoreError> {
    Ok(ResourceServer {
        tenant_id: TenantId::parse(&r.tenant_id)
            .map_err(|e| StoreError::corrupt("resource_servers.tenant_id", e))?,
        identifier: ResourceUri::parse(&r.identifier)
            .map_err(|e| StoreError::corrupt("resource_servers.identifier", e))?,
        scopes: ScopeSet::parse(&r.scopes)
            .map_err(|e| StoreError::corrupt("resource_servers.scopes", e))?,
        access_token_ttl: r.access_token_ttl,
        access_token_alg: r
            .access_token_alg
            .as_deref()
            .map(SigningAlg::parse)
            .transpose()
            .map_err(|e| StoreError::corrupt("resource_servers.access_token_alg", e))?,
        created_at: r.created_at,
        id: r.id,
    })
}

impl gatehouse_core::dpop::DpopClientStore for Store {
    async fn dpop_required(&self, client: &ClientId) -> Result<bool, StoreError> {
        Ok(self.client_options(client).await?.dpop_required)
    }
}

impl ResourceStore for Store {
    async fn find_resource(
        &self,
        tenant: &TenantId,
        identifier: &ResourceUri,
    ) -> Result<Option<ResourceServer>, StoreError> {
        self.cache.check(self.db()).await;
        if let Some(r) = self.cache.resource(tenant.as_str(), identifier.as_str()) {
            return Ok(Some(r));
        }
        let epoch = self.cache.epoch();
        let row = resource_server::Entity::find()
            .filter(resource_server::Column::TenantId.eq(tenant.as_str()))
            .filter(resource_server::Column::Identifier.eq(identifier.as_str()))
            .one(self.db())
            .await
            .map_err(StoreError::backend)?;
        let found = row.map(from_row).transpose()?;
        if let Some(r) = &found {
            self.cache.put_resource(epoch, r);
        }
        Ok(found)
    }

    async fn client_resources(&self, client: &ClientId) -> Result<Vec<ResourceUri>, StoreError> {
        Ok(self.client_options(client).await?.resources)
    }

    async fn save_grant_resources(
        &self,
        grant: &GrantId,
        resources: &[ResourceUri],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let row = grant_resources::ActiveModel {
            grant_id: Set(grant.as_str().to_owned()),
            resources: Set(join(resources)),
            created_at: Set(db_time(now)),
        };
        grant_resources::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}

impl Store {
    /// The options of `client` (the defaults when it has no row), from the node's cache when
    /// it holds them ([`crate::cache`]: every write to `client_options` moves the directory
    /// generation). Read on every token request of the client (DPoP required), so cached.
    /// Callers ask for clients that exist (they authenticated): a made-up id would cache its
    /// defaults until the next invalidation, bounded like every directory entry.
    pub async fn client_options(&self, client: &ClientId) -> Result<ClientOptions, StoreError> {
        self.cache.check(self.db()).await;
        if let Some(o) = self.cache.client_options(client.as_str()) {
            return Ok(o);
        }
        let epoch = self.cache.epoch();
        let row = client_options::Entity::find_by_id(client.as_str())
            .one(self.db())
            .await
            .map_err(StoreError::backend)?;
        let options = match row {
            Some(r) => ClientOptions {
                resources: split("client_options.resources", &r.resources)?,
                require_par: r.require_par,
                dpop_required: r.dpop_required,
            },
            None => ClientOptions::default(),
        };
        self.cache
            .put_client_options(epoch, client.as_str(), &options);
        Ok(options)
    }

    /// Registers a client with its key source and options in one transaction, so nothing is
    /// half written. Errors as [`Store::insert_client_with_keys`].
    pub async fn insert_client_with_options(
        &self,
        c: &Client,
        keys: Option<&KeySource>,
        options: &ClientOptions,
    ) -> Result<(), Error> {
        if options.is_default() {
            return self.insert_client_with_keys(c, keys).await;
        }
        let txn = self.begin_write().await?;
        insert_client_row(&txn, c, keys).await?;
        let row = client_options::ActiveModel {
            client_id: Set(c.id.as_str().to_owned()),
            resources: Set(join(&options.resources)),
            require_par: Set(options.require_par),
            dpop_required: Set(options.dpop_required),
        };
        client_options::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        self.cache.clear_directory();
        Ok(())
    }

    /// Sets whether `client` must send DPoP proofs (RFC 9449 §5.2 `dpop_bound_access_tokens`,
    /// `--dpop-required`), keeping its other options.
    pub async fn set_dpop_required(&self, client: &ClientId, required: bool) -> Result<(), Error> {
        let done = upsert_dpop_required(self.db(), client, required).await;
        self.cache.clear_directory();
        done
    }

    /// Keeps the row of a client described by a metadata document (its `client_id` is the
    /// document's URL) in step with the document, so codes, consents and refresh tokens can
    /// refer to it. Inserts, or updates what the document may change.
    pub async fn upsert_metadata_client(
        &self,
        c: &Client,
        keys: Option<&KeySource>,
    ) -> Result<(), Error> {
        use sea_orm::sea_query::OnConflict;
        let mut row = crate::ports::client_to_row(c);
        row.jwks = Set(match keys {
            Some(KeySource::Jwks(v)) => Some(v.clone()),
            _ => None,
        });
        row.jwks_uri = Set(match keys {
            Some(KeySource::Uri(u)) => Some(u.clone()),
            _ => None,
        });
        let update = [
            client::Column::Name,
            client::Column::AuthMethod,
            client::Column::RedirectUris,
            client::Column::GrantTypes,
            client::Column::AllowedScopes,
            client::Column::Jwks,
            client::Column::JwksUri,
        ];
        client::Entity::insert(row)
            .on_conflict(
                OnConflict::column(client::Column::Id)
                    .update_columns(update)
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        Ok(())
    }

    /// Registers a resource server. `Conflict` if the tenant has one with the same identifier.
    pub async fn insert_resource(&self, r: &ResourceServer) -> Result<(), Error> {
        let row = resource_server::ActiveModel {
            id: Set(r.id.clone()),
            tenant_id: Set(r.tenant_id.as_str().to_owned()),
            identifier: Set(r.identifier.as_str().to_owned()),
            scopes: Set(r.scopes.to_string()),
            access_token_ttl: Set(r.access_token_ttl),
            access_token_alg: Set(r.access_token_alg.map(|a| a.as_str().to_owned())),
            created_at: Set(db_time(r.created_at)),
        };
        match resource_server::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(Error::Conflict(format!(
                "resource {} is already registered in tenant {}",
                r.identifier, r.tenant_id
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The resource servers of `tenant`, by identifier.
    pub async fn list_resources(&self, tenant: &TenantId) -> Result<Vec<ResourceServer>, Error> {
        let rows = resource_server::Entity::find()
            .filter(resource_server::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(resource_server::Column::Identifier)
            .all(self.db())
            .await?;
        rows.into_iter()
            .map(|r| from_row(r).map_err(|e| Error::Db(e.to_string())))
            .collect()
    }

    /// Deletes the resource server `identifier` of `tenant`; `NotFound` if there is none.
    /// Clients restricted to it keep the restriction (they can no longer target it), so a
    /// deletion never widens what a client may reach.
    pub async fn delete_resource(
        &self,
        tenant: &TenantId,
        identifier: &ResourceUri,
    ) -> Result<(), Error> {
        let res = resource_server::Entity::delete_many()
            .filter(resource_server::Column::TenantId.eq(tenant.as_str()))
            .filter(resource_server::Column::Identifier.eq(identifier.as_str()))
            .exec(self.db())
            .await?;
        self.cache.clear_directory();
        if res.rows_affected == 0 {
            return Err(Error::NotFound(format!("resource {identifier}")));
        }
        Ok(())
    }

    /// Housekeeping: deletes grant resources created before `cutoff` whose grant has no refresh
    /// token left. Returns how many.
    pub async fn delete_stale_grant_resources(&self, cutoff: DateTime<Utc>) -> Result<u64, Error> {
        let live_grants = Query::select()
            .column(refresh_token::Column::GrantId)
            .from(refresh_token::Entity)
            .take();
        let res = grant_resources::Entity::delete_many()
            .filter(grant_resources::Column::CreatedAt.lt(db_time(cutoff)))
            .filter(grant_resources::Column::GrantId.not_in_subquery(live_grants))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected)
    }
}

/// Sets the `dpop_required` option of `client` on `conn` (a row with the default options is
/// created if the client has none).
pub(crate) async fn upsert_dpop_required(
    conn: &impl sea_orm::ConnectionTrait,
    client: &ClientId,
    required: bool,
) -> Result<(), Error> {
    use sea_orm::sea_query::OnConflict;
    let row = client_options::ActiveModel {
        client_id: Set(client.as_str().to_owned()),
        resources: Set(String::new()),
        require_par: Set(false),
        dpop_required: Set(required),
    };
    client_options::Entity::insert(row)
        .on_conflict(
            OnConflict::column(client_options::Column::ClientId)
                .update_column(client_options::Column::DpopRequired)
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

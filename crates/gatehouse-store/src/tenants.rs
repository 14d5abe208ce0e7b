//! Tenants: create, get, list, rename, disable, and the API-access switch (issue 4).

use gatehouse_core::ScopeSet;
use gatehouse_core::tenant::Tenant;
use gatehouse_core::values::TenantId;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use crate::entities::tenant;
use crate::{Error, Store, db_time};

pub(crate) fn tenant_from_row(m: tenant::Model) -> Result<Tenant, Error> {
    let bad = |what: &str| Error::Db(format!("invalid tenants.{what} of {}", m.id));
    Ok(Tenant {
        id: TenantId::parse(&m.id).map_err(|_| bad("id"))?,
        allowed_scopes: match &m.allowed_scopes {
            None => None,
            Some(s) => Some(ScopeSet::parse(s).map_err(|_| bad("allowed_scopes"))?),
        },
        max_api_keys: u32::try_from(m.max_api_keys).map_err(|_| bad("max_api_keys"))?,
        name: m.name,
        created_at: m.created_at,
        disabled: m.disabled,
        api_access_enabled: m.api_access_enabled,
    })
}

impl Store {
    /// Creates a tenant; `Conflict` if the id is taken.
    pub async fn insert_tenant(&self, t: &Tenant) -> Result<(), Error> {
        let row = tenant::ActiveModel {
            id: Set(t.id.to_string()),
            name: Set(t.name.clone()),
            created_at: Set(db_time(t.created_at)),
            disabled: Set(t.disabled),
            api_access_enabled: Set(t.api_access_enabled),
            max_api_keys: Set(i32::try_from(t.max_api_keys).unwrap_or(i32::MAX)),
            allowed_scopes: Set(t.allowed_scopes.as_ref().map(ToString::to_string)),
        };
        match tenant::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Err(Error::Conflict(format!("tenant {} already exists", t.id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The tenant with this id.
    pub async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, Error> {
        tenant::Entity::find_by_id(id.as_str())
            .one(self.db())
            .await?
            .map(tenant_from_row)
            .transpose()
    }

    /// All tenants, oldest first.
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, Error> {
        tenant::Entity::find()
            .order_by_asc(tenant::Column::CreatedAt)
            .order_by_asc(tenant::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(tenant_from_row)
            .collect()
    }

    async fn update_tenant(
        &self,
        id: &TenantId,
        row: tenant::ActiveModel,
    ) -> Result<Tenant, Error> {
        let res = tenant::Entity::update_many()
            .set(row)
            .filter(tenant::Column::Id.eq(id.as_str()))
            .exec(self.db())
            .await?;
        // The generation trigger tells the other nodes; this one forgets at once.
        self.cache.clear_directory();
        if res.rows_affected == 0 {
            return Err(Error::NotFound(format!("tenant {id}")));
        }
        self.get_tenant(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("tenant {id}")))
    }

    /// Renames a tenant (the name is validated by the caller).
    pub async fn rename_tenant(&self, id: &TenantId, name: &str) -> Result<Tenant, Error> {
        let row = tenant::ActiveModel {
            name: Set(name.to_owned()),
            ..Default::default()
        };
        self.update_tenant(id, row).await
    }

    /// Disables (or re-enables) a tenant: its API keys stop working at once, since every
    /// authentication reads the tenant's state.
    pub async fn set_tenant_disabled(
        &self,
        id: &TenantId,
        disabled: bool,
    ) -> Result<Tenant, Error> {
        let row = tenant::ActiveModel {
            disabled: Set(disabled),
            ..Default::default()
        };
        self.update_tenant(id, row).await
    }

    /// Turns API access on or off for a tenant.
    pub async fn set_tenant_api_access(
        &self,
        id: &TenantId,
        enabled: bool,
    ) -> Result<Tenant, Error> {
        let row = tenant::ActiveModel {
            api_access_enabled: Set(enabled),
            ..Default::default()
        };
        self.update_tenant(id, row).await
    }
}

/// Tenants are answered from the node's cache when it holds them (see [`crate::cache`]).
impl gatehouse_core::tenant::TenantStore for Store {
    async fn find_tenant(
        &self,
        id: &TenantId,
    ) -> Result<Option<Tenant>, gatehouse_core::StoreError> {
        self.cache.check(self.db()).await;
        if let Some(t) = self.cache.tenant(id.as_str()) {
            return Ok(Some(t));
        }
        let epoch = self.cache.epoch();
        let found = self.get_tenant(id).await?;
        if let Some(t) = &found {
            self.cache.put_tenant(epoch, t);
        }
        Ok(found)
    }
}

impl Store {
    /// The tenant a person names by its id or, failing that, by its name when exactly one
    /// tenant has it (the console's sign-in form). `None` when nothing matches.
    pub async fn tenant_by_id_or_name(&self, text: &str) -> Result<Option<TenantId>, Error> {
        if let Ok(id) = TenantId::parse(text)
            && self.get_tenant(&id).await?.is_some()
        {
            return Ok(Some(id));
        }
        let named = tenant::Entity::find()
            .filter(tenant::Column::Name.eq(text))
            .limit(2)
            .all(self.db())
            .await?;
        match named.as_slice() {
            [only] => Ok(TenantId::parse(&only.id).ok()),
            _ => Ok(None),
        }
    }
}

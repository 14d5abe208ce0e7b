//! Reads of the admin console (issue 4) that the protocol ports do not offer: a tenant's
//! clients, for the console's clients page.

use gatehouse_core::TenantId;
use gatehouse_core::client::Client;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::client;
use crate::ports::client_from_row;
use crate::{Error, Store};

impl Store {
    /// The clients of `tenant`, ordered by name then id.
    pub async fn console_clients(&self, tenant: &TenantId) -> Result<Vec<Client>, Error> {
        client::Entity::find()
            .filter(client::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(client::Column::Name)
            .order_by_asc(client::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| client_from_row(m).map_err(|e| Error::Db(e.to_string())))
            .collect()
    }
}

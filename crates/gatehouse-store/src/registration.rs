//! Dynamic client registration (RFC 7591 / 7592) on [`Store`]: initial access tokens
//! (`registration_tokens`) and the registration access token of each registered client
//! (`client_registrations`). A use of an initial access token is one conditional `UPDATE`
//! whose row count decides, so concurrent uses never exceed `max_uses`.

use chrono::{DateTime, Utc};
use gatehouse_core::client::Client;
use gatehouse_core::client_auth::KeySource;
use gatehouse_core::registration::{InitialAccessToken, RegistrationStore};
use gatehouse_core::secret::SecretHash;
use gatehouse_core::{ClientId, StoreError, TenantId};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::client_keys::insert_client_row;
use crate::entities::{client, client_registration, registration_token};
use crate::{Error, Store, db_time};

/// The token is known, not expired and has a use left.
fn usable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(registration_token::Column::ExpiresAt.gt(db_time(now)))
        .add(
            Condition::any()
                .add(registration_token::Column::MaxUses.is_null())
                .add(
                    Expr::col(registration_token::Column::Uses)
                        .lt(Expr::col(registration_token::Column::MaxUses)),
                ),
        )
}

impl RegistrationStore for Store {
    async fn initial_token_tenant(
        &self,
        hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Option<TenantId>, StoreError> {
        let row = registration_token::Entity::find_by_id(hash.to_hex())
            .filter(usable(now))
            .one(self.db())
            .await
            .map_err(StoreError::backend)?;
        row.map(|r| {
            TenantId::parse(&r.tenant_id)
                .map_err(|e| StoreError::corrupt("registration_tokens.tenant_id", e))
        })
        .transpose()
    }

    async fn use_initial_token(
        &self,
        hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let res = registration_token::Entity::update_many()
            .col_expr(
                registration_token::Column::Uses,
                Expr::col(registration_token::Column::Uses).add(1),
            )
            .filter(registration_token::Column::TokenHash.eq(hash.to_hex()))
            .filter(usable(now))
            .exec(self.db())
            .await
            .map_err(StoreError::backend)?;
        Ok(res.rows_affected == 1)
    }

    async fn registration_token_hash(
        &self,
        client: &ClientId,
    ) -> Result<Option<SecretHash>, StoreError> {
        let row = client_registration::Entity::find_by_id(client.as_str())
            .one(self.db())
            .await
            .map_err(StoreError::backend)?;
        row.map(|r| {
            SecretHash::from_hex(&r.token_hash).ok_or_else(|| {
                StoreError::corrupt(
                    "client_registrations.token_hash",
                    "not a SHA-256 hex digest",
                )
            })
        })
        .transpose()
    }
}

impl Store {
    /// Stores an initial access token. `NotFound` if the tenant does not exist.
    pub async fn insert_initial_token(&self, t: &InitialAccessToken) -> Result<(), Error> {
        let row = registration_token::ActiveModel {
            token_hash: Set(t.hash.to_hex()),
            tenant_id: Set(t.tenant_id.as_str().to_owned()),
            expires_at: Set(db_time(t.expires_at)),
            max_uses: Set(t.max_uses.map(i64::from)),
            uses: Set(0),
            created_at: Set(db_time(t.created_at)),
        };
        registration_token::Entity::insert(row)
            .exec_without_returning(self.db())
            .await?;
        Ok(())
    }

    /// Registers a dynamically registered client with its keys, whether it must send DPoP
    /// proofs (RFC 9449 §5.2) and the hash of its registration access token, in one
    /// transaction.
    pub async fn insert_registered_client(
        &self,
        c: &Client,
        keys: Option<&KeySource>,
        token_hash: &SecretHash,
        dpop_required: bool,
    ) -> Result<(), Error> {
        let txn = self.begin_write().await?;
        insert_client_row(&txn, c, keys).await?;
        if dpop_required {
            crate::resources::upsert_dpop_required(&txn, &c.id, true).await?;
        }
        let row = client_registration::ActiveModel {
            client_id: Set(c.id.as_str().to_owned()),
            token_hash: Set(token_hash.to_hex()),
            created_at: Set(db_time(c.created_at)),
        };
        client_registration::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        self.cache.clear_directory();
        Ok(())
    }

    /// Replaces the public keys (`jwks` or `jwks_uri`) of a `private_key_jwt` client.
    pub async fn set_client_public_keys(
        &self,
        id: &ClientId,
        keys: Option<&KeySource>,
    ) -> Result<(), Error> {
        let (jwks, uri) = match keys {
            Some(KeySource::Jwks(v)) => (Some(v.clone()), None),
            Some(KeySource::Uri(u)) => (None, Some(u.clone())),
            _ => (None, None),
        };
        client::Entity::update_many()
            .col_expr(client::Column::Jwks, Expr::value(jwks))
            .col_expr(client::Column::JwksUri, Expr::value(uri))
            .filter(client::Column::Id.eq(id.as_str()))
            .exec(self.db())
            .await?;
        self.cache.clear_directory();
        Ok(())
    }

    /// Housekeeping: deletes initial access tokens that expired before `now`. Returns how many.
    pub async fn delete_expired_registration_tokens(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, Error> {
        let res = registration_token::Entity::delete_many()
            .filter(registration_token::Column::ExpiresAt.lte(db_time(now)))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected)
    }
}

//! Operator operations: registering clients and users, housekeeping.
//!
//! These are used by the CLI and at start-up, not by protocol requests, and return the store's
//! own [`Error`] so callers can tell a conflict from a failure.

use chrono::{DateTime, TimeDelta, Utc};
use gatehouse_core::client::Client;
use gatehouse_core::user::User;
use gatehouse_core::values::TenantId;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::entities::{client, tenant, user};
use crate::ports::{client_to_row, user_to_row};
use crate::{Error, Store, is_fk_violation, is_unique_violation};

/// How long redeemed or expired authorization codes are kept, so that a replay within this window
/// is still recognised as one (and revokes the grant) rather than answered as an unknown code.
const CODE_RETENTION: TimeDelta = TimeDelta::hours(1);

/// What [`Store::delete_expired`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub codes: u64,
    pub refresh_tokens: u64,
    pub sessions: u64,
}

impl Store {
    /// Registers a client. `Conflict` if the id is taken, `NotFound` if its tenant does not exist.
    pub async fn insert_client(&self, c: &Client) -> Result<(), Error> {
        match client::Entity::insert(client_to_row(c))
            .exec_without_returning(self.db())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => {
                Err(Error::Conflict(format!("client {} already exists", c.id)))
            }
            Err(e) if is_fk_violation(&e) => {
                Err(Error::NotFound(format!("tenant {}", c.tenant_id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a user. `Conflict` if the username is taken in its tenant (or the id anywhere),
    /// `NotFound` if its tenant does not exist. Uniqueness is enforced by the database, so
    /// concurrent creations cannot both win.
    pub async fn insert_user(&self, u: &User) -> Result<(), Error> {
        match user::Entity::insert(user_to_row(u))
            .exec_without_returning(self.db())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => {
                let name_taken = user::Entity::find()
                    .filter(user::Column::TenantId.eq(u.tenant_id.as_str()))
                    .filter(user::Column::Username.eq(u.username.as_str()))
                    .count(self.db())
                    .await?
                    > 0;
                Err(Error::Conflict(if name_taken {
                    format!("username {:?} already exists", u.username)
                } else {
                    format!("user {} already exists", u.id)
                }))
            }
            Err(e) if is_fk_violation(&e) => {
                Err(Error::NotFound(format!("tenant {}", u.tenant_id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a tenant with this id exists.
    pub async fn tenant_exists(&self, id: &TenantId) -> Result<bool, Error> {
        Ok(tenant::Entity::find_by_id(id.as_str())
            .one(self.db())
            .await?
            .is_some())
    }

    /// Housekeeping: deletes authorization codes that expired more than an hour before `now`,
    /// refresh tokens past their expiry, and sessions past their expiry ([`crate::purge`]).
    pub async fn delete_expired(&self, now: DateTime<Utc>) -> Result<Purged, Error> {
        self.delete_expired_in_batches(now, crate::purge::DEFAULT_PURGE_BATCH)
            .await
    }

    /// [`Store::delete_expired`], `batch` rows per statement.
    pub(crate) async fn delete_expired_in_batches(
        &self,
        now: DateTime<Utc>,
        batch: u64,
    ) -> Result<Purged, Error> {
        let codes = self
            .delete_in_batches(
                "authorization_codes",
                "code_hash",
                "expires_at",
                now - CODE_RETENTION,
                batch,
            )
            .await?;
        let refresh_tokens = self
            .delete_in_batches("refresh_tokens", "token_hash", "expires_at", now, batch)
            .await?;
        let sessions = self
            .delete_in_batches("sessions", "id_hash", "expires_at", now, batch)
            .await?;
        Ok(Purged {
            codes,
            refresh_tokens,
            sessions,
        })
    }
}

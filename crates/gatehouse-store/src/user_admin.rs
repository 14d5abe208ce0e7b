//! Operator writes and reads on users, their sessions and whole tenants (issue 11): profile
//! changes, password resets, disabling (which ends the user's sessions and grants), a user's
//! sessions, tenants by name, and deleting a tenant with everything it owns.

use chrono::{DateTime, Utc};
use gatehouse_core::GrantId;
use gatehouse_core::ports::GrantStore;
use gatehouse_core::tenant::Tenant;
use gatehouse_core::user::User;
use gatehouse_core::values::TenantId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entities::{
    api_key, authorization_code, client, jwt_bearer_trust, refresh_token, session, tenant, user,
};
use crate::ports::user_from_row;
use crate::tenants::tenant_from_row;
use crate::{Error, Store, db_time};

/// A user as operators see it: the protocol's [`User`] and whether it is disabled.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub user: User,
    /// When an operator disabled the user; `None` while it may sign in.
    pub disabled_at: Option<DateTime<Utc>>,
}

fn stored(m: user::Model) -> Result<StoredUser, Error> {
    let disabled_at = m.disabled_at;
    let user = user_from_row(m).map_err(|e| Error::Db(e.to_string()))?;
    Ok(StoredUser { user, disabled_at })
}

/// One browser session of a user (sign-in page or console), without its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    /// Hex SHA-256 of the session cookie (never the cookie itself).
    pub id_hash: String,
    pub created_at: DateTime<Utc>,
    pub auth_time: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What deleting a tenant removed with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TenantRemoval {
    pub users: u64,
    pub clients: u64,
    pub api_keys: u64,
    pub trusts: u64,
}

/// What disabling a user ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ended {
    pub sessions: u64,
    pub grants: u64,
}

impl Store {
    /// One user by id with its disabled state, whatever its tenant.
    pub async fn get_stored_user(&self, id: &str) -> Result<Option<StoredUser>, Error> {
        user::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(stored)
            .transpose()
    }

    /// Up to `limit` users of `tenant` with an id greater than `after`, by id, with their
    /// disabled state.
    pub async fn list_stored_users(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<StoredUser>, Error> {
        let mut q = user::Entity::find().filter(user::Column::TenantId.eq(tenant.as_str()));
        if let Some(a) = after {
            q = q.filter(user::Column::Id.gt(a));
        }
        q.order_by_asc(user::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(stored)
            .collect()
    }

    /// Replaces a user's email, profile and admin scopes (validated by the caller).
    pub async fn update_user_profile(&self, u: &User) -> Result<(), Error> {
        let row = user::ActiveModel {
            email: Set(u.email.clone()),
            name: Set(u.profile.name.clone()),
            given_name: Set(u.profile.given_name.clone()),
            family_name: Set(u.profile.family_name.clone()),
            phone_number: Set(u.profile.phone_number.clone()),
            address: Set(u.profile.address.as_ref().map(ToString::to_string)),
            admin_scopes: Set((!u.admin_scopes.is_empty()).then(|| u.admin_scopes.to_string())),
            ..Default::default()
        };
        self.update_user_row(u.id.as_str(), row).await
    }

    /// Replaces a user's password hash (an Argon2id PHC string).
    pub async fn set_user_password_hash(&self, id: &str, phc: &str) -> Result<(), Error> {
        let row = user::ActiveModel {
            password_hash: Set(phc.to_owned()),
            ..Default::default()
        };
        self.update_user_row(id, row).await
    }

    async fn update_user_row(&self, id: &str, row: user::ActiveModel) -> Result<(), Error> {
        let res = user::Entity::update_many()
            .set(row)
            .filter(user::Column::Id.eq(id))
            .exec(self.db())
            .await?;
        if res.rows_affected == 0 {
            return Err(Error::NotFound(format!("user {id}")));
        }
        Ok(())
    }

    /// Re-enables a disabled user. Returns whether it was disabled.
    pub async fn enable_user(&self, id: &str) -> Result<bool, Error> {
        let res = user::Entity::update_many()
            .col_expr(user::Column::DisabledAt, Expr::value(None::<DateTime<Utc>>))
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::DisabledAt.is_not_null())
            .exec(self.db())
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Disables a user at `now` and ends what it holds: from the moment the flag is set the
    /// user is absent for every protocol lookup; then every grant it holds is revoked (its
    /// refresh tokens stop, its access tokens introspect as inactive) and its sessions are
    /// deleted. Returns `None` when the user was already disabled or does not exist.
    pub async fn disable_user(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Ended>, Error> {
        let res = user::Entity::update_many()
            .col_expr(user::Column::DisabledAt, Expr::value(db_time(now)))
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::DisabledAt.is_null())
            .exec(self.db())
            .await?;
        if res.rows_affected == 0 {
            return Ok(None);
        }
        self.end_user_access(id, now).await.map(Some)
    }

    /// Ends what a user holds: revokes every grant it holds (its refresh tokens stop, its
    /// access tokens introspect as inactive) and deletes its sessions.
    pub async fn end_user_access(&self, id: &str, now: DateTime<Utc>) -> Result<Ended, Error> {
        let grants = self.revoke_user_grants(id, now).await?;
        let sessions = self.end_user_sessions(id).await?;
        Ok(Ended { sessions, grants })
    }

    /// Revokes every grant of the user that still has a live refresh token or an
    /// unredeemed code. Returns how many.
    async fn revoke_user_grants(&self, id: &str, now: DateTime<Utc>) -> Result<u64, Error> {
        let mut grants: Vec<String> = refresh_token::Entity::find()
            .select_only()
            .column(refresh_token::Column::GrantId)
            .filter(refresh_token::Column::UserId.eq(id))
            .filter(refresh_token::Column::Revoked.eq(false))
            .into_tuple()
            .all(self.db())
            .await?;
        let codes: Vec<String> = authorization_code::Entity::find()
            .select_only()
            .column(authorization_code::Column::GrantId)
            .filter(authorization_code::Column::UserId.eq(id))
            .into_tuple()
            .all(self.db())
            .await?;
        grants.extend(codes);
        grants.sort();
        grants.dedup();
        let mut n = 0;
        for g in &grants {
            let Ok(grant) = GrantId::parse(g) else {
                continue;
            };
            self.revoke_grant(&grant, now)
                .await
                .map_err(|e| Error::Db(e.to_string()))?;
            n += 1;
        }
        authorization_code::Entity::delete_many()
            .filter(authorization_code::Column::UserId.eq(id))
            .exec(self.db())
            .await?;
        Ok(n)
    }

    /// The user's sessions, newest sign-in first.
    pub async fn user_sessions(&self, id: &str) -> Result<Vec<UserSession>, Error> {
        Ok(session::Entity::find()
            .filter(session::Column::UserId.eq(id))
            .order_by_desc(session::Column::AuthTime)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| UserSession {
                last_seen_at: m.last_seen_at.unwrap_or(m.created_at),
                id_hash: m.id_hash,
                created_at: m.created_at,
                auth_time: m.auth_time,
                expires_at: m.expires_at,
            })
            .collect())
    }

    /// Ends one session of the user. Returns whether it existed.
    pub async fn end_user_session(&self, user_id: &str, id_hash: &str) -> Result<bool, Error> {
        let res = session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::IdHash.eq(id_hash))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Ends every session of the user. Returns how many.
    pub async fn end_user_sessions(&self, user_id: &str) -> Result<u64, Error> {
        Ok(session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .exec(self.db())
            .await?
            .rows_affected)
    }

    /// The tenants named `name` (names are not unique), oldest first.
    pub async fn tenants_named(&self, name: &str) -> Result<Vec<Tenant>, Error> {
        tenant::Entity::find()
            .filter(tenant::Column::Name.eq(name))
            .order_by_asc(tenant::Column::CreatedAt)
            .all(self.db())
            .await?
            .into_iter()
            .map(tenant_from_row)
            .collect()
    }

    /// Deletes a tenant and, in the same transaction, everything it owns: users (with their
    /// sessions, consents, codes and refresh tokens), clients, API keys and JWT bearer trusts
    /// (the foreign keys cascade). The audit trail keeps its events. Returns what went with
    /// it, or `None` when there was no such tenant.
    pub async fn delete_tenant(&self, id: &TenantId) -> Result<Option<TenantRemoval>, Error> {
        let txn = self.begin_write().await?;
        let t = id.as_str();
        let removal = TenantRemoval {
            users: user::Entity::find()
                .filter(user::Column::TenantId.eq(t))
                .count(&txn)
                .await?,
            clients: client::Entity::find()
                .filter(client::Column::TenantId.eq(t))
                .count(&txn)
                .await?,
            api_keys: api_key::Entity::find()
                .filter(api_key::Column::TenantId.eq(t))
                .count(&txn)
                .await?,
            trusts: jwt_bearer_trust::Entity::find()
                .filter(jwt_bearer_trust::Column::TenantId.eq(t))
                .count(&txn)
                .await?,
        };
        let res = tenant::Entity::delete_by_id(t).exec(&txn).await?;
        if res.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(None);
        }
        txn.commit().await?;
        Ok(Some(removal))
    }
}

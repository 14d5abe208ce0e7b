//! The storage ports of `gatehouse_core::ports`, implemented on [`Store`].
//!
//! The transitions that must happen at most once are single conditional `UPDATE`s whose affected
//! row count decides the winner: `redeemed_at IS NULL` for codes, `used_at IS NULL AND NOT revoked`
//! for refresh tokens. A code's `UPDATE` returns the redeemed row with the terms of its grant
//! ([`crate::grant_terms`]); the row of a code it did not redeem is read afterwards, to tell a
//! replay from an unknown code.

use chrono::{DateTime, Utc};
use gatehouse_core::client::{AuthMethod, Client, GrantType};
use gatehouse_core::ports::{
    ClientStore, CodeRecord, CodeStore, ConsentStore, GrantStore, GrantTerms, Redemption,
    RefreshRecord, Rotation, Session, SessionStore, UserStore,
};
use gatehouse_core::secret::{RotationSalt, SecretHash};
use gatehouse_core::user::{User, UserProfile};
use gatehouse_core::values::{PkceChallenge, TenantId};
use gatehouse_core::{ClientId, GrantId, RedirectUri, ScopeSet, SigningAlg, StoreError, UserId};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Statement,
};

use crate::entities::{
    authorization_code, client, consent, refresh_token, revoked_grant, session, user,
};
use crate::grant_terms::{one_with_terms, update_one_with_terms};
use crate::{Store, db_time};

/// The class (first key) of the PostgreSQL advisory locks that serialise revocations of one
/// grant; the second key is `hashtext(grant_id)` ("grnt").
const GRANT_LOCK_CLASS: i32 = 0x6772_6e74;

/// `clients.access_token_alg` of a client that follows the server's default algorithm.
const SERVER_DEFAULT_ALG: &str = "default";

fn db_err(e: DbErr) -> StoreError {
    StoreError::backend(e)
}

/// A stored value that does not parse back: the row was corrupted or written by something else.
fn bad(table: &str, column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(format!("{table}.{column}"), e)
}

fn hash(table: &str, column: &str, hex: &str) -> Result<SecretHash, StoreError> {
    SecretHash::from_hex(hex).ok_or_else(|| bad(table, column, "not a hex SHA-256 digest"))
}

fn json_strings(
    table: &str,
    column: &str,
    v: &serde_json::Value,
) -> Result<Vec<String>, StoreError> {
    serde_json::from_value::<Vec<String>>(v.clone()).map_err(|e| bad(table, column, e))
}

pub(crate) fn client_from_row(m: client::Model) -> Result<Client, StoreError> {
    const T: &str = "clients";
    let uris = |col: &str, v: &serde_json::Value| -> Result<Vec<RedirectUri>, StoreError> {
        json_strings(T, col, v)?
            .iter()
            .map(|u| RedirectUri::parse(u).map_err(|e| bad(T, col, e)))
            .collect()
    };
    Ok(Client {
        id: ClientId::parse(&m.id).map_err(|e| bad(T, "id", e))?,
        tenant_id: TenantId::parse(&m.tenant_id).map_err(|e| bad(T, "tenant_id", e))?,
        name: m.name,
        secret_hash: m
            .secret_hash
            .as_deref()
            .map(|h| hash(T, "secret_hash", h))
            .transpose()?,
        auth_method: AuthMethod::parse(&m.auth_method).map_err(|e| bad(T, "auth_method", e))?,
        redirect_uris: uris("redirect_uris", &m.redirect_uris)?,
        post_logout_redirect_uris: uris("post_logout_redirect_uris", &m.post_logout_redirect_uris)?,
        grant_types: json_strings(T, "grant_types", &m.grant_types)?
            .iter()
            .map(|g| GrantType::parse(g).map_err(|e| bad(T, "grant_types", e)))
            .collect::<Result<_, _>>()?,
        allowed_scopes: ScopeSet::parse(&m.allowed_scopes)
            .map_err(|e| bad(T, "allowed_scopes", e))?,
        id_token_alg: SigningAlg::parse(&m.id_token_alg).map_err(|e| bad(T, "id_token_alg", e))?,
        access_token_alg: match m.access_token_alg.as_str() {
            SERVER_DEFAULT_ALG => None,
            a => Some(SigningAlg::parse(a).map_err(|e| bad(T, "access_token_alg", e))?),
        },
        access_token_ttl: m.access_token_ttl,
        require_pkce: m.require_pkce,
        refresh_grace_seconds: m.refresh_grace_seconds,
        refresh_idle_ttl: m.refresh_idle_ttl,
        refresh_absolute_ttl: m.refresh_absolute_ttl,
        may_act: m
            .may_act
            .as_deref()
            .map(|a| ClientId::parse(a).map_err(|e| bad(T, "may_act", e)))
            .transpose()?,
        created_at: m.created_at,
    })
}

pub(crate) fn client_to_row(c: &Client) -> client::ActiveModel {
    let strings = |it: Vec<&str>| serde_json::Value::from(it);
    client::ActiveModel {
        id: Set(c.id.as_str().to_owned()),
        tenant_id: Set(c.tenant_id.as_str().to_owned()),
        name: Set(c.name.clone()),
        secret_hash: Set(c.secret_hash.as_ref().map(SecretHash::to_hex)),
        auth_method: Set(c.auth_method.as_str().to_owned()),
        redirect_uris: Set(strings(
            c.redirect_uris.iter().map(RedirectUri::as_str).collect(),
        )),
        post_logout_redirect_uris: Set(strings(
            c.post_logout_redirect_uris
                .iter()
                .map(RedirectUri::as_str)
                .collect(),
        )),
        grant_types: Set(strings(c.grant_types.iter().map(|g| g.as_str()).collect())),
        allowed_scopes: Set(c.allowed_scopes.to_string()),
        id_token_alg: Set(c.id_token_alg.as_str().to_owned()),
        access_token_alg: Set(c
            .access_token_alg
            .map_or(SERVER_DEFAULT_ALG, SigningAlg::as_str)
            .to_owned()),
        access_token_ttl: Set(c.access_token_ttl),
        require_pkce: Set(c.require_pkce),
        refresh_grace_seconds: Set(c.refresh_grace_seconds),
        refresh_idle_ttl: Set(c.refresh_idle_ttl),
        refresh_absolute_ttl: Set(c.refresh_absolute_ttl),
        may_act: Set(c.may_act.as_ref().map(|a| a.as_str().to_owned())),
        created_at: Set(db_time(c.created_at)),
        // Written by `Store::insert_client_with_keys` (client_keys.rs).
        ..Default::default()
    }
}

pub(crate) fn user_from_row(m: user::Model) -> Result<User, StoreError> {
    const T: &str = "users";
    Ok(User {
        id: UserId::parse(&m.id).map_err(|e| bad(T, "id", e))?,
        tenant_id: TenantId::parse(&m.tenant_id).map_err(|e| bad(T, "tenant_id", e))?,
        username: m.username,
        email: m.email,
        password_hash: m.password_hash,
        created_at: m.created_at,
        profile: UserProfile {
            name: m.name,
            given_name: m.given_name,
            family_name: m.family_name,
            phone_number: m.phone_number,
            address: m
                .address
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| bad(T, "address", e))?,
        },
        admin_scopes: ScopeSet::parse(m.admin_scopes.as_deref().unwrap_or_default())
            .map_err(|e| bad(T, "admin_scopes", e))?,
    })
}

pub(crate) fn user_to_row(u: &User) -> user::ActiveModel {
    user::ActiveModel {
        id: Set(u.id.as_str().to_owned()),
        tenant_id: Set(u.tenant_id.as_str().to_owned()),
        username: Set(u.username.clone()),
        email: Set(u.email.clone()),
        password_hash: Set(u.password_hash.clone()),
        created_at: Set(db_time(u.created_at)),
        name: Set(u.profile.name.clone()),
        given_name: Set(u.profile.given_name.clone()),
        family_name: Set(u.profile.family_name.clone()),
        phone_number: Set(u.profile.phone_number.clone()),
        address: Set(u.profile.address.as_ref().map(|a| a.to_string())),
        admin_scopes: Set((!u.admin_scopes.is_empty()).then(|| u.admin_scopes.to_string())),
        disabled_at: Set(None),
    }
}

fn code_from_row(m: authorization_code::Model) -> Result<CodeRecord, StoreError> {
    const T: &str = "authorization_codes";
    Ok(CodeRecord {
        code_hash: hash(T, "code_hash", &m.code_hash)?,
        client_id: ClientId::parse(&m.client_id).map_err(|e| bad(T, "client_id", e))?,
        user_id: UserId::parse(&m.user_id).map_err(|e| bad(T, "user_id", e))?,
        redirect_uri: RedirectUri::parse(&m.redirect_uri).map_err(|e| bad(T, "redirect_uri", e))?,
        redirect_uri_in_request: m.redirect_uri_in_request,
        scope: ScopeSet::parse(&m.scope).map_err(|e| bad(T, "scope", e))?,
        nonce: m.nonce,
        code_challenge: m.code_challenge.map(PkceChallenge::from_stored),
        auth_time: m.auth_time,
        grant_id: GrantId::parse(&m.grant_id).map_err(|e| bad(T, "grant_id", e))?,
        expires_at: m.expires_at,
        dpop_jkt: m.dpop_jkt,
    })
}

fn refresh_from_row(m: refresh_token::Model) -> Result<RefreshRecord, StoreError> {
    const T: &str = "refresh_tokens";
    Ok(RefreshRecord {
        token_hash: hash(T, "token_hash", &m.token_hash)?,
        grant_id: GrantId::parse(&m.grant_id).map_err(|e| bad(T, "grant_id", e))?,
        client_id: ClientId::parse(&m.client_id).map_err(|e| bad(T, "client_id", e))?,
        user_id: UserId::parse(&m.user_id).map_err(|e| bad(T, "user_id", e))?,
        scope: ScopeSet::parse(&m.scope).map_err(|e| bad(T, "scope", e))?,
        granted_scope: ScopeSet::parse(&m.granted_scope).map_err(|e| bad(T, "granted_scope", e))?,
        auth_time: m.auth_time,
        issued_at: m.issued_at,
        expires_at: m.expires_at,
        used_at: m.used_at,
        revoked: m.revoked,
        family_expires_at: m.family_expires_at,
        replaced_by: m
            .replaced_by
            .as_deref()
            .map(|h| hash(T, "replaced_by", h))
            .transpose()?,
        rotation_salt: m
            .rotation_salt
            .as_deref()
            .map(|h| {
                RotationSalt::from_hex(h)
                    .ok_or_else(|| bad(T, "rotation_salt", "not 64 hex digits"))
            })
            .transpose()?,
        dpop_jkt: m.dpop_jkt,
    })
}

fn session_from_row(m: session::Model) -> Result<Session, StoreError> {
    const T: &str = "sessions";
    Ok(Session {
        id_hash: hash(T, "id_hash", &m.id_hash)?,
        user_id: UserId::parse(&m.user_id).map_err(|e| bad(T, "user_id", e))?,
        auth_time: m.auth_time,
        csrf_token: m.csrf_token,
        expires_at: m.expires_at,
        last_seen: m.last_seen_at.unwrap_or(m.created_at),
    })
}

/// Clients are answered from the node's cache when it holds them (see [`crate::cache`]).
impl ClientStore for Store {
    async fn find_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        self.cache.check(self.db()).await;
        if let Some(c) = self.cache.client(id.as_str()) {
            return Ok(Some(c));
        }
        let epoch = self.cache.epoch();
        let row = client::Entity::find_by_id(id.as_str())
            .one(self.db())
            .await
            .map_err(db_err)?;
        let found = row.map(client_from_row).transpose()?;
        if let Some(c) = &found {
            self.cache.put_client(epoch, c);
        }
        Ok(found)
    }
}

impl UserStore for Store {
    async fn find_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let row = user::Entity::find_by_id(id.as_str())
            .filter(user::Column::DisabledAt.is_null())
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(user_from_row).transpose()
    }

    async fn find_user_by_username(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<Option<User>, StoreError> {
        let row = user::Entity::find()
            .filter(user::Column::TenantId.eq(tenant.as_str()))
            .filter(user::Column::Username.eq(username))
            .filter(user::Column::DisabledAt.is_null())
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(user_from_row).transpose()
    }

    async fn find_users_named(&self, username: &str, limit: u64) -> Result<Vec<User>, StoreError> {
        let rows = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            // A disabled user is unknown to the protocol, here as in every other lookup.
            .filter(user::Column::DisabledAt.is_null())
            .limit(limit)
            .all(self.db())
            .await
            .map_err(db_err)?;
        rows.into_iter().map(user_from_row).collect()
    }
}

impl CodeStore for Store {
    async fn insert_code(&self, c: &CodeRecord) -> Result<(), StoreError> {
        let row = authorization_code::ActiveModel {
            code_hash: Set(c.code_hash.to_hex()),
            client_id: Set(c.client_id.as_str().to_owned()),
            user_id: Set(c.user_id.as_str().to_owned()),
            redirect_uri: Set(c.redirect_uri.as_str().to_owned()),
            redirect_uri_in_request: Set(c.redirect_uri_in_request),
            scope: Set(c.scope.to_string()),
            nonce: Set(c.nonce.clone()),
            code_challenge: Set(c.code_challenge.as_ref().map(|p| p.as_str().to_owned())),
            auth_time: Set(db_time(c.auth_time)),
            grant_id: Set(c.grant_id.as_str().to_owned()),
            expires_at: Set(db_time(c.expires_at)),
            redeemed_at: Set(None),
            dpop_jkt: Set(c.dpop_jkt.clone()),
        };
        authorization_code::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn redeem_code(
        &self,
        code_hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Redemption, StoreError> {
        let key = code_hash.to_hex();
        // The one atomic step: only the caller whose UPDATE matched the NULL gets the code (and,
        // in the same statement, the row and its grant's terms).
        let redeem = authorization_code::Entity::update_many()
            .col_expr(
                authorization_code::Column::RedeemedAt,
                Expr::value(db_time(now)),
            )
            .filter(authorization_code::Column::CodeHash.eq(key.as_str()))
            .filter(authorization_code::Column::RedeemedAt.is_null());
        let grant_id = (
            authorization_code::Entity,
            authorization_code::Column::GrantId,
        );
        if let Some((row, terms)) = update_one_with_terms(self.db(), redeem, grant_id).await? {
            return Ok(Redemption::Redeemed(code_from_row(row)?, terms));
        }
        // Nothing matched: redeemed before (a replay), or unknown.
        let row = authorization_code::Entity::find_by_id(key)
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(match row {
            Some(row) => Redemption::AlreadyRedeemed(code_from_row(row)?),
            None => Redemption::NotFound,
        })
    }
}

impl GrantStore for Store {
    async fn insert_refresh(&self, t: &RefreshRecord) -> Result<(), StoreError> {
        let row = refresh_token::ActiveModel {
            token_hash: Set(t.token_hash.to_hex()),
            grant_id: Set(t.grant_id.as_str().to_owned()),
            client_id: Set(t.client_id.as_str().to_owned()),
            user_id: Set(t.user_id.as_str().to_owned()),
            scope: Set(t.scope.to_string()),
            granted_scope: Set(t.granted_scope.to_string()),
            auth_time: Set(db_time(t.auth_time)),
            issued_at: Set(db_time(t.issued_at)),
            expires_at: Set(db_time(t.expires_at)),
            used_at: Set(t.used_at.map(db_time)),
            revoked: Set(t.revoked),
            family_expires_at: Set(t.family_expires_at.map(db_time)),
            replaced_by: Set(t.replaced_by.as_ref().map(SecretHash::to_hex)),
            rotation_salt: Set(t.rotation_salt.as_ref().map(RotationSalt::to_hex)),
            dpop_jkt: Set(t.dpop_jkt.clone()),
        };
        // With a grace period the successor of a token is derived from it, so concurrent
        // rotations of one token all insert the same row: the first insert stands, the others
        // do nothing (and lose the conditional rotation that follows). Random tokens of 256
        // bits never collide.
        refresh_token::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn find_refresh(
        &self,
        token_hash: &SecretHash,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        let row = refresh_token::Entity::find_by_id(token_hash.to_hex())
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(refresh_from_row).transpose()
    }

    async fn find_refresh_with_terms(
        &self,
        token_hash: &SecretHash,
    ) -> Result<Option<(RefreshRecord, GrantTerms)>, StoreError> {
        let select = refresh_token::Entity::find_by_id(token_hash.to_hex());
        let grant_id = (refresh_token::Entity, refresh_token::Column::GrantId);
        let Some((row, terms)) = one_with_terms(self.db(), select, grant_id).await? else {
            return Ok(None);
        };
        Ok(Some((refresh_from_row(row)?, terms)))
    }

    async fn mark_refresh_used(
        &self,
        token_hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        let res = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(db_time(now)))
            .filter(refresh_token::Column::TokenHash.eq(token_hash.to_hex()))
            .filter(refresh_token::Column::UsedAt.is_null())
            .filter(refresh_token::Column::Revoked.eq(false))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(if res.rows_affected == 1 {
            Rotation::Rotated
        } else {
            Rotation::AlreadyUsed
        })
    }

    /// One write transaction per grant: on PostgreSQL it first takes an advisory lock keyed by
    /// the grant id, so concurrent revocations of one family (a reuse race: every loser of a
    /// rotation revokes) run one after the other. Without it, two multi-row `UPDATE`s of the
    /// same family lock its rows in different orders and PostgreSQL aborts one with "deadlock
    /// detected". On SQLite the transaction is `BEGIN IMMEDIATE`, which serialises writers.
    /// The grant is recorded first: from then on its tokens are refused, even if a refresh
    /// token is inserted after the `UPDATE` (the grant list is the truth).
    async fn revoke_grant(&self, grant_id: &GrantId, now: DateTime<Utc>) -> Result<(), StoreError> {
        let txn = self.begin_write().await.map_err(db_err)?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                [GRANT_LOCK_CLASS.into(), grant_id.as_str().into()],
            ))
            .await
            .map_err(db_err)?;
        }
        let row = revoked_grant::ActiveModel {
            grant_id: Set(grant_id.as_str().to_owned()),
            revoked_at: Set(db_time(now)),
        };
        revoked_grant::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec_without_returning(&txn)
            .await
            .map_err(db_err)?;
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::Revoked, Expr::value(true))
            .filter(refresh_token::Column::GrantId.eq(grant_id.as_str()))
            .filter(refresh_token::Column::Revoked.eq(false))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        self.cache.add_revoked(None, Some(grant_id.as_str())).await;
        Ok(())
    }

    /// From the node's revocation lists when they are complete (see [`crate::cache`]).
    async fn is_grant_revoked(&self, grant_id: &GrantId) -> Result<bool, StoreError> {
        self.cache.check(self.db()).await;
        if let Some(answer) = self.cache.grant_revoked(grant_id.as_str()) {
            return Ok(answer);
        }
        let row = revoked_grant::Entity::find_by_id(grant_id.as_str())
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(row.is_some())
    }
}

impl ConsentStore for Store {
    async fn find_consent(
        &self,
        user: &UserId,
        client: &ClientId,
    ) -> Result<Option<ScopeSet>, StoreError> {
        let row =
            consent::Entity::find_by_id((user.as_str().to_owned(), client.as_str().to_owned()))
                .one(self.db())
                .await
                .map_err(db_err)?;
        row.map(|r| ScopeSet::parse(&r.scope).map_err(|e| bad("consents", "scope", e)))
            .transpose()
    }

    /// Stores the union of `scope` and the stored consent. Two concurrent saves for the same user
    /// and client may each write their own union; the loser's extra scopes are then asked again.
    async fn save_consent(
        &self,
        user: &UserId,
        client: &ClientId,
        scope: &ScopeSet,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let merged = match self.find_consent(user, client).await? {
            Some(old) => {
                let joined = format!("{old} {scope}");
                ScopeSet::parse(&joined).map_err(|e| bad("consents", "scope", e))?
            }
            None => scope.clone(),
        };
        let row = consent::ActiveModel {
            user_id: Set(user.as_str().to_owned()),
            client_id: Set(client.as_str().to_owned()),
            scope: Set(merged.to_string()),
            updated_at: Set(db_time(now)),
        };
        consent::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([consent::Column::UserId, consent::Column::ClientId])
                    .update_columns([consent::Column::Scope, consent::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

impl SessionStore for Store {
    async fn insert_session(&self, s: &Session) -> Result<(), StoreError> {
        let row = session::ActiveModel {
            id_hash: Set(s.id_hash.to_hex()),
            user_id: Set(s.user_id.as_str().to_owned()),
            auth_time: Set(db_time(s.auth_time)),
            csrf_token: Set(s.csrf_token.clone()),
            expires_at: Set(db_time(s.expires_at)),
            // A session is created at its login.
            created_at: Set(db_time(s.auth_time)),
            last_seen_at: Set(Some(db_time(s.last_seen))),
        };
        session::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn find_session(&self, id_hash: &SecretHash) -> Result<Option<Session>, StoreError> {
        let row = session::Entity::find_by_id(id_hash.to_hex())
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(session_from_row).transpose()
    }

    async fn delete_session(&self, id_hash: &SecretHash) -> Result<(), StoreError> {
        session::Entity::delete_by_id(id_hash.to_hex())
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

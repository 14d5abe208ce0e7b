//! Operator actions shared by the CLI (and later the admin API): create clients and users,
//! rotate and list signing keys. Each validates everything before it writes anything.

use chrono::{DateTime, Utc};
use gatehouse_core::client::{ClientRegistration, NewClient};
use gatehouse_core::secret::Secret;
use gatehouse_core::user::{self, User};
use gatehouse_core::{SigningAlg, TenantId, UserId};
use gatehouse_store::Store;
use serde_json::{Value, json};

/// An operator error: the message names the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("storage error: {0}")]
    Store(String),
}

impl From<gatehouse_store::Error> for AdminError {
    fn from(e: gatehouse_store::Error) -> Self {
        match e {
            gatehouse_store::Error::Conflict(m) => AdminError::Conflict(m),
            gatehouse_store::Error::NotFound(m) => AdminError::Invalid(m),
            gatehouse_store::Error::Db(m) => AdminError::Store(m),
        }
    }
}

async fn check_tenant(store: &Store, tenant: &str) -> Result<TenantId, AdminError> {
    let id = TenantId::parse(tenant).map_err(|e| AdminError::Invalid(format!("--tenant: {e}")))?;
    if !store.tenant_exists(&id).await? {
        return Err(AdminError::Invalid(format!(
            "--tenant: no tenant with id {tenant:?}"
        )));
    }
    Ok(id)
}

/// Registers a client; the JSON holds the secret, shown this once.
pub async fn create_client(
    store: &Store,
    mut reg: ClientRegistration,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    reg.tenant_id = check_tenant(store, tenant).await?;
    let NewClient { client, secret } =
        NewClient::validate(reg, now).map_err(AdminError::Invalid)?;
    store.insert_client(&client).await?;
    crate::admin_apikeys::audit_operator(
        store,
        now,
        Some(client.tenant_id.as_str()),
        "client.create",
        client.id.as_str(),
        json!({ "name": client.name }),
    )
    .await?;
    Ok(json!({
        "client_id": client.id,
        "client_secret": secret.as_ref().map(Secret::expose),
        "name": client.name,
        "tenant": client.tenant_id,
        "auth_method": client.auth_method.as_str(),
        "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "redirect_uris": client.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "post_logout_redirect_uris": client.post_logout_redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "scope": client.allowed_scopes.to_string(),
        "id_token_alg": client.id_token_alg.as_str(),
        "access_token_ttl": client.access_token_ttl,
        "require_pkce": client.require_pkce,
        "created_at": client.created_at.to_rfc3339(),
    }))
}

/// Creates a user with an Argon2id-hashed password.
pub async fn create_user(
    store: &Store,
    username: &str,
    email: Option<&str>,
    password: &str,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    user::validate_username(username).map_err(AdminError::Invalid)?;
    if let Some(e) = email {
        user::validate_email(e).map_err(AdminError::Invalid)?;
    }
    user::validate_password(password).map_err(AdminError::Invalid)?;
    let tenant_id = check_tenant(store, tenant).await?;
    let password_hash =
        gatehouse_core::password::hash_password(password).map_err(AdminError::Store)?;
    let u = User {
        id: UserId::generate(),
        tenant_id,
        username: username.to_owned(),
        email: email.map(str::to_owned),
        password_hash,
        created_at: now,
    };
    store.insert_user(&u).await?;
    crate::admin_apikeys::audit_operator(
        store,
        now,
        Some(u.tenant_id.as_str()),
        "user.create",
        u.id.as_str(),
        json!({ "username": u.username }),
    )
    .await?;
    Ok(json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "tenant": u.tenant_id,
        "created_at": u.created_at.to_rfc3339(),
    }))
}

/// Generates a new active key for `alg`; the previous one stays published.
pub async fn rotate_key(store: &Store, alg: &str, now: DateTime<Utc>) -> Result<Value, AdminError> {
    let alg = SigningAlg::parse(alg).map_err(|e| AdminError::Invalid(format!("--alg: {e}")))?;
    let k = crate::keys::rotate(store, alg, now)
        .await
        .map_err(AdminError::Store)?;
    crate::admin_apikeys::audit_operator(
        store,
        now,
        None,
        "signing_key.rotate",
        &k.kid,
        json!({ "alg": k.alg.as_str() }),
    )
    .await?;
    Ok(
        json!({ "kid": k.kid, "alg": k.alg.as_str(), "active": true, "created_at": k.created_at.to_rfc3339() }),
    )
}

/// Lists signing keys (public information only).
pub async fn list_keys(store: &Store) -> Result<Value, AdminError> {
    let keys = store.list_signing_keys().await?;
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "kid": k.kid,
                "alg": k.alg.as_str(),
                "active": k.active,
                "created_at": k.created_at.to_rfc3339(),
                "retired_at": k.retired_at.map(|t| t.to_rfc3339()),
            })
        })
        .collect();
    Ok(json!({ "keys": keys }))
}

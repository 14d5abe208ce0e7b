//! Operator actions shared by the CLI (and later the admin API): create clients and users,
//! rotate and list signing keys, register JWT bearer trusts. Each validates everything before it writes anything.

use chrono::{DateTime, Utc};
use gatehouse_core::client::{AuthMethod, ClientRegistration, NewClient};
use gatehouse_core::client_auth::{KeySource, SealedSecret};
use gatehouse_core::jwt_bearer::Trust;
use gatehouse_core::secret::Secret;
use gatehouse_core::user::{self, User};
use gatehouse_core::{ScopeSet, SigningAlg, TenantId, UserId};
use gatehouse_jose::client_assertion::parse_public_jwks;
use gatehouse_store::Store;
use serde_json::{Value, json};

pub use crate::admin_apikeys::Actor;

/// An operator error: the message names the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// The tenant already has its maximum of active API keys (checked in the creating
    /// transaction, so concurrent creations cannot pass it).
    #[error("{0}")]
    LimitReached(String),
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
    reg: ClientRegistration,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    create_client_with_keys(store, &Actor::operator(), reg, tenant, None, None, now).await
}

/// Registers a client with the public keys of `private_key_jwt` (`--jwks-file` contents or
/// `--jwks-uri`). A `private_key_jwt` client needs exactly one; other clients none.
#[allow(clippy::too_many_arguments)] // the CLI's flags; each is validated here
pub async fn create_client_with_keys(
    store: &Store,
    actor: &Actor,
    mut reg: ClientRegistration,
    tenant: &str,
    keys: Option<KeySource>,
    master: Option<&gatehouse_jose::MasterKey>,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    let invalid = |m: &str| AdminError::Invalid(m.to_owned());
    match &keys {
        Some(KeySource::Jwks(v)) => {
            parse_public_jwks(v).map_err(|e| AdminError::Invalid(format!("--jwks-file: {e}")))?;
        }
        Some(KeySource::Uri(u)) => {
            crate::client_keys::check_jwks_uri(u)
                .map_err(|e| AdminError::Invalid(format!("--jwks-uri: {e}")))?;
        }
        Some(KeySource::SealedSecret(_)) => {
            return Err(invalid("a sealed secret is generated, not supplied"));
        }
        None => {}
    }
    // HS256 needs the secret itself, so a client_secret_jwt secret is kept sealed under the
    // master key; without one it could only be stored in plaintext, which we refuse.
    let secret_jwt = reg.auth_method.as_deref() == Some("client_secret_jwt");
    let master = match (secret_jwt, master) {
        (true, None) => {
            return Err(invalid(
                "--auth-method: client_secret_jwt needs a master key (GATEHOUSE_MASTER_KEY or keys.master_key_file) to keep the secret sealed; or use private_key_jwt",
            ));
        }
        (true, Some(m)) => {
            crate::keys::check_master_key(store, Some(m))
                .await
                .map_err(AdminError::Invalid)?;
            Some(m)
        }
        (false, _) => None,
    };
    reg.tenant_id = check_tenant(store, tenant).await?;
    let NewClient { client, secret } =
        NewClient::validate(reg, now).map_err(AdminError::Invalid)?;
    match (
        client.auth_method == AuthMethod::PrivateKeyJwt,
        keys.is_some(),
    ) {
        (true, false) => {
            return Err(invalid(
                "--jwks-file or --jwks-uri is required for --auth-method private_key_jwt",
            ));
        }
        (false, true) => {
            return Err(invalid(
                "--jwks-file and --jwks-uri need --auth-method private_key_jwt",
            ));
        }
        _ => {}
    }
    let keys = match (master, &secret) {
        (Some(m), Some(plain)) => Some(KeySource::SealedSecret(SealedSecret {
            client_id: client.id.clone(),
            envelope: m
                .seal(
                    &crate::client_keys::hmac_secret_label(client.id.as_str()),
                    plain.expose().as_bytes(),
                )
                .map_err(|e| AdminError::Store(format!("sealing the client secret: {e}")))?,
        })),
        _ => keys,
    };
    store
        .insert_client_with_keys(&client, keys.as_ref())
        .await?;
    let jwks_uri = match &keys {
        Some(KeySource::Uri(u)) => Some(u.as_str()),
        _ => None,
    };
    crate::admin_apikeys::audit_action(
        store,
        actor,
        now,
        Some(client.tenant_id.as_str()),
        "client.create",
        client.id.as_str(),
        json!({ "name": client.name }),
    )
    .await?;
    let mut out = client_json(&client);
    out["jwks_uri"] = Value::from(jwks_uri);
    out["client_secret"] = Value::from(secret.as_ref().map(Secret::expose));
    Ok(out)
}

/// A client as shown to operators (CLI, admin API): never its secret.
pub fn client_json(c: &gatehouse_core::client::Client) -> Value {
    json!({
        "client_id": c.id,
        "name": c.name,
        "tenant": c.tenant_id,
        "auth_method": c.auth_method.as_str(),
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "redirect_uris": c.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "post_logout_redirect_uris": c.post_logout_redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "scope": c.allowed_scopes.to_string(),
        "id_token_alg": c.id_token_alg.as_str(),
        "access_token_ttl": c.access_token_ttl,
        "require_pkce": c.require_pkce,
        "refresh_grace_seconds": c.refresh_grace_seconds,
        "refresh_idle_ttl": c.refresh_idle_ttl,
        "refresh_absolute_ttl": c.refresh_absolute_ttl,
        "created_at": c.created_at.to_rfc3339(),
    })
}

/// Optional profile fields for a new user, as the operator typed them.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<String>,
    /// A postal address on one line (or with `\n`), released as the `formatted` member of
    /// the OIDC address claim (Core §5.1.1).
    pub address: Option<String>,
    /// Admin scopes (`--admin-scope`, repeatable; each value may hold several, space-separated).
    pub admin_scopes: Vec<String>,
}

/// Parses `--admin-scope` values: only admin scopes (`gatehouse_core::admin`) are accepted.
pub fn parse_admin_scopes(values: &[String]) -> Result<ScopeSet, AdminError> {
    let joined = values.join(" ");
    let set =
        ScopeSet::parse(&joined).map_err(|e| AdminError::Invalid(format!("--admin-scope: {e}")))?;
    let bad: Vec<&str> = set
        .iter()
        .filter(|s| !gatehouse_core::admin::is_admin_scope(s))
        .collect();
    if !bad.is_empty() {
        return Err(AdminError::Invalid(format!(
            "--admin-scope: not an admin scope: {} (admin scopes are admin:all, read:<resource> and write:<resource> for organizations, users, clients, api_keys, keys, audit)",
            bad.join(" ")
        )));
    }
    Ok(set)
}

impl ProfileInput {
    /// Checks every field, naming the flag at fault.
    pub fn validate(self) -> Result<user::UserProfile, AdminError> {
        let text = |flag: &str, v: Option<String>| -> Result<Option<String>, AdminError> {
            if let Some(v) = &v {
                user::validate_profile_text(flag, v).map_err(AdminError::Invalid)?;
            }
            Ok(v)
        };
        if let Some(p) = &self.phone {
            user::validate_phone(p).map_err(AdminError::Invalid)?;
        }
        let address = match self.address {
            Some(a) => {
                let n = a.chars().count();
                if !(1..=512).contains(&n) || a.chars().any(|c| c.is_control() && c != '\n') {
                    return Err(AdminError::Invalid(
                        "--address must be 1 to 512 characters".into(),
                    ));
                }
                Some(json!({ "formatted": a }))
            }
            None => None,
        };
        Ok(user::UserProfile {
            name: text("--name", self.name)?,
            given_name: text("--given-name", self.given_name)?,
            family_name: text("--family-name", self.family_name)?,
            phone_number: self.phone,
            address,
        })
    }
}

/// Registers a trust of the JWT bearer grant (RFC 7523 §2.1): assertions by `issuer` about
/// `subject`, signed with a key of `jwks`, may be exchanged for tokens with at most `scope`.
pub async fn create_trust(
    store: &Store,
    issuer: &str,
    subject: &str,
    jwks: &Value,
    scope: Option<&str>,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    for (flag, v) in [("--issuer", issuer), ("--subject", subject)] {
        if v.trim().is_empty() || v.len() > 512 || v.chars().any(char::is_control) {
            return Err(AdminError::Invalid(format!(
                "{flag} must be 1 to 512 printable characters"
            )));
        }
    }
    parse_public_jwks(jwks).map_err(|e| AdminError::Invalid(format!("--jwks-file: {e}")))?;
    let scopes = ScopeSet::parse(scope.unwrap_or(""))
        .map_err(|e| AdminError::Invalid(format!("--scope: {e}")))?;
    let tenant_id = check_tenant(store, tenant).await?;
    let t = Trust {
        id: format!("trust_{}", gatehouse_core::token::new_jti()),
        tenant_id,
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        jwks: jwks.clone(),
        scopes,
        created_at: now,
    };
    store.insert_trust(&t).await?;
    Ok(json!({
        "id": t.id,
        "issuer": t.issuer,
        "subject": t.subject,
        "scope": t.scopes.to_string(),
        "tenant": t.tenant_id,
        "created_at": t.created_at.to_rfc3339(),
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
    create_user_with_profile(
        store,
        &Actor::operator(),
        username,
        email,
        password,
        tenant,
        ProfileInput::default(),
        now,
    )
    .await
}

/// Creates a user with an Argon2id-hashed password and optional profile claims.
#[allow(clippy::too_many_arguments)] // the CLI's flags, one by one; each is validated here
pub async fn create_user_with_profile(
    store: &Store,
    actor: &Actor,
    username: &str,
    email: Option<&str>,
    password: &str,
    tenant: &str,
    profile: ProfileInput,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    user::validate_username(username).map_err(AdminError::Invalid)?;
    if let Some(e) = email {
        user::validate_email(e).map_err(AdminError::Invalid)?;
    }
    let admin_scopes = parse_admin_scopes(&profile.admin_scopes)?;
    let profile = profile.validate()?;
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
        profile,
        admin_scopes,
    };
    store.insert_user(&u).await?;
    crate::admin_apikeys::audit_action(
        store,
        actor,
        now,
        Some(u.tenant_id.as_str()),
        "user.create",
        u.id.as_str(),
        json!({ "username": u.username, "admin_scopes": u.admin_scopes.to_string() }),
    )
    .await?;
    Ok(user_json(&u))
}

/// A user as shown to operators (CLI, admin API): never the password hash.
pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "name": u.profile.name,
        "given_name": u.profile.given_name,
        "family_name": u.profile.family_name,
        "phone_number": u.profile.phone_number,
        "address": u.profile.address,
        "tenant": u.tenant_id,
        "admin_scopes": u.admin_scopes.iter().collect::<Vec<_>>(),
        "created_at": u.created_at.to_rfc3339(),
    })
}

/// Generates a new active key for `alg` at once (encrypted with `master` when given); the
/// previous one is retired and stays published. Refuses, writing nothing, when `master` cannot
/// decrypt the stored keys (a key sealed with another master key would stop the server).
pub async fn rotate_key(
    store: &Store,
    actor: &Actor,
    alg: &str,
    master: Option<&gatehouse_jose::MasterKey>,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    let alg = SigningAlg::parse(alg).map_err(|e| AdminError::Invalid(format!("--alg: {e}")))?;
    crate::keys::check_master_key(store, master)
        .await
        .map_err(AdminError::Invalid)?;
    let k = crate::keys::rotate(store, alg, master, now)
        .await
        .map_err(AdminError::Store)?;
    crate::admin_apikeys::audit_action(
        store,
        actor,
        now,
        None,
        "signing_key.rotate",
        &k.kid,
        json!({ "alg": k.alg.as_str() }),
    )
    .await?;
    Ok(key_json(&k))
}

fn key_json(k: &gatehouse_store::StoredKey) -> Value {
    json!({
        "kid": k.kid,
        "alg": k.alg.as_str(),
        "active": k.active,
        "status": k.status.as_str(),
        "created_at": k.created_at.to_rfc3339(),
        "activates_at": k.activates_at.map(|t| t.to_rfc3339()),
        "retired_at": k.retired_at.map(|t| t.to_rfc3339()),
        "encrypted": k.encrypted,
    })
}

/// Lists signing keys (public information only): `kid`, `alg`, `active`, `status`
/// (`next`/`active`/`retired`), `created_at`, `activates_at`, `retired_at`, `encrypted`.
pub async fn list_keys(store: &Store) -> Result<Value, AdminError> {
    let keys = store.list_signing_keys().await?;
    let keys: Vec<Value> = keys.iter().map(key_json).collect();
    Ok(json!({ "keys": keys }))
}

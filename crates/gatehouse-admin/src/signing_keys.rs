//! The server's signing keys (RFC 7517 key sets): generating, sealing under the master key,
//! opening, rotating, and listing their public parts. The server's running key cache and
//! rotation scheduler (`gatehouse_server::keys`) build on the same functions.
//!
//! A rotation by hand pre-publishes: the new key is published at once and signs only after the
//! propagation delay, so every node of a cluster (and every resource server refreshing the
//! JWKS) knows it before the first token it signs arrives. Only the very first key of an
//! algorithm is active at once (there is nothing to verify yet).
//!
//! Private keys are encrypted at rest with the master key ([`MasterKey`]) when one is
//! configured; without one they are stored in plaintext, marked as such. Key material is never
//! logged or returned.

use chrono::{DateTime, Utc};
use gatehouse_core::SigningAlg;
use gatehouse_core::admin::Operation;
use gatehouse_core::field::{Field, FieldError};
use gatehouse_jose::MasterKey;
use gatehouse_store::{KeyStatus, Store, StoredKey};

use crate::actor::Context;
use crate::error::OpError;
use crate::views::{KeyList, KeyView};

/// The environment variable that holds the master key.
pub const MASTER_KEY_ENV: &str = "GATEHOUSE_MASTER_KEY";

/// Why a signing key cannot be made or used. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the stored signing keys are encrypted but no master key is configured: set {MASTER_KEY_ENV} (or [keys] master_key_file) to the key they were encrypted with"
    )]
    NoMasterKey,
    #[error(
        "signing key {kid} cannot be decrypted with the configured master key ({reason}): {MASTER_KEY_ENV} (or [keys] master_key_file) is not the key it was encrypted with"
    )]
    WrongMasterKey { kid: String, reason: String },
    #[error("key generation: {0}")]
    Generation(String),
    #[error("storage: {0}")]
    Store(#[from] gatehouse_store::Error),
}

/// The PKCS#8 private key of `k`, decrypted if needed.
pub fn private_pkcs8(k: &StoredKey, master: Option<&MasterKey>) -> Result<Vec<u8>, KeyError> {
    if !k.encrypted {
        return Ok(k.private_key.clone());
    }
    let master = master.ok_or(KeyError::NoMasterKey)?;
    master
        .open(&k.kid, &k.private_key)
        .map_err(|e| KeyError::WrongMasterKey {
            kid: k.kid.clone(),
            reason: e.to_string(),
        })
}

/// A freshly generated key, encrypted when a master key is given. Key generation (RSA takes
/// a noticeable fraction of a second) runs on the blocking pool.
pub async fn generate(
    alg: SigningAlg,
    master: Option<&MasterKey>,
    now: DateTime<Utc>,
) -> Result<StoredKey, KeyError> {
    let generated = tokio::task::spawn_blocking(move || gatehouse_jose::generate_key(alg))
        .await
        .map_err(|e| KeyError::Generation(e.to_string()))?
        .map_err(|e| KeyError::Generation(e.to_string()))?;
    let (private_key, encrypted) = match master {
        Some(m) => (
            m.seal(&generated.kid, &generated.private_pkcs8_der)
                .map_err(|e| KeyError::Generation(e.to_string()))?,
            true,
        ),
        None => (generated.private_pkcs8_der.clone(), false),
    };
    Ok(StoredKey::new(
        generated.kid.clone(),
        alg,
        private_key,
        encrypted,
        generated.public_jwk.clone(),
        now,
    ))
}

/// Checks that the stored keys can be used with `master` before anything is written: every
/// encrypted key must decrypt. This is what makes a wrong master key a start-up error, and
/// keeps a rotation from adding a key the server could not read.
pub async fn check_master_key(store: &Store, master: Option<&MasterKey>) -> Result<(), KeyError> {
    let keys = store.list_signing_keys().await?;
    for k in keys.iter().filter(|k| k.encrypted) {
        private_pkcs8(k, master)?;
    }
    Ok(())
}

/// Generates a key of `alg` and makes it the active signing key for that algorithm at once;
/// the previous active key is retired but stays published. For the first key of an algorithm
/// (first start); rotations go through [`prepublish_new_key`].
pub async fn activate_new_key(
    store: &Store,
    alg: SigningAlg,
    master: Option<&MasterKey>,
    now: DateTime<Utc>,
) -> Result<StoredKey, KeyError> {
    let mut key = generate(alg, master, now).await?;
    store.insert_active_key(&key, now).await?;
    key.active = true;
    key.status = KeyStatus::Active;
    key.activates_at = Some(now);
    Ok(key)
}

/// Generates a key of `alg` and makes it active only when `alg` has no active key (a first
/// start); `None` when another node got there first (its key is the one to use).
pub async fn create_first_key(
    store: &Store,
    alg: SigningAlg,
    master: Option<&MasterKey>,
    now: DateTime<Utc>,
) -> Result<Option<StoredKey>, KeyError> {
    let mut key = generate(alg, master, now).await?;
    if !store.insert_first_key(&key, now).await? {
        return Ok(None);
    }
    key.active = true;
    key.status = KeyStatus::Active;
    key.activates_at = Some(now);
    Ok(Some(key))
}

/// Generates a key of `alg` and publishes it as the `next` key, signing from `now + delay`
/// (a pending `next` key is retired); active at once only when `alg` has no active key.
pub async fn prepublish_new_key(
    store: &Store,
    alg: SigningAlg,
    master: Option<&MasterKey>,
    now: DateTime<Utc>,
    delay: chrono::Duration,
) -> Result<StoredKey, KeyError> {
    let mut key = generate(alg, master, now).await?;
    let status = store.insert_rotated_key(&key, now + delay, now).await?;
    key.status = status;
    key.active = status == KeyStatus::Active;
    key.activates_at = Some(if key.active { now } else { now + delay });
    Ok(key)
}

fn key_error(e: KeyError) -> OpError {
    match e {
        KeyError::Store(e) => e.into(),
        KeyError::Generation(m) => OpError::Storage(m),
        // The configuration does not fit the stored keys: the operator must fix it.
        e @ (KeyError::NoMasterKey | KeyError::WrongMasterKey { .. }) => {
            OpError::Refused(e.to_string())
        }
    }
}

/// Lists the signing keys (public information only).
pub async fn list(ctx: &Context<'_>) -> Result<KeyList, OpError> {
    ctx.authorize_global(Operation::ReadSigningKeys)?;
    let keys = ctx.store.list_signing_keys().await?;
    Ok(KeyList {
        keys: keys.iter().map(KeyView::from).collect(),
    })
}

/// Says now, before a server refuses to start, whether `master` fits the stored keys.
pub async fn check_master(ctx: &Context<'_>, master: Option<&MasterKey>) -> Result<(), OpError> {
    ctx.authorize_global(Operation::ReadSigningKeys)?;
    check_master_key(ctx.store, master).await.map_err(key_error)
}

/// Generates a new key for `alg` (encrypted with `master` when given), published at once and
/// signing `propagation_delay` later, when it replaces the active key (which stays published).
/// Refuses, writing nothing, when `master` cannot decrypt the stored keys (a key sealed with
/// another master key would stop the server).
pub async fn rotate(
    ctx: &Context<'_>,
    alg: &str,
    master: Option<&MasterKey>,
    propagation_delay: chrono::Duration,
) -> Result<KeyView, OpError> {
    ctx.authorize_global(Operation::RotateSigningKey)?;
    let alg = SigningAlg::parse(alg).map_err(|e| FieldError::new(Field::Alg, e))?;
    check_master_key(ctx.store, master)
        .await
        .map_err(key_error)?;
    let k = prepublish_new_key(ctx.store, alg, master, ctx.now, propagation_delay)
        .await
        .map_err(key_error)?;
    ctx.audit(
        None,
        "signing_key.rotate",
        &k.kid,
        serde_json::json!({ "alg": k.alg.as_str(), "activates_at": k.activates_at }),
    )
    .await?;
    Ok(KeyView::from(&k))
}

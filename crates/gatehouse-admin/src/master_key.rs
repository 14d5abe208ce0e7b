//! Changing the master key (`gatehouse master-key rotate`): every private signing key and every
//! `client_secret_jwt` secret is opened with the current master key and sealed again under the
//! new one (AES-256-GCM envelopes, [`gatehouse_jose::envelope`]), in one transaction of the
//! store ([`gatehouse_store::reseal`]): when any row does not open with the current key,
//! nothing is written. Signing keys stored in plaintext (no master key configured so far) are
//! sealed by the same step.
//!
//! The right is the signing-key rotation's (platform administrators and the local operator).
//! Running servers hold the old key until they restart with the new one.

use gatehouse_core::admin::Operation;
use gatehouse_jose::MasterKey;
use gatehouse_jose::client_assertion::hmac_secret_label;
use gatehouse_store::reseal::{ResealError, Resealed, Sealed};

use crate::actor::Context;
use crate::error::OpError;

/// Why a row could not be re-sealed.
#[derive(Debug, thiserror::Error)]
enum Unseal {
    #[error(
        "{0} is sealed under a master key, but no current master key was given (GATEHOUSE_MASTER_KEY or [keys] master_key_file)"
    )]
    NoCurrentKey(String),
    #[error(
        "{0} does not open with the current master key: it is not the key the data was sealed with"
    )]
    WrongCurrentKey(String),
    #[error("sealing {0} under the new master key failed")]
    Seal(String),
}

/// Re-seals everything under `new`; `current` opens what is sealed today. Returns how many
/// rows were re-sealed.
pub async fn rotate(
    ctx: &Context<'_>,
    current: Option<&MasterKey>,
    new: &MasterKey,
) -> Result<Resealed, OpError> {
    ctx.authorize_global(Operation::RotateSigningKey)?;
    let done = ctx
        .store
        .reseal_all(|row| reseal(row, current, new))
        .await
        .map_err(|e| match e {
            ResealError::Seal(e) => OpError::Refused(e.to_string()),
            ResealError::Store(e) => e.into(),
        })?;
    ctx.audit(
        None,
        "master_key.rotate",
        "master_key",
        serde_json::json!({
            "signing_keys": done.signing_keys,
            "client_secrets": done.client_secrets,
        }),
    )
    .await?;
    Ok(done)
}

/// One row: opened with `current` (plaintext keys as they are), sealed under `new`.
fn reseal(
    row: Sealed<'_>,
    current: Option<&MasterKey>,
    new: &MasterKey,
) -> Result<Vec<u8>, Unseal> {
    let (what, label, plain) = match row {
        Sealed::SigningKey {
            kid,
            stored,
            encrypted: false,
        } => (
            format!("signing key {kid}"),
            kid.to_owned(),
            stored.to_vec(),
        ),
        Sealed::SigningKey { kid, stored, .. } => {
            let what = format!("signing key {kid}");
            let plain = open(current, kid, stored, &what)?;
            (what, kid.to_owned(), plain)
        }
        Sealed::ClientSecret {
            client_id,
            envelope,
        } => {
            let what = format!("the secret of client {client_id}");
            let label = hmac_secret_label(client_id);
            let plain = open(current, &label, envelope, &what)?;
            (what, label, plain)
        }
    };
    new.seal(&label, &plain).map_err(|_| Unseal::Seal(what))
}

fn open(
    current: Option<&MasterKey>,
    label: &str,
    envelope: &[u8],
    what: &str,
) -> Result<Vec<u8>, Unseal> {
    let key = current.ok_or_else(|| Unseal::NoCurrentKey(what.to_owned()))?;
    key.open(label, envelope)
        .map_err(|_| Unseal::WrongCurrentKey(what.to_owned()))
}

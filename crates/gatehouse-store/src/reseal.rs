//! Re-sealing everything kept under the master key (`gatehouse master-key rotate`): the private
//! signing keys (`signing_keys.private_key`, plaintext ones included, which get sealed) and the
//! `client_secret_jwt` secrets (`clients.hmac_secret`, base64 envelopes), in ONE transaction
//! holding the key-transition lock: either every row is under the new key or none is. The
//! cryptography is the caller's (a closure per row); the store only reads and writes rows.

use base64::Engine;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entities::{client, signing_key};
use crate::{Error, Store};

/// A row sealed under the master key, as stored.
#[derive(Clone, Copy)]
pub enum Sealed<'a> {
    /// A private signing key: an envelope when `encrypted`, else plain PKCS#8.
    SigningKey {
        kid: &'a str,
        stored: &'a [u8],
        encrypted: bool,
    },
    /// A `client_secret_jwt` client's secret envelope.
    ClientSecret {
        client_id: &'a str,
        envelope: &'a [u8],
    },
}

/// How many rows a re-seal rewrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Resealed {
    pub signing_keys: u64,
    pub client_secrets: u64,
}

/// Why a re-seal wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ResealError<E> {
    /// The caller could not re-seal a row (for example, the old key does not open it).
    #[error(transparent)]
    Seal(E),
    #[error(transparent)]
    Store(#[from] Error),
}

impl Store {
    /// Replaces every sealed row by `reseal(row)` (the new envelope) in one transaction; the
    /// first error rolls everything back.
    pub async fn reseal_all<E>(
        &self,
        mut reseal: impl FnMut(Sealed<'_>) -> Result<Vec<u8>, E>,
    ) -> Result<Resealed, ResealError<E>> {
        let db = |e: sea_orm::DbErr| ResealError::Store(Error::from(e));
        let txn = self.begin_key_transition().await?;
        let mut done = Resealed::default();
        for k in signing_key::Entity::find().all(&txn).await.map_err(db)? {
            let row = Sealed::SigningKey {
                kid: &k.kid,
                stored: &k.private_key,
                encrypted: k.encrypted,
            };
            let envelope = reseal(row).map_err(ResealError::Seal)?;
            signing_key::Entity::update_many()
                .col_expr(signing_key::Column::PrivateKey, Expr::value(envelope))
                .col_expr(signing_key::Column::Encrypted, Expr::value(true))
                .filter(signing_key::Column::Kid.eq(k.kid.as_str()))
                .exec(&txn)
                .await
                .map_err(db)?;
            done.signing_keys += 1;
        }
        let secrets: Vec<(String, Option<String>)> = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .column(client::Column::HmacSecret)
            .filter(client::Column::HmacSecret.is_not_null())
            .into_tuple()
            .all(&txn)
            .await
            .map_err(db)?;
        let b64 = base64::engine::general_purpose::STANDARD;
        for (id, sealed) in secrets {
            let envelope = b64.decode(sealed.unwrap_or_default()).map_err(|e| {
                ResealError::Store(Error::Db(format!("clients.hmac_secret of {id}: {e}")))
            })?;
            let row = Sealed::ClientSecret {
                client_id: &id,
                envelope: &envelope,
            };
            let resealed = b64.encode(reseal(row).map_err(ResealError::Seal)?);
            client::Entity::update_many()
                .col_expr(client::Column::HmacSecret, Expr::value(resealed))
                .filter(client::Column::Id.eq(id.as_str()))
                .exec(&txn)
                .await
                .map_err(db)?;
            done.client_secrets += 1;
        }
        txn.commit().await.map_err(db)?;
        Ok(done)
    }
}

//! Gatehouse JOSE: signing keys, JWS signing and verification, and the JWKS document.
//!
//! - [`keys`]: key generation and parsing, JWK export (RFC 7517, RFC 7518 §6) and key ids
//!   computed as RFC 7638 thumbprints.
//! - [`jws`]: a small compact-serialization JWS signer (RFC 7515 §7.1) over cached aws-lc-rs
//!   key pairs, for RS256 and ES256 (RFC 7518 §3.3 and §3.4).
//! - [`ring`]: the server's [`KeyRing`]: active and published keys, the JWKS document and the
//!   verification of our own tokens (e.g. RFC 9068 access tokens, `typ: at+jwt`).
//!
//! - [`envelope`]: AES-256-GCM encryption at rest of private keys under the master key.
//! - [`jwks_uri`]: which `jwks_uri` a client may register and the server may fetch.
//!
//! Signing never goes through `jsonwebtoken::encode`, which re-parses the private key on every
//! call; verification uses `jsonwebtoken` with one pinned algorithm per key.
// Unit tests may read the system clock and run long; shipped code may not.
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::too_many_lines))]

pub mod client_assertion;
pub mod dpop;
pub mod envelope;
pub mod jwks_uri;
pub mod jws;
pub mod keys;
pub mod ring;

pub use envelope::MasterKey;
pub use keys::{GeneratedKey, SigningKey, generate_key, jwk_thumbprint};
pub use ring::{KeyEntry, KeyRing};

use gatehouse_core::SigningAlg;

/// Errors of this crate. Messages are short and never contain key material or token contents.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    #[error("key generation failed")]
    KeyGeneration,
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    #[error("signing failed")]
    Signing,
    #[error("claims could not be serialized")]
    Claims,
    #[error("no active signing key for {0}")]
    NoActiveKey(SigningAlg),
    #[error("the key envelope cannot be decrypted (wrong master key or altered data)")]
    Envelope,
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
}

#[cfg(test)]
mod tests;

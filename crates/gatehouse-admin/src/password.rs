//! Hashing a new password (Argon2id) for an operator action. The surface decides where the
//! work runs: the server through its bounded hashing pool (so a flood of password resets
//! cannot exhaust memory or CPU), the CLI on a blocking thread ([`BlockingHasher`]).
#![allow(async_fn_in_trait)]

use crate::error::OpError;

/// Turns a validated plaintext password into an Argon2id PHC string.
pub trait PasswordHasher {
    async fn hash(&self, password: &str) -> Result<String, OpError>;
}

/// Hashes on tokio's blocking pool: for the CLI, one password per command.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockingHasher;

impl PasswordHasher for BlockingHasher {
    async fn hash(&self, password: &str) -> Result<String, OpError> {
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || gatehouse_core::password::hash_password(&password))
            .await
            .map_err(|e| OpError::Storage(e.to_string()))?
            .map_err(|e| OpError::Storage(e.to_string()))
    }
}

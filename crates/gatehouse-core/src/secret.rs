//! Machine-generated secrets: authorization codes, refresh tokens, client secrets, session ids.
//!
//! They carry 256 bits from the OS RNG, so a fast hash is enough to store them: we keep only
//! SHA-256 digests and compare in constant time. A slow password KDF here would cost every token
//! request for no gain (that is for user passwords only, see [`crate::password`]).
//! No type here implements `Debug` with content, `Display` or `Serialize`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS RNG failing is not recoverable: no secret may be issued without it.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}

/// A secret value in transit (as generated, or as presented by a client). Never printed.
pub struct Secret(String);

impl Secret {
    /// A new secret of 256 random bits, BASE64URL without padding (43 characters).
    pub fn generate() -> Self {
        Self(URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
    }
    /// Wraps a secret presented by a client.
    pub fn from_presented(s: &str) -> Self {
        Self(s.to_owned())
    }
    /// The plaintext, for the one moment it is handed to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Its SHA-256 digest, the only form that is stored.
    pub fn hash(&self) -> SecretHash {
        SecretHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// SHA-256 of a [`Secret`]: what the database holds.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(b).ok().map(Self)
    }
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// Hex form, used as a lookup key in storage.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(chunk).ok()?;
            out[i] = u8::from_str_radix(hex, 16).ok()?;
        }
        Some(Self(out))
    }
    /// Constant-time comparison with the hash of a presented secret.
    pub fn verify(&self, presented: &Secret) -> bool {
        self.0.ct_eq(&presented.hash().0).into()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// A random value stored beside a refresh token of a client with a grace period (see
/// [`crate::rotation`]). Together with the token's plaintext, which only its holder has, it
/// determines the token's successor; neither the salt (in the database) nor the token (with
/// the client) alone does. So a grace-period retry is answered with the same new pair while no
/// token is ever stored in a usable form.
#[derive(Clone, PartialEq, Eq)]
pub struct RotationSalt([u8; 32]);

impl RotationSalt {
    pub fn generate() -> Self {
        Self(random_bytes::<32>())
    }
    pub fn to_hex(&self) -> String {
        SecretHash(self.0).to_hex()
    }
    pub fn from_hex(s: &str) -> Option<Self> {
        SecretHash::from_hex(s).map(|h| Self(h.0))
    }
    /// SHA-256 over a fixed domain tag, `label`, the salt and the token: 256 bits that only the
    /// holder of both can compute.
    pub fn derive(&self, token: &Secret, label: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"gatehouse/refresh-rotation/v1\0");
        h.update((label.len() as u32).to_be_bytes());
        h.update(label.as_bytes());
        h.update(self.0);
        h.update(token.0.as_bytes());
        h.finalize().into()
    }
}

impl fmt::Debug for RotationSalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RotationSalt(..)")
    }
}

/// Constant-time equality of two strings (CSRF tokens and the like).
pub fn ct_eq_str(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// BASE64URL of the left half of SHA-256: `at_hash` (OIDC Core §3.1.3.6) for RS256 and ES256.
pub fn left_half_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_256_bits_and_distinct() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(format!("{a:?}"), "Secret(..)");
    }

    #[test]
    fn hash_verifies_only_the_same_secret() {
        let s = Secret::generate();
        let h = s.hash();
        assert!(h.verify(&Secret::from_presented(s.expose())));
        assert!(!h.verify(&Secret::from_presented("other")));
        assert_eq!(SecretHash::from_hex(&h.to_hex()).unwrap(), h);
    }

    #[test]
    fn rotation_derivation_needs_both_salt_and_token() {
        let salt = RotationSalt::generate();
        let token = Secret::generate();
        let a = salt.derive(&token, "refresh");
        assert_eq!(
            a,
            salt.derive(&Secret::from_presented(token.expose()), "refresh")
        );
        assert_ne!(a, salt.derive(&token, "jti"));
        assert_ne!(a, RotationSalt::generate().derive(&token, "refresh"));
        assert_ne!(a, salt.derive(&Secret::generate(), "refresh"));
        assert_eq!(RotationSalt::from_hex(&salt.to_hex()).unwrap(), salt);
        assert_eq!(format!("{salt:?}"), "RotationSalt(..)");
    }

    #[test]
    fn at_hash_matches_oidc_example() {
        // OIDC Core Appendix A.3 example access token and at_hash.
        assert_eq!(
            left_half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}

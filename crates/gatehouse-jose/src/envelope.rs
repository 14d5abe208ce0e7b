//! Encryption at rest of private signing keys: an AES-256-GCM envelope under a 32-byte
//! key-encryption key (the "master key", from `GATEHOUSE_MASTER_KEY` or a file).
//!
//! Envelope format, version 1: `"GHK" 0x01 || nonce (12 bytes, random) || ciphertext || tag
//! (16 bytes)`. The associated data is the 4-byte header followed by the key id, so an envelope
//! moved to another row (another kid) or relabelled with another version does not decrypt.
//! A random 96-bit nonce is safe here: a master key seals a handful of keys, far below the
//! 2^32 messages NIST SP 800-38D allows for random nonces.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;

use crate::JoseError;

/// Magic and version of the envelope format.
const HEADER_V1: [u8; 4] = [b'G', b'H', b'K', 1];
const TAG_LEN: usize = 16;

/// The key-encryption key. Cheap to clone; never printed (`Debug` is redacted, no `Display`).
#[derive(Clone)]
pub struct MasterKey {
    key: Arc<LessSafeKey>,
    /// Keys derived from the master key for other purposes (HMAC-SHA256 of a label).
    derive: Arc<aws_lc_rs::hmac::Key>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// A master key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, JoseError> {
        if bytes.len() != 32 {
            return Err(JoseError::InvalidKey("master key must be 32 bytes"));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| JoseError::InvalidKey("master key rejected"))?;
        Ok(MasterKey {
            key: Arc::new(LessSafeKey::new(unbound)),
            derive: Arc::new(aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA256,
                bytes,
            )),
        })
    }

    /// Parses 32 bytes written as 64 hex digits or as base64 (standard or URL-safe alphabet,
    /// padded or not). Surrounding whitespace is ignored. Errors never echo the input.
    pub fn parse(text: &str) -> Result<MasterKey, JoseError> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            decode_hex(t)
        } else {
            let unpadded = t.trim_end_matches('=');
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(unpadded)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(unpadded))
                .map_err(|_| JoseError::InvalidKey("master key is neither hex nor base64"))?
        };
        if bytes.len() != 32 {
            return Err(JoseError::InvalidKey(
                "master key must decode to exactly 32 bytes",
            ));
        }
        MasterKey::from_bytes(&bytes)
    }

    /// A 32-byte key for `label`, derived from the master key (HMAC-SHA256), identical on
    /// every node sharing the master key: e.g. the DPoP nonce key (RFC 9449 §8).
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let tag = aws_lc_rs::hmac::sign(&self.derive, label.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Encrypts `plaintext` (a PKCS#8 private key) for the key `kid`.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>, JoseError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| JoseError::Envelope)?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(kid)),
                &mut in_out,
            )
            .map_err(|_| JoseError::Envelope)?;
        let mut out = Vec::with_capacity(HEADER_V1.len() + NONCE_LEN + in_out.len());
        out.extend_from_slice(&HEADER_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Decrypts an envelope made by [`MasterKey::seal`] for the same `kid`. Fails with
    /// [`JoseError::Envelope`] on a wrong master key, another kid, or any altered byte.
    pub fn open(&self, kid: &str, envelope: &[u8]) -> Result<Vec<u8>, JoseError> {
        let Some(rest) = envelope.strip_prefix(&HEADER_V1[..]) else {
            return Err(JoseError::InvalidKey("unknown key envelope format"));
        };
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(JoseError::Envelope);
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| JoseError::Envelope)?;
        let mut in_out = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad(kid)), &mut in_out)
            .map_err(|_| JoseError::Envelope)?;
        Ok(plain.to_vec())
    }
}

/// Whether `bytes` look like an envelope (rather than plain PKCS#8 DER, which starts 0x30).
pub fn is_envelope(bytes: &[u8]) -> bool {
    bytes.starts_with(&HEADER_V1[..3])
}

fn aad(kid: &str) -> Vec<u8> {
    let mut a = HEADER_V1.to_vec();
    a.extend_from_slice(kid.as_bytes());
    a
}

fn decode_hex(t: &str) -> Vec<u8> {
    t.as_bytes()
        .chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16).unwrap_or(0);
            let lo = (p[1] as char).to_digit(16).unwrap_or(0);
            (hi * 16 + lo) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn key() -> MasterKey {
        MasterKey::parse(HEX).unwrap()
    }

    #[test]
    fn envelope_round_trip_and_fresh_nonce() {
        let k = key();
        let a = k.seal("kid-1", b"pkcs8 bytes").unwrap();
        let b = k.seal("kid-1", b"pkcs8 bytes").unwrap();
        assert_ne!(a, b, "a fresh random nonce per envelope");
        assert!(is_envelope(&a));
        assert!(!a.windows(11).any(|w| w == b"pkcs8 bytes"));
        assert_eq!(k.open("kid-1", &a).unwrap(), b"pkcs8 bytes");
        assert_eq!(k.open("kid-1", &b).unwrap(), b"pkcs8 bytes");
    }

    #[test]
    fn a_wrong_master_key_does_not_decrypt() {
        let sealed = key().seal("kid-1", b"secret").unwrap();
        let other = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(other.open("kid-1", &sealed), Err(JoseError::Envelope));
    }

    #[test]
    fn tampered_envelopes_and_another_kid_are_rejected() {
        let k = key();
        let sealed = k.seal("kid-1", b"secret").unwrap();
        for i in 4..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            assert_eq!(k.open("kid-1", &t), Err(JoseError::Envelope), "byte {i}");
        }
        assert_eq!(k.open("kid-2", &sealed), Err(JoseError::Envelope));
        assert_eq!(
            k.open("kid-1", &sealed[..sealed.len() - 1]),
            Err(JoseError::Envelope)
        );
        assert!(k.open("kid-1", &sealed[..10]).is_err());
        let mut v2 = sealed.clone();
        v2[3] = 2;
        assert!(k.open("kid-1", &v2).is_err(), "unknown version");
    }

    #[test]
    fn master_keys_parse_from_hex_and_base64_of_32_bytes_only() {
        let from_hex = key();
        let bytes: Vec<u8> = (0u8..32).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfbu8; 32]);
        let from_b64 = MasterKey::parse(&format!("{b64}\n")).unwrap();
        let sealed = from_hex.seal("k", b"x").unwrap();
        assert_eq!(from_b64.open("k", &sealed).unwrap(), b"x");
        assert!(MasterKey::parse(&b64url).is_ok());
        assert!(MasterKey::parse(&HEX.to_uppercase()).is_ok());
        for bad in [
            "",
            "abcd",
            &HEX[..62],
            "not base64 at all!!",
            &"A".repeat(60),
        ] {
            assert!(MasterKey::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(format!("{from_hex:?}"), "MasterKey(<redacted>)");
    }
}

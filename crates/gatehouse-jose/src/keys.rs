//! Signing keys: generation, PKCS#8 parsing, public JWK export and key ids.
//!
//! RS256 keys are RSA-2048 (RFC 7518 §3.3), ES256 keys are P-256 (RFC 7518 §3.4). The public
//! JWK follows RFC 7517 §4 and RFC 7518 §6.2/§6.3; the `kid` is the RFC 7638 thumbprint
//! (base64url SHA-256 of the canonical required members), so it is stable across restarts.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_core::SigningAlg;
use jsonwebtoken::DecodingKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::JoseError;

/// Newly generated key material, to be stored (the private part encrypted or protected) and
/// later loaded with [`SigningKey::from_pkcs8`].
pub struct GeneratedKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub private_pkcs8_der: Vec<u8>,
    pub public_jwk: Value,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private_pkcs8_der", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Generates a new key for `alg`: RSA-2048 for RS256, P-256 for ES256.
pub fn generate_key(alg: SigningAlg) -> Result<GeneratedKey, JoseError> {
    let der = match alg {
        SigningAlg::RS256 => {
            let kp =
                RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| JoseError::KeyGeneration)?;
            let der = kp.as_der().map_err(|_| JoseError::KeyGeneration)?;
            der.as_ref().to_vec()
        }
        SigningAlg::ES256 => {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| JoseError::KeyGeneration)?;
            doc.as_ref().to_vec()
        }
    };
    let key = SigningKey::from_pkcs8(alg, &der)?;
    Ok(GeneratedKey {
        kid: key.kid.clone(),
        alg,
        public_jwk: key.public_jwk.clone(),
        private_pkcs8_der: der,
    })
}

pub(crate) enum KeyPairKind {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A parsed signing key kept in memory: the aws-lc-rs key pair, its public JWK, and the
/// `jsonwebtoken` decoding key used to verify tokens signed with it.
pub struct SigningKey {
    kid: String,
    alg: SigningAlg,
    pub(crate) pair: KeyPairKind,
    public_jwk: Value,
    pub(crate) decoding_key: DecodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses an unencrypted PKCS#8 private key (RSA for RS256, P-256 for ES256).
    pub fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<SigningKey, JoseError> {
        let (pair, kid, mut jwk, decoding_key) = match alg {
            SigningAlg::RS256 => {
                let kp = RsaKeyPair::from_pkcs8(der)
                    .map_err(|_| JoseError::InvalidKey("not an RSA PKCS#8 private key"))?;
                if kp.public_modulus_len() < 256 {
                    return Err(JoseError::InvalidKey("RSA modulus shorter than 2048 bits"));
                }
                let c = PublicKeyComponents::<Vec<u8>>::from(kp.public_key());
                let (n, e) = (B64.encode(&c.n), B64.encode(&c.e));
                let dk = DecodingKey::from_rsa_components(&n, &e)
                    .map_err(|_| JoseError::InvalidKey("RSA public components"))?;
                let kid = thumbprint_rsa(&n, &e);
                let jwk = json!({"kty": "RSA", "n": n, "e": e});
                (KeyPairKind::Rsa(kp), kid, jwk, dk)
            }
            SigningAlg::ES256 => {
                let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| JoseError::InvalidKey("not a P-256 PKCS#8 private key"))?;
                let point = kp.public_key().as_ref();
                if point.len() != 65 || point[0] != 0x04 {
                    return Err(JoseError::InvalidKey("unexpected EC public key encoding"));
                }
                let (x, y) = (B64.encode(&point[1..33]), B64.encode(&point[33..]));
                let dk = DecodingKey::from_ec_components(&x, &y)
                    .map_err(|_| JoseError::InvalidKey("EC public components"))?;
                let kid = thumbprint_ec(&x, &y);
                let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y});
                (KeyPairKind::Ec(kp), kid, jwk, dk)
            }
        };
        jwk["use"] = json!("sig");
        jwk["alg"] = json!(alg.as_str());
        jwk["kid"] = json!(kid);
        Ok(SigningKey {
            kid,
            alg,
            pair,
            public_jwk: jwk,
            decoding_key,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The public JWK: `kty`, `use: "sig"`, `alg`, `kid` and `n`/`e` or `crv`/`x`/`y`.
    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }
}

// RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace. The member
// values are base64url strings (no characters needing JSON escaping).
fn thumbprint_rsa(n: &str, e: &str) -> String {
    sha256_b64(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#))
}

fn thumbprint_ec(x: &str, y: &str) -> String {
    sha256_b64(&format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
    ))
}

fn thumbprint_okp(x: &str) -> String {
    sha256_b64(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#))
}

fn sha256_b64(s: &str) -> String {
    B64.encode(Sha256::digest(s.as_bytes()))
}

/// The RFC 7638 SHA-256 thumbprint of an RSA, P-256 EC or Ed25519 OKP public JWK.
pub fn jwk_thumbprint(jwk: &Value) -> Result<String, JoseError> {
    let member = |name: &str| -> Result<&str, JoseError> {
        let v = jwk[name]
            .as_str()
            .ok_or(JoseError::InvalidKey("JWK member missing"))?;
        if v.is_empty()
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(JoseError::InvalidKey("JWK member is not base64url"));
        }
        Ok(v)
    };
    match (jwk["kty"].as_str(), jwk["crv"].as_str()) {
        (Some("RSA"), _) => Ok(thumbprint_rsa(member("n")?, member("e")?)),
        (Some("EC"), Some("P-256")) => Ok(thumbprint_ec(member("x")?, member("y")?)),
        (Some("OKP"), Some("Ed25519")) => Ok(thumbprint_okp(member("x")?)),
        _ => Err(JoseError::InvalidKey("unsupported JWK type")),
    }
}

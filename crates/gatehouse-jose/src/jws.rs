//! Compact JWS signing (RFC 7515 §3.1, §5.1) with RS256 and ES256 (RFC 7518 §3.3, §3.4).
//!
//! The protected header is `{"alg","kid","typ"}`; `typ` is e.g. `JWT` for ID tokens or
//! `at+jwt` for RFC 9068 access tokens. ES256 signatures use the fixed 64-byte `R || S` form
//! required by RFC 7518 §3.4, not DER.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;

use crate::JoseError;
use crate::keys::{KeyPairKind, SigningKey};

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

impl SigningKey {
    /// Signs `claims` as a compact JWS with header `{"alg","typ","kid"}`.
    pub fn sign_jws<C: Serialize>(&self, typ: &str, claims: &C) -> Result<String, JoseError> {
        let header = Header {
            alg: self.alg().as_str(),
            typ,
            kid: self.kid(),
        };
        let header = serde_json::to_vec(&header).map_err(|_| JoseError::Claims)?;
        let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Claims)?;
        let mut out = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 350);
        B64.encode_string(&header, &mut out);
        out.push('.');
        B64.encode_string(&payload, &mut out);
        let signature = self.sign_raw(out.as_bytes())?;
        out.push('.');
        B64.encode_string(&signature, &mut out);
        Ok(out)
    }

    /// Signs `claims` as a compact JWS with the caller's protected `header` (which must name
    /// this key's `alg`), e.g. a DPoP proof's `{"typ","alg","jwk"}` (RFC 9449 §4.2).
    pub fn sign_with_header<H: Serialize, C: Serialize>(
        &self,
        header: &H,
        claims: &C,
    ) -> Result<String, JoseError> {
        let header = serde_json::to_vec(header).map_err(|_| JoseError::Claims)?;
        let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Claims)?;
        let mut out = B64.encode(&header);
        out.push('.');
        B64.encode_string(&payload, &mut out);
        let signature = self.sign_raw(out.as_bytes())?;
        out.push('.');
        B64.encode_string(&signature, &mut out);
        Ok(out)
    }

    /// Signs the JWS signing input (`BASE64URL(header) || '.' || BASE64URL(payload)`).
    fn sign_raw(&self, input: &[u8]) -> Result<Vec<u8>, JoseError> {
        let rng = SystemRandom::new();
        match &self.pair {
            KeyPairKind::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&RSA_PKCS1_SHA256, &rng, input, &mut sig)
                    .map_err(|_| JoseError::Signing)?;
                Ok(sig)
            }
            KeyPairKind::Ec(kp) => {
                let sig = kp.sign(&rng, input).map_err(|_| JoseError::Signing)?;
                Ok(sig.as_ref().to_vec())
            }
        }
    }
}

/// Seeds aws-lc's random generator, which every RS256 (blinding) and ES256 (nonce) signature
/// draws from. A process's first draw gathers CPU-jitter entropy for the generator's root seed:
/// tens of milliseconds of CPU, which would otherwise land on the first token request after a
/// start. The server calls this on a blocking thread once it listens.
pub fn warm_up_random() {
    let mut byte = [0u8; 1];
    // A failure here would recur on the first signature, which reports it; nothing to do.
    let _ = aws_lc_rs::rand::fill(&mut byte);
}

/// Decodes the protected header of a compact JWS without verifying anything.
pub(crate) fn decode_header(token: &str) -> Result<serde_json::Value, JoseError> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::InvalidToken("malformed"));
    };
    let bytes = B64
        .decode(h)
        .map_err(|_| JoseError::InvalidToken("malformed header"))?;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| JoseError::InvalidToken("malformed header"))?;
    if !header.is_object() {
        return Err(JoseError::InvalidToken("malformed header"));
    }
    Ok(header)
}

/// Compares media types as RFC 7515 §4.1.9 asks: case-insensitively, with an optional
/// `application/` prefix.
pub(crate) fn typ_matches(actual: Option<&str>, expected: &str) -> bool {
    fn strip(s: &str) -> &str {
        match s.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => &s[12..],
            _ => s,
        }
    }
    actual.is_some_and(|a| strip(a).eq_ignore_ascii_case(strip(expected)))
}

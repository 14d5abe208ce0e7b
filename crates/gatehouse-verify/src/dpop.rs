//! DPoP proofs for DPoP-bound access tokens (RFC 9449 §4.3 checks, §7.1 resource access).
//!
//! A proof is accepted when: it is one compact JWS; `typ` is `dpop+jwt`; `alg` is asymmetric
//! and matches the `jwk` header, which is a public key (no private members); the signature
//! verifies with that key; `htm` is the request method and `htu` the request URL (without
//! query and fragment); `iat` is recent (`max_age`, with a small future skew); `ath` is the
//! SHA-256 of the access token; the key's RFC 7638 thumbprint equals the token's `cnf.jkt`;
//! the `nonce` is current when nonces are required; and its `jti` was not seen before for
//! that key. The `jti` cache is bounded: when full of live entries, new proofs are refused
//! (503) rather than accepted unchecked.

use std::sync::Mutex;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::VerifyError;
use crate::cache::{Full, TtlCache};
use crate::clock::{SharedClock, unix_secs};
use crate::config::DpopConfig;
use crate::jwt::typ_is;

/// Algorithms accepted for proofs, as advertised in the metadata and challenge.
pub const DPOP_ALGS: &[&str] = &["ES256", "ES384", "RS256", "PS256", "EdDSA"];
const MAX_PROOF_LEN: usize = 8 * 1024;
/// JWK members that only private keys have.
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What a proof is checked against.
pub struct DpopRequest<'a> {
    /// The `DPoP` header value.
    pub proof: &'a str,
    /// The request method, e.g. `GET`.
    pub method: &'a str,
    /// The request URL as the client addressed it, without query or fragment.
    pub url: &'a str,
    /// The access token presented with the proof.
    pub access_token: &'a str,
    /// The token's `cnf.jkt`.
    pub jkt: &'a str,
}

#[derive(Deserialize)]
struct ProofHeader {
    typ: Option<String>,
    alg: Option<String>,
    jwk: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: f64,
    ath: Option<String>,
    nonce: Option<String>,
}

struct Nonces {
    current: String,
    previous: Option<String>,
    rotated_at: SystemTime,
}

pub(crate) struct DpopVerifier {
    config: DpopConfig,
    clock: SharedClock,
    seen: TtlCache<String, ()>,
    nonces: Mutex<Nonces>,
}

impl DpopVerifier {
    pub(crate) fn new(config: DpopConfig, clock: SharedClock) -> Self {
        let now = clock.now();
        Self {
            seen: TtlCache::new(config.replay_capacity, Full::Refuse),
            config,
            clock,
            nonces: Mutex::new(Nonces {
                current: random_nonce(),
                previous: None,
                rotated_at: now,
            }),
        }
    }

    /// The nonce clients must use now (rotated every `max_age`; the previous one stays valid
    /// for one more period).
    pub(crate) fn nonce(&self) -> String {
        let now = self.clock.now();
        let mut n = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(n.rotated_at).unwrap_or_default() >= self.config.max_age {
            n.previous = Some(std::mem::replace(&mut n.current, random_nonce()));
            n.rotated_at = now;
        }
        n.current.clone()
    }

    pub(crate) fn verify(&self, req: &DpopRequest<'_>) -> Result<(), VerifyError> {
        let bad = VerifyError::InvalidDpopProof;
        if req.proof.len() > MAX_PROOF_LEN {
            return Err(bad("proof too long"));
        }
        let (header, jwk) = proof_header(req.proof)?;
        let alg = proof_alg(&header, &jwk)?;
        let mut v = Validation::new(alg);
        v.validate_exp = false;
        v.validate_aud = false;
        v.set_required_spec_claims::<&str>(&[]);
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| bad("unusable jwk"))?;
        let claims = jsonwebtoken::decode::<ProofClaims>(req.proof, &key, &v)
            .map_err(|_| bad("bad signature or claims"))?
            .claims;
        self.check_claims(&claims, req)?;
        let thumbprint = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|_| bad("unusable jwk"))?;
        if thumbprint != req.jkt {
            return Err(bad("key does not match the token's cnf.jkt"));
        }
        // Last, so only otherwise valid proofs take room in the replay cache.
        let now = self.clock.now();
        let until = now + self.config.max_age + self.config.future_skew * 2;
        let replay_key = format!("{thumbprint}:{}", claims.jti);
        if self.seen.get(&replay_key, now).is_some() {
            return Err(bad("proof replayed"));
        }
        if !self.seen.insert_new(replay_key, (), until, now) {
            return Err(VerifyError::Unavailable("DPoP replay cache full".into()));
        }
        Ok(())
    }

    fn check_claims(&self, c: &ProofClaims, req: &DpopRequest<'_>) -> Result<(), VerifyError> {
        let bad = VerifyError::InvalidDpopProof;
        if c.jti.is_empty() || c.jti.len() > 256 {
            return Err(bad("bad jti"));
        }
        if c.htm != req.method {
            return Err(bad("htm does not match the request method"));
        }
        if !same_url(&c.htu, req.url) {
            return Err(bad("htu does not match the request URL"));
        }
        let now = unix_secs(self.clock.now());
        let iat = c.iat.floor() as i64;
        let max_age = i64::try_from(self.config.max_age.as_secs()).unwrap_or(i64::MAX);
        let skew = i64::try_from(self.config.future_skew.as_secs()).unwrap_or(0);
        if iat > now + skew || iat < now - max_age {
            return Err(bad("iat outside the accepted window"));
        }
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(req.access_token.as_bytes()));
        if c.ath.as_deref() != Some(ath.as_str()) {
            return Err(bad("ath does not match the access token"));
        }
        if self.config.require_nonce {
            let current = self.nonce();
            let n = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
            let ok = c
                .nonce
                .as_deref()
                .is_some_and(|given| given == n.current || n.previous.as_deref() == Some(given));
            if !ok {
                return Err(VerifyError::UseDpopNonce(current));
            }
        }
        Ok(())
    }
}

fn proof_header(proof: &str) -> Result<(ProofHeader, Jwk), VerifyError> {
    let bad = VerifyError::InvalidDpopProof;
    let mut parts = proof.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not a compact JWS"));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| bad("malformed header"))?;
    let header: ProofHeader =
        serde_json::from_slice(&bytes).map_err(|_| bad("malformed header"))?;
    if !typ_is(header.typ.as_deref(), "dpop+jwt") {
        return Err(bad("typ is not dpop+jwt"));
    }
    let raw = header.jwk.as_ref().ok_or(bad("no jwk header"))?;
    if PRIVATE_MEMBERS.iter().any(|m| raw.contains_key(*m)) {
        return Err(bad("jwk holds a private key"));
    }
    let jwk: Jwk = serde_json::from_value(serde_json::Value::Object(raw.clone()))
        .map_err(|_| bad("malformed jwk"))?;
    Ok((header, jwk))
}

/// The proof's algorithm, if asymmetric and fitting its key.
fn proof_alg(header: &ProofHeader, jwk: &Jwk) -> Result<Algorithm, VerifyError> {
    let bad = VerifyError::InvalidDpopProof("algorithm not allowed for this key");
    let name = header.alg.as_deref().ok_or(bad.clone())?;
    if !DPOP_ALGS.contains(&name) {
        return Err(bad);
    }
    let alg: Algorithm = name.parse().map_err(|_| bad.clone())?;
    let fits = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(p), Algorithm::RS256 | Algorithm::PS256) => {
            let n = URL_SAFE_NO_PAD.decode(&p.n).unwrap_or_default();
            n.iter().skip_while(|b| **b == 0).count() >= 256
        }
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES384) => p.curve == EllipticCurve::P384,
        (AlgorithmParameters::OctetKeyPair(p), Algorithm::EdDSA) => {
            p.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    if fits { Ok(alg) } else { Err(bad) }
}

/// RFC 9449 §4.3 item 9: compare without query and fragment, after URL normalisation
/// (scheme and host case, default ports).
fn same_url(htu: &str, request: &str) -> bool {
    let norm = |s: &str| {
        url::Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
    };
    matches!((norm(htu), norm(request)), (Some(a), Some(b)) if a == b)
}

fn random_nonce() -> String {
    let mut b = [0u8; 16];
    // A failing OS RNG is not recoverable; a predictable nonce would be worse than none.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut b).expect("OS random number generator");
    URL_SAFE_NO_PAD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_ignores_query_fragment_and_default_port() {
        assert!(same_url(
            "https://API.example.com:443/v1/x?a=1",
            "https://api.example.com/v1/x"
        ));
        assert!(!same_url(
            "https://api.example.com/v1/y",
            "https://api.example.com/v1/x"
        ));
        assert!(!same_url("not a url", "https://api.example.com/v1/x"));
    }
}

//! The server's key ring: at most one active signing key per algorithm plus published keys
//! (retired or pre-published) kept for verification, the JWKS document (RFC 7517 §5), and the
//! verification of our own JWTs (RFC 7515 §5.2; RFC 9068 §4 for `typ: at+jwt`).
//!
//! Verification pins the algorithm to the key named by `kid`: a header `alg` differing from the
//! key's algorithm (including `none` and HMAC algorithms) is refused before any cryptography.

use std::sync::Arc;

use gatehouse_core::SigningAlg;
use gatehouse_core::ports::{SignError, TokenSigner};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Serialize;
use serde_json::{Value, json};

use crate::JoseError;
use crate::jws::{decode_header, typ_matches};
use crate::keys::SigningKey;

/// A key of the ring; `active` keys sign new tokens, all keys verify and are published.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    pub key: Arc<SigningKey>,
    pub active: bool,
}

/// The set of keys of the server.
#[derive(Debug, Clone)]
pub struct KeyRing {
    entries: Vec<KeyEntry>,
    /// Index into `entries` of the active key, per algorithm (see [`slot`]).
    active: [Option<usize>; 2],
    leeway: u64,
}

fn slot(alg: SigningAlg) -> usize {
    match alg {
        SigningAlg::RS256 => 0,
        SigningAlg::ES256 => 1,
    }
}

impl KeyRing {
    /// Builds a ring. If several entries of one algorithm are marked active, the first one is
    /// used for signing; the others are only published. Expiry leeway defaults to 0 seconds.
    pub fn new(entries: Vec<KeyEntry>) -> KeyRing {
        let mut active = [None; 2];
        for (i, e) in entries.iter().enumerate() {
            let s = &mut active[slot(e.key.alg())];
            if e.active && s.is_none() {
                *s = Some(i);
            }
        }
        KeyRing {
            entries,
            active,
            leeway: 0,
        }
    }

    /// Sets the clock-skew leeway applied to `exp`, clamped to 0..=60 seconds.
    pub fn with_leeway(mut self, seconds: u64) -> KeyRing {
        self.leeway = seconds.min(60);
        self
    }

    /// The key that signs new tokens for `alg`.
    pub fn active(&self, alg: SigningAlg) -> Option<&SigningKey> {
        self.active[slot(alg)].map(|i| &*self.entries[i].key)
    }

    /// Any key of the ring, by key id.
    pub fn get(&self, kid: &str) -> Option<&SigningKey> {
        self.entries
            .iter()
            .map(|e| &*e.key)
            .find(|k| k.kid() == kid)
    }

    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key.kid())
    }

    /// The JWKS document `{"keys": [...]}`: the public JWK of every key of the ring.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .entries
            .iter()
            .map(|e| e.key.public_jwk().clone())
            .collect();
        json!({ "keys": keys })
    }

    /// Verifies a compact JWS signed by one of our keys and returns its claims.
    ///
    /// Checks: known `kid`; header `alg` equal to that key's algorithm; no `crit` header;
    /// header `typ` equal to `expected_typ` (case-insensitive, `application/` prefix optional);
    /// the signature; `exp` present and not past (with the ring's leeway); `iss` equal to
    /// `issuer`; and, only when `audience` is given, `aud` present and containing it.
    pub fn verify(
        &self,
        token: &str,
        expected_typ: &str,
        issuer: &str,
        audience: Option<&str>,
    ) -> Result<Value, JoseError> {
        self.verify_with(token, expected_typ, issuer, audience, true)
    }

    /// Like [`KeyRing::verify`] without an audience, but an expired token (or one without
    /// `exp`) is accepted. For hints only, such as the `id_token_hint` of RP-initiated logout,
    /// which may be expired (OpenID Connect RP-Initiated Logout 1.0 §2); never for credentials.
    pub fn verify_allowing_expired(
        &self,
        token: &str,
        expected_typ: &str,
        issuer: &str,
    ) -> Result<Value, JoseError> {
        self.verify_with(token, expected_typ, issuer, None, false)
    }

    fn verify_with(
        &self,
        token: &str,
        expected_typ: &str,
        issuer: &str,
        audience: Option<&str>,
        check_exp: bool,
    ) -> Result<Value, JoseError> {
        let header = decode_header(token)?;
        let kid = header["kid"]
            .as_str()
            .ok_or(JoseError::InvalidToken("missing kid"))?;
        let key = self
            .get(kid)
            .ok_or(JoseError::InvalidToken("unknown key"))?;
        if header["alg"].as_str() != Some(key.alg().as_str()) {
            return Err(JoseError::InvalidToken("algorithm mismatch"));
        }
        if header.get("crit").is_some() {
            return Err(JoseError::InvalidToken("unsupported critical header"));
        }
        if !typ_matches(header["typ"].as_str(), expected_typ) {
            return Err(JoseError::InvalidToken("unexpected typ"));
        }
        let mut validation = Validation::new(match key.alg() {
            SigningAlg::RS256 => Algorithm::RS256,
            SigningAlg::ES256 => Algorithm::ES256,
        });
        validation.leeway = self.leeway;
        validation.set_issuer(&[issuer]);
        match audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            }
            None => {
                validation.validate_aud = false;
                validation.set_required_spec_claims(&["exp", "iss"]);
            }
        }
        if !check_exp {
            validation.validate_exp = false;
            validation.set_required_spec_claims(&["iss"]);
        }
        jsonwebtoken::decode::<Value>(token, &key.decoding_key, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                JoseError::InvalidToken(match e.kind() {
                    ErrorKind::InvalidSignature => "bad signature",
                    ErrorKind::ExpiredSignature => "expired",
                    ErrorKind::InvalidIssuer => "issuer mismatch",
                    ErrorKind::InvalidAudience => "audience mismatch",
                    ErrorKind::MissingRequiredClaim(_) => "missing required claim",
                    _ => "rejected",
                })
            })
    }
}

/// The tokens presented for an RFC 8693 exchange: ours, by any of the ring's keys, any
/// audience (expiry also against the clock; the core checks it against the injected one).
impl gatehouse_core::grant::delegation::IssuedTokenVerifier for KeyRing {
    fn verify_issued(&self, token: &str, typ: &str, issuer: &str) -> Option<Value> {
        self.verify(token, typ, issuer, None).ok()
    }
}

impl TokenSigner for KeyRing {
    fn sign<C: Serialize>(
        &self,
        alg: SigningAlg,
        typ: &str,
        claims: &C,
    ) -> Result<String, SignError> {
        let key = self.active(alg).ok_or(SignError::NoActiveKey(alg))?;
        key.sign_jws(typ, claims)
            .map_err(|e| SignError::Failed(e.to_string()))
    }
}

//! DPoP proofs (RFC 9449 §4.3): the signature check with the proof's own `jwk` and the key's
//! RFC 7638 thumbprint, behind the core's [`ProofVerifier`] port. Every other rule (header
//! members, claims, replay, nonces) is the core's (`gatehouse_core::dpop`).

use gatehouse_core::dpop::ProofVerifier;
use serde_json::{Map, Value, json};

use crate::client_assertion::{AssertionError, parse_public_jwks, verify_signature};
use crate::jwk_thumbprint;

/// The [`ProofVerifier`] of the server.
#[derive(Debug, Clone, Copy, Default)]
pub struct DpopVerifier;

impl ProofVerifier for DpopVerifier {
    fn verify_proof(&self, proof: &str, jwk: &Value) -> Result<Map<String, Value>, &'static str> {
        // The one key is the proof's own: whatever `kid` the header names, it names this key.
        let kid = crate::jws::decode_header(proof)
            .ok()
            .and_then(|h| h.get("kid").cloned());
        let mut key = jwk.clone();
        if let Some(k) = key.as_object_mut() {
            match kid {
                Some(kid) => k.insert("kid".into(), kid),
                None => k.remove("kid"),
            };
        }
        let set = parse_public_jwks(&json!({ "keys": [key] }))
            .map_err(|_| "the DPoP proof's jwk is not a supported public signing key")?;
        match verify_signature(proof, &set) {
            Ok(Value::Object(claims)) => Ok(claims),
            Ok(_) => Err("the DPoP proof's claims are not a JSON object"),
            Err(AssertionError::UnknownKid) => Err("the DPoP proof's kid does not name its jwk"),
            Err(AssertionError::Invalid(_)) => {
                Err("the DPoP proof's signature does not verify with its jwk")
            }
        }
    }

    fn thumbprint(&self, jwk: &Value) -> Result<String, &'static str> {
        jwk_thumbprint(jwk).map_err(|_| "the DPoP proof's jwk has no thumbprint")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SigningKey, generate_key};
    use gatehouse_core::SigningAlg;

    fn key() -> SigningKey {
        let g = generate_key(SigningAlg::ES256).unwrap();
        SigningKey::from_pkcs8(SigningAlg::ES256, &g.private_pkcs8_der).unwrap()
    }

    #[test]
    fn a_proof_verifies_with_its_own_jwk_only() {
        let (k, other) = (key(), key());
        let jwk = k.public_jwk().clone();
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk, "kid": "anything"});
        let proof = k.sign_with_header(&header, &json!({"jti": "j"})).unwrap();
        let claims = DpopVerifier.verify_proof(&proof, &jwk).unwrap();
        assert_eq!(claims["jti"], "j");
        assert!(
            DpopVerifier
                .verify_proof(&proof, other.public_jwk())
                .is_err()
        );
        let private = json!({"kty": "oct", "k": "c2VjcmV0"});
        assert!(DpopVerifier.verify_proof(&proof, &private).is_err());
    }

    #[test]
    fn ed25519_thumbprint_matches_rfc8037_a_3() {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(
            DpopVerifier.thumbprint(&jwk).unwrap(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}

//! Verification of JWT assertions signed by a client or a trusted issuer: `private_key_jwt`
//! client authentication (OIDC Core §9, RFC 7523 §2.2 and §3) and the JWT bearer grant
//! (RFC 7523 §2.1 and §3).
//!
//! - [`parse_public_jwks`] checks a JWKS an operator registers (or a client publishes at its
//!   `jwks_uri`): public signing keys only (RSA of at least 2048 bits, EC P-256, OKP Ed25519),
//!   never a private or symmetric member.
//! - [`verify_assertion`] checks the signature against such a set and the time and audience
//!   claims against an injected `now`; identity (`iss`/`sub`) and `jti` single use are the
//!   caller's (the protocol core's) business.
//!
//! Algorithms are pinned to the key (RFC 8725 §3.1): a JWK that names an `alg` accepts only that
//! one; otherwise the key type decides (RSA: RS256 or PS256; P-256: ES256; Ed25519: EdDSA).
//! `none` and every HMAC algorithm are refused, so a public key can never be used as an HMAC
//! secret. Keys offered in the JWS header (`jwk`, `jku`, `x5u`, `x5c`) are ignored, and a `crit`
//! header is refused (RFC 7515 §4.1.11: we understand no extensions).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// Largest assertion we look at; real ones are well under 4 KiB.
pub const MAX_ASSERTION_LEN: usize = 8 * 1024;
/// Most keys a registered or fetched JWKS may hold.
pub const MAX_KEYS: usize = 16;
/// Longest `jti`, `iss` or `sub` we accept.
const MAX_CLAIM_LEN: usize = 512;

/// JWK members that belong to private or symmetric keys (RFC 7518 §6.2.2, §6.3.2, §6.4;
/// RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The additional authenticated data that binds a `client_secret_jwt` secret, sealed under the
/// master key, to its client: an envelope copied to another client's row does not open.
pub fn hmac_secret_label(client_id: &str) -> String {
    format!("client_secret_jwt:{client_id}")
}

/// Why an assertion was refused. Messages are short and never echo token contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// The header names a `kid` the key set does not hold: the caller may refresh a fetched set
    /// and try again.
    #[error("unknown key id")]
    UnknownKid,
    #[error("{0}")]
    Invalid(&'static str),
}

/// What the verified assertion must satisfy besides its signature. Times are Unix seconds.
#[derive(Debug, Clone)]
pub struct AssertionCheck<'a> {
    /// Acceptable `aud` values (the issuer and the token endpoint URL).
    pub audiences: &'a [String],
    /// The current time, from the injected clock.
    pub now: i64,
    /// Longest accepted `exp - now` (and `exp - iat`), seconds.
    pub max_lifetime: i64,
    /// Tolerated clock skew for `exp`, `iat` and `nbf`, seconds.
    pub skew: i64,
}

/// The claims of a verified assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionClaims {
    pub iss: String,
    pub sub: String,
    pub jti: String,
    pub exp: i64,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<Value>,
    sub: Option<Value>,
    aud: Option<Value>,
    exp: Option<Value>,
    iat: Option<Value>,
    nbf: Option<Value>,
    jti: Option<Value>,
}

/// Checks and parses a JWKS of public signing keys. Refuses private or symmetric members, keys
/// of other types or curves, RSA keys under 2048 bits, keys meant for encryption, and sets with
/// no usable key or more than [`MAX_KEYS`].
pub fn parse_public_jwks(v: &Value) -> Result<JwkSet, &'static str> {
    let keys = v
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("not a JWKS: expected an object with a \"keys\" array")?;
    if keys.is_empty() {
        return Err("the JWKS has no keys");
    }
    if keys.len() > MAX_KEYS {
        return Err("the JWKS has too many keys (at most 16)");
    }
    for k in keys {
        let obj = k.as_object().ok_or("a JWKS key is not a JSON object")?;
        if PRIVATE_MEMBERS.iter().any(|m| obj.contains_key(*m)) {
            return Err(
                "the JWKS contains private or symmetric key material: publish public keys only",
            );
        }
        if obj.get("use").is_some_and(|u| u != "sig") {
            return Err("a JWKS key has \"use\" other than \"sig\"");
        }
    }
    let set: JwkSet = serde_json::from_value(v.clone())
        .map_err(|_| "the JWKS does not parse as RFC 7517 keys")?;
    for jwk in &set.keys {
        if allowed_algs(jwk).is_empty() {
            return Err(
                "a JWKS key is not a supported public signing key (RSA >= 2048 bits, EC P-256, OKP Ed25519; alg RS256, PS256, ES256 or EdDSA)",
            );
        }
        DecodingKey::from_jwk(jwk).map_err(|_| "a JWKS key has malformed parameters")?;
    }
    Ok(set)
}

/// The algorithms a key may verify: its pinned `alg`, else its type's family, restricted to
/// RS256, PS256, ES256 and EdDSA.
fn allowed_algs(jwk: &Jwk) -> Vec<Algorithm> {
    let family: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(p) => {
            let n_len = B64.decode(p.n.trim_end_matches('=')).map(|n| {
                let leading_zeros = n.iter().take_while(|b| **b == 0).count();
                n.len() - leading_zeros
            });
            if n_len.map_or(true, |l| l < 256) {
                return vec![];
            }
            &[Algorithm::RS256, Algorithm::PS256]
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            &[Algorithm::ES256]
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            &[Algorithm::EdDSA]
        }
        _ => return vec![],
    };
    match jwk.common.key_algorithm {
        None => family.to_vec(),
        Some(pinned) => {
            let pinned = match pinned {
                KeyAlgorithm::RS256 => Algorithm::RS256,
                KeyAlgorithm::PS256 => Algorithm::PS256,
                KeyAlgorithm::ES256 => Algorithm::ES256,
                KeyAlgorithm::EdDSA => Algorithm::EdDSA,
                _ => return vec![],
            };
            if family.contains(&pinned) {
                vec![pinned]
            } else {
                vec![]
            }
        }
    }
}

/// The `kid` of an assertion's header, unverified (to choose a key source before verifying).
pub fn assertion_kid(token: &str) -> Option<String> {
    if token.len() > MAX_ASSERTION_LEN {
        return None;
    }
    crate::jws::decode_header(token)
        .ok()?
        .get("kid")?
        .as_str()
        .map(str::to_owned)
}

/// Verifies `token` against `keys` and checks `aud`, `exp`, `iat`, `nbf` and the presence of
/// `iss`, `sub` and `jti`. Returns [`AssertionError::UnknownKid`] when the header names a key
/// the set lacks.
pub fn verify_assertion(
    token: &str,
    keys: &JwkSet,
    check: &AssertionCheck<'_>,
) -> Result<AssertionClaims, AssertionError> {
    check_claims(verify_signature(token, keys)?, check)
}

/// Verifies only the signature of `token` against `keys` (alg pinned to the key, `none`,
/// HMAC and `crit` refused) and returns its payload, a JSON object. The claims are the
/// caller's to check: signed request objects (RFC 9101) have rules of their own.
pub fn verify_signature(token: &str, keys: &JwkSet) -> Result<Value, AssertionError> {
    use AssertionError::Invalid;
    let raw_header = checked_header(token)?;
    let alg = match raw_header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Algorithm::RS256,
        Some("PS256") => Algorithm::PS256,
        Some("ES256") => Algorithm::ES256,
        Some("EdDSA") => Algorithm::EdDSA,
        _ => return Err(Invalid("the assertion's alg is not accepted")),
    };
    let kid = match raw_header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(_) => return Err(Invalid("the assertion's kid is not a string")),
    };
    let candidates: Vec<&Jwk> = match kid {
        Some(k) => vec![keys.find(k).ok_or(AssertionError::UnknownKid)?],
        None => keys.keys.iter().collect(),
    };
    let validation = signature_only(alg);
    for jwk in candidates {
        if !allowed_algs(jwk).contains(&alg) {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        if let Ok(data) = jsonwebtoken::decode::<Value>(token, &key, &validation) {
            if !data.claims.is_object() {
                return Err(Invalid("the assertion's claims are not a JSON object"));
            }
            return Ok(data.claims);
        }
    }
    Err(Invalid(
        "the assertion's signature does not verify with the registered keys",
    ))
}

/// Verifies a `client_secret_jwt` assertion (OIDC Core §9): HS256 keyed with the client
/// secret, and no other algorithm; then the same claim checks as [`verify_assertion`].
pub fn verify_hmac_assertion(
    token: &str,
    secret: &[u8],
    check: &AssertionCheck<'_>,
) -> Result<AssertionClaims, AssertionError> {
    use AssertionError::Invalid;
    let raw_header = checked_header(token)?;
    if raw_header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(Invalid("the assertion's alg is not accepted"));
    }
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(secret),
        &signature_only(Algorithm::HS256),
    )
    .map_err(|_| Invalid("the assertion's signature does not verify with the client secret"))?
    .claims;
    check_claims(claims, check)
}

/// Our own strict header parse before any signature check: a bounded size, exactly three
/// parts, a JSON object, no `crit`.
fn checked_header(token: &str) -> Result<Value, AssertionError> {
    use AssertionError::Invalid;
    if token.len() > MAX_ASSERTION_LEN {
        return Err(Invalid("the assertion is too large"));
    }
    let header =
        crate::jws::decode_header(token).map_err(|_| Invalid("the assertion is not a JWS"))?;
    if header.get("crit").is_some() {
        return Err(Invalid("the assertion uses critical header extensions"));
    }
    Ok(header)
}

/// jsonwebtoken checks the signature and `alg` only; [`check_claims`] does the rest against
/// the injected clock.
fn signature_only(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.leeway = 0;
    v
}

/// The claim checks shared by every assertion: `iss`, `sub`, `jti` present; `aud` one of ours;
/// `exp` present, not past and not too far ahead; `iat` and `nbf` not in the future.
fn check_claims(
    claims: Value,
    check: &AssertionCheck<'_>,
) -> Result<AssertionClaims, AssertionError> {
    use AssertionError::Invalid;
    let raw: RawClaims = serde_json::from_value(claims)
        .map_err(|_| Invalid("the assertion's claims are malformed"))?;
    let string = |v: Option<Value>, missing: &'static str| -> Result<String, AssertionError> {
        match v {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_CLAIM_LEN => Ok(s),
            _ => Err(Invalid(missing)),
        }
    };
    let number = |v: &Option<Value>, bad: &'static str| -> Result<Option<i64>, AssertionError> {
        match v {
            None => Ok(None),
            Some(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                .map(Some)
                .ok_or(Invalid(bad)),
        }
    };
    let iss = string(raw.iss, "the assertion needs an iss claim")?;
    let sub = string(raw.sub, "the assertion needs a sub claim")?;
    let jti = string(raw.jti, "the assertion needs a jti claim")?;
    let aud_ok = match &raw.aud {
        Some(Value::String(a)) => check.audiences.iter().any(|x| x == a),
        Some(Value::Array(list)) => list.iter().any(|a| {
            a.as_str()
                .is_some_and(|a| check.audiences.iter().any(|x| x == a))
        }),
        _ => false,
    };
    if !aud_ok {
        return Err(Invalid(
            "the assertion's aud must be the issuer or the token endpoint",
        ));
    }
    let exp = number(&raw.exp, "the assertion's exp is not a number")?
        .ok_or(Invalid("the assertion needs an exp claim"))?;
    let iat = number(&raw.iat, "the assertion's iat is not a number")?;
    let nbf = number(&raw.nbf, "the assertion's nbf is not a number")?;
    let now = check.now;
    if exp.saturating_add(check.skew) <= now {
        return Err(Invalid("the assertion has expired"));
    }
    if exp.saturating_sub(now) > check.max_lifetime.saturating_add(check.skew) {
        return Err(Invalid("the assertion's exp is too far in the future"));
    }
    if let Some(iat) = iat {
        if iat > now.saturating_add(check.skew) {
            return Err(Invalid("the assertion was issued in the future"));
        }
        if exp.saturating_sub(iat) > check.max_lifetime.saturating_add(check.skew) {
            return Err(Invalid("the assertion's lifetime is too long"));
        }
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(check.skew)) {
        return Err(Invalid("the assertion is not valid yet"));
    }
    Ok(AssertionClaims { iss, sub, jti, exp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SigningKey, generate_key};
    use gatehouse_core::SigningAlg;
    use serde_json::json;
    use std::sync::OnceLock;

    const NOW: i64 = 1_800_000_000;
    const ISS: &str = "https://issuer.example";

    fn key(alg: SigningAlg) -> &'static SigningKey {
        static RSA: OnceLock<SigningKey> = OnceLock::new();
        static EC: OnceLock<SigningKey> = OnceLock::new();
        let cell = match alg {
            SigningAlg::RS256 => &RSA,
            SigningAlg::ES256 => &EC,
        };
        cell.get_or_init(|| {
            let g = generate_key(alg).unwrap();
            SigningKey::from_pkcs8(alg, &g.private_pkcs8_der).unwrap()
        })
    }

    fn jwks(alg: SigningAlg) -> JwkSet {
        parse_public_jwks(&json!({"keys": [key(alg).public_jwk()]})).unwrap()
    }

    fn auds() -> Vec<String> {
        vec![ISS.to_owned(), format!("{ISS}/oauth/token")]
    }

    fn check(auds: &[String]) -> AssertionCheck<'_> {
        AssertionCheck {
            audiences: auds,
            now: NOW,
            max_lifetime: 300,
            skew: 60,
        }
    }

    fn claims() -> Value {
        json!({"iss": "c1", "sub": "c1", "aud": ISS, "jti": "j1", "exp": NOW + 120, "iat": NOW})
    }

    fn sign(alg: SigningAlg, c: &Value) -> String {
        key(alg).sign_jws("JWT", c).unwrap()
    }

    fn unsigned(header: Value, c: &Value, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            B64.encode(header.to_string()),
            B64.encode(c.to_string()),
            B64.encode(sig)
        )
    }

    #[test]
    fn rs256_and_es256_assertions_verify_and_return_the_claims() {
        let a = auds();
        for alg in SigningAlg::ALL {
            let got = verify_assertion(&sign(alg, &claims()), &jwks(alg), &check(&a)).unwrap();
            assert_eq!(got.iss, "c1");
            assert_eq!(got.sub, "c1");
            assert_eq!(got.jti, "j1");
            assert_eq!(got.exp, NOW + 120);
        }
    }

    #[test]
    fn aud_may_be_the_token_endpoint_or_an_array_containing_one() {
        let a = auds();
        let mut c = claims();
        c["aud"] = json!(format!("{ISS}/oauth/token"));
        assert!(
            verify_assertion(
                &sign(SigningAlg::ES256, &c),
                &jwks(SigningAlg::ES256),
                &check(&a)
            )
            .is_ok()
        );
        c["aud"] = json!(["https://other.example", ISS]);
        assert!(
            verify_assertion(
                &sign(SigningAlg::ES256, &c),
                &jwks(SigningAlg::ES256),
                &check(&a)
            )
            .is_ok()
        );
        for bad in [
            json!("https://other.example"),
            json!([]),
            json!(null),
            json!(5),
        ] {
            c["aud"] = bad;
            assert!(
                verify_assertion(
                    &sign(SigningAlg::ES256, &c),
                    &jwks(SigningAlg::ES256),
                    &check(&a)
                )
                .is_err()
            );
        }
    }

    #[test]
    fn time_checks_use_the_given_now() {
        let a = auds();
        let k = jwks(SigningAlg::ES256);
        let run = |c: &Value| verify_assertion(&sign(SigningAlg::ES256, c), &k, &check(&a));
        let mut c = claims();
        c["exp"] = json!(NOW - 61);
        assert_eq!(
            run(&c),
            Err(AssertionError::Invalid("the assertion has expired"))
        );
        c["exp"] = json!(NOW + 3600);
        c["iat"] = json!(NOW);
        assert!(run(&c).is_err(), "exp beyond the maximum lifetime");
        c["exp"] = json!(NOW + 100);
        c["iat"] = json!(NOW - 600);
        assert!(run(&c).is_err(), "exp - iat beyond the maximum lifetime");
        c["iat"] = json!(NOW + 600);
        assert!(run(&c).is_err(), "iat in the future");
        c["iat"] = json!(NOW);
        c["nbf"] = json!(NOW + 600);
        assert!(run(&c).is_err(), "nbf in the future");
        c["nbf"] = json!(NOW + 30);
        assert!(run(&c).is_ok(), "within the skew");
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        assert!(run(&c).is_err(), "exp is required");
    }

    #[test]
    fn iss_sub_and_jti_are_required() {
        let a = auds();
        for name in ["iss", "sub", "jti"] {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(name);
            assert!(
                verify_assertion(
                    &sign(SigningAlg::RS256, &c),
                    &jwks(SigningAlg::RS256),
                    &check(&a)
                )
                .is_err()
            );
            c[name] = json!(42);
            assert!(
                verify_assertion(
                    &sign(SigningAlg::RS256, &c),
                    &jwks(SigningAlg::RS256),
                    &check(&a)
                )
                .is_err()
            );
        }
    }

    #[test]
    fn signature_by_another_key_or_tampering_is_refused() {
        let a = auds();
        let token = sign(SigningAlg::ES256, &claims());
        let other = parse_public_jwks(&json!({"keys": [
            generate_key(SigningAlg::ES256).unwrap().public_jwk
        ]}))
        .unwrap();
        assert!(verify_assertion(&token, &other, &check(&a)).is_err());
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut c = claims();
        c["sub"] = json!("someone-else");
        let payload = B64.encode(c.to_string());
        parts[1] = &payload;
        assert!(verify_assertion(&parts.join("."), &jwks(SigningAlg::ES256), &check(&a)).is_err());
    }

    #[test]
    fn unknown_kid_is_reported_so_the_caller_can_refresh() {
        let a = auds();
        let token = sign(SigningAlg::RS256, &claims());
        assert_eq!(
            verify_assertion(&token, &jwks(SigningAlg::ES256), &check(&a)),
            Err(AssertionError::UnknownKid)
        );
        assert_eq!(
            assertion_kid(&token).as_deref(),
            Some(key(SigningAlg::RS256).kid())
        );
    }

    #[test]
    fn alg_none_and_hmac_with_the_public_key_are_refused() {
        let a = auds();
        let k = jwks(SigningAlg::RS256);
        let kid = key(SigningAlg::RS256).kid();
        let none = unsigned(json!({"alg": "none", "kid": kid}), &claims(), b"");
        assert!(verify_assertion(&none, &k, &check(&a)).is_err());
        // HS256 keyed with the public key's JSON and with its modulus: the classic confusion.
        let jwk_text = key(SigningAlg::RS256).public_jwk().to_string();
        let n = key(SigningAlg::RS256).public_jwk()["n"]
            .as_str()
            .unwrap()
            .to_owned();
        for secret in [jwk_text.as_bytes(), n.as_bytes()] {
            let mut h = jsonwebtoken::Header::new(Algorithm::HS256);
            h.kid = Some(kid.to_owned());
            let t = jsonwebtoken::encode(
                &h,
                &claims(),
                &jsonwebtoken::EncodingKey::from_secret(secret),
            )
            .unwrap();
            assert!(verify_assertion(&t, &k, &check(&a)).is_err());
        }
    }

    #[test]
    fn alg_is_pinned_to_the_key() {
        let a = auds();
        let mut jwk = key(SigningAlg::RS256).public_jwk().clone();
        jwk["alg"] = json!("PS256");
        let k = parse_public_jwks(&json!({"keys": [jwk]})).unwrap();
        assert!(verify_assertion(&sign(SigningAlg::RS256, &claims()), &k, &check(&a)).is_err());
    }

    #[test]
    fn crit_headers_garbage_and_huge_inputs_are_refused() {
        let a = auds();
        let k = jwks(SigningAlg::ES256);
        let crit = unsigned(
            json!({"alg": "ES256", "crit": ["exp"]}),
            &claims(),
            &[0; 64],
        );
        assert!(verify_assertion(&crit, &k, &check(&a)).is_err());
        for garbage in [
            "",
            "a",
            "a.b",
            "a.b.c",
            "..",
            "e30.e30.",
            "!!!.???.###",
            "a.b.c.d.e",
        ] {
            assert!(
                verify_assertion(garbage, &k, &check(&a)).is_err(),
                "{garbage}"
            );
        }
        let huge = format!("{}.{}.x", "e".repeat(9000), "e");
        assert!(verify_assertion(&huge, &k, &check(&a)).is_err());
    }

    #[test]
    fn registered_jwks_must_hold_public_signing_keys_only() {
        let rsa = key(SigningAlg::RS256).public_jwk().clone();
        assert!(parse_public_jwks(&json!({"keys": [rsa.clone()]})).is_ok());
        let mut private = rsa.clone();
        private["d"] = json!("AQAB");
        assert!(parse_public_jwks(&json!({"keys": [private]})).is_err());
        let oct = json!({"kty": "oct", "k": "c2VjcmV0"});
        assert!(parse_public_jwks(&json!({"keys": [oct]})).is_err());
        let mut enc = rsa.clone();
        enc["use"] = json!("enc");
        assert!(parse_public_jwks(&json!({"keys": [enc]})).is_err());
        let p384 = json!({"kty": "EC", "crv": "P-384", "x": "AQAB", "y": "AQAB"});
        assert!(parse_public_jwks(&json!({"keys": [p384]})).is_err());
        let small = json!({"kty": "RSA", "n": B64.encode([0xffu8; 128]), "e": "AQAB"});
        assert!(parse_public_jwks(&json!({"keys": [small]})).is_err());
        let mut hs = rsa.clone();
        hs["alg"] = json!("HS256");
        assert!(parse_public_jwks(&json!({"keys": [hs]})).is_err());
        assert!(parse_public_jwks(&json!({"keys": []})).is_err());
        assert!(parse_public_jwks(&json!([rsa])).is_err());
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode([7u8; 32])});
        assert!(parse_public_jwks(&json!({"keys": [ed]})).is_ok());
    }

    fn hs256(secret: &[u8], c: &Value) -> String {
        let header = jsonwebtoken::Header::new(Algorithm::HS256);
        jsonwebtoken::encode(&header, c, &jsonwebtoken::EncodingKey::from_secret(secret)).unwrap()
    }

    #[test]
    fn client_secret_jwt_accepts_hs256_with_the_secret_only() {
        let a = auds();
        let secret = b"a client secret of 43 characters, base64url";
        let got = verify_hmac_assertion(&hs256(secret, &claims()), secret, &check(&a)).unwrap();
        assert_eq!((got.iss.as_str(), got.jti.as_str()), ("c1", "j1"));
        // Another secret, another algorithm, `none`, expired, wrong audience: refused.
        assert!(verify_hmac_assertion(&hs256(b"other", &claims()), secret, &check(&a)).is_err());
        let rs = sign(SigningAlg::RS256, &claims());
        assert!(verify_hmac_assertion(&rs, secret, &check(&a)).is_err());
        let none = unsigned(json!({"alg": "none"}), &claims(), b"");
        assert!(verify_hmac_assertion(&none, secret, &check(&a)).is_err());
        let mut expired = claims();
        expired["exp"] = json!(NOW - 120);
        assert!(verify_hmac_assertion(&hs256(secret, &expired), secret, &check(&a)).is_err());
        let mut foreign = claims();
        foreign["aud"] = json!("https://elsewhere.example");
        assert!(verify_hmac_assertion(&hs256(secret, &foreign), secret, &check(&a)).is_err());
        let mut hs384 = jsonwebtoken::Header::new(Algorithm::HS384);
        hs384.typ = Some("JWT".into());
        let t = jsonwebtoken::encode(
            &hs384,
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap();
        assert!(verify_hmac_assertion(&t, secret, &check(&a)).is_err());
    }
}

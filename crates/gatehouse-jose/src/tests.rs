//! Behavioural tests: key ids, round trips, and the rejections of `KeyRing::verify`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_core::SigningAlg;
use gatehouse_core::ports::TokenSigner;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{GeneratedKey, JoseError, KeyEntry, KeyRing, SigningKey, generate_key, jwk_thumbprint};

const ISS: &str = "https://issuer.example";

fn keys() -> &'static [GeneratedKey; 2] {
    static KEYS: OnceLock<[GeneratedKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            generate_key(SigningAlg::RS256).unwrap(),
            generate_key(SigningAlg::ES256).unwrap(),
        ]
    })
}

fn parsed(alg: SigningAlg) -> Arc<SigningKey> {
    let g = &keys()[alg as usize];
    assert_eq!(g.alg, alg);
    Arc::new(SigningKey::from_pkcs8(alg, &g.private_pkcs8_der).unwrap())
}

fn ring() -> KeyRing {
    KeyRing::new(
        SigningAlg::ALL
            .iter()
            .map(|a| KeyEntry {
                key: parsed(*a),
                active: true,
            })
            .collect(),
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims() -> Value {
    json!({"iss": ISS, "sub": "user-1", "aud": "client-1", "exp": now() + 300, "iat": now()})
}

/// Independent RFC 7638 computation: sorted map of the required members, compact JSON.
fn expected_thumbprint(jwk: &Value) -> String {
    let names: &[&str] = match jwk["kty"].as_str().unwrap() {
        "RSA" => &["e", "kty", "n"],
        _ => &["crv", "kty", "x", "y"],
    };
    let m: BTreeMap<&str, &str> = names
        .iter()
        .map(|n| (*n, jwk[*n].as_str().unwrap()))
        .collect();
    B64.encode(Sha256::digest(serde_json::to_string(&m).unwrap()))
}

fn part(token: &str, i: usize) -> Vec<u8> {
    B64.decode(token.split('.').nth(i).unwrap()).unwrap()
}

/// Replaces the header of `token`, keeping its payload and signature.
fn with_header(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut header: Value = serde_json::from_slice(&part(token, 0)).unwrap();
    edit(&mut header);
    let rest = token.split_once('.').unwrap().1;
    format!(
        "{}.{rest}",
        B64.encode(serde_json::to_vec(&header).unwrap())
    )
}

#[test]
fn rfc7638_example_thumbprint() {
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    });
    assert_eq!(
        jwk_thumbprint(&jwk).unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    assert_eq!(
        expected_thumbprint(&jwk),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn kid_is_stable_rfc7638_thumbprint() {
    for alg in SigningAlg::ALL {
        let g = &keys()[alg as usize];
        let a = parsed(alg);
        let b = parsed(alg);
        assert_eq!(a.kid(), g.kid);
        assert_eq!(b.kid(), g.kid);
        assert_eq!(g.kid, expected_thumbprint(&g.public_jwk));
        assert_eq!(a.public_jwk(), &g.public_jwk);
        assert_eq!(jwk_thumbprint(a.public_jwk()).unwrap(), g.kid);
        assert_eq!(a.alg(), alg);
    }
    let rsa = &keys()[0].public_jwk;
    assert_eq!(B64.decode(rsa["n"].as_str().unwrap()).unwrap().len(), 256);
    assert_eq!(rsa["e"], "AQAB");
    let ec = &keys()[1].public_jwk;
    assert_eq!(
        (ec["kty"].as_str(), ec["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert_eq!(B64.decode(ec["x"].as_str().unwrap()).unwrap().len(), 32);
}

#[test]
fn wrong_key_type_and_debug_redaction() {
    let rsa_der = &keys()[0].private_pkcs8_der;
    let ec_der = &keys()[1].private_pkcs8_der;
    assert!(matches!(
        SigningKey::from_pkcs8(SigningAlg::ES256, rsa_der),
        Err(JoseError::InvalidKey(_))
    ));
    assert!(matches!(
        SigningKey::from_pkcs8(SigningAlg::RS256, ec_der),
        Err(JoseError::InvalidKey(_))
    ));
    assert!(SigningKey::from_pkcs8(SigningAlg::RS256, b"junk").is_err());
    let dbg = format!("{:?} {:?}", keys()[0], parsed(SigningAlg::ES256));
    assert!(dbg.contains("redacted") && dbg.contains(&keys()[1].kid));
    assert!(!dbg.contains(&format!("{:?}", &rsa_der[..8])));
}

#[test]
fn round_trip_and_signature_lengths() {
    let ring = ring();
    for (alg, sig_len) in [(SigningAlg::RS256, 256), (SigningAlg::ES256, 64)] {
        let key = ring.active(alg).unwrap();
        let token = key.sign_jws("at+jwt", &claims()).unwrap();
        let header: Value = serde_json::from_slice(&part(&token, 0)).unwrap();
        assert_eq!(
            header,
            json!({"alg": alg.as_str(), "typ": "at+jwt", "kid": key.kid()})
        );
        assert_eq!(part(&token, 2).len(), sig_len);
        let got = ring.verify(&token, "at+jwt", ISS, None).unwrap();
        assert_eq!(got["sub"], "user-1");
        ring.verify(&token, "application/AT+JWT", ISS, Some("client-1"))
            .unwrap();
        // An independent verifier (jsonwebtoken with the published JWK) accepts it too.
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.public_jwk().clone()).unwrap();
        let dk = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut v = jsonwebtoken::Validation::new(alg.as_str().parse().unwrap());
        v.set_audience(&["client-1"]);
        jsonwebtoken::decode::<Value>(&token, &dk, &v).unwrap();
    }
}

fn rejected(ring: &KeyRing, token: &str, typ: &str, iss: &str, aud: Option<&str>) -> &'static str {
    match ring.verify(token, typ, iss, aud) {
        Err(JoseError::InvalidToken(reason)) => reason,
        other => panic!("expected rejection, got {other:?}"),
    }
}

#[test]
fn verify_rejections() {
    let ring = ring();
    let other_ring = KeyRing::new(vec![KeyEntry {
        key: Arc::new(
            SigningKey::from_pkcs8(
                SigningAlg::ES256,
                &generate_key(SigningAlg::ES256).unwrap().private_pkcs8_der,
            )
            .unwrap(),
        ),
        active: true,
    }]);
    for alg in SigningAlg::ALL {
        let other = match alg {
            SigningAlg::RS256 => "ES256",
            SigningAlg::ES256 => "RS256",
        };
        let token = ring.sign(alg, "at+jwt", &claims()).unwrap();
        let (head, rest) = token.split_once('.').unwrap();
        let (payload, sig) = rest.split_once('.').unwrap();

        // Tampered payload.
        let mut c = claims();
        c["sub"] = json!("admin");
        let forged = format!(
            "{head}.{}.{sig}",
            B64.encode(serde_json::to_vec(&c).unwrap())
        );
        assert_eq!(
            rejected(&ring, &forged, "at+jwt", ISS, None),
            "bad signature"
        );
        // Tampered signature.
        let mut s = part(&token, 2);
        s[10] ^= 1;
        let forged = format!("{head}.{payload}.{}", B64.encode(&s));
        assert_eq!(
            rejected(&ring, &forged, "at+jwt", ISS, None),
            "bad signature"
        );
        // Unknown kid, and a token of a key that is not in the ring.
        let forged = with_header(&token, |h| h["kid"] = json!("nope"));
        assert_eq!(rejected(&ring, &forged, "at+jwt", ISS, None), "unknown key");
        let foreign = other_ring
            .sign(SigningAlg::ES256, "at+jwt", &claims())
            .unwrap();
        assert_eq!(
            rejected(&ring, &foreign, "at+jwt", ISS, None),
            "unknown key"
        );
        // Header alg changed: other alg, none, HS256.
        for bad in [other, "none", "HS256"] {
            let forged = with_header(&token, |h| h["alg"] = json!(bad));
            assert_eq!(
                rejected(&ring, &forged, "at+jwt", ISS, None),
                "algorithm mismatch"
            );
        }
        let forged = with_header(&token, |h| h["crit"] = json!(["exp"]));
        assert!(ring.verify(&forged, "at+jwt", ISS, None).is_err());
        // Wrong or missing typ, issuer, audience.
        assert_eq!(rejected(&ring, &token, "JWT", ISS, None), "unexpected typ");
        let forged = with_header(&token, |h| {
            h.as_object_mut().unwrap().remove("typ");
        });
        assert_eq!(
            rejected(&ring, &forged, "at+jwt", ISS, None),
            "unexpected typ"
        );
        assert_eq!(
            rejected(&ring, &token, "at+jwt", "https://evil.example", None),
            "issuer mismatch"
        );
        assert_eq!(
            rejected(&ring, &token, "at+jwt", ISS, Some("client-2")),
            "audience mismatch"
        );
        // Expired, missing exp, missing iss.
        let mut c = claims();
        c["exp"] = json!(now() - 5);
        let expired = ring.sign(alg, "at+jwt", &c).unwrap();
        assert_eq!(rejected(&ring, &expired, "at+jwt", ISS, None), "expired");
        ring.clone()
            .with_leeway(60)
            .verify(&expired, "at+jwt", ISS, None)
            .unwrap();
        for claim in ["exp", "iss"] {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(claim);
            let t = ring.sign(alg, "at+jwt", &c).unwrap();
            assert_eq!(
                rejected(&ring, &t, "at+jwt", ISS, None),
                "missing required claim"
            );
        }
        // Audience required when asked for.
        let mut c = claims();
        c.as_object_mut().unwrap().remove("aud");
        let t = ring.sign(alg, "at+jwt", &c).unwrap();
        ring.verify(&t, "at+jwt", ISS, None).unwrap();
        assert!(ring.verify(&t, "at+jwt", ISS, Some("client-1")).is_err());
        // Malformed.
        for junk in ["", "a.b", "a.b.c.d", &format!("{head}.{payload}")] {
            assert!(ring.verify(junk, "at+jwt", ISS, None).is_err());
        }
    }
}

#[test]
fn hs256_token_with_public_key_as_secret_is_refused() {
    let ring = ring();
    let key = ring.active(SigningAlg::RS256).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(key.kid().to_owned());
    header.typ = Some("at+jwt".into());
    let secret = serde_json::to_vec(key.public_jwk()).unwrap();
    let token = jsonwebtoken::encode(
        &header,
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .unwrap();
    assert_eq!(
        rejected(&ring, &token, "at+jwt", ISS, None),
        "algorithm mismatch"
    );
}

#[test]
fn jwks_has_only_public_members() {
    let jwks = ring().jwks();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for k in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "{private} published");
        }
        assert_eq!(k["use"], "sig");
        let alg = SigningAlg::parse(k["alg"].as_str().unwrap()).unwrap();
        assert_eq!(k["kid"], keys_kid(alg));
        let allowed: &[&str] = match alg {
            SigningAlg::RS256 => &["kty", "use", "alg", "kid", "n", "e"],
            SigningAlg::ES256 => &["kty", "use", "alg", "kid", "crv", "x", "y"],
        };
        assert!(
            k.as_object()
                .unwrap()
                .keys()
                .all(|m| allowed.contains(&m.as_str()))
        );
    }
}

fn keys_kid(alg: SigningAlg) -> &'static str {
    &keys()[alg as usize].kid
}

#[test]
fn active_key_selection_and_token_signer() {
    let retired = parsed(SigningAlg::RS256);
    let fresh_der = generate_key(SigningAlg::RS256).unwrap().private_pkcs8_der;
    let fresh = Arc::new(SigningKey::from_pkcs8(SigningAlg::RS256, &fresh_der).unwrap());
    let ring = KeyRing::new(vec![
        KeyEntry {
            key: retired.clone(),
            active: false,
        },
        KeyEntry {
            key: fresh.clone(),
            active: true,
        },
    ]);
    assert_eq!(ring.active(SigningAlg::RS256).unwrap().kid(), fresh.kid());
    assert!(ring.active(SigningAlg::ES256).is_none());
    assert_eq!(ring.get(retired.kid()).unwrap().kid(), retired.kid());
    assert_eq!(
        ring.kids().collect::<Vec<_>>(),
        vec![retired.kid(), fresh.kid()]
    );
    assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);

    let token = ring.sign(SigningAlg::RS256, "JWT", &claims()).unwrap();
    let header: Value = serde_json::from_slice(&part(&token, 0)).unwrap();
    assert_eq!(header["kid"], fresh.kid());
    assert_eq!(header["typ"], "JWT");
    ring.verify(&token, "jwt", ISS, Some("client-1")).unwrap();
    // Tokens of the retired (published, inactive) key still verify.
    let old = retired.sign_jws("JWT", &claims()).unwrap();
    ring.verify(&old, "JWT", ISS, None).unwrap();

    let err = ring.sign(SigningAlg::ES256, "JWT", &claims()).unwrap_err();
    assert!(
        matches!(
            err,
            gatehouse_core::ports::SignError::NoActiveKey(SigningAlg::ES256)
        ),
        "{err}"
    );
}

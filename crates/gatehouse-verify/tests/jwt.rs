//! JWT access tokens (RFC 9068 §4) against a loopback authorization server: key pinning, key
//! rotation, the refresh cool-down, Cache-Control ages, and every refusal a resource server
//! must make.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_verify::{CredentialKind, ManualClock, Verifier, VerifierConfig, VerifyError};
use serde_json::json;
use support::{MockAs, TestKey, claims, now_secs};

fn verifier(issuer: &str, clock: &ManualClock) -> Verifier {
    Verifier::with_clock(VerifierConfig::new(issuer), Arc::new(clock.clone())).unwrap()
}

fn invalid(r: Result<Arc<gatehouse_verify::Claims>, VerifyError>) -> &'static str {
    match r {
        Err(VerifyError::InvalidToken(why)) => why,
        other => panic!("expected invalid_token, got {other:?}"),
    }
}

#[tokio::test]
async fn rs256_and_es256_tokens_yield_typed_claims() {
    let (rsa, ec) = (TestKey::rsa("r1"), TestKey::ec("e1"));
    let server = MockAs::start(&[&rsa, &ec]).await;
    let clock = ManualClock::default();
    let v = verifier(&server.issuer, &clock);
    let c = claims(
        &server.issuer,
        now_secs(&clock),
        "instances:read instances:write",
    );
    for key in [&rsa, &ec] {
        let got = v.verify_access_token(&key.token(&c)).await.unwrap();
        assert_eq!(got.kind, CredentialKind::AccessToken);
        assert_eq!(got.subject, "user-1");
        assert_eq!(got.client_id.as_deref(), Some("app-1"));
        assert_eq!(got.tenant.as_deref(), Some("t1"));
        assert!(got.has_scope("instances:write"));
        assert!(!got.has_scope("instances"));
        assert_eq!(got.rate_limit_identity(), "client:app-1");
        assert_eq!(got.actor, None);
    }
    // A delegated token (RFC 8693 §4.1) names the current actor; earlier ones stay nested.
    let mut delegated = c.clone();
    delegated["act"] = json!({"sub": "orders-svc", "act": {"sub": "gateway"}});
    let got = v.verify_access_token(&rsa.token(&delegated)).await.unwrap();
    assert_eq!(
        (got.subject.as_str(), got.actor.as_deref()),
        ("user-1", Some("orders-svc"))
    );
    assert_eq!(
        server.jwks_fetches(),
        1,
        "the key set is fetched once and cached"
    );
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_on_its_unknown_kid() {
    let (old, new) = (TestKey::rsa("old"), TestKey::ec("new"));
    let server = MockAs::start(&[&old]).await;
    let clock = ManualClock::default();
    let v = verifier(&server.issuer, &clock);
    let c = claims(&server.issuer, now_secs(&clock), "a");
    v.verify_access_token(&old.token(&c)).await.unwrap();
    server.set_keys(&[&old, &new]);
    clock.advance(Duration::from_secs(6)); // past the refresh cool-down
    let got = v.verify_access_token(&new.token(&c)).await.unwrap();
    assert_eq!(got.subject, "user-1");
    assert_eq!(server.jwks_fetches(), 2);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_at_most_one_fetch_per_cooldown() {
    let key = TestKey::ec("k1");
    let server = MockAs::start(&[&key]).await;
    let clock = ManualClock::default();
    let v = verifier(&server.issuer, &clock);
    let c = claims(&server.issuer, now_secs(&clock), "a");
    v.verify_access_token(&key.token(&c)).await.unwrap();
    clock.advance(Duration::from_secs(6));
    for i in 0..50 {
        let forged = key.sign(
            &json!({"alg": "ES256", "typ": "at+jwt", "kid": format!("rnd{i}")}),
            &c,
        );
        assert_eq!(
            invalid(v.verify_access_token(&forged).await),
            "signed by an unknown key"
        );
    }
    assert_eq!(
        server.jwks_fetches(),
        2,
        "one initial fetch, one on the first unknown kid"
    );
}

#[tokio::test]
async fn the_algorithm_comes_from_the_key_never_from_the_token() {
    let (rsa, ec) = (TestKey::rsa("r1"), TestKey::ec("e1"));
    let server = MockAs::start(&[&rsa, &ec]).await;
    let clock = ManualClock::default();
    let v = verifier(&server.issuer, &clock);
    let c = claims(&server.issuer, now_secs(&clock), "a");
    // Signed by the RSA key, but naming the EC key's kid.
    let t = rsa.sign(&json!({"alg": "RS256", "typ": "at+jwt", "kid": "e1"}), &c);
    assert_eq!(
        invalid(v.verify_access_token(&t).await),
        "algorithm does not match the key"
    );
    // The RSA key's kid with another RSA algorithm in the header.
    let t = rsa.sign(&json!({"alg": "PS256", "typ": "at+jwt", "kid": "r1"}), &c);
    assert_eq!(
        invalid(v.verify_access_token(&t).await),
        "algorithm does not match the key"
    );
}

#[tokio::test]
async fn none_and_hmac_keyed_with_the_public_key_are_refused() {
    let rsa = TestKey::rsa("r1");
    let server = MockAs::start(&[&rsa]).await;
    let clock = ManualClock::default();
    let v = verifier(&server.issuer, &clock);
    let c = claims(&server.issuer, now_secs(&clock), "a");
    let unsigned = format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none", "typ": "at+jwt", "kid": "r1"}).to_string()),
        B64.encode(c.to_string())
    );
    assert_eq!(
        invalid(v.verify_access_token(&unsigned).await),
        "algorithm not allowed"
    );
    // HS256 keyed with the public key's modulus, as a confused verifier would check it.
    let header = B64.encode(json!({"alg": "HS256", "typ": "at+jwt", "kid": "r1"}).to_string());
    let input = format!("{header}.{}", B64.encode(c.to_string()));
    let secret = rsa.jwk["n"].as_str().unwrap().as_bytes();
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret),
        input.as_bytes(),
    );
    let forged = format!("{input}.{}", B64.encode(tag.as_ref()));
    assert_eq!(
        invalid(v.verify_access_token(&forged).await),
        "algorithm not allowed"
    );
}

#[tokio::test]
async fn symmetric_keys_in_the_jwks_are_never_used() {
    let server = MockAs::start(&[]).await;
    let secret = b"0123456789abcdef0123456789abcdef";
    server.set_jwks(json!({"keys": [{"kty": "oct", "kid": "h1", "alg": "HS256",
        "k": B64.encode(secret)}]}));
    let clock = ManualClock::default();
    let v = verifier(&server.issuer, &clock);
    let c = claims(&server.issuer, now_secs(&clock), "a");
    let header = B64.encode(json!({"alg": "HS256", "typ": "at+jwt", "kid": "h1"}).to_string());
    let input = format!("{header}.{}", B64.encode(c.to_string()));
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret),
        input.as_bytes(),
    );
    let t = format!("{input}.{}", B64.encode(tag.as_ref()));
    assert_eq!(
        invalid(v.verify_access_token(&t).await),
        "algorithm not allowed"
    );
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused_beyond_the_leeway() {
    let key = TestKey::ec("e1");
    let server = MockAs::start(&[&key]).await;
    let clock = ManualClock::default();
    let v = verifier(&server.issuer, &clock);
    let now = now_secs(&clock);
    let mut c = claims(&server.issuer, now, "a");
    c["exp"] = json!(now - 10); // within the 30 s leeway
    v.verify_access_token(&key.token(&c)).await.unwrap();
    c["exp"] = json!(now - 31);
    assert_eq!(
        invalid(v.verify_access_token(&key.token(&c)).await),
        "expired"
    );
    let mut c = claims(&server.issuer, now, "a");
    c["nbf"] = json!(now + 60);
    assert_eq!(
        invalid(v.verify_access_token(&key.token(&c)).await),
        "not yet valid"
    );
    // The injected clock decides: the same token expires when time moves on.
    let c = claims(&server.issuer, now, "a");
    let t = key.token(&c);
    v.verify_access_token(&t).await.unwrap();
    clock.advance(Duration::from_secs(331));
    assert_eq!(invalid(v.verify_access_token(&t).await), "expired");
}

#[tokio::test]
async fn issuer_audience_typ_and_required_claims_are_enforced() {
    let key = TestKey::ec("e1");
    let server = MockAs::start(&[&key]).await;
    let clock = ManualClock::default();
    let api = "https://api.example.com";
    let v = Verifier::with_clock(
        VerifierConfig::new(&server.issuer).audiences([server.issuer.as_str(), api]),
        Arc::new(clock.clone()),
    )
    .unwrap();
    let now = now_secs(&clock);
    let mut c = claims(&server.issuer, now, "a");
    c["aud"] = json!(["https://other.example.com", api]);
    v.verify_access_token(&key.token(&c)).await.unwrap();
    c["aud"] = json!("https://other.example.com");
    assert_eq!(
        invalid(v.verify_access_token(&key.token(&c)).await),
        "wrong audience"
    );
    let mut c = claims(&server.issuer, now, "a");
    c["iss"] = json!("https://evil.example.com");
    assert_eq!(
        invalid(v.verify_access_token(&key.token(&c)).await),
        "wrong issuer"
    );
    let c = claims(&server.issuer, now, "a");
    let id_token = key.sign(&json!({"alg": "ES256", "typ": "JWT", "kid": "e1"}), &c);
    assert_eq!(
        invalid(v.verify_access_token(&id_token).await),
        "not an access token (typ)"
    );
    let mut c = claims(&server.issuer, now, "a");
    c.as_object_mut().unwrap().remove("client_id");
    assert_eq!(
        invalid(v.verify_access_token(&key.token(&c)).await),
        "missing or malformed claims"
    );
    let mut bad_sig = key.token(&claims(&server.issuer, now, "a"));
    bad_sig.replace_range(bad_sig.len() - 4.., "AAAA");
    assert_eq!(
        invalid(v.verify_access_token(&bad_sig).await),
        "bad signature"
    );
    assert_eq!(
        invalid(v.verify_access_token("not-a-jwt").await),
        "malformed token"
    );
}

#[tokio::test]
async fn the_key_set_age_follows_cache_control_within_bounds() {
    let key = TestKey::ec("e1");
    let server = MockAs::start(&[&key]).await;
    server.state.lock().unwrap().cache_control = Some("public, max-age=3600".into());
    let clock = ManualClock::default();
    let mut cfg = VerifierConfig::new(&server.issuer);
    cfg.jwks_max_stale = Duration::ZERO;
    let v = Verifier::with_clock(cfg, Arc::new(clock.clone())).unwrap();
    let mut c = claims(&server.issuer, now_secs(&clock), "a");
    c["exp"] = json!(now_secs(&clock) + 10_000);
    let t = key.token(&c);
    v.verify_access_token(&t).await.unwrap();
    clock.advance(Duration::from_secs(3000));
    v.verify_access_token(&t).await.unwrap();
    assert_eq!(server.jwks_fetches(), 1, "max-age=3600 is honoured");
    clock.advance(Duration::from_secs(601));
    v.verify_access_token(&t).await.unwrap();
    assert_eq!(server.jwks_fetches(), 2, "an expired set is fetched again");
    // A tiny max-age is raised to the 60 s floor: no fetch per request.
    server.state.lock().unwrap().cache_control = Some("max-age=1".into());
    clock.advance(Duration::from_secs(3601));
    v.verify_access_token(&t).await.unwrap();
    clock.advance(Duration::from_secs(30));
    v.verify_access_token(&t).await.unwrap();
    assert_eq!(server.jwks_fetches(), 3);
}

#[tokio::test]
async fn an_unreachable_authorization_server_is_unavailable_not_invalid() {
    let clock = ManualClock::default();
    let v = verifier("http://127.0.0.1:1", &clock);
    let key = TestKey::ec("e1");
    let t = key.token(&claims("http://127.0.0.1:1", now_secs(&clock), "a"));
    assert!(matches!(
        v.verify_access_token(&t).await,
        Err(VerifyError::Unavailable(_))
    ));
}

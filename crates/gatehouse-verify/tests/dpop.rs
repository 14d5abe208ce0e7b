//! DPoP-bound tokens (RFC 9449 §7.1) through `ResourceServer::authorize`, with proofs the test
//! makes: the binding, each proof check, replay, and server nonces.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use gatehouse_verify::{
    DpopConfig, ManualClock, Rejection, RequestInfo, ResourceConfig, ResourceServer, Verifier,
    VerifierConfig,
};
use serde_json::json;
use support::{MockAs, TestKey, claims, dpop_proof, now_secs};

const API: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/v1/instances";

struct Setup {
    rs: ResourceServer,
    clock: ManualClock,
    client_key: TestKey,
    token: String,
    _server: MockAs,
    signer: TestKey,
}

async fn setup(dpop: DpopConfig) -> Setup {
    let signer = TestKey::ec("as1");
    let server = MockAs::start(&[&signer]).await;
    let clock = ManualClock::default();
    let mut cfg = VerifierConfig::new(&server.issuer);
    cfg.dpop = dpop;
    let v = Verifier::with_clock(cfg, Arc::new(clock.clone())).unwrap();
    let rs = ResourceServer::new(v, None, ResourceConfig::new(API)).unwrap();
    let client_key = TestKey::ec("client");
    let mut c = claims(&server.issuer, now_secs(&clock), "instances:read");
    c["cnf"] = json!({"jkt": client_key.thumbprint()});
    let token = signer.token(&c);
    Setup {
        rs,
        clock,
        client_key,
        token,
        _server: server,
        signer,
    }
}

async fn call(s: &Setup, scheme: &str, token: &str, proofs: &[&str]) -> Result<(), Rejection> {
    let auth = format!("{scheme} {token}");
    let info = RequestInfo {
        method: "GET",
        path: "/v1/instances",
        authorization: &[&auth],
        dpop: proofs,
        client_ip: None,
    };
    s.rs.authorize(&info).await.map(|_| ())
}

fn challenge(r: &Rejection) -> &str {
    &r.headers
        .iter()
        .find(|(n, _)| *n == "WWW-Authenticate")
        .unwrap()
        .1
}

#[tokio::test]
async fn a_bound_token_with_a_fresh_proof_passes_once() {
    let s = setup(DpopConfig::default()).await;
    let now = now_secs(&s.clock);
    let proof = dpop_proof(&s.client_key, "GET", URL, &s.token, now, "p1");
    call(&s, "DPoP", &s.token, &[&proof]).await.unwrap();
    let r = call(&s, "DPoP", &s.token, &[&proof]).await.unwrap_err();
    assert_eq!(r.status, 401);
    assert!(challenge(&r).starts_with("DPoP algs="));
    assert!(challenge(&r).contains("error=\"invalid_dpop_proof\""));
    assert!(challenge(&r).contains("proof replayed"));
}

#[tokio::test]
async fn each_proof_check_refuses_a_mismatch() {
    let s = setup(DpopConfig::default()).await;
    let now = now_secs(&s.clock);
    let other = TestKey::ec("other");
    let cases = [
        (
            dpop_proof(&s.client_key, "POST", URL, &s.token, now, "a"),
            "htm",
        ),
        (
            dpop_proof(
                &s.client_key,
                "GET",
                "https://api.example.com/v1/x",
                &s.token,
                now,
                "b",
            ),
            "htu",
        ),
        (
            dpop_proof(&s.client_key, "GET", URL, "another-token", now, "c"),
            "ath",
        ),
        (
            dpop_proof(&s.client_key, "GET", URL, &s.token, now - 301, "d"),
            "iat",
        ),
        (
            dpop_proof(&s.client_key, "GET", URL, &s.token, now + 60, "e"),
            "iat",
        ),
        (
            dpop_proof(&other, "GET", URL, &s.token, now, "f"),
            "cnf.jkt",
        ),
    ];
    for (proof, what) in cases {
        let r = call(&s, "DPoP", &s.token, &[&proof]).await.unwrap_err();
        assert!(challenge(&r).contains(what), "{what}: {}", challenge(&r));
    }
    // The query string is not part of htu.
    let p = dpop_proof(
        &s.client_key,
        "GET",
        &format!("{URL}?page=2"),
        &s.token,
        now,
        "g",
    );
    call(&s, "DPoP", &s.token, &[&p]).await.unwrap();
}

#[tokio::test]
async fn malformed_proofs_are_refused() {
    let s = setup(DpopConfig::default()).await;
    let now = now_secs(&s.clock);
    let k = &s.client_key;
    let body = json!({"jti": "x", "htm": "GET", "htu": URL, "iat": now});
    let wrong_typ = k.sign(
        &json!({"typ": "JWT", "alg": "ES256", "jwk": k.bare_jwk()}),
        &body,
    );
    let mut private = k.bare_jwk();
    private["d"] = json!("AAAA");
    let with_private = k.sign(
        &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": private}),
        &body,
    );
    let no_jwk = k.sign(&json!({"typ": "dpop+jwt", "alg": "ES256"}), &body);
    let hmac = k.sign(
        &json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": k.bare_jwk()}),
        &body,
    );
    for (p, why) in [
        (wrong_typ, "typ"),
        (with_private, "private key"),
        (no_jwk, "no jwk"),
        (hmac, "algorithm not allowed"),
        ("garbage".to_owned(), "compact JWS"),
    ] {
        let r = call(&s, "DPoP", &s.token, &[&p]).await.unwrap_err();
        assert!(challenge(&r).contains(why), "{why}: {}", challenge(&r));
    }
    let r = call(&s, "DPoP", &s.token, &[]).await.unwrap_err();
    assert!(challenge(&r).contains("exactly one DPoP header"));
}

#[tokio::test]
async fn bound_tokens_are_not_bearer_tokens_and_bearer_tokens_not_dpop() {
    let s = setup(DpopConfig::default()).await;
    let r = call(&s, "Bearer", &s.token, &[]).await.unwrap_err();
    assert!(challenge(&r).contains("error=\"invalid_token\""));
    assert!(challenge(&r).contains("DPoP-bound token presented as a bearer token"));
    let plain = s
        .signer
        .token(&claims(&s._server.issuer, now_secs(&s.clock), "a"));
    let proof = dpop_proof(&s.client_key, "GET", URL, &plain, now_secs(&s.clock), "z");
    let r = call(&s, "DPoP", &plain, &[&proof]).await.unwrap_err();
    assert!(challenge(&r).contains("token is not DPoP-bound"));
}

#[tokio::test]
async fn a_required_nonce_is_handed_out_then_accepted() {
    let s = setup(DpopConfig {
        require_nonce: true,
        ..DpopConfig::default()
    })
    .await;
    let now = now_secs(&s.clock);
    let proof = dpop_proof(&s.client_key, "GET", URL, &s.token, now, "n1");
    let r = call(&s, "DPoP", &s.token, &[&proof]).await.unwrap_err();
    assert!(challenge(&r).contains("error=\"use_dpop_nonce\""));
    let nonce = r
        .headers
        .iter()
        .find(|(n, _)| *n == "DPoP-Nonce")
        .unwrap()
        .1
        .clone();
    let ath = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&s.token))
    };
    let k = &s.client_key;
    let with_nonce = k.sign(
        &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": k.bare_jwk()}),
        &json!({"jti": "n2", "htm": "GET", "htu": URL, "iat": now, "ath": ath, "nonce": nonce}),
    );
    call(&s, "DPoP", &s.token, &[&with_nonce]).await.unwrap();
    // After two rotations the nonce is stale again (a long-lived token isolates the check).
    let mut c = claims(&s._server.issuer, now, "a");
    c["cnf"] = json!({"jkt": k.thumbprint()});
    c["exp"] = json!(now + 3600);
    let token = s.signer.token(&c);
    s.clock.advance(Duration::from_secs(301));
    let _ = s.rs.verifier().dpop_nonce();
    s.clock.advance(Duration::from_secs(301));
    let ath = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&token))
    };
    let stale = k.sign(
        &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": k.bare_jwk()}),
        &json!({"jti": "n3", "htm": "GET", "htu": URL, "iat": now_secs(&s.clock), "ath": ath,
            "nonce": nonce}),
    );
    let r = call(&s, "DPoP", &token, &[&stale]).await.unwrap_err();
    assert!(
        challenge(&r).contains("error=\"use_dpop_nonce\""),
        "{}",
        challenge(&r)
    );
}

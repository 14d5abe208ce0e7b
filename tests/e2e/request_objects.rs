//! Signed request objects (RFC 9101, OIDC Core §6.1): a JWS in `request`, signed with the
//! client's `private_key_jwt` keys, at `/oauth/authorize` and in a push to `/oauth/par`
//! (RFC 9126 §3). The parameters come only from the object; unsigned, foreign-key, expired,
//! wrong-audience, other-client and replayed objects are `invalid_request_object`, redirected
//! only to a registered redirect URI.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use chrono::Utc;
use gatehouse_admin::clients::NewClientRequest;
use gatehouse_admin::{Actor, Context};
use gatehouse_core::SigningAlg;
use gatehouse_core::client::ClientRegistration;
use gatehouse_core::client_auth::KeySource;
use gatehouse_jose::{SigningKey, generate_key};
use serde_json::{Value, json};

use crate::private_key_jwt::{ASSERTION_TYPE, JwksServer, assertion_claims, jwks_of, new_key};
use crate::support::*;

/// Registers a `private_key_jwt` client for the code flow whose keys are `jwks`.
async fn rp(s: &TestServer, jwks: Value) -> String {
    rp_with(s, KeySource::Jwks(jwks)).await
}

/// Registers a `private_key_jwt` client for the code flow with these keys.
async fn rp_with(s: &TestServer, keys: KeySource) -> String {
    let reg = ClientRegistration {
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec![REDIRECT.into()],
        scope: Some("openid profile email".into()),
        auth_method: Some("private_key_jwt".into()),
        ..ClientRegistration::named("Signed RP", gatehouse_core::TenantId::default_tenant())
    };
    let actor = Actor::operator();
    let ctx = Context::new(&s.store, &actor, Utc::now());
    let req = NewClientRequest {
        registration: reg,
        keys: Some(keys),
    };
    let out = gatehouse_admin::clients::create(&ctx, req, None)
        .await
        .unwrap();
    out.client.client_id.to_string()
}

fn unix(s: &TestServer) -> i64 {
    s.clock_now().timestamp()
}

/// The claims of a valid request object of `client_id`; returns (claims, PKCE verifier).
fn object(s: &TestServer, client_id: &str) -> (Value, String) {
    let (verifier, challenge) = pkce();
    let now = unix(s);
    let claims = json!({
        "iss": client_id, "aud": s.base, "client_id": client_id,
        "exp": now + 300, "iat": now, "nbf": now,
        "jti": format!("ro-{verifier}"),
        "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid",
        "state": "inner-state", "nonce": "inner-nonce",
        "code_challenge": challenge, "code_challenge_method": "S256",
    });
    (claims, verifier)
}

/// `/oauth/authorize` with `request` and the outer parameters `outer`.
fn authorize_with(s: &TestServer, client_id: &str, jws: &str, outer: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("client_id", client_id)
            .append_pair("request", jws);
        for (k, v) in outer {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

/// Outer parameters that differ from the object's: they must be ignored.
const OUTER: &[(&str, &str)] = &[
    ("response_type", "code"),
    ("redirect_uri", REDIRECT),
    ("scope", "openid profile email"),
    ("state", "outer-state"),
];

/// Redeems `code` authenticating with a `private_key_jwt` assertion.
async fn redeem_signed(
    s: &TestServer,
    key: &SigningKey,
    id: &str,
    code: &str,
    verifier: &str,
) -> (u16, Value) {
    let assertion = key.sign_jws("JWT", &assertion_claims(s, id, id)).unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
        ("client_id", id),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ];
    let resp = http()
        .post(s.url("/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

/// Runs the browser flow for `url` and returns the redirect.
async fn flow(s: &TestServer, url: &str) -> String {
    match run_flow(&browser(), s, url, "alice", PASSWORD, "allow").await {
        Outcome::Redirect(loc) => loc,
        Outcome::Page(st, b) => panic!("{st}: {b}"),
    }
}

/// The error redirect (303 to the registered redirect URI) of `url`, or panics.
async fn error_of(url: &str) -> (String, Option<String>) {
    let resp = browser().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let loc = location(&resp);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    (
        query_param(&loc, "error").unwrap_or_default(),
        query_param(&loc, "state"),
    )
}

#[tokio::test]
async fn a_signed_request_object_yields_a_code_and_only_its_parameters_count_rfc9101_6_3() {
    let s = TestServer::start().await;
    s.user("alice").await;
    for alg in SigningAlg::ALL {
        let key = new_key(alg);
        let id = rp(&s, jwks_of(&[&key])).await;
        let (claims, verifier) = object(&s, &id);
        let jws = key.sign_jws("oauth-authz-req+jwt", &claims).unwrap();
        let loc = flow(&s, &authorize_with(&s, &id, &jws, OUTER)).await;
        // The object's state, not the outer one.
        assert_eq!(query_param(&loc, "state").as_deref(), Some("inner-state"));
        let code = query_param(&loc, "code").expect("a code");
        // PKCE from inside the object: its verifier redeems the code.
        let (status, body) = redeem_signed(&s, &key, &id, &code, &verifier).await;
        assert_eq!(status, 200, "{alg}: {body}");
        // The object's scope, not the wider outer one.
        assert_eq!(body["scope"], "openid", "{body}");
        let id_token = claims_of(body["id_token"].as_str().unwrap());
        assert_eq!(id_token["nonce"], "inner-nonce");
        assert!(id_token.get("email").is_none());
    }
}

/// An unsigned JWS (`alg: none`) carrying `claims`.
fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none"}).to_string()),
        B64.encode(claims.to_string())
    )
}

#[tokio::test]
async fn bad_request_objects_are_invalid_request_object_rfc9101_6_2() {
    let s = TestServer::start().await;
    let key = new_key(SigningAlg::ES256);
    let id = rp(&s, jwks_of(&[&key])).await;
    let other_id = rp(&s, jwks_of(&[&new_key(SigningAlg::ES256)])).await;
    let stranger = new_key(SigningAlg::ES256);
    let (good, _) = object(&s, &id);
    let with = |name: &str, v: Value| {
        let mut c = good.clone();
        c[name] = v;
        c
    };
    let now = unix(&s);
    let cases: Vec<(&str, String)> = vec![
        ("alg none", unsigned(&good)),
        ("another key", stranger.sign_jws("JWT", &good).unwrap()),
        (
            "expired",
            key.sign_jws("JWT", &with("exp", json!(now - 120))).unwrap(),
        ),
        (
            "too long-lived",
            key.sign_jws("JWT", &with("exp", json!(now + 7200)))
                .unwrap(),
        ),
        (
            "not yet valid",
            key.sign_jws("JWT", &with("nbf", json!(now + 600))).unwrap(),
        ),
        (
            "wrong aud",
            key.sign_jws("JWT", &with("aud", json!("https://other.example")))
                .unwrap(),
        ),
        (
            "other client_id",
            key.sign_jws("JWT", &with("client_id", json!(other_id)))
                .unwrap(),
        ),
        (
            "other iss",
            key.sign_jws("JWT", &with("iss", json!(other_id))).unwrap(),
        ),
        ("tampered", {
            let jws = key.sign_jws("JWT", &good).unwrap();
            let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
            parts[1] = B64.encode(with("scope", json!("openid email")).to_string());
            parts.join(".")
        }),
        ("garbage", "not.a.jws".to_owned()),
    ];
    for (case, jws) in cases {
        let (error, state) = error_of(&authorize_with(&s, &id, &jws, OUTER)).await;
        assert_eq!(error, "invalid_request_object", "{case}");
        // The object is not trusted, so the outer (registered) target and state answer.
        assert_eq!(state.as_deref(), Some("outer-state"), "{case}");
    }
    // The outer client_id names another client: the object does not verify with its keys.
    let jws = key.sign_jws("JWT", &good).unwrap();
    let (error, _) = error_of(&authorize_with(&s, &other_id, &jws, OUTER)).await;
    assert_eq!(error, "invalid_request_object");
}

#[tokio::test]
async fn errors_are_pages_unless_the_outer_redirect_uri_is_registered() {
    let s = TestServer::start().await;
    let key = new_key(SigningAlg::RS256);
    let id = rp(&s, jwks_of(&[&key])).await;
    let (claims, _) = object(&s, &id);
    let jws = unsigned(&claims);
    for outer in [
        &[
            ("redirect_uri", "https://attacker.example/cb"),
            ("scope", "openid"),
        ][..],
        // OIDC requests need a redirect_uri outside to be redirected to.
        &[("scope", "openid")][..],
    ] {
        let resp = browser()
            .get(authorize_with(&s, &id, &jws, outer))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        assert!(resp.headers().get("location").is_none());
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("invalid_request_object")
        );
    }
    // An unknown client: a page too.
    let resp = browser()
        .get(authorize_with(&s, "no-such-client", &jws, OUTER))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
}

#[tokio::test]
async fn a_client_without_registered_keys_cannot_send_request_objects() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let key = new_key(SigningAlg::ES256);
    let (claims, _) = object(&s, &c.id);
    let jws = key.sign_jws("JWT", &claims).unwrap();
    let (error, _) = error_of(&authorize_with(&s, &c.id, &jws, OUTER)).await;
    assert_eq!(error, "invalid_request_object");
}

#[tokio::test]
async fn a_replayed_jti_and_a_fetched_request_uri_are_refused() {
    let s = TestServer::start().await;
    let key = new_key(SigningAlg::ES256);
    let id = rp(&s, jwks_of(&[&key])).await;
    let (claims, _) = object(&s, &id);
    let jws = key.sign_jws("JWT", &claims).unwrap();
    let url = authorize_with(&s, &id, &jws, OUTER);
    // First use: the login page.
    let resp = browser().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (error, _) = error_of(&url).await;
    assert_eq!(error, "invalid_request_object");
    // Without a jti the object may be sent again (until it expires).
    let mut no_jti = object(&s, &id).0;
    no_jti.as_object_mut().unwrap().remove("jti");
    let url = authorize_with(&s, &id, &key.sign_jws("JWT", &no_jti).unwrap(), OUTER);
    for _ in 0..2 {
        assert_eq!(browser().get(&url).send().await.unwrap().status(), 200);
    }
    // request_uri by reference is not fetched.
    let mut u = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", &id)
        .append_pair("request_uri", "https://rp.example/request.jwt")
        .extend_pairs(OUTER);
    let (error, _) = error_of(u.as_str()).await;
    assert_eq!(error, "request_uri_not_supported");
}

#[tokio::test]
async fn a_jwks_uri_client_signs_with_its_published_keys_and_may_rotate_them() {
    let s = TestServer::start().await;
    s.user("alice").await;
    let key1 = new_key(SigningAlg::ES256);
    let jwks = JwksServer::start(jwks_of(&[&key1]));
    let id = rp_with(&s, KeySource::Uri(jwks.url.clone())).await;
    let (claims, _) = object(&s, &id);
    let jws = key1.sign_jws("JWT", &claims).unwrap();
    let loc = flow(&s, &authorize_with(&s, &id, &jws, OUTER)).await;
    assert!(query_param(&loc, "code").is_some(), "{loc}");
    assert_eq!(jwks.hits(), 1);
    // The client rotates its key: the unknown kid refetches the set once.
    let key2 = new_key(SigningAlg::RS256);
    jwks.serve(jwks_of(&[&key2]));
    let (claims, _) = object(&s, &id);
    let jws = key2.sign_jws("JWT", &claims).unwrap();
    let loc = flow(&s, &authorize_with(&s, &id, &jws, OUTER)).await;
    assert!(query_param(&loc, "code").is_some(), "{loc}");
    assert_eq!(jwks.hits(), 2);
    // The old key is gone from the set.
    let (claims, _) = object(&s, &id);
    let jws = key1.sign_jws("JWT", &claims).unwrap();
    let (error, _) = error_of(&authorize_with(&s, &id, &jws, OUTER)).await;
    assert_eq!(error, "invalid_request_object");
}

/// PS256 and EdDSA (signed here with jsonwebtoken, since our signer does RS256 and ES256).
#[tokio::test]
async fn every_advertised_algorithm_verifies() {
    let s = TestServer::start().await;
    s.user("alice").await;
    // PS256 with an RSA key whose JWK pins no alg.
    let rsa = generate_key(SigningAlg::RS256).unwrap();
    let mut rsa_jwk = rsa.public_jwk.clone();
    rsa_jwk.as_object_mut().unwrap().remove("alg");
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(&rsa.private_pkcs8_der)
    );
    let ps256 = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    // EdDSA with an Ed25519 key.
    let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let ed_jwk = json!({"kty": "OKP", "crv": "Ed25519", "use": "sig",
                        "x": B64.encode(ed.public_key_raw())});
    let eddsa = jsonwebtoken::EncodingKey::from_ed_der(&ed.serialize_der());
    for (alg, jwk, key) in [
        (jsonwebtoken::Algorithm::PS256, rsa_jwk, ps256),
        (jsonwebtoken::Algorithm::EdDSA, ed_jwk, eddsa),
    ] {
        let id = rp(&s, json!({"keys": [jwk]})).await;
        let (claims, _) = object(&s, &id);
        let jws = jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, &key).unwrap();
        let loc = flow(&s, &authorize_with(&s, &id, &jws, OUTER)).await;
        assert!(query_param(&loc, "code").is_some(), "{alg:?}: {loc}");
    }
}

/// Pushes `form` authenticated with a `private_key_jwt` assertion.
async fn push_signed(
    s: &TestServer,
    key: &SigningKey,
    id: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut a = assertion_claims(s, id, id);
    a["aud"] = json!(s.base);
    let assertion = key.sign_jws("JWT", &a).unwrap();
    let mut form = form.to_vec();
    form.extend([
        ("client_id", id),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ]);
    let resp = http()
        .post(s.url("/oauth/par"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_pushed_request_object_is_verified_and_its_parameters_pushed_rfc9126_3() {
    let s = TestServer::start().await;
    s.user("alice").await;
    let key = new_key(SigningAlg::ES256);
    let id = rp(&s, jwks_of(&[&key])).await;
    let (claims, verifier) = object(&s, &id);
    let jws = key.sign_jws("oauth-authz-req+jwt", &claims).unwrap();
    let mut form: Vec<(&str, &str)> = OUTER.to_vec();
    form.push(("request", &jws));
    let (status, body) = push_signed(&s, &key, &id, &form).await;
    assert_eq!(status, 201, "{body}");
    let uri = str_of(&body, "request_uri").to_owned();
    let mut u = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", &id)
        .append_pair("request_uri", &uri);
    let loc = flow(&s, u.as_str()).await;
    assert_eq!(query_param(&loc, "state").as_deref(), Some("inner-state"));
    let code = query_param(&loc, "code").expect("a code");
    let (status, body) = redeem_signed(&s, &key, &id, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid");

    // The same object again (its jti is used), an unsigned one, one for another audience: 400.
    let (status, body) = push_signed(&s, &key, &id, &[("request", &jws)]).await;
    assert_eq!(
        (status, str_of(&body, "error")),
        (400, "invalid_request_object")
    );
    let (claims, _) = object(&s, &id);
    let (status, body) = push_signed(&s, &key, &id, &[("request", &unsigned(&claims))]).await;
    assert_eq!(
        (status, str_of(&body, "error")),
        (400, "invalid_request_object")
    );
    let mut foreign = object(&s, &id).0;
    foreign["aud"] = json!("https://other.example");
    let jws = key.sign_jws("JWT", &foreign).unwrap();
    let (status, body) = push_signed(&s, &key, &id, &[("request", &jws)]).await;
    assert_eq!(
        (status, str_of(&body, "error")),
        (400, "invalid_request_object")
    );
}

#[tokio::test]
async fn discovery_advertises_request_objects_by_value_only() {
    let s = TestServer::start().await;
    let m = openid_configuration(&s).await;
    assert_eq!(m["request_parameter_supported"], true);
    assert_eq!(m["request_uri_parameter_supported"], false);
    assert_eq!(
        m["request_object_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256", "EdDSA"])
    );
}

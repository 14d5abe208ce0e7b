//! `private_key_jwt` client authentication (OIDC Core §9, RFC 7523 §2.2 and §3): RS256 and ES256
//! assertions with inline keys and a `jwks_uri` (with key rotation), single use of `jti`, and
//! every malformed or hostile assertion answered with 401 `invalid_client`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::Utc;
use gatehouse_admin::clients::NewClientRequest;
use gatehouse_admin::{Actor, Context};
use gatehouse_core::SigningAlg;
use gatehouse_core::client_auth::KeySource;
use gatehouse_jose::{SigningKey, generate_key};
use serde_json::{Value, json};

use crate::support::*;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub fn new_key(alg: SigningAlg) -> SigningKey {
    let g = generate_key(alg).unwrap();
    SigningKey::from_pkcs8(alg, &g.private_pkcs8_der).unwrap()
}

pub fn jwks_of(keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.public_jwk().clone()).collect::<Vec<_>>() })
}

fn unix(s: &TestServer) -> i64 {
    use gatehouse_core::ports::Clock;
    s.clock.now().timestamp()
}

static JTI: AtomicUsize = AtomicUsize::new(0);

/// Claims of a valid client assertion for `client_id`, at the server's (test) clock.
pub fn assertion_claims(s: &TestServer, iss: &str, sub: &str) -> Value {
    let now = {
        use gatehouse_core::ports::Clock;
        s.clock.now().timestamp()
    };
    json!({
        "iss": iss, "sub": sub, "aud": s.url("/oauth/token"),
        "jti": format!("jti-{}-{}", now, JTI.fetch_add(1, Ordering::SeqCst)),
        "iat": now, "exp": now + 120,
    })
}

/// Registers a `private_key_jwt` client for client_credentials with these keys.
async fn pkjwt_client(s: &TestServer, keys: KeySource) -> String {
    let reg = gatehouse_core::client::ClientRegistration {
        grant_types: vec!["client_credentials".into()],
        scope: Some("api:read api:write".into()),
        auth_method: Some("private_key_jwt".into()),
        ..gatehouse_core::client::ClientRegistration::named(
            "Service",
            gatehouse_core::TenantId::default_tenant(),
        )
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
    assert!(out.client_secret.is_none(), "no secret for private_key_jwt");
    out.client.client_id.to_string()
}

async fn post_token(s: &TestServer, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = http()
        .post(s.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn cc_with_assertion(
    s: &TestServer,
    client_id: Option<&str>,
    assertion: &str,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    if let Some(id) = client_id {
        form.push(("client_id", id));
    }
    post_token(s, &form).await
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn rs256_and_es256_assertions_authenticate_clients_with_inline_keys() {
    let s = TestServer::start().await;
    for alg in SigningAlg::ALL {
        let key = new_key(alg);
        let id = pkjwt_client(&s, KeySource::Jwks(jwks_of(&[&key]))).await;
        let a = key
            .sign_jws("JWT", &assertion_claims(&s, &id, &id))
            .unwrap();
        let (status, body) = cc_with_assertion(&s, Some(&id), &a).await;
        assert_eq!(status, 200, "{alg}: {body}");
        let at = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(at["client_id"], id.as_str());
        assert_eq!(at["sub"], id.as_str());
        // Without client_id in the body the assertion names the client; `aud` may be the issuer.
        let mut c = assertion_claims(&s, &id, &id);
        c["aud"] = json!(s.base);
        let a = key.sign_jws("JWT", &c).unwrap();
        let (status, body) = cc_with_assertion(&s, None, &a).await;
        assert_eq!(status, 200, "{alg}: {body}");
    }
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let s = TestServer::start().await;
    let key = new_key(SigningAlg::ES256);
    let id = pkjwt_client(&s, KeySource::Jwks(jwks_of(&[&key]))).await;
    let a = key
        .sign_jws("JWT", &assertion_claims(&s, &id, &id))
        .unwrap();
    assert_eq!(cc_with_assertion(&s, Some(&id), &a).await.0, 200);
    let (status, body) = cc_with_assertion(&s, Some(&id), &a).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    // A new jti is fine.
    let a = key
        .sign_jws("JWT", &assertion_claims(&s, &id, &id))
        .unwrap();
    assert_eq!(cc_with_assertion(&s, Some(&id), &a).await.0, 200);
}

fn forge(header: Value, claims: &Value, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string()),
        B64.encode(sig)
    )
}

#[tokio::test]
async fn hostile_and_malformed_assertions_are_invalid_client() {
    let s = TestServer::start().await;
    let key = new_key(SigningAlg::RS256);
    let id = pkjwt_client(&s, KeySource::Jwks(jwks_of(&[&key]))).await;
    let other = new_key(SigningAlg::RS256);
    let good = || assertion_claims(&s, &id, &id);
    let with = |name: &str, v: Value| {
        let mut c = good();
        c[name] = v;
        key.sign_jws("JWT", &c).unwrap()
    };
    let without = |name: &str| {
        let mut c = good();
        c.as_object_mut().unwrap().remove(name);
        key.sign_jws("JWT", &c).unwrap()
    };
    let now = unix(&s);
    let hs256_with_public_key = {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some(key.kid().to_owned());
        let secret = key.public_jwk().to_string();
        jsonwebtoken::encode(
            &h,
            &good(),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let mut tampered: Vec<String> = key
        .sign_jws("JWT", &good())
        .unwrap()
        .split('.')
        .map(str::to_owned)
        .collect();
    tampered[1] = B64.encode(with_sub_other(&good()).to_string());
    let cases: Vec<(&str, String)> = vec![
        (
            "signed by another key",
            other.sign_jws("JWT", &good()).unwrap(),
        ),
        ("tampered payload", tampered.join(".")),
        (
            "wrong aud",
            with("aud", json!("https://elsewhere.example/token")),
        ),
        (
            "aud array without us",
            with("aud", json!(["https://a.example", "https://b.example"])),
        ),
        ("iss is another client", with("iss", json!("someone-else"))),
        ("expired", with("exp", json!(now - 120))),
        ("lifetime too long", with("exp", json!(now + 3600))),
        ("issued in the future", with("iat", json!(now + 600))),
        ("not yet valid", with("nbf", json!(now + 600))),
        ("no jti", without("jti")),
        ("no exp", without("exp")),
        (
            "alg none",
            forge(json!({"alg": "none", "kid": key.kid()}), &good(), b""),
        ),
        ("HS256 keyed with the public key", hs256_with_public_key),
        (
            "crit header",
            forge(json!({"alg": "RS256", "crit": ["x"]}), &good(), &[1; 256]),
        ),
        ("garbage", "not-a-jwt".into()),
        ("garbage with dots", "a.b.c".into()),
        ("empty parts", "..".into()),
        (
            "huge",
            format!(
                "{}.{}.{}",
                "A".repeat(6000),
                "B".repeat(6000),
                "C".repeat(6000)
            ),
        ),
        (
            "huge within limits",
            format!("{}.e30.AA", B64.encode("{".repeat(5000))),
        ),
    ];
    for (what, assertion) in &cases {
        let (status, body) = cc_with_assertion(&s, Some(&id), assertion).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["error"], "invalid_client", "{what}");
    }
    // The wrong assertion type, and a secret client trying an assertion.
    let a = key.sign_jws("JWT", &good()).unwrap();
    let (status, body) = post_token(
        &s,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            ("client_assertion", &a),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let secret_client = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris.clear();
        })
        .await;
    let c = assertion_claims(&s, &secret_client.id, &secret_client.id);
    let a = key.sign_jws("JWT", &c).unwrap();
    let (status, _) = cc_with_assertion(&s, Some(&secret_client.id), &a).await;
    assert_eq!(status, 401);
    // A private_key_jwt client cannot fall back to Basic with an empty secret.
    let resp = http()
        .post(s.url("/oauth/token"))
        .basic_auth(&id, Some(""))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    // Expiry follows the injected clock: a valid assertion is refused once the clock moves on.
    let a = key.sign_jws("JWT", &good()).unwrap();
    s.clock.advance(600);
    let (status, _) = cc_with_assertion(&s, Some(&id), &a).await;
    assert_eq!(status, 401);
}

fn with_sub_other(c: &Value) -> Value {
    let mut c = c.clone();
    c["sub"] = json!("other");
    c
}

/// A tiny HTTP server for a client's `jwks_uri`: serves `body`, counts requests.
pub(crate) struct JwksServer {
    pub(crate) url: String,
    body: Arc<Mutex<String>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    pub(crate) fn start(initial: Value) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let body = Arc::new(Mutex::new(initial.to_string()));
        let hits = Arc::new(AtomicUsize::new(0));
        let (b, h) = (body.clone(), hits.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buf = [0u8; 4096];
                let mut req = Vec::new();
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                h.fetch_add(1, Ordering::SeqCst);
                let body = b.lock().unwrap().clone();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    body.len(),
                    body
                );
            }
        });
        Self { url, body, hits }
    }

    pub(crate) fn serve(&self, v: Value) {
        *self.body.lock().unwrap() = v.to_string();
    }

    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn jwks_uri_keys_are_fetched_cached_and_refetched_on_an_unknown_kid() {
    let s = TestServer::start().await;
    let key1 = new_key(SigningAlg::ES256);
    let jwks = JwksServer::start(jwks_of(&[&key1]));
    let id = pkjwt_client(&s, KeySource::Uri(jwks.url.clone())).await;

    let a = key1
        .sign_jws("JWT", &assertion_claims(&s, &id, &id))
        .unwrap();
    let (status, body) = cc_with_assertion(&s, Some(&id), &a).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(jwks.hits(), 1);
    // Cached: a second authentication does not fetch again.
    let a = key1
        .sign_jws("JWT", &assertion_claims(&s, &id, &id))
        .unwrap();
    assert_eq!(cc_with_assertion(&s, Some(&id), &a).await.0, 200);
    assert_eq!(jwks.hits(), 1);

    // The client rotates to a new key: the unknown kid triggers one refetch.
    let key2 = new_key(SigningAlg::RS256);
    jwks.serve(jwks_of(&[&key2]));
    let a = key2
        .sign_jws("JWT", &assertion_claims(&s, &id, &id))
        .unwrap();
    let (status, body) = cc_with_assertion(&s, Some(&id), &a).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(jwks.hits(), 2);

    // Forged kids cannot force a fetch storm: refetches are rate-limited.
    let stranger = new_key(SigningAlg::RS256);
    for _ in 0..5 {
        let a = stranger
            .sign_jws("JWT", &assertion_claims(&s, &id, &id))
            .unwrap();
        let (status, body) = cc_with_assertion(&s, Some(&id), &a).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
    }
    assert_eq!(jwks.hits(), 2);
}

#[tokio::test]
async fn an_unreachable_or_bad_jwks_uri_is_invalid_client_not_a_server_error() {
    let s = TestServer::start().await;
    let key = new_key(SigningAlg::ES256);
    // Nothing listens on port 9; then a server that serves a private key.
    let id = pkjwt_client(&s, KeySource::Uri("http://127.0.0.1:9/jwks.json".into())).await;
    let a = key
        .sign_jws("JWT", &assertion_claims(&s, &id, &id))
        .unwrap();
    let (status, body) = cc_with_assertion(&s, Some(&id), &a).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let mut private = key.public_jwk().clone();
    private["d"] = json!("AAAA");
    let bad = JwksServer::start(json!({"keys": [private]}));
    let id = pkjwt_client(&s, KeySource::Uri(bad.url.clone())).await;
    let a = key
        .sign_jws("JWT", &assertion_claims(&s, &id, &id))
        .unwrap();
    let (status, _) = cc_with_assertion(&s, Some(&id), &a).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn discovery_advertises_private_key_jwt_and_the_jwt_bearer_grant() {
    let s = TestServer::start().await;
    let m = openid_configuration(&s).await;
    let has = |field: &str, v: &str| lists(&m, field, v);
    assert!(has(
        "token_endpoint_auth_methods_supported",
        "private_key_jwt"
    ));
    assert!(has(
        "token_endpoint_auth_signing_alg_values_supported",
        "RS256"
    ));
    assert!(has(
        "token_endpoint_auth_signing_alg_values_supported",
        "ES256"
    ));
    assert!(!has(
        "token_endpoint_auth_signing_alg_values_supported",
        "none"
    ));
    assert!(has(
        "grant_types_supported",
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    ));
}

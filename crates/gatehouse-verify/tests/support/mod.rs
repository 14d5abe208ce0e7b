//! Test harness: keys and token minting (aws-lc-rs), DPoP proofs, and a loopback authorization
//! server (actix-web on 127.0.0.1:0) serving discovery, a swappable JWKS and introspection,
//! counting the requests it gets.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use gatehouse_verify::ManualClock;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const RS_CLIENT: &str = "resource-server";
pub const RS_SECRET: &str = "rs-secret";

pub enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A signing key with its public JWK.
pub struct TestKey {
    pub kid: String,
    pub alg: &'static str,
    pub pair: Pair,
    pub jwk: Value,
}

impl TestKey {
    pub fn rsa(kid: &str) -> Self {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let c = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let jwk = json!({"kty": "RSA", "n": B64.encode(&c.n), "e": B64.encode(&c.e),
            "kid": kid, "alg": "RS256", "use": "sig"});
        Self {
            kid: kid.into(),
            alg: "RS256",
            pair: Pair::Rsa(pair),
            jwk,
        }
    }

    pub fn ec(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let p = pair.public_key().as_ref().to_vec();
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": B64.encode(&p[1..33]),
            "y": B64.encode(&p[33..]), "kid": kid, "alg": "ES256", "use": "sig"});
        Self {
            kid: kid.into(),
            alg: "ES256",
            pair: Pair::Ec(pair),
            jwk,
        }
    }

    /// The JWK without `kid`, `alg` and `use` (as a DPoP `jwk` header).
    pub fn bare_jwk(&self) -> Value {
        let mut j = self.jwk.clone();
        for m in ["kid", "alg", "use"] {
            j.as_object_mut().unwrap().remove(m);
        }
        j
    }

    /// RFC 7638 thumbprint.
    pub fn thumbprint(&self) -> String {
        let j = &self.jwk;
        let canonical = match self.alg {
            "RS256" => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                j["e"].as_str().unwrap(),
                j["n"].as_str().unwrap()
            ),
            _ => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                j["x"].as_str().unwrap(),
                j["y"].as_str().unwrap()
            ),
        };
        B64.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// A compact JWS of `claims` under `header`, signed with this key.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let rng = SystemRandom::new();
        let sig = match &self.pair {
            Pair::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .unwrap();
                sig
            }
            Pair::Ec(k) => k.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
        };
        format!("{input}.{}", B64.encode(sig))
    }

    /// An access token with the usual header.
    pub fn token(&self, claims: &Value) -> String {
        self.sign(
            &json!({"alg": self.alg, "typ": "at+jwt", "kid": self.kid}),
            claims,
        )
    }
}

pub fn now_secs(clock: &ManualClock) -> i64 {
    use gatehouse_verify::Clock;
    clock.now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// RFC 9068 claims valid at `now` for `issuer`.
pub fn claims(issuer: &str, now: i64, scope: &str) -> Value {
    json!({"iss": issuer, "sub": "user-1", "aud": issuer, "client_id": "app-1", "scope": scope,
        "jti": format!("jti-{now}-{}", rand_suffix()), "iat": now, "exp": now + 300, "tenant": "t1"})
}

fn rand_suffix() -> u64 {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst) as u64
}

/// A DPoP proof for `method url` bound to `token`.
pub fn dpop_proof(
    key: &TestKey,
    method: &str,
    url: &str,
    token: &str,
    iat: i64,
    jti: &str,
) -> String {
    let ath = B64.encode(Sha256::digest(token.as_bytes()));
    key.sign(
        &json!({"typ": "dpop+jwt", "alg": key.alg, "jwk": key.bare_jwk()}),
        &json!({"jti": jti, "htm": method, "htu": url, "iat": iat, "ath": ath}),
    )
}

/// A well-formed Gatehouse API key (prefix, base32 body, checksum).
pub fn api_key(prefix: &str, seed: u8) -> String {
    const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let body: String = (0..52)
        .map(|i| B32[(usize::from(seed) * 7 + i * 3) % 32] as char)
        .collect();
    let d = Sha256::digest(format!("{prefix}{body}").as_bytes());
    let mut check = String::new();
    let (mut acc, mut bits) = (0u64, 0);
    for &b in &d[..5] {
        acc = (acc << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            check.push(B32[((acc >> bits) & 31) as usize] as char);
        }
    }
    format!("{prefix}{body}{check}")
}

#[derive(Default)]
pub struct AsState {
    pub jwks: Value,
    pub cache_control: Option<String>,
    /// API key → introspection answer (anything else is inactive).
    pub keys: HashMap<String, Value>,
    pub jwks_fetches: AtomicUsize,
    pub introspections: AtomicUsize,
}

/// The loopback authorization server.
pub struct MockAs {
    pub issuer: String,
    pub state: Arc<Mutex<AsState>>,
}

impl MockAs {
    pub async fn start(keys: &[&TestKey]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(AsState::default()));
        let me = Self {
            issuer: issuer.clone(),
            state: state.clone(),
        };
        me.set_keys(keys);
        let data = web::Data::new((issuer, state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/.well-known/oauth-authorization-server",
                    web::get().to(metadata),
                )
                .route("/jwks.json", web::get().to(jwks))
                .route("/introspect", web::post().to(introspect))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        me
    }

    pub fn set_keys(&self, keys: &[&TestKey]) {
        let set: Vec<Value> = keys.iter().map(|k| k.jwk.clone()).collect();
        self.state.lock().unwrap().jwks = json!({ "keys": set });
    }

    pub fn set_jwks(&self, jwks: Value) {
        self.state.lock().unwrap().jwks = jwks;
    }

    pub fn add_key(&self, key: &str, answer: Value) {
        self.state
            .lock()
            .unwrap()
            .keys
            .insert(key.to_owned(), answer);
    }

    pub fn revoke(&self, key: &str) {
        self.state.lock().unwrap().keys.remove(key);
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state
            .lock()
            .unwrap()
            .jwks_fetches
            .load(Ordering::SeqCst)
    }

    pub fn introspections(&self) -> usize {
        self.state
            .lock()
            .unwrap()
            .introspections
            .load(Ordering::SeqCst)
    }
}

type Data = web::Data<(String, Arc<Mutex<AsState>>)>;

async fn metadata(d: Data) -> HttpResponse {
    let iss = &d.0;
    HttpResponse::Ok().json(
        json!({"issuer": iss, "jwks_uri": format!("{iss}/jwks.json"),
        "introspection_endpoint": format!("{iss}/introspect")}),
    )
}

async fn jwks(d: Data) -> HttpResponse {
    let s = d.1.lock().unwrap();
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let mut r = HttpResponse::Ok();
    if let Some(cc) = &s.cache_control {
        r.insert_header(("cache-control", cc.as_str()));
    }
    r.json(s.jwks.clone())
}

async fn introspect(
    d: Data,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{RS_CLIENT}:{RS_SECRET}"))
    );
    if req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        != Some(expected.as_str())
    {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let s = d.1.lock().unwrap();
    s.introspections.fetch_add(1, Ordering::SeqCst);
    let answer = form
        .get("token")
        .and_then(|t| s.keys.get(t))
        .cloned()
        .unwrap_or_else(|| json!({"active": false}));
    HttpResponse::Ok().json(answer)
}

/// An active API-key introspection answer, as Gatehouse publishes it.
pub fn key_answer(issuer: &str, id: &str, scope: &str, limits: Option<Value>) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut a = json!({"active": true, "token_type": "api_key", "sub": id, "name": "ci",
        "tenant": "t1", "scope": scope, "environment": "live", "iat": now,
        "exp": now + 86_400 * 30, "iss": issuer});
    if let Some(l) = limits {
        a["rate_limit_class"] = json!("bulk");
        a["rate_limits"] = l;
    }
    a
}

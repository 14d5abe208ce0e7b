//! The resource-server kit end to end: the example instances API (`examples/instances-api`,
//! protected by `gatehouse-verify`) in front of a real Gatehouse. A client-credentials token
//! and an API key each call it; the key's rate-limit class, published at introspection, is
//! enforced per key with 429 and the rate-limit headers; a revoked key stops within the
//! verifier's cache age (moved past on the API's injected clock, no sleeping).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_admin::{Actor, Context, api_keys};
use gatehouse_core::apikey::ApiKeyRequest;
use gatehouse_server::settings::{ApiKeySettings, RateLimitClass};
use gatehouse_verify::ManualClock;
use serde_json::{Value, json};

use crate::support::*;

fn tiny_class() -> RateLimitClass {
    RateLimitClass {
        reads_per_minute: 5,
        writes_per_minute: 3,
        creates_per_minute: None,
        updates_per_minute: None,
        deletes_per_minute: Some(2),
    }
}

struct Api {
    base: String,
    clock: ManualClock,
}

/// Starts the example API against `s`, introspecting as `rs`, with a 30 s key cache.
fn start_api(s: &TestServer, rs: &TestClient) -> Api {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let config = instances_api::Config {
        issuer: s.base.clone(),
        resource: base.clone(),
        client_id: rs.id.clone(),
        client_secret: rs.secret.clone().unwrap(),
        redis_url: None,
        api_key_cache_ttl: Duration::from_secs(30),
    };
    let clock = ManualClock::default();
    let server = instances_api::serve_with_clock(&config, listener, Arc::new(clock.clone()))
        .expect("start the example API");
    tokio::spawn(server);
    Api { base, clock }
}

async fn call(api: &Api, method: &str, path: &str, credential: Option<&str>) -> reqwest::Response {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http().request(m, format!("{}{path}", api.base));
    if let Some(c) = credential {
        req = req.bearer_auth(c);
    }
    if method == "POST" {
        req = req.json(&json!({"name": "web-1", "size": "small"}));
    }
    req.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn client_token(s: &TestServer, app: &TestClient) -> String {
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "instances:read instances:write"),
    ];
    let (status, _, body) = client_post(s, app, "/oauth/token", &form).await;
    assert_eq!(status, 200, "{body}");
    str_of(&body, "access_token").to_owned()
}

async fn new_key(s: &TestServer) -> (String, String) {
    let mut settings = ApiKeySettings::default();
    settings
        .rate_limit_classes
        .insert("tiny".into(), tiny_class());
    let req = ApiKeyRequest {
        name: "ci pipeline".into(),
        scope: Some("instances:read instances:write".into()),
        rate_limit_class: Some("tiny".into()),
        ..Default::default()
    };
    let actor = Actor::operator();
    let ctx = Context::new(&s.store, &actor, s.clock_now());
    let policy = settings.policy().expect("key policy");
    let tenant = gatehouse_core::TenantId::parse("default").expect("tenant");
    let out = api_keys::create(&ctx, &policy, &tenant, req)
        .await
        .expect("create key");
    (out.key.id.clone(), out.secret.expose().to_owned())
}

#[tokio::test]
async fn a_token_and_an_api_key_call_the_example_api_within_their_limits() {
    let s = TestServer::start_with(|st| {
        st.api_keys
            .rate_limit_classes
            .insert("tiny".into(), tiny_class());
    })
    .await;
    let rs = s
        .client(|r| {
            r.name = "Instances API".into();
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris = vec![];
            r.scope = Some("instances:read".into());
        })
        .await;
    let app = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris = vec![];
            r.scope = Some("instances:read instances:write".into());
        })
        .await;
    let (key_id, key) = new_key(&s).await;
    let api = start_api(&s, &rs);

    // Introspection publishes the key's class and its limits.
    let i = introspect_token(&s, &rs, &key).await;
    assert_eq!(i["rate_limit_class"], "tiny");
    assert_eq!(
        i["rate_limits"],
        json!({"read": 5, "create": 3, "update": 3, "delete": 2})
    );

    // The metadata document and the challenge point at each other (RFC 9728).
    let r = call(&api, "GET", "/.well-known/oauth-protected-resource", None).await;
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["authorization_servers"], json!([s.base]));
    let r = call(&api, "GET", "/v1/instances", None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        header(&r, "www-authenticate"),
        format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
            api.base
        )
    );

    // A client-credentials JWT: the client's default limits.
    let token = client_token(&s, &app).await;
    let r = call(&api, "POST", "/v1/instances", Some(&token)).await;
    assert_eq!(r.status(), 201);
    assert_eq!(header(&r, "ratelimit-policy"), "\"create\";q=120;w=60");
    let r = call(&api, "GET", "/v1/instances", Some(&token)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "ratelimit"), "\"read\";r=1199;t=1");
    let listed: Value = r.json().await.unwrap();
    assert_eq!(listed["instances"][0]["name"], "web-1");

    // The API key: its class's limits, per key.
    let r = call(&api, "GET", "/v1/instances", Some(&key)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "ratelimit-policy"), "\"read\";q=5;w=60");
    assert_eq!(header(&r, "ratelimit"), "\"read\";r=4;t=12");
    let mut created = Vec::new();
    for _ in 0..3 {
        let r = call(&api, "POST", "/v1/instances", Some(&key)).await;
        assert_eq!(r.status(), 201);
        created.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let r = call(&api, "POST", "/v1/instances", Some(&key)).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "ratelimit-policy"), "\"create\";q=3;w=60");
    assert_eq!(header(&r, "ratelimit"), "\"create\";r=0;t=60");
    assert_eq!(header(&r, "retry-after"), "20");
    for id in &created[..2] {
        let r = call(&api, "DELETE", &format!("/v1/instances/{id}"), Some(&key)).await;
        assert_eq!(r.status(), 204);
    }
    let r = call(
        &api,
        "DELETE",
        &format!("/v1/instances/{}", created[2]),
        Some(&key),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "ratelimit-policy"), "\"delete\";q=2;w=60");
    assert_eq!(header(&r, "retry-after"), "30");
    // The key's limits are its own: the client's token still creates.
    let r = call(&api, "POST", "/v1/instances", Some(&token)).await;
    assert_eq!(r.status(), 201);

    // Revoked: still accepted from the verifier's cache, refused once the cache age passes.
    let actor = Actor::operator();
    let ctx = Context::new(&s.store, &actor, s.clock_now());
    api_keys::revoke(&ctx, &key_id, None).await.expect("revoke");
    let r = call(&api, "GET", "/v1/instances", Some(&key)).await;
    assert_eq!(r.status(), 200, "within the 30 s cache age");
    api.clock.advance(Duration::from_secs(31));
    let r = call(&api, "GET", "/v1/instances", Some(&key)).await;
    assert_eq!(r.status(), 401);
    assert!(header(&r, "www-authenticate").contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn the_example_api_refuses_scopes_a_credential_lacks_and_bad_input() {
    let s = TestServer::start().await;
    let rs = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris = vec![];
            r.scope = Some("instances:read".into());
        })
        .await;
    let reader = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris = vec![];
            r.scope = Some("instances:read".into());
        })
        .await;
    let api = start_api(&s, &rs);
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "instances:read"),
    ];
    let (_, _, body) = client_post(&s, &reader, "/oauth/token", &form).await;
    let token = str_of(&body, "access_token").to_owned();
    let r = call(&api, "POST", "/v1/instances", Some(&token)).await;
    assert_eq!(r.status(), 403);
    let c = header(&r, "www-authenticate");
    assert!(c.contains("error=\"insufficient_scope\""), "{c}");
    assert!(c.contains("scope=\"instances:write\""), "{c}");
    let r = call(&api, "GET", "/v1/instances", Some(&format!("{token}x"))).await;
    assert_eq!(r.status(), 401);
    let r = call(&api, "GET", "/v1/instances", Some("gh_live_mistyped")).await;
    assert_eq!(r.status(), 401);
}

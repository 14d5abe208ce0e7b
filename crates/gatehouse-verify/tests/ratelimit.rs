//! Rate limits by method class through `ResourceServer::authorize`: the published defaults
//! (reads 1,200, creates 120, deletes 30 per minute per key), the class limits an API key's
//! introspection answer publishes, per-key and per-client counting, and the IETF headers.
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
    Access, ManualClock, MethodClass, RateLimitConfig, RateLimiter, Rejection, RequestInfo,
    ResourceConfig, ResourceServer, Verifier, VerifierConfig,
};
use serde_json::json;
use support::{MockAs, RS_CLIENT, RS_SECRET, TestKey, api_key, claims, key_answer, now_secs};

struct Setup {
    rs: ResourceServer,
    clock: ManualClock,
    server: MockAs,
}

async fn setup(keys: &[&TestKey]) -> Setup {
    let server = MockAs::start(keys).await;
    let clock = ManualClock::default();
    let cfg = VerifierConfig::new(&server.issuer).introspection_client(RS_CLIENT, RS_SECRET);
    let v = Verifier::with_clock(cfg, Arc::new(clock.clone())).unwrap();
    let limiter =
        RateLimiter::with_clock(RateLimitConfig::default(), Arc::new(clock.clone())).unwrap();
    let rs = ResourceServer::new(
        v,
        Some(limiter),
        ResourceConfig::new("https://api.example.com"),
    )
    .unwrap();
    Setup { rs, clock, server }
}

async fn call(rs: &ResourceServer, method: &str, credential: &str) -> Result<Access, Rejection> {
    let auth = format!("Bearer {credential}");
    let info = RequestInfo {
        method,
        path: "/v1/instances",
        authorization: &[&auth],
        dpop: &[],
        client_ip: None,
    };
    rs.authorize(&info).await
}

fn header<'a>(h: &'a [(&'static str, String)], name: &str) -> &'a str {
    h.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Makes `n` calls that must pass, then one that must be refused; returns the refusal.
async fn exhaust(rs: &ResourceServer, method: &str, key: &str, n: u32) -> Rejection {
    for i in 0..n {
        if let Err(r) = call(rs, method, key).await {
            panic!("{method} #{} refused: {:?}", i + 1, r.headers);
        }
    }
    call(rs, method, key).await.unwrap_err()
}

#[tokio::test]
async fn the_three_limit_classes_are_enforced_with_headers() {
    let s = setup(&[]).await;
    let key = api_key("gh_live_", 20);
    s.server
        .add_key(&key, key_answer(&s.server.issuer, "key-20", "a", None));

    let first = call(&s.rs, "GET", &key).await.unwrap();
    assert_eq!(
        header(&first.headers, "RateLimit-Policy"),
        "\"read\";q=1200;w=60"
    );
    assert_eq!(header(&first.headers, "RateLimit"), "\"read\";r=1199;t=1");
    let r = exhaust(&s.rs, "GET", &key, 1199).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        header(&r.headers, "RateLimit-Policy"),
        "\"read\";q=1200;w=60"
    );
    assert_eq!(header(&r.headers, "RateLimit"), "\"read\";r=0;t=60");
    assert_eq!(header(&r.headers, "Retry-After"), "1");

    // Classes are counted apart: creates still pass after reads ran out.
    let first = call(&s.rs, "POST", &key).await.unwrap();
    assert_eq!(header(&first.headers, "RateLimit"), "\"create\";r=119;t=1");
    let r = exhaust(&s.rs, "POST", &key, 119).await;
    assert_eq!(
        header(&r.headers, "RateLimit-Policy"),
        "\"create\";q=120;w=60"
    );
    assert_eq!(header(&r.headers, "RateLimit"), "\"create\";r=0;t=60");
    assert_eq!(header(&r.headers, "Retry-After"), "1");

    let r = exhaust(&s.rs, "DELETE", &key, 30).await;
    assert_eq!(
        header(&r.headers, "RateLimit-Policy"),
        "\"delete\";q=30;w=60"
    );
    assert_eq!(header(&r.headers, "RateLimit"), "\"delete\";r=0;t=60");
    assert_eq!(header(&r.headers, "Retry-After"), "2");
    // The bucket refills evenly: one delete per two seconds.
    s.clock.advance(Duration::from_secs(2));
    let again = call(&s.rs, "DELETE", &key).await.unwrap();
    assert_eq!(header(&again.headers, "RateLimit"), "\"delete\";r=0;t=60");
    assert!(call(&s.rs, "DELETE", &key).await.is_err());

    let r = exhaust(&s.rs, "PATCH", &key, 120).await;
    assert_eq!(
        header(&r.headers, "RateLimit-Policy"),
        "\"update\";q=120;w=60"
    );
}

#[tokio::test]
async fn a_keys_published_class_overrides_the_defaults() {
    let s = setup(&[]).await;
    let key = api_key("gh_live_", 21);
    let limits = json!({"read": 5, "create": 2, "delete": 1, "update": 0});
    s.server.add_key(
        &key,
        key_answer(&s.server.issuer, "key-21", "a", Some(limits)),
    );
    let r = exhaust(&s.rs, "GET", &key, 5).await;
    assert_eq!(header(&r.headers, "RateLimit-Policy"), "\"read\";q=5;w=60");
    assert_eq!(header(&r.headers, "Retry-After"), "12");
    exhaust(&s.rs, "POST", &key, 2).await;
    exhaust(&s.rs, "DELETE", &key, 1).await;
    // 0 = unlimited: no limit and no headers.
    for _ in 0..300 {
        let a = call(&s.rs, "PUT", &key).await.unwrap();
        assert!(a.headers.is_empty());
    }
}

#[tokio::test]
async fn limits_count_per_key_and_per_client() {
    let signer = TestKey::ec("e1");
    let s = setup(&[&signer]).await;
    let (k1, k2) = (api_key("gh_live_", 22), api_key("gh_live_", 23));
    for (k, id) in [(&k1, "key-22"), (&k2, "key-23")] {
        let limits = json!({"delete": 2});
        s.server
            .add_key(k, key_answer(&s.server.issuer, id, "a", Some(limits)));
    }
    exhaust(&s.rs, "DELETE", &k1, 2).await;
    call(&s.rs, "DELETE", &k2)
        .await
        .expect("another key has its own bucket");

    // Two tokens of one client share the client's bucket.
    let now = now_secs(&s.clock);
    let t1 = signer.token(&claims(&s.server.issuer, now, "a"));
    let t2 = signer.token(&claims(&s.server.issuer, now, "a"));
    for _ in 0..15 {
        call(&s.rs, "DELETE", &t1).await.unwrap();
        call(&s.rs, "DELETE", &t2).await.unwrap();
    }
    assert_eq!(call(&s.rs, "DELETE", &t1).await.unwrap_err().status, 429);
}

#[tokio::test]
async fn an_unreachable_redis_falls_back_to_local_limits() {
    let clock = ManualClock::default();
    let cfg = RateLimitConfig {
        redis_url: Some("redis://127.0.0.1:1".into()),
        ..RateLimitConfig::default()
    };
    let limiter = RateLimiter::with_clock(cfg, Arc::new(clock)).unwrap();
    for _ in 0..3 {
        let d = limiter
            .check_identity("key:x", MethodClass::Delete, 3)
            .await
            .unwrap();
        assert!(d.allowed());
    }
    let d = limiter
        .check_identity("key:x", MethodClass::Delete, 3)
        .await
        .unwrap();
    assert!(!d.allowed(), "limits still hold without Redis");
}

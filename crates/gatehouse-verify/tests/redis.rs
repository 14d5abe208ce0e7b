//! Limits shared through Redis. These run when `GATEHOUSE_TEST_REDIS_URL` is set at build time
//! (e.g. `redis://127.0.0.1:6379`); without it `cargo test` lists them as ignored, naming the
//! variable, rather than passing them silently.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

use std::time::{SystemTime, UNIX_EPOCH};

use gatehouse_verify::{MethodClass, RateLimitConfig, RateLimiter};

fn limiter(prefix: &str) -> RateLimiter {
    let url = std::env::var("GATEHOUSE_TEST_REDIS_URL")
        .expect("GATEHOUSE_TEST_REDIS_URL was set when this test was built");
    RateLimiter::new(RateLimitConfig {
        redis_url: Some(url),
        redis_prefix: prefix.to_owned(),
        ..RateLimitConfig::default()
    })
    .unwrap()
}

fn unique_prefix() -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("gatehouse-verify-test:{n}")
}

#[tokio::test]
#[cfg_attr(
    not(gatehouse_test_redis),
    ignore = "needs Redis: set GATEHOUSE_TEST_REDIS_URL=redis://127.0.0.1:6379"
)]
async fn two_instances_sharing_redis_enforce_one_limit() {
    let prefix = unique_prefix();
    let (a, b) = (limiter(&prefix), limiter(&prefix));
    let first = a
        .check_identity("key:k1", MethodClass::Create, 3)
        .await
        .unwrap();
    assert!(first.allowed());
    assert_eq!(first.remaining, 2);
    let second = b
        .check_identity("key:k1", MethodClass::Create, 3)
        .await
        .unwrap();
    assert_eq!(second.remaining, 1, "instance b sees instance a's request");
    assert!(
        a.check_identity("key:k1", MethodClass::Create, 3)
            .await
            .unwrap()
            .allowed()
    );
    for l in [&a, &b] {
        let d = l
            .check_identity("key:k1", MethodClass::Create, 3)
            .await
            .unwrap();
        assert!(!d.allowed());
        assert_eq!(d.retry_after, Some(20));
        assert_eq!(
            d.headers(),
            vec![
                ("RateLimit-Policy", "\"create\";q=3;w=60".to_owned()),
                ("RateLimit", "\"create\";r=0;t=60".to_owned()),
                ("Retry-After", "20".to_owned()),
            ]
        );
    }
    // Another identity and another class have their own buckets.
    assert!(
        b.check_identity("key:k2", MethodClass::Create, 3)
            .await
            .unwrap()
            .allowed()
    );
    assert!(
        b.check_identity("key:k1", MethodClass::Read, 3)
            .await
            .unwrap()
            .allowed()
    );
}

#[tokio::test]
#[cfg_attr(
    not(gatehouse_test_redis),
    ignore = "needs Redis: set GATEHOUSE_TEST_REDIS_URL=redis://127.0.0.1:6379"
)]
async fn redis_keys_expire_once_the_bucket_is_full_again() {
    let prefix = unique_prefix();
    let l = limiter(&prefix);
    l.check_identity("key:k3", MethodClass::Delete, 30)
        .await
        .unwrap();
    let url = std::env::var("GATEHOUSE_TEST_REDIS_URL").unwrap();
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}:delete:key:k3"))
        .query_async(&mut conn)
        .await
        .unwrap();
    // One request of a 30-per-minute bucket refills in two seconds.
    assert!((1_000..=2_001).contains(&ttl), "PTTL {ttl}");
}

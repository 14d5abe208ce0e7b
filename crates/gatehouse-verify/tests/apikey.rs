//! API keys: offline format check, RFC 7662 introspection with a bounded-age cache, tenant and
//! rate-limit class from the answer, IP allowlists.
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
    ClassLimits, CredentialKind, ManualClock, Verifier, VerifierConfig, VerifyError,
};
use serde_json::json;
use support::{MockAs, RS_CLIENT, RS_SECRET, api_key, key_answer};

fn verifier(issuer: &str, clock: &ManualClock, ttl: u64) -> Verifier {
    let mut cfg = VerifierConfig::new(issuer).introspection_client(RS_CLIENT, RS_SECRET);
    cfg.api_key_cache_ttl = Duration::from_secs(ttl);
    Verifier::with_clock(cfg, Arc::new(clock.clone())).unwrap()
}

fn refused(r: Result<Arc<gatehouse_verify::Claims>, VerifyError>) -> &'static str {
    match r {
        Err(VerifyError::InvalidToken(why)) => why,
        other => panic!("expected invalid_token, got {other:?}"),
    }
}

#[tokio::test]
async fn a_mistyped_key_costs_no_request() {
    let server = MockAs::start(&[]).await;
    let v = verifier(&server.issuer, &ManualClock::default(), 60);
    let key = api_key("gh_live_", 1);
    let mut typo = key.clone();
    typo.replace_range(10..11, if &key[10..11] == "a" { "b" } else { "a" });
    assert_eq!(
        refused(v.verify_bearer(&typo, None).await),
        "malformed API key"
    );
    assert_eq!(
        refused(v.verify_bearer(&key[..key.len() - 1], None).await),
        "malformed API key"
    );
    assert_eq!(server.introspections(), 0);
}

#[tokio::test]
async fn a_live_key_is_introspected_once_and_carries_tenant_and_class() {
    let server = MockAs::start(&[]).await;
    let key = api_key("gh_live_", 2);
    let limits = json!({"read": 600, "create": 60, "update": 60, "delete": 10});
    server.add_key(
        &key,
        key_answer(&server.issuer, "key-1", "instances:read", Some(limits)),
    );
    let v = verifier(&server.issuer, &ManualClock::default(), 60);
    let c = v.verify_bearer(&key, None).await.unwrap();
    assert_eq!(c.kind, CredentialKind::ApiKey);
    assert_eq!(c.subject, "key-1");
    assert_eq!(c.tenant.as_deref(), Some("t1"));
    assert!(c.has_scope("instances:read"));
    let info = c.api_key.as_ref().unwrap();
    assert_eq!(info.rate_limit_class.as_deref(), Some("bulk"));
    assert_eq!(
        info.rate_limits,
        Some(ClassLimits {
            read: Some(600),
            create: Some(60),
            update: Some(60),
            delete: Some(10)
        })
    );
    assert_eq!(c.rate_limit_identity(), "key:key-1");
    for _ in 0..5 {
        v.verify_bearer(&key, None).await.unwrap();
    }
    assert_eq!(server.introspections(), 1, "answers are cached");
}

#[tokio::test]
async fn a_revoked_key_stops_within_the_cache_age() {
    let server = MockAs::start(&[]).await;
    let key = api_key("gh_test_", 3);
    server.add_key(&key, key_answer(&server.issuer, "key-2", "a", None));
    let clock = ManualClock::default();
    let v = verifier(&server.issuer, &clock, 30);
    v.verify_bearer(&key, None).await.unwrap();
    server.revoke(&key);
    clock.advance(Duration::from_secs(29));
    v.verify_bearer(&key, None)
        .await
        .expect("still cached: the documented bound");
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        refused(v.verify_bearer(&key, None).await),
        "unknown, expired or revoked API key"
    );
    assert_eq!(server.introspections(), 2);
}

#[tokio::test]
async fn unknown_keys_are_cached_as_inactive_and_foreign_answers_refused() {
    let server = MockAs::start(&[]).await;
    let clock = ManualClock::default();
    let v = verifier(&server.issuer, &clock, 60);
    let unknown = api_key("gh_live_", 4);
    for _ in 0..3 {
        assert_eq!(
            refused(v.verify_bearer(&unknown, None).await),
            "unknown, expired or revoked API key"
        );
    }
    assert_eq!(server.introspections(), 1);
    // An answer naming another issuer, or describing something other than an API key.
    let other = api_key("gh_live_", 5);
    server.add_key(
        &other,
        key_answer("https://evil.example.com", "k", "a", None),
    );
    assert!(v.verify_bearer(&other, None).await.is_err());
    let token = api_key("gh_live_", 6);
    let mut a = key_answer(&server.issuer, "k", "a", None);
    a["token_type"] = json!("Bearer");
    server.add_key(&token, a);
    assert!(v.verify_bearer(&token, None).await.is_err());
}

#[tokio::test]
async fn the_allowlist_is_enforced_against_the_callers_address() {
    let server = MockAs::start(&[]).await;
    let key = api_key("gh_live_", 7);
    let mut a = key_answer(&server.issuer, "key-3", "a", None);
    a["allowed_ips"] = json!(["10.0.0.0/8"]);
    server.add_key(&key, a);
    let v = verifier(&server.issuer, &ManualClock::default(), 60);
    v.verify_bearer(&key, Some("10.2.3.4".parse().unwrap()))
        .await
        .unwrap();
    let why = "API key not allowed from this address";
    assert_eq!(
        refused(
            v.verify_bearer(&key, Some("192.0.2.1".parse().unwrap()))
                .await
        ),
        why
    );
    assert_eq!(refused(v.verify_bearer(&key, None).await), why);
}

#[tokio::test]
async fn wrong_resource_server_credentials_are_an_outage_not_a_bad_key() {
    let server = MockAs::start(&[]).await;
    let key = api_key("gh_live_", 8);
    server.add_key(&key, key_answer(&server.issuer, "key-4", "a", None));
    let cfg = VerifierConfig::new(&server.issuer).introspection_client(RS_CLIENT, "wrong");
    let v = Verifier::new(cfg).unwrap();
    assert!(matches!(
        v.verify_bearer(&key, None).await,
        Err(VerifyError::Unavailable(_))
    ));
}

#[tokio::test]
async fn without_introspection_credentials_keys_are_refused_offline() {
    let server = MockAs::start(&[]).await;
    let key = api_key("gh_live_", 9);
    let v = Verifier::new(VerifierConfig::new(&server.issuer)).unwrap();
    assert_eq!(
        refused(v.verify_bearer(&key, None).await),
        "API keys are not accepted here"
    );
    assert_eq!(server.introspections(), 0);
}

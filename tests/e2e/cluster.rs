//! Several nodes on one database: a valid token is never rejected by any node, whichever
//! node signed it and however the key was rotated (pre-published keys; a reload on an unknown
//! `kid`), and the rate limits hold for the cluster through Redis — falling back to each
//! node's own limits, visibly, when Redis does not answer.

use std::time::{Duration, Instant};

use chrono::Utc;
use gatehouse_core::SigningAlg;
use serde_json::{Value, json};

use crate::admin_api::{get, key};
use crate::ops_support::*;
use crate::support::*;

/// A confidential client-credentials client.
async fn machine(s: &TestServer) -> TestClient {
    s.client(|r| {
        r.grant_types = vec!["client_credentials".into()];
        r.redirect_uris.clear();
        r.scope = Some("api:read".into());
    })
    .await
}

/// Issues a client-credentials token at `base`; returns it and its `kid`.
async fn issue(base: &str, c: &TestClient) -> (String, String) {
    let (status, body) = post_form(
        base,
        c,
        "/oauth/token",
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = str_of(&body, "access_token").to_owned();
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    (token, kid)
}

/// Introspects `token` at `base` as `c`.
async fn introspect_at(base: &str, c: &TestClient, token: &str) -> Value {
    let (status, body) = post_form(base, c, "/oauth/introspect", &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_node_that_meets_an_unknown_kid_reloads_once_and_accepts_the_token() {
    let (a, a_state) = TestServer::start_with_state(|_| {}).await;
    let b = Node::start(&a.db_url, &a.base, |_| {}).await;
    let c = machine(&a).await;
    // A key made active at once (as a rotation of an older release did): node A signs with
    // it after its reload, node B has never seen it.
    let k = gatehouse_admin::signing_keys::activate_new_key(
        &a.store,
        SigningAlg::RS256,
        None,
        Utc::now(),
    )
    .await
    .unwrap();
    a_state.keys.reload(&a.store, a.clock_now()).await.unwrap();
    let (token, kid) = issue(&a.base, &c).await;
    assert_eq!(kid, k.kid);
    assert!(b.state.keys.current().get(&kid).is_none());
    let before = b.state.keys.forced_reloads();
    assert_eq!(introspect_at(&b.base, &c, &token).await["active"], true);
    assert_eq!(b.state.keys.forced_reloads(), before + 1);
    // Tokens with made-up key ids cannot turn into a reload per request.
    let header = |kid: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":"{kid}"}}"#))
    };
    let started = Instant::now();
    for i in 0..30 {
        let forged = format!("{}.e30.c2ln", header(&format!("made-up-{i}")));
        assert_eq!(introspect_at(&b.base, &c, &forged).await["active"], false);
    }
    let allowed = 1 + started.elapsed().as_secs();
    let forced = b.state.keys.forced_reloads() - before - 1;
    assert!(forced <= allowed, "{forced} reloads for 30 unknown kids");
}

#[tokio::test]
#[cfg_attr(
    not(gatehouse_test_postgres),
    ignore = "needs PostgreSQL: set GATEHOUSE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
)]
async fn two_processes_never_reject_a_token_across_an_admin_api_rotation() {
    let db = gatehouse_store::test_support::TestDb::new().await;
    let store = db.store().await;
    let c = register(&store, &["client_credentials"], "api:read", |_| {}).await;
    let admin = api_key(&store, "admin:all").await;
    // Keys reload every second and a rotated key waits two before it signs, so the whole
    // rotation plays out in a few seconds.
    let config = "[keys]\nreload_interval = 1\npropagation_delay = 2\n";
    let issuer = "http://cluster.test";
    let mut a = Process::spawn(&db.url, Some(issuer), config, &[]);
    let mut b = Process::spawn(&db.url, Some(issuer), config, &[]);
    a.ready().await;
    b.ready().await;
    let (_, old_kid) = issue(&a.base, &c).await;
    let rotated = http()
        .post(a.url("/admin/v1/keys/rotate"))
        .bearer_auth(&admin)
        .json(&json!({"alg": "RS256"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), 201);
    let rotated: Value = rotated.json().await.unwrap();
    assert_eq!(rotated["status"], "next");
    let new_kid = str_of(&rotated, "kid").to_owned();
    // Tokens from both nodes, each verified by the other, until both sign with the new key.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut new_on_a, mut new_on_b, mut checked) = (0, 0, 0);
    while new_on_a < 3 || new_on_b < 3 {
        assert!(Instant::now() < deadline, "the new key never signed");
        for (from, to, count) in [(&a, &b, &mut new_on_a), (&b, &a, &mut new_on_b)] {
            let (token, kid) = issue(&from.base, &c).await;
            assert!(kid == old_kid || kid == new_kid, "{kid}");
            let answer = introspect_at(&to.base, &c, &token).await;
            assert_eq!(answer["active"], true, "a token of {kid} was rejected");
            checked += 1;
            if kid == new_kid {
                *count += 1;
            }
        }
    }
    assert!(checked >= 6);
}

// ---- Rate limits shared through Redis ----

/// A Redis key prefix of this test alone.
fn prefix() -> String {
    format!("gh-test-{}", uuid_like_suffix())
}

fn uuid_like_suffix() -> String {
    let (v, _) = pkce();
    v.chars().rev().take(20).collect()
}

fn with_redis(url: &str, prefix: &str) -> impl Fn(&mut gatehouse_server::Settings) {
    let (url, prefix) = (url.to_owned(), prefix.to_owned());
    move |st| {
        st.redis.url = gatehouse_server::settings::RedisUrl::new(url.clone());
        st.redis.key_prefix = prefix.clone();
        let default = st.api_keys.rate_limit_classes.get_mut("default").unwrap();
        default.reads_per_minute = 4;
        st.login_throttle.user_address_free_failures = 2;
        st.login_throttle.initial_wait_seconds = 60;
    }
}

/// One console sign-in attempt at `base` with a wrong password: the status.
async fn wrong_sign_in(base: &str, username: &str) -> u16 {
    let b = browser();
    let page = b
        .get(format!("{base}/admin/console/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf_token").expect("a sign-in form");
    b.post(format!("{base}/admin/console/sign-in"))
        .form(&[
            ("username", username),
            ("password", "not the password"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
#[cfg_attr(
    not(gatehouse_test_redis),
    ignore = "needs Redis: set GATEHOUSE_TEST_REDIS_URL=redis://127.0.0.1:6379"
)]
async fn api_key_limits_and_the_sign_in_throttle_hold_across_two_nodes_through_redis() {
    let url = std::env::var("GATEHOUSE_TEST_REDIS_URL").unwrap();
    let p = prefix();
    let a = TestServer::start_with(with_redis(&url, &p)).await;
    let b = Node::start(&a.db_url, &a.base, with_redis(&url, &p)).await;
    let k = key(&a, "default", "shared", "admin:all").await;
    // Four reads a minute for the cluster, not four per node.
    let mut statuses = Vec::new();
    for i in 0..6 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let r = http()
            .get(format!("{base}/admin/v1/keys"))
            .bearer_auth(&k)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);
    // Two free failures for the cluster: the fourth attempt (the second on each node) waits.
    let user = format!("guess-{p}");
    let first = [
        wrong_sign_in(&a.base, &user).await,
        wrong_sign_in(&b.base, &user).await,
        wrong_sign_in(&a.base, &user).await,
    ];
    assert!(first.iter().all(|s| *s != 429), "{first:?}");
    assert_eq!(wrong_sign_in(&b.base, &user).await, 429);
}

#[tokio::test]
async fn without_redis_each_node_keeps_limiting_on_its_own_and_says_so() {
    // Nothing listens on this port: every Redis call fails at once.
    let closed = format!("redis://127.0.0.1:{}", free_port());
    let p = prefix();
    let s = TestServer::start_with(with_redis(&closed, &p)).await;
    let k = key(&s, "default", "local", "admin:all").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(get(&s, "/admin/v1/keys", &k).await.status.as_u16());
    }
    // Service goes on, and so do the limits: four reads, then 429.
    assert_eq!(statuses, [200, 200, 200, 200, 429]);
    let user = format!("local-{p}");
    for _ in 0..3 {
        assert_ne!(wrong_sign_in(&s.base, &user).await, 429);
    }
    assert_eq!(wrong_sign_in(&s.base, &user).await, 429);
    let text = metrics_text(&s.base).await;
    for limit in ["api_key", "sign_in"] {
        let n = sample(
            &text,
            &format!("gatehouse_shared_limits_fallback_total{{limit=\"{limit}\"}}"),
        );
        assert!(n.is_some_and(|n| n >= 1.0), "{limit}: {text}");
    }
}

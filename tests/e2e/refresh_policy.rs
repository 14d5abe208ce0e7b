//! The refresh-token rotation policy (RFC 9700 §4.14.2): strict rotation by default, an
//! optional per-client grace period for retries, and idle and absolute lifetimes, per client
//! or from the server's settings. Time moves with the test clock only.

use serde_json::json;

use crate::support::*;

const SCOPE: &str = "openid offline_access";

#[tokio::test]
async fn rotation_is_strict_by_default() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("lou").await;
    let t0 = issue_tokens(&s, &c, "lou", SCOPE).await;
    let rt0 = str_of(&t0, "refresh_token");
    let (status, t1) = refresh_with(&s, &c, rt0).await;
    assert_eq!(status, 200, "{t1}");
    // An immediate retry of the old token is reuse: the whole family dies.
    assert_eq!(refresh_with(&s, &c, rt0).await.0, 400);
    assert_eq!(
        refresh_with(&s, &c, str_of(&t1, "refresh_token")).await.0,
        400
    );
    assert_eq!(
        introspect_token(&s, &c, str_of(&t1, "access_token")).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn a_retry_within_the_grace_period_receives_the_same_pair() {
    let s = TestServer::start().await;
    let c = s.client(|r| r.refresh_grace_seconds = Some(30)).await;
    s.user("mia").await;
    let t0 = issue_tokens(&s, &c, "mia", SCOPE).await;
    let rt0 = str_of(&t0, "refresh_token");
    let (status, lost) = refresh_with(&s, &c, rt0).await;
    assert_eq!(status, 200, "{lost}");
    let lost_rt = str_of(&lost, "refresh_token");

    s.clock.advance(10);
    let (status, retry) = refresh_with(&s, &c, rt0).await;
    assert_eq!(status, 200, "{retry}");
    assert_eq!(
        str_of(&retry, "refresh_token"),
        lost_rt,
        "the same refresh token"
    );
    // The clients' access tokens are RS256, whose signatures are deterministic: the very same
    // token, with 10 seconds less to live.
    assert_eq!(
        str_of(&retry, "access_token"),
        str_of(&lost, "access_token")
    );
    assert_eq!(
        lost["expires_in"].as_i64().unwrap() - retry["expires_in"].as_i64().unwrap(),
        10
    );
    assert_eq!(
        userinfo_status(&s, str_of(&retry, "access_token")).await,
        200
    );
    assert_eq!(introspect_token(&s, &c, lost_rt).await["active"], true);

    let (status, next) = refresh_with(&s, &c, lost_rt).await;
    assert_eq!(status, 200, "{next}");
    // Now the first token's successor has been used: presenting it again is reuse, even
    // within the grace period, and the family dies.
    s.clock.advance(5);
    assert_eq!(refresh_with(&s, &c, rt0).await.0, 400);
    assert_eq!(
        refresh_with(&s, &c, str_of(&next, "refresh_token")).await.0,
        400
    );
}

#[tokio::test]
async fn a_stolen_old_token_replayed_within_grace_gets_nothing_new() {
    let s = TestServer::start().await;
    let c = s.client(|r| r.refresh_grace_seconds = Some(30)).await;
    s.user("ned").await;
    let t0 = issue_tokens(&s, &c, "ned", SCOPE).await;
    let rt0 = str_of(&t0, "refresh_token");
    let (_, first) = refresh_with(&s, &c, rt0).await;
    // A second presenter within the grace period only ever sees the one live successor,
    // so there is never a second branch of the family.
    for _ in 0..3 {
        let (status, again) = refresh_with(&s, &c, rt0).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(
            str_of(&again, "refresh_token"),
            str_of(&first, "refresh_token")
        );
    }
    let (status, second) = refresh_with(&s, &c, str_of(&first, "refresh_token")).await;
    assert_eq!(status, 200, "{second}");
    // Its successor is used: the old token is now reuse, and the family dies.
    assert_eq!(refresh_with(&s, &c, rt0).await.0, 400);
    assert_eq!(
        refresh_with(&s, &c, str_of(&second, "refresh_token"))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn a_retry_after_the_grace_period_revokes_the_family() {
    let s = TestServer::start().await;
    let c = s.client(|r| r.refresh_grace_seconds = Some(30)).await;
    s.user("ola").await;
    let t0 = issue_tokens(&s, &c, "ola", SCOPE).await;
    let rt0 = str_of(&t0, "refresh_token");
    let (status, t1) = refresh_with(&s, &c, rt0).await;
    assert_eq!(status, 200, "{t1}");
    s.clock.advance(31);
    let (status, body) = refresh_with(&s, &c, rt0).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_grant"));
    assert_eq!(
        refresh_with(&s, &c, str_of(&t1, "refresh_token")).await.0,
        400
    );
    assert_eq!(userinfo_status(&s, str_of(&t1, "access_token")).await, 401);
}

#[tokio::test]
async fn an_idle_refresh_token_expires_and_use_renews_it() {
    let s = TestServer::start().await;
    let c = s.client(|r| r.refresh_idle_ttl = Some(600)).await;
    s.user("pam").await;
    let t = issue_tokens(&s, &c, "pam", SCOPE).await;
    let mut rt = str_of(&t, "refresh_token").to_owned();
    // Used every 500 s, it lives well past one idle period.
    for _ in 0..3 {
        s.clock.advance(500);
        let (status, next) = refresh_with(&s, &c, &rt).await;
        assert_eq!(status, 200, "{next}");
        rt = str_of(&next, "refresh_token").to_owned();
    }
    s.clock.advance(601);
    let (status, body) = refresh_with(&s, &c, &rt).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_grant"));
}

#[tokio::test]
async fn a_family_never_outlives_its_absolute_lifetime() {
    let s = TestServer::start().await;
    let c = s
        .client(|r| {
            r.refresh_idle_ttl = Some(600);
            r.refresh_absolute_ttl = Some(1000);
        })
        .await;
    s.user("quin").await;
    let t = issue_tokens(&s, &c, "quin", SCOPE).await;
    s.clock.advance(500);
    let (status, t1) = refresh_with(&s, &c, str_of(&t, "refresh_token")).await;
    assert_eq!(status, 200, "{t1}");
    let rt1 = str_of(&t1, "refresh_token");
    // Issued at 500 with a 600 s idle lifetime, but the family ends at 1000.
    let i = introspect_token(&s, &c, rt1).await;
    // (The test clock follows real time plus an offset, so a second may tick in between.)
    let lifetime = i["exp"].as_i64().unwrap() - i["iat"].as_i64().unwrap();
    assert!(
        (498..=500).contains(&lifetime),
        "lifetime {lifetime}: capped by the family, not 600"
    );
    s.clock.advance(500);
    let (status, body) = refresh_with(&s, &c, rt1).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_grant"));
}

#[tokio::test]
async fn server_settings_set_the_default_lifetimes() {
    let s = TestServer::start_with(|st| {
        st.tokens.refresh_token_idle_ttl = Some(120);
        st.tokens.refresh_token_absolute_ttl = 300;
    })
    .await;
    let c = s.client(|_| {}).await;
    s.user("rae").await;
    let t = issue_tokens(&s, &c, "rae", SCOPE).await;
    let i = introspect_token(&s, &c, str_of(&t, "refresh_token")).await;
    assert_eq!(i["exp"].as_i64().unwrap() - i["iat"].as_i64().unwrap(), 120);
    s.clock.advance(121);
    assert_eq!(
        refresh_with(&s, &c, str_of(&t, "refresh_token")).await.0,
        400
    );

    // A client override wins over the server's idle lifetime.
    let long = s.client(|r| r.refresh_idle_ttl = Some(240)).await;
    let t = issue_tokens(&s, &long, "rae", SCOPE).await;
    s.clock.advance(200);
    assert_eq!(
        refresh_with(&s, &long, str_of(&t, "refresh_token")).await.0,
        200
    );
}

#[test]
fn settings_refuse_an_idle_lifetime_beyond_the_absolute_one() {
    let mut st = gatehouse_server::Settings::default();
    st.tokens.refresh_token_idle_ttl = Some(7200);
    st.tokens.refresh_token_absolute_ttl = 3600;
    let err = st.validated().unwrap_err();
    assert!(err.contains("refresh_token_idle_ttl"), "{err}");
    // The older name still sets the idle lifetime.
    let mut st = gatehouse_server::Settings::default();
    st.tokens.refresh_token_ttl = 600;
    assert_eq!(st.policy().refresh_token_ttl, 600);
}

/// `gatehouse client create` with the refresh-policy flags: stored and shown, or refused with
/// the flag named and no JSON printed.
#[tokio::test]
async fn the_cli_sets_the_refresh_policy_per_client() {
    let s = TestServer::start().await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(args)
            .env("GATEHOUSE_DATABASE_URL", &s.db_url)
            .env_remove("GATEHOUSE_ISSUER")
            .current_dir(std::env::temp_dir())
            .output()
            .expect("run gatehouse")
    };
    let base = [
        "client",
        "create",
        "--name",
        "Mobile",
        "--redirect-uri",
        REDIRECT,
        "--json",
    ];
    let out = run(&[
        &base[..],
        &[
            "--refresh-grace-seconds",
            "15",
            "--refresh-idle-ttl",
            "600",
            "--refresh-absolute-ttl",
            "86400",
        ],
    ]
    .concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["refresh_grace_seconds"], 15);
    assert_eq!(v["refresh_idle_ttl"], 600);
    assert_eq!(v["refresh_absolute_ttl"], 86400);
    let id = gatehouse_core::ClientId::parse(str_of(&v, "client_id")).unwrap();
    use gatehouse_core::ports::ClientStore;
    let stored = s.store.find_client(&id).await.unwrap().unwrap();
    assert_eq!(stored.refresh_grace_seconds, 15);

    for (flag, value) in [
        ("--refresh-grace-seconds", "301"),
        ("--refresh-idle-ttl", "5"),
        ("--refresh-absolute-ttl", "40000000"),
    ] {
        let out = run(&[&base[..], &[flag, value]].concat());
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{flag}: {err}");
        assert!(out.stdout.is_empty());
    }
}

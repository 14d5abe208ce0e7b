//! OpenID Foundation conformance, Basic OP plan: re-authentication and silent requests
//! (`oidcc-prompt-none-*`, `oidcc-prompt-login`, `oidcc-max-age-*`, `oidcc-id-token-hint`;
//! OIDC Core §3.1.2.1, §3.1.2.6), and the login session's idle and absolute expiry.

use gatehouse_store::entities::session;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::conformance_support::*;
use crate::support::*;

async fn sessions(s: &TestServer) -> u64 {
    session::Entity::find().count(s.store.db()).await.unwrap()
}

fn auth_time(t: &serde_json::Value) -> i64 {
    jwt_claims(t["id_token"].as_str().unwrap())["auth_time"]
        .as_i64()
        .unwrap()
}

/// A silent request in browser `b`: the redirect it gets.
async fn silent(s: &TestServer, b: &reqwest::Client, client: &TestClient) -> String {
    let (url, _) = authorize_url(s, client, "openid", &[("prompt", "none")]);
    let resp = get(b, &url).await;
    assert_eq!(resp.status(), 303, "prompt=none never shows a page");
    location(&resp)
}

/// oidcc-prompt-none-not-logged-in: `login_required`, with `state` and `iss`.
#[tokio::test]
async fn oidcc_prompt_none_not_logged_in() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    let loc = silent(&s, &browser(), &client).await;
    assert!(loc.starts_with(REDIRECT));
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-123"));
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(s.base.as_str()));
}

/// oidcc-prompt-none-logged-in: a code for the same user, without any page.
#[tokio::test]
async fn oidcc_prompt_none_logged_in() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    let sub = s.user("alice").await;
    let b = browser();
    tokens(&s, &b, &client, "openid", &[]).await;
    let (url, verifier) = authorize_url(&s, &client, "openid", &[("prompt", "none")]);
    let loc = location(&get(&b, &url).await);
    let code = query_param(&loc, "code").expect("a code");
    let (_, t) = redeem(&s, &client, &code, &verifier).await;
    assert_eq!(
        jwt_claims(t["id_token"].as_str().unwrap())["sub"],
        sub.as_str()
    );
}

/// prompt=none without consent for this client: `consent_required` (Core §3.1.2.6).
#[tokio::test]
async fn prompt_none_without_consent_is_consent_required() {
    let s = TestServer::start().await;
    let first = oidc_client(&s).await;
    let second = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    tokens(&s, &b, &first, "openid", &[]).await;
    let loc = silent(&s, &b, &second).await;
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("consent_required")
    );
}

/// oidcc-prompt-login: the login page comes back despite the session, and `auth_time` is the
/// time of this new login.
#[tokio::test]
async fn oidcc_prompt_login_reauthenticates() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let first = tokens(&s, &b, &client, "openid", &[]).await;
    s.clock.advance(120);
    let (url, _) = authorize_url(&s, &client, "openid", &[("prompt", "login")]);
    let body = get(&b, &url).await.text().await.unwrap();
    assert!(body.contains("action=\"/login\""), "login page expected");
    let second = tokens(&s, &b, &client, "openid", &[("prompt", "login")]).await;
    assert!(
        auth_time(&second) >= auth_time(&first) + 120,
        "auth_time must be the latest authentication"
    );
}

/// oidcc-max-age-1: an older authentication forces a new login, and `auth_time` is fresh;
/// oidcc-max-age-10000: a recent one does not.
#[tokio::test]
async fn oidcc_max_age() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let first = tokens(&s, &b, &client, "openid", &[]).await;
    s.clock.advance(2);

    let (url, _) = authorize_url(&s, &client, "openid", &[("max_age", "10000")]);
    let resp = get(&b, &url).await;
    assert_eq!(resp.status(), 303, "max_age=10000 needs no new login");
    let t = tokens(&s, &b, &client, "openid", &[("max_age", "10000")]).await;
    assert_eq!(auth_time(&t), auth_time(&first));

    let (url, _) = authorize_url(&s, &client, "openid", &[("max_age", "1")]);
    let body = get(&b, &url).await.text().await.unwrap();
    assert!(
        body.contains("action=\"/login\""),
        "max_age=1 needs a new login"
    );
    let t = tokens(&s, &b, &client, "openid", &[("max_age", "1")]).await;
    assert!(auth_time(&t) >= auth_time(&first) + 2);

    // With prompt=none, too old an authentication is login_required.
    s.clock.advance(5);
    let (url, _) = authorize_url(
        &s,
        &client,
        "openid",
        &[("max_age", "1"), ("prompt", "none")],
    );
    let loc = location(&get(&b, &url).await);
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("login_required")
    );
}

/// oidcc-id-token-hint: a silent request carrying the ID token of the current user succeeds.
#[tokio::test]
async fn oidcc_id_token_hint() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let t = tokens(&s, &b, &client, "openid", &[]).await;
    let hint = t["id_token"].as_str().unwrap();
    let (url, _) = authorize_url(
        &s,
        &client,
        "openid",
        &[("prompt", "none"), ("id_token_hint", hint)],
    );
    let loc = location(&get(&b, &url).await);
    assert!(query_param(&loc, "code").is_some(), "{loc}");
}

/// An unused session ends after `[session] idle_ttl`: the user is logged out (a silent
/// request gets login_required) and the session row is deleted. Each use slides the window.
#[tokio::test]
async fn idle_sessions_expire_and_uses_slide_the_window() {
    let s = TestServer::start_with(|c| {
        c.session.idle_ttl = 600;
        c.session.ttl = 3600;
    })
    .await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    tokens(&s, &b, &client, "openid", &[]).await;
    assert_eq!(sessions(&s).await, 1);

    // Used at 500 s and 1000 s: never idle for 600 s, so still logged in at 1000 s.
    s.clock.advance(500);
    assert!(query_param(&silent(&s, &b, &client).await, "code").is_some());
    s.clock.advance(500);
    assert!(query_param(&silent(&s, &b, &client).await, "code").is_some());

    // Idle for 601 s.
    s.clock.advance(601);
    let loc = silent(&s, &b, &client).await;
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(sessions(&s).await, 0, "the idle session is deleted");
}

/// However active, a session ends at `[session] ttl` after login.
#[tokio::test]
async fn sessions_end_at_their_absolute_lifetime() {
    let s = TestServer::start_with(|c| {
        c.session.idle_ttl = 600;
        c.session.ttl = 1200;
    })
    .await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    tokens(&s, &b, &client, "openid", &[]).await;
    for _ in 0..2 {
        s.clock.advance(500);
        assert!(query_param(&silent(&s, &b, &client).await, "code").is_some());
    }
    s.clock.advance(201);
    let loc = silent(&s, &b, &client).await;
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(sessions(&s).await, 0);
}

/// An `id_token_hint` naming another user than the session's means that user must log in:
/// `login_required` with prompt=none (Core §3.1.2.1); a hint we did not issue is refused.
#[tokio::test]
async fn id_token_hint_for_another_user_or_forged_is_not_silent() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    s.user("bob").await;
    // Bob's ID token, from another browser.
    let (url, verifier) = authorize_url(&s, &client, "openid", &[]);
    let loc = expect_redirect(run_flow(&browser(), &s, &url, "bob", PASSWORD, "allow").await);
    let (_, t) = redeem(&s, &client, &query_param(&loc, "code").unwrap(), &verifier).await;
    let bobs = t["id_token"].as_str().unwrap().to_owned();

    let b = browser();
    tokens(&s, &b, &client, "openid", &[]).await; // Alice's session.
    let (url, _) = authorize_url(
        &s,
        &client,
        "openid",
        &[("prompt", "none"), ("id_token_hint", &bobs)],
    );
    let loc = location(&get(&b, &url).await);
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("login_required")
    );

    let (url, _) = authorize_url(
        &s,
        &client,
        "openid",
        &[("prompt", "none"), ("id_token_hint", "e30.e30.AAAA")],
    );
    let loc = location(&get(&b, &url).await);
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
}

//! Refresh tokens (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).

use crate::support::*;

async fn tokens(s: &TestServer, c: &TestClient, user: &str, scope: &str) -> serde_json::Value {
    let (code, verifier) = get_code(s, c, user, scope).await;
    let (status, body) = redeem(s, c, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn refresh(
    s: &TestServer,
    c: &TestClient,
    rt: &str,
    scope: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", rt)];
    if let Some(sc) = scope {
        form.push(("scope", sc));
    }
    token_request(s, c, &form).await
}

#[tokio::test]
async fn refresh_tokens_only_with_offline_access() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("lea").await;
    assert!(
        tokens(&s, &c, "lea", "openid")
            .await
            .get("refresh_token")
            .is_none()
    );
    assert!(tokens(&s, &c, "lea", "openid offline_access").await["refresh_token"].is_string());
}

#[tokio::test]
async fn rotation_issues_a_new_token_and_reuse_revokes_the_family() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("max").await;
    let t0 = tokens(&s, &c, "max", "openid offline_access").await;
    let rt0 = t0["refresh_token"].as_str().unwrap();
    let (st, t1) = refresh(&s, &c, rt0, None).await;
    assert_eq!(st, 200, "{t1}");
    let rt1 = t1["refresh_token"].as_str().unwrap();
    assert_ne!(rt0, rt1);
    assert!(t1["id_token"].is_string());
    let at1 = t1["access_token"].as_str().unwrap();
    assert_eq!(
        http()
            .get(s.url("/userinfo"))
            .bearer_auth(at1)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The old token comes back: reuse. It fails, and so does everything of the family.
    let (st, b) = refresh(&s, &c, rt0, None).await;
    assert_eq!((st, b["error"].as_str()), (400, Some("invalid_grant")));
    let (st, b) = refresh(&s, &c, rt1, None).await;
    assert_eq!(
        (st, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "the newest token of the family is revoked too"
    );
    assert_eq!(
        http()
            .get(s.url("/userinfo"))
            .bearer_auth(at1)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn scope_may_be_narrowed_but_never_widened() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("nia").await;
    let t0 = tokens(&s, &c, "nia", "openid email offline_access").await;
    let (st, b) = refresh(
        &s,
        &c,
        t0["refresh_token"].as_str().unwrap(),
        Some("openid profile offline_access"),
    )
    .await;
    assert_eq!((st, b["error"].as_str()), (400, Some("invalid_scope")));
    // A refused widening does not consume the token.
    let (st, t1) = refresh(
        &s,
        &c,
        t0["refresh_token"].as_str().unwrap(),
        Some("openid offline_access"),
    )
    .await;
    assert_eq!(st, 200, "{t1}");
    assert_eq!(t1["scope"], "offline_access openid");
    // Back up to the originally granted scope is allowed.
    let (st, t2) = refresh(
        &s,
        &c,
        t1["refresh_token"].as_str().unwrap(),
        Some("openid email offline_access"),
    )
    .await;
    assert_eq!(st, 200, "{t2}");
}

#[tokio::test]
async fn concurrent_use_of_one_refresh_token_exactly_one_succeeds() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("oli").await;
    let t0 = tokens(&s, &c, "oli", "openid offline_access").await;
    let rt = t0["refresh_token"].as_str().unwrap();
    let results = futures::future::join_all((0..8).map(|_| refresh(&s, &c, rt, None))).await;
    assert_eq!(
        results.iter().filter(|(st, _)| *st == 200).count(),
        1,
        "{results:?}"
    );
}

#[tokio::test]
async fn a_refresh_token_works_only_for_its_client_and_until_it_expires() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let other = s.client(|_| {}).await;
    s.user("pia").await;
    let t0 = tokens(&s, &c, "pia", "openid offline_access").await;
    let rt = t0["refresh_token"].as_str().unwrap();
    let (st, b) = refresh(&s, &other, rt, None).await;
    assert_eq!((st, b["error"].as_str()), (400, Some("invalid_grant")));
    // The other client's attempt did not burn it.
    let (st, t1) = refresh(&s, &c, rt, None).await;
    assert_eq!(st, 200);
    s.clock.advance(31 * 86_400);
    let (st, b) = refresh(&s, &c, t1["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!((st, b["error"].as_str()), (400, Some("invalid_grant")));
}

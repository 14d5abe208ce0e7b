//! Token revocation (RFC 7009): refresh tokens take their grant with them, access tokens are
//! revoked alone, and the endpoint answers 200 for anything it does not revoke.

use crate::support::*;

const SCOPE: &str = "openid offline_access";

#[tokio::test]
async fn revoking_a_refresh_token_revokes_the_grant_rfc7009_2_1() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("ann").await;
    let t = issue_tokens(&s, &c, "ann", SCOPE).await;
    let (rt, at) = (str_of(&t, "refresh_token"), str_of(&t, "access_token"));
    assert_eq!(userinfo_status(&s, at).await, 200);

    let (status, cache, _) = client_post(
        &s,
        &c,
        "/oauth/revoke",
        &[("token", rt), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!((status, cache.as_str()), (200, "no-store"));

    let (status, body) = refresh_with(&s, &c, rt).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_grant"));
    assert_eq!(
        introspect_token(&s, &c, at).await,
        serde_json::json!({ "active": false })
    );
    assert_eq!(userinfo_status(&s, at).await, 401);
}

#[tokio::test]
async fn revoking_an_access_token_leaves_the_refresh_token_working() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("ben").await;
    let t = issue_tokens(&s, &c, "ben", SCOPE).await;
    let (rt, at) = (str_of(&t, "refresh_token"), str_of(&t, "access_token"));

    assert_eq!(revoke_token(&s, &c, at, Some("access_token")).await, 200);
    assert_eq!(introspect_token(&s, &c, at).await["active"], false);
    assert_eq!(userinfo_status(&s, at).await, 401);

    let (status, body) = refresh_with(&s, &c, rt).await;
    assert_eq!(status, 200, "{body}");
    let fresh = str_of(&body, "access_token");
    assert_eq!(userinfo_status(&s, fresh).await, 200);
    // Revoking it again changes nothing and still succeeds.
    assert_eq!(revoke_token(&s, &c, at, None).await, 200);
}

#[tokio::test]
async fn a_wrong_hint_is_only_a_hint() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("cat").await;
    let t = issue_tokens(&s, &c, "cat", SCOPE).await;
    let at = str_of(&t, "access_token");
    assert_eq!(revoke_token(&s, &c, at, Some("refresh_token")).await, 200);
    assert_eq!(introspect_token(&s, &c, at).await["active"], false);

    let t = issue_tokens(&s, &c, "cat", SCOPE).await;
    let rt = str_of(&t, "refresh_token");
    assert_eq!(revoke_token(&s, &c, rt, Some("access_token")).await, 200);
    assert_eq!(refresh_with(&s, &c, rt).await.0, 400);
    // An unknown hint value is ignored as well.
    let t = issue_tokens(&s, &c, "cat", SCOPE).await;
    let rt = str_of(&t, "refresh_token");
    assert_eq!(revoke_token(&s, &c, rt, Some("id_token")).await, 200);
    assert_eq!(refresh_with(&s, &c, rt).await.0, 400);
}

#[tokio::test]
async fn unknown_and_malformed_tokens_get_200_rfc7009_2_2() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    for token in ["no-such-token", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
        assert_eq!(revoke_token(&s, &c, token, None).await, 200, "{token}");
    }
}

#[tokio::test]
async fn another_clients_tokens_are_not_revoked() {
    let s = TestServer::start().await;
    let owner = s.client(|_| {}).await;
    let other = s.client(|_| {}).await;
    s.user("dan").await;
    let t = issue_tokens(&s, &owner, "dan", SCOPE).await;
    let (rt, at) = (str_of(&t, "refresh_token"), str_of(&t, "access_token"));
    assert_eq!(revoke_token(&s, &other, rt, None).await, 200);
    assert_eq!(revoke_token(&s, &other, at, None).await, 200);
    assert_eq!(introspect_token(&s, &owner, rt).await["active"], true);
    assert_eq!(introspect_token(&s, &owner, at).await["active"], true);
    assert_eq!(userinfo_status(&s, at).await, 200);
}

#[tokio::test]
async fn revocation_requires_client_authentication() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("eve").await;
    let t = issue_tokens(&s, &c, "eve", SCOPE).await;
    let rt = str_of(&t, "refresh_token");

    let resp = http()
        .post(s.url("/oauth/revoke"))
        .form(&[("token", rt)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let wrong = TestClient {
        id: c.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    assert_eq!(revoke_token(&s, &wrong, rt, None).await, 401);
    // Nothing was revoked by the refused requests.
    assert_eq!(refresh_with(&s, &c, rt).await.0, 200);
}

#[tokio::test]
async fn a_missing_token_is_invalid_request() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let (status, _, body) = client_post(&s, &c, "/oauth/revoke", &[]).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_request"));
}

#[tokio::test]
async fn a_public_client_revokes_its_own_refresh_token() {
    let s = TestServer::start().await;
    let c = s.client(|r| r.auth_method = Some("none".into())).await;
    assert!(c.secret.is_none());
    s.user("fay").await;
    let t = issue_tokens(&s, &c, "fay", SCOPE).await;
    let rt = str_of(&t, "refresh_token");
    assert_eq!(revoke_token(&s, &c, rt, None).await, 200);
    let (status, _, _) = client_post(
        &s,
        &c,
        "/oauth/token",
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await;
    assert_eq!(status, 400);
}

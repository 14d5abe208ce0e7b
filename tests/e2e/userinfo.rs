//! UserInfo (OIDC Core §5.3) and bearer-token errors (RFC 6750 §3).

use crate::support::*;

#[tokio::test]
async fn userinfo_releases_claims_by_scope() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let id = s.user("quinn").await;
    let (code, verifier) = get_code(&s, &c, "quinn", "openid").await;
    let (_, t) = redeem(&s, &c, &code, &verifier).await;
    let at = t["access_token"].as_str().unwrap();
    let body: serde_json::Value = http()
        .get(s.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["sub"], id.as_str());
    assert!(
        body.get("email").is_none(),
        "no email claim without the email scope"
    );
    // POST with the token in the body (RFC 6750 §2.2) and a lower-case scheme.
    let resp = http()
        .post(s.url("/userinfo"))
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = http()
        .get(s.url("/userinfo"))
        .header("authorization", format!("bearer {at}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn userinfo_bearer_errors() {
    let s = TestServer::start().await;
    let resp = http().get(s.url("/userinfo")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer realm=\"gatehouse\""
    );
    let resp = http()
        .get(s.url("/userinfo"))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    // A client_credentials token has no user.
    let c = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris.clear();
            r.scope = Some("api:read".into());
        })
        .await;
    let (_, t) = token_request(&s, &c, &[("grant_type", "client_credentials")]).await;
    let resp = http()
        .get(s.url("/userinfo"))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn expired_access_tokens_are_refused() {
    let s = TestServer::start().await;
    let c = s.client(|r| r.access_token_ttl = Some(60)).await;
    s.user("rex").await;
    let (code, verifier) = get_code(&s, &c, "rex", "openid").await;
    let (_, t) = redeem(&s, &c, &code, &verifier).await;
    assert_eq!(t["expires_in"], 60);
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(
        http()
            .get(s.url("/userinfo"))
            .bearer_auth(at)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    s.clock.advance(61);
    let resp = http()
        .get(s.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

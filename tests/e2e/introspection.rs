//! Token introspection (RFC 7662): what an active token reveals, and `{"active": false}` for
//! expired, revoked, malformed and foreign tokens.

use gatehouse_core::SigningAlg;
use gatehouse_core::claims::ACCESS_TOKEN_TYP;
use gatehouse_jose::SigningKey;
use serde_json::json;

use crate::support::*;

const SCOPE: &str = "openid offline_access";

/// The `scope` member as a sorted list (its order carries no meaning).
fn scopes(v: &serde_json::Value) -> Vec<String> {
    let mut s: Vec<String> = str_of(v, "scope").split(' ').map(str::to_owned).collect();
    s.sort();
    s
}

#[tokio::test]
async fn an_active_access_token_is_described_rfc7662_2_2() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let resource_server = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris.clear();
            r.scope = Some("api:read".into());
        })
        .await;
    let sub = s.user("gus").await;
    let t = issue_tokens(&s, &c, "gus", SCOPE).await;
    let at = str_of(&t, "access_token");

    let (status, cache, i) =
        client_post(&s, &resource_server, "/oauth/introspect", &[("token", at)]).await;
    assert_eq!((status, cache.as_str()), (200, "no-store"));
    assert_eq!(i["active"], true);
    assert_eq!(scopes(&i), scopes(&json!({ "scope": SCOPE })));
    assert_eq!(i["client_id"], c.id.as_str());
    assert_eq!(i["sub"], sub.as_str());
    assert_eq!(i["iss"], s.base.as_str());
    assert_eq!(i["aud"], s.base.as_str());
    assert_eq!(i["token_type"], "Bearer");
    assert!(i["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let (iat, exp) = (i["iat"].as_i64().unwrap(), i["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 3600);
}

#[tokio::test]
async fn a_refresh_token_is_described_to_its_own_client_only() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let other = s.client(|_| {}).await;
    let sub = s.user("hal").await;
    let t = issue_tokens(&s, &c, "hal", SCOPE).await;
    let rt = str_of(&t, "refresh_token");

    let i = introspect_token(&s, &c, rt).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["token_type"], "refresh_token");
    assert_eq!(scopes(&i), scopes(&json!({ "scope": SCOPE })));
    assert_eq!(i["client_id"], c.id.as_str());
    assert_eq!(i["sub"], sub.as_str());
    assert_eq!(i["iss"], s.base.as_str());
    assert!(i["exp"].as_i64().unwrap() > i["iat"].as_i64().unwrap());

    assert_eq!(
        introspect_token(&s, &other, rt).await,
        json!({ "active": false })
    );
    // After rotation the old refresh token is no longer active.
    assert_eq!(refresh_with(&s, &c, rt).await.0, 200);
    assert_eq!(
        introspect_token(&s, &c, rt).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn expired_tokens_are_inactive() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("ida").await;
    let t = issue_tokens(&s, &c, "ida", SCOPE).await;
    let at = str_of(&t, "access_token");
    assert_eq!(introspect_token(&s, &c, at).await["active"], true);
    s.clock.advance(3601);
    assert_eq!(
        introspect_token(&s, &c, at).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn malformed_and_foreign_tokens_are_inactive() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let now = chrono::Utc::now().timestamp();
    let claims = |iss: &str| {
        json!({
            "iss": iss, "sub": "someone", "aud": s.base, "client_id": c.id,
            "scope": "openid", "jti": "forged-1", "iat": now, "exp": now + 600,
        })
    };
    // Signed by a key that is not ours, claiming our issuer.
    let foreign = gatehouse_jose::generate_key(SigningAlg::RS256).unwrap();
    let foreign = SigningKey::from_pkcs8(SigningAlg::RS256, &foreign.private_pkcs8_der).unwrap();
    let forged = foreign
        .sign_jws(ACCESS_TOKEN_TYP, &claims(&s.base))
        .unwrap();
    // Signed by our own key, but for another issuer.
    let ours = s
        .store
        .list_signing_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.active && k.alg == SigningAlg::RS256)
        .unwrap();
    let ours = SigningKey::from_pkcs8(SigningAlg::RS256, &ours.private_key).unwrap();
    let other_issuer = ours
        .sign_jws(ACCESS_TOKEN_TYP, &claims("https://elsewhere.example"))
        .unwrap();
    let control = ours.sign_jws(ACCESS_TOKEN_TYP, &claims(&s.base)).unwrap();
    assert_eq!(introspect_token(&s, &c, &control).await["active"], true);
    for token in [
        "garbage",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.e30.",
        &forged,
        &other_issuer,
    ] {
        assert_eq!(
            introspect_token(&s, &c, token).await,
            json!({ "active": false }),
            "{token}"
        );
    }
}

#[tokio::test]
async fn introspection_needs_a_confidential_client() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let public = s.client(|r| r.auth_method = Some("none".into())).await;
    s.user("jon").await;
    let t = issue_tokens(&s, &c, "jon", SCOPE).await;
    let at = str_of(&t, "access_token");

    let (status, _, body) = client_post(&s, &public, "/oauth/introspect", &[("token", at)]).await;
    assert_eq!((status, str_of(&body, "error")), (401, "invalid_client"));
    let resp = http()
        .post(s.url("/oauth/introspect"))
        .form(&[("token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (status, _, body) = client_post(&s, &c, "/oauth/introspect", &[]).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_request"));
}

#[tokio::test]
async fn a_code_redeemed_twice_revokes_the_first_redemptions_tokens() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("kim").await;
    let (code, verifier) = get_code(&s, &c, "kim", SCOPE).await;
    let (status, t) = redeem(&s, &c, &code, &verifier).await;
    assert_eq!(status, 200, "{t}");
    let (at, rt) = (str_of(&t, "access_token"), str_of(&t, "refresh_token"));
    assert_eq!(introspect_token(&s, &c, at).await["active"], true);
    assert_eq!(introspect_token(&s, &c, rt).await["active"], true);

    let (status, body) = redeem(&s, &c, &code, &verifier).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_grant"));
    assert_eq!(
        introspect_token(&s, &c, at).await,
        json!({ "active": false })
    );
    assert_eq!(
        introspect_token(&s, &c, rt).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn discovery_advertises_revocation_and_introspection() {
    let s = TestServer::start().await;
    let meta = openid_configuration(&s).await;
    assert_eq!(meta["revocation_endpoint"], s.url("/oauth/revoke"));
    assert_eq!(meta["introspection_endpoint"], s.url("/oauth/introspect"));
    let methods = |k: &str| -> Vec<String> { serde_json::from_value(meta[k].clone()).unwrap() };
    assert!(methods("revocation_endpoint_auth_methods_supported").contains(&"none".into()));
    assert!(!methods("introspection_endpoint_auth_methods_supported").contains(&"none".into()));
    assert!(
        methods("introspection_endpoint_auth_methods_supported")
            .contains(&"client_secret_basic".into())
    );
}

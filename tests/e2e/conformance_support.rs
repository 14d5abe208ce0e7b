//! Helpers shared by the `conformance_*` modules: a browser that keeps its session across
//! authorization requests, and reading JWTs and form-post pages.

#![allow(dead_code)]

use base64::Engine;
use serde_json::Value;

use crate::support::*;

/// The claims of a JWT, without verifying it (tests verify signatures where that is the point).
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a compact JWS");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Runs an authorization request in browser `b` (logging in and consenting when asked);
/// returns the outcome and the PKCE verifier.
pub async fn authorize(
    s: &TestServer,
    b: &reqwest::Client,
    client: &TestClient,
    scope: &str,
    extra: &[(&str, &str)],
) -> (Outcome, String) {
    let (url, verifier) = authorize_url(s, client, scope, extra);
    (
        run_flow(b, s, &url, "alice", PASSWORD, "allow").await,
        verifier,
    )
}

/// Like [`authorize`], but expects a redirect with a code and redeems it.
pub async fn tokens(
    s: &TestServer,
    b: &reqwest::Client,
    client: &TestClient,
    scope: &str,
    extra: &[(&str, &str)],
) -> Value {
    let (outcome, verifier) = authorize(s, b, client, scope, extra).await;
    let loc = expect_redirect(outcome);
    let code = query_param(&loc, "code").unwrap_or_else(|| panic!("no code in {loc}"));
    let (status, body) = redeem(s, client, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    body
}

pub fn expect_redirect(o: Outcome) -> String {
    match o {
        Outcome::Redirect(l) => l,
        Outcome::Page(status, body) => panic!("expected a redirect, got {status}: {body}"),
    }
}

pub fn expect_page(o: Outcome) -> (u16, String) {
    match o {
        Outcome::Page(status, body) => (status, body),
        Outcome::Redirect(l) => panic!("expected a page, got a redirect to {l}"),
    }
}

/// GETs a URL in browser `b` without following anything.
pub async fn get(b: &reqwest::Client, url: &str) -> reqwest::Response {
    b.get(url).send().await.unwrap()
}

/// GETs `/userinfo` with a bearer token.
pub async fn userinfo(s: &TestServer, access_token: &str) -> Value {
    let resp = http()
        .get(s.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// Creates `alice` with a full profile (name, phone, address).
pub async fn user_with_profile(s: &TestServer) -> String {
    let new = gatehouse_admin::users::NewUser {
        username: "alice".into(),
        email: Some("alice@example.com".into()),
        password: PASSWORD.into(),
        profile: gatehouse_admin::users::ProfileInput {
            name: Some("Alice Liddell".into()),
            given_name: Some("Alice".into()),
            family_name: Some("Liddell".into()),
            phone: Some("+44 1865 270000".into()),
            address: Some("Christ Church, Oxford OX1 1DP, UK".into()),
            ..Default::default()
        },
    };
    let out = crate::support::operator_user(&s.store, "default", new)
        .await
        .expect("create user");
    out.id.to_string()
}

/// A client allowed every standard scope.
pub async fn oidc_client(s: &TestServer) -> TestClient {
    s.client(|r| {
        r.scope = Some("openid profile email address phone offline_access".into());
        r.post_logout_redirect_uris = vec![
            "http://127.0.0.1:9/logged-out".into(),
            "http://127.0.0.1:9/bye?from=gatehouse".into(),
        ];
    })
    .await
}

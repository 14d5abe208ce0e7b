//! The device authorization grant (RFC 8628): a device asks for codes at
//! `/oauth/device_authorization`, its user signs in at `/device`, types the code and decides;
//! the device polls the token endpoint meanwhile and gets `authorization_pending`,
//! `slow_down`, `expired_token`, `access_denied` or, once, the tokens.

use serde_json::Value;

use crate::support::{
    PASSWORD, TestClient, TestServer, browser, client_post, hidden, http, str_of,
};
use crate::tenant_tokens::{client_in, jwt_claims, new_tenant, user_in};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A client registered for the device grant (and refresh tokens), without redirect URIs;
/// public (`none`) or confidential.
async fn device_client(s: &TestServer, public: bool) -> TestClient {
    s.client(|r| {
        r.name = "Living-room TV".into();
        r.grant_types = vec![DEVICE_GRANT.into(), "refresh_token".into()];
        r.redirect_uris.clear();
        if public {
            r.auth_method = Some("none".into());
        }
    })
    .await
}

/// Starts a device authorization: (status, body).
async fn start(s: &TestServer, c: &TestClient, scope: &str) -> (u16, Value) {
    let (status, _, body) =
        client_post(s, c, "/oauth/device_authorization", &[("scope", scope)]).await;
    (status, body)
}

/// One poll of the token endpoint with `device_code`: (status, body).
async fn poll(s: &TestServer, c: &TestClient, device_code: &str) -> (u16, Value) {
    let form = [("grant_type", DEVICE_GRANT), ("device_code", device_code)];
    let (status, _, body) = client_post(s, c, "/oauth/token", &form).await;
    (status, body)
}

/// A browser at `/device?user_code=…`: signs in as `username` if asked, then answers the
/// consent screen with `decision`. Returns the final page (status, body).
async fn approve_in_browser(
    s: &TestServer,
    b: &reqwest::Client,
    user_code: &str,
    username: &str,
    decision: &str,
) -> (u16, String) {
    let resp = b
        .get(s.url("/device"))
        .query(&[("user_code", user_code)])
        .send()
        .await
        .unwrap();
    let mut status = resp.status().as_u16();
    let mut body = resp.text().await.unwrap();
    if body.contains("action=\"/device/login\"") {
        let form = [
            ("username", username.to_owned()),
            ("password", PASSWORD.to_owned()),
            ("csrf_token", hidden(&body, "csrf_token").unwrap()),
            ("request", hidden(&body, "request").unwrap()),
        ];
        let resp = b
            .post(s.url("/device/login"))
            .form(&form)
            .send()
            .await
            .unwrap();
        status = resp.status().as_u16();
        body = resp.text().await.unwrap();
    }
    if !body.contains("action=\"/device/consent\"") {
        return (status, body);
    }
    // The consent screen names the code, for the user to compare with the device's.
    let shown = gatehouse_core::device::UserCode::parse(user_code)
        .unwrap()
        .display();
    assert!(
        body.contains(&format!("<strong>{shown}</strong>")),
        "{body}"
    );
    let form = [
        ("decision", decision.to_owned()),
        ("csrf_token", hidden(&body, "csrf_token").unwrap()),
        ("request", hidden(&body, "request").unwrap()),
    ];
    let resp = b
        .post(s.url("/device/consent"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_device_gets_tokens_after_its_user_signs_in_and_allows_rfc8628_3_1_to_3_5() {
    let s = TestServer::start().await;
    let user = s.user("ann").await;
    let c = device_client(&s, true).await;
    let (status, d) = start(&s, &c, "openid profile offline_access").await;
    assert_eq!(status, 200, "{d}");
    let user_code = str_of(&d, "user_code");
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert_eq!(d["verification_uri"], s.url("/device"));
    assert_eq!(
        d["verification_uri_complete"],
        format!("{}?user_code={user_code}", s.url("/device"))
    );
    assert_eq!(
        (d["expires_in"].as_i64(), d["interval"].as_i64()),
        (Some(600), Some(5))
    );
    let device_code = str_of(&d, "device_code").to_owned();
    assert!(device_code.len() >= 43);

    // Before the user acts: pending (RFC 8628 §3.5).
    let (status, body) = poll(&s, &c, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );

    // The user types the code in lower case without the dash (§6.1), signs in, allows.
    let b = browser();
    let page = b.get(s.url("/device")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.text().await.unwrap().contains("name=\"user_code\""));
    let typed = user_code.replace('-', "").to_lowercase();
    let (status, done) = approve_in_browser(&s, &b, &typed, "ann", "allow").await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Living-room TV is now connected"), "{done}");

    s.clock.advance(6);
    let (status, tokens) = poll(&s, &c, &device_code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].is_string());
    let at = jwt_claims(str_of(&tokens, "access_token"));
    assert_eq!(
        (at["sub"].as_str(), at["client_id"].as_str()),
        (Some(user.as_str()), Some(c.id.as_str()))
    );
    let id = jwt_claims(str_of(&tokens, "id_token"));
    assert_eq!(
        (id["sub"].as_str(), id["aud"].as_str()),
        (Some(user.as_str()), Some(c.id.as_str()))
    );

    // Single use: a second redemption is invalid_grant.
    s.clock.advance(6);
    let (status, body) = poll(&s, &c, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // The refresh token works like any other.
    let rt = str_of(&tokens, "refresh_token");
    let form = [("grant_type", "refresh_token"), ("refresh_token", rt)];
    let (status, _, refreshed) = client_post(&s, &c, "/oauth/token", &form).await;
    assert_eq!(status, 200, "{refreshed}");
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_slow_down_and_adds_five_seconds_rfc8628_3_5() {
    let s = TestServer::start().await;
    let c = device_client(&s, false).await;
    let (_, d) = start(&s, &c, "openid").await;
    let code = str_of(&d, "device_code");
    let (_, first) = poll(&s, &c, code).await;
    assert_eq!(first["error"], "authorization_pending");
    let (status, fast) = poll(&s, &c, code).await;
    assert_eq!((status, fast["error"].as_str()), (400, Some("slow_down")));
    // The interval is now 10 s: 6 s later is still too fast, 11 s later is fine.
    s.clock.advance(6);
    let (_, body) = poll(&s, &c, code).await;
    assert_eq!(body["error"], "slow_down");
    s.clock.advance(16);
    let (_, body) = poll(&s, &c, code).await;
    assert_eq!(body["error"], "authorization_pending");
}

#[tokio::test]
async fn an_expired_device_code_is_expired_token_and_its_user_code_is_unknown_rfc8628_3_5() {
    let s = TestServer::start().await;
    s.user("ann").await;
    let c = device_client(&s, true).await;
    let (_, d) = start(&s, &c, "openid").await;
    s.clock.advance(601);
    let (status, body) = poll(&s, &c, str_of(&d, "device_code")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token"))
    );
    let b = browser();
    let (status, page) = approve_in_browser(&s, &b, str_of(&d, "user_code"), "ann", "allow").await;
    assert_eq!(status, 400);
    assert!(page.contains("unknown or has expired"), "{page}");
}

#[tokio::test]
async fn a_denied_request_is_access_denied_rfc8628_3_5() {
    let s = TestServer::start().await;
    s.user("ann").await;
    let c = device_client(&s, true).await;
    let (_, d) = start(&s, &c, "openid").await;
    let b = browser();
    let (status, done) = approve_in_browser(&s, &b, str_of(&d, "user_code"), "ann", "deny").await;
    assert_eq!(status, 200);
    assert!(done.contains("You denied"), "{done}");
    let (status, body) = poll(&s, &c, str_of(&d, "device_code")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("access_denied"))
    );
    // Decided once: the code no longer leads to a consent screen.
    let (status, _) = approve_in_browser(&s, &b, str_of(&d, "user_code"), "ann", "allow").await;
    assert_eq!(status, 400);
    let (_, body) = poll(&s, &c, str_of(&d, "device_code")).await;
    assert_eq!(body["error"], "access_denied");
}

#[tokio::test]
async fn another_clients_device_code_is_invalid_grant_rfc8628_3_4() {
    let s = TestServer::start().await;
    s.user("ann").await;
    let c = device_client(&s, true).await;
    let other = device_client(&s, false).await;
    let (_, d) = start(&s, &c, "openid").await;
    let b = browser();
    approve_in_browser(&s, &b, str_of(&d, "user_code"), "ann", "allow").await;
    let (status, body) = poll(&s, &other, str_of(&d, "device_code")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = poll(&s, &c, "not-a-device-code").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The rightful client still gets its tokens.
    let (status, _) = poll(&s, &c, str_of(&d, "device_code")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_client_not_registered_for_the_grant_is_unauthorized_client_rfc6749_5_2() {
    let s = TestServer::start().await;
    let code_client = s.client(|_| {}).await;
    let (status, body) = start(&s, &code_client, "openid").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (status, body) = poll(&s, &code_client, "whatever").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // Wrong credentials are invalid_client; scopes beyond the client's are invalid_scope.
    let c = device_client(&s, false).await;
    let bad = TestClient {
        id: c.id.clone(),
        secret: Some("wrong".into()),
    };
    let (status, body) = start(&s, &bad, "openid").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = start(&s, &c, "openid admin:all").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
}

#[tokio::test]
async fn a_user_of_another_tenant_cannot_approve_rfc8628_3_3() {
    let s = TestServer::start().await;
    let acme = new_tenant(&s, "Acme").await;
    user_in(&s, "bob", &acme).await;
    s.user("ann").await;
    let c = device_client(&s, true).await;
    let (_, d) = start(&s, &c, "openid").await;
    let code = str_of(&d, "user_code");
    // Bob (of Acme) cannot sign in at a default-tenant client: like a wrong password.
    let b = browser();
    let (status, page) = approve_in_browser(&s, &b, code, "bob", "allow").await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("action=\"/device/login\""));
    // A browser signed in at Acme counts as not signed in here.
    let acme_client = client_in(&s, &acme, |r| {
        r.grant_types = vec![DEVICE_GRANT.into()];
        r.redirect_uris.clear();
    })
    .await;
    let (_, acme_d) = start(&s, &acme_client, "openid").await;
    let (status, _) =
        approve_in_browser(&s, &b, str_of(&acme_d, "user_code"), "bob", "allow").await;
    assert_eq!(status, 200);
    let resp = b
        .get(s.url("/device"))
        .query(&[("user_code", code)])
        .send()
        .await
        .unwrap();
    let page = resp.text().await.unwrap();
    assert!(page.contains("action=\"/device/login\""), "{page}");
    let (status, body) = poll(&s, &c, str_of(&d, "device_code")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
}

#[tokio::test]
async fn wrong_user_codes_are_refused_then_throttled_never_a_500_rfc8628_5_1() {
    let s = TestServer::start().await;
    let b = browser();
    let mut statuses = Vec::new();
    let typed_codes = [
        "BCDF-GHJK",
        "nonsense",
        "bcdf ghjz",
        "ZZZZ-ZZZZ",
        "<script>",
        "BCDF-GHJL",
        "BCDF-GHJM",
    ];
    for typed in typed_codes {
        let resp = b
            .get(s.url("/device"))
            .query(&[("user_code", typed)])
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let retry = resp.headers().get("retry-after").is_some();
        let page = resp.text().await.unwrap();
        assert!(!page.contains("<script>"));
        statuses.push((status, retry));
        if status == 400 {
            assert!(page.contains("unknown or has expired"), "{page}");
        }
    }
    // The sign-in throttle's allowance: 5 free failures, the 6th starts a wait, during which
    // codes are refused with Retry-After before any lookup.
    assert_eq!(&statuses[..6], &[(400, false); 6], "{statuses:?}");
    assert_eq!(statuses[6], (429, true), "{statuses:?}");
    // A forged consent post without a session is an expired form, not a 500.
    let resp = http()
        .post(s.url("/device/consent"))
        .form(&[
            ("decision", "allow"),
            ("csrf_token", "x"),
            ("request", "user_code=BCDF-GHJK"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn discovery_advertises_the_device_endpoint_and_grant_rfc8628_4() {
    let s = TestServer::start().await;
    let meta: Value = http()
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["device_authorization_endpoint"],
        s.url("/oauth/device_authorization")
    );
    let grants = meta["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == DEVICE_GRANT));
}

#[tokio::test]
async fn the_cli_registers_a_device_client_without_redirect_uri() {
    let s = TestServer::start().await;
    let out = crate::support::run_cli(
        &s.db_url,
        &[
            "client",
            "create",
            "--name",
            "TV",
            "--grant-type",
            DEVICE_GRANT,
            "--auth-method",
            "none",
            "--scope",
            "openid",
            "--json",
        ],
        None,
    );
    let created = crate::support::cli_json(&out);
    let c = TestClient {
        id: str_of(&created, "client_id").to_owned(),
        secret: None,
    };
    let (status, body) = start(&s, &c, "openid").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn pending_device_authorizations_per_client_are_capped_rfc8628_5_2() {
    let s = TestServer::start().await;
    let c = device_client(&s, true).await;
    let other = device_client(&s, true).await;
    for _ in 0..100 {
        let (status, cache, _) = client_post(
            &s,
            &c,
            "/oauth/device_authorization",
            &[("scope", "openid")],
        )
        .await;
        assert_eq!((status, cache.as_str()), (200, "no-store"));
    }
    let (status, body) = start(&s, &c, "openid").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // Other clients are not affected, and expired requests no longer count.
    assert_eq!(start(&s, &other, "openid").await.0, 200);
    s.clock.advance(601);
    assert_eq!(start(&s, &c, "openid").await.0, 200);
}

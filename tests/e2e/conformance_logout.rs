//! OpenID Foundation conformance, RP-Initiated Logout OP plan (`oidcc-rp-initiated-logout*`):
//! OpenID Connect RP-Initiated Logout 1.0 §2–§3 at the `end_session_endpoint`.

use crate::conformance_support::*;
use crate::support::*;

const BYE: &str = "http://127.0.0.1:9/logged-out";

async fn end_session_endpoint(s: &TestServer) -> String {
    let m = openid_configuration(s).await;
    m["end_session_endpoint"].as_str().unwrap().to_owned()
}

fn logout_url(endpoint: &str, params: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(endpoint).unwrap();
    u.query_pairs_mut().extend_pairs(params);
    u.into()
}

/// Logged in with browser `b`; returns the ID token.
async fn logged_in(s: &TestServer, b: &reqwest::Client, client: &TestClient) -> String {
    let t = tokens(s, b, client, "openid", &[]).await;
    t["id_token"].as_str().unwrap().to_owned()
}

/// Whether browser `b` still has a session: a silent request gets a code.
async fn has_session(s: &TestServer, b: &reqwest::Client, client: &TestClient) -> bool {
    let (url, _) = authorize_url(s, client, "openid", &[("prompt", "none")]);
    query_param(&location(&get(b, &url).await), "code").is_some()
}

fn removes_session_cookie(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| {
            c.starts_with("gatehouse_session=;")
                && (c.contains("Max-Age=0") || c.contains("expires="))
        })
}

/// oidcc-rp-initiated-logout: `id_token_hint`, a registered `post_logout_redirect_uri` and
/// `state` end the session at once and redirect with `state`.
#[tokio::test]
async fn oidcc_rp_initiated_logout() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let hint = logged_in(&s, &b, &client).await;
    let endpoint = end_session_endpoint(&s).await;
    let resp = get(
        &b,
        &logout_url(
            &endpoint,
            &[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", BYE),
                ("state", "bye-1"),
            ],
        ),
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert!(removes_session_cookie(&resp), "the cookie is expired");
    let loc = location(&resp);
    assert!(loc.starts_with(BYE), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("bye-1"));
    assert!(!has_session(&s, &b, &client).await, "the session ended");
}

/// The endpoint also takes a POSTed form (§2), and a registered URI with a query keeps it.
#[tokio::test]
async fn logout_by_post_keeps_the_registered_query() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let hint = logged_in(&s, &b, &client).await;
    let resp = b
        .post(end_session_endpoint(&s).await)
        .form(&[
            ("id_token_hint", hint.as_str()),
            (
                "post_logout_redirect_uri",
                "http://127.0.0.1:9/bye?from=gatehouse",
            ),
            ("state", "s2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(
        location(&resp),
        "http://127.0.0.1:9/bye?from=gatehouse&state=s2"
    );
    assert!(!has_session(&s, &b, &client).await);
}

/// oidcc-rp-initiated-logout-bad-post-logout-redirect-uri and
/// -query-added-to-post-logout-redirect-uri: an unregistered URI (or a registered one with an
/// added query) gets an error page, never a redirect, and the session stays.
#[tokio::test]
async fn unregistered_post_logout_redirect_uri_is_an_error_page() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let hint = logged_in(&s, &b, &client).await;
    let endpoint = end_session_endpoint(&s).await;
    for bad in [
        "https://evil.example/",
        "http://127.0.0.1:9/logged-out?extra=1",
        "http://127.0.0.1:9/callback",
        "http://127.0.0.1:10/logged-out",
    ] {
        let resp = get(
            &b,
            &logout_url(
                &endpoint,
                &[("id_token_hint", &hint), ("post_logout_redirect_uri", bad)],
            ),
        )
        .await;
        assert_eq!(resp.status(), 400, "{bad}");
        assert!(resp.headers().get("location").is_none());
        assert!(resp.text().await.unwrap().contains("invalid_request"));
    }
    assert!(has_session(&s, &b, &client).await, "nothing was ended");
}

/// oidcc-rp-initiated-logout-modified-id-token-hint: a hint whose signature does not verify is
/// refused with an error page; the session stays.
#[tokio::test]
async fn modified_id_token_hint_is_refused() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let hint = logged_in(&s, &b, &client).await;
    let mut parts: Vec<String> = hint.split('.').map(str::to_owned).collect();
    let sig = parts[2].clone();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    parts[2] = format!("{flipped}{}", &sig[1..]);
    let resp = get(
        &b,
        &logout_url(
            &end_session_endpoint(&s).await,
            &[
                ("id_token_hint", &parts.join(".")),
                ("post_logout_redirect_uri", BYE),
            ],
        ),
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    assert!(has_session(&s, &b, &client).await);
}

/// oidcc-rp-initiated-logout-bad-id-token-hint: a well-formed ID token signed by a key that is
/// not ours (the suite signs its own) gets an error page, never a redirect; the session stays.
#[tokio::test]
async fn id_token_hint_signed_by_another_key_is_refused() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let genuine = logged_in(&s, &b, &client).await;
    let claims = jwt_claims(&genuine);
    let foreign = gatehouse_jose::generate_key(gatehouse_core::SigningAlg::RS256).unwrap();
    let foreign = gatehouse_jose::SigningKey::from_pkcs8(
        gatehouse_core::SigningAlg::RS256,
        &foreign.private_pkcs8_der,
    )
    .unwrap();
    let forged = foreign.sign_jws("JWT", &claims).unwrap();
    let resp = get(
        &b,
        &logout_url(
            &end_session_endpoint(&s).await,
            &[
                ("id_token_hint", &forged),
                ("post_logout_redirect_uri", BYE),
            ],
        ),
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    assert!(has_session(&s, &b, &client).await);
}

/// An expired hint is still a valid hint (RP-Initiated Logout §2): an ID token of ours that
/// expired an hour ago (signed here with the server's active key) ends the session.
#[tokio::test]
async fn expired_id_token_hint_is_accepted() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    let sub = s.user("alice").await;
    let b = browser();
    logged_in(&s, &b, &client).await;
    let keys = s.store.list_signing_keys().await.unwrap();
    let k = keys
        .iter()
        .find(|k| k.active && k.alg == gatehouse_core::SigningAlg::RS256)
        .unwrap();
    let key = gatehouse_jose::SigningKey::from_pkcs8(k.alg, &k.private_key).unwrap();
    let now = chrono::Utc::now().timestamp();
    let hint = key
        .sign_jws(
            "JWT",
            &serde_json::json!({
                "iss": s.base, "sub": sub, "aud": client.id, "azp": client.id,
                "iat": now - 7200, "exp": now - 3600, "auth_time": now - 7200,
            }),
        )
        .unwrap();
    let resp = get(
        &b,
        &logout_url(
            &end_session_endpoint(&s).await,
            &[("id_token_hint", &hint), ("post_logout_redirect_uri", BYE)],
        ),
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert!(!has_session(&s, &b, &client).await);
}

/// `client_id` must name the hint's audience (§2).
#[tokio::test]
async fn client_id_must_match_the_hint() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    let other = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let hint = logged_in(&s, &b, &client).await;
    let resp = get(
        &b,
        &logout_url(
            &end_session_endpoint(&s).await,
            &[
                ("id_token_hint", &hint),
                ("client_id", &other.id),
                ("post_logout_redirect_uri", BYE),
            ],
        ),
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
}

/// oidcc-rp-initiated-logout-no-id-token-hint: with `client_id` but no hint, the user confirms
/// on a page (CSRF-protected) before the session ends and the redirect happens.
#[tokio::test]
async fn without_a_hint_the_user_confirms() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    logged_in(&s, &b, &client).await;
    let resp = get(
        &b,
        &logout_url(
            &end_session_endpoint(&s).await,
            &[
                ("client_id", &client.id),
                ("post_logout_redirect_uri", BYE),
                ("state", "s3"),
            ],
        ),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("action=\"/logout\""));
    assert!(
        has_session(&s, &b, &client).await,
        "not ended before confirming"
    );
    let csrf = hidden(&page, "csrf_token").unwrap();
    let request = hidden(&page, "request").unwrap();

    // A forged confirmation (wrong CSRF token) changes nothing.
    let resp = b
        .post(s.url("/logout"))
        .form(&[
            ("csrf_token", "forged"),
            ("request", request.as_str()),
            ("decision", "logout"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(has_session(&s, &b, &client).await);

    let resp = b
        .post(s.url("/logout"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("request", request.as_str()),
            ("decision", "logout"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(removes_session_cookie(&resp));
    let loc = location(&resp);
    assert!(loc.starts_with(BYE));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("s3"));
    assert!(!has_session(&s, &b, &client).await);
}

/// Choosing to stay keeps the session.
#[tokio::test]
async fn declining_the_confirmation_keeps_the_session() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    logged_in(&s, &b, &client).await;
    let page = get(&b, &end_session_endpoint(&s).await)
        .await
        .text()
        .await
        .unwrap();
    let resp = b
        .post(s.url("/logout"))
        .form(&[
            ("csrf_token", hidden(&page, "csrf_token").unwrap()),
            ("request", hidden(&page, "request").unwrap()),
            ("decision", "stay".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(has_session(&s, &b, &client).await);
}

/// oidcc-rp-initiated-logout-no-params / -no-post-logout-redirect-uri: with a hint but no
/// redirect URI the session ends and a "signed out" page is shown; with no session at all there
/// is nothing to confirm.
#[tokio::test]
async fn logout_without_redirect_shows_the_signed_out_page() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let hint = logged_in(&s, &b, &client).await;
    let endpoint = end_session_endpoint(&s).await;
    let resp = get(&b, &logout_url(&endpoint, &[("id_token_hint", &hint)])).await;
    assert_eq!(resp.status(), 200);
    assert!(removes_session_cookie(&resp));
    assert!(resp.text().await.unwrap().contains("signed out"));
    assert!(!has_session(&s, &b, &client).await);

    let resp = get(&browser(), &endpoint).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("signed out"));
}

/// oidcc-rp-initiated-logout-no-state: without `state` the redirect carries none.
/// oidcc-rp-initiated-logout-only-state: `state` alone (no hint, no URI) asks the user to
/// confirm and then shows the signed-out page.
#[tokio::test]
async fn no_state_and_only_state() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let hint = logged_in(&s, &b, &client).await;
    let endpoint = end_session_endpoint(&s).await;
    let resp = get(
        &b,
        &logout_url(
            &endpoint,
            &[("id_token_hint", &hint), ("post_logout_redirect_uri", BYE)],
        ),
    )
    .await;
    assert_eq!(resp.status(), 303);
    let loc = location(&resp);
    assert_eq!(loc, BYE, "nothing appended without state");
    assert!(!has_session(&s, &b, &client).await);

    let b = browser();
    logged_in(&s, &b, &client).await;
    let resp = get(&b, &logout_url(&endpoint, &[("state", "only-1")])).await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("action=\"/logout\""), "a confirmation form");
    let csrf = hidden(&page, "csrf_token").unwrap();
    let request = hidden(&page, "request").unwrap();
    let resp = b
        .post(s.url("/logout"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("request", request.as_str()),
            ("decision", "logout"),
        ])
        .send()
        .await
        .unwrap();
    // No redirect URI: the signed-out page, whatever `state` said.
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("signed out"));
    assert!(!has_session(&s, &b, &client).await, "confirmed: signed out");
}

/// A `post_logout_redirect_uri` needs the client to be identified.
#[tokio::test]
async fn redirect_without_client_is_an_error_page() {
    let s = TestServer::start().await;
    let resp = get(
        &browser(),
        &logout_url(
            &end_session_endpoint(&s).await,
            &[("post_logout_redirect_uri", BYE)],
        ),
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
}

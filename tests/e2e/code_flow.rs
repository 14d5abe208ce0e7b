//! Authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636, OIDC Core §3.1), through the
//! real login and consent pages, verified by the `openidconnect` relying party.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

use crate::support::*;

async fn rp_login(alg: Option<&str>) {
    let s = TestServer::start().await;
    let client = s.client(|r| r.id_token_alg = alg.map(str::to_owned)).await;
    let user_id = s.user("alice").await;
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(s.base.clone()).unwrap(), &http())
            .await
            .unwrap();
    let rp = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(client.id.clone()),
        client.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let loc = match run_flow(&browser(), &s, url.as_str(), "alice", PASSWORD, "allow").await {
        Outcome::Redirect(l) => l,
        Outcome::Page(st, b) => panic!("{st}: {b}"),
    };
    assert!(loc.starts_with(REDIRECT));
    assert_eq!(
        query_param(&loc, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    assert_eq!(
        query_param(&loc, "iss").as_deref(),
        Some(s.base.as_str()),
        "RFC 9207 iss"
    );
    let code = query_param(&loc, "code").unwrap();
    let http = http();
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let id_token = tokens.id_token().expect("id_token");
    let mut v = rp.id_token_verifier();
    if alg == Some("ES256") {
        v = v.set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    }
    let claims = id_token
        .claims(&v, &nonce)
        .expect("ID token verifies against the JWKS");
    assert_eq!(claims.subject().as_str(), user_id);
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("alice@example.com")
    );
    assert!(claims.auth_time().is_some());
    let expected_alg = if alg == Some("ES256") {
        CoreJwsSigningAlgorithm::EcdsaP256Sha256
    } else {
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    };
    assert_eq!(id_token.signing_alg().unwrap(), &expected_alg);
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&v).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    let info: CoreUserInfoClaims = rp
        .user_info(tokens.access_token().to_owned(), None)
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.subject().as_str(), user_id);
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
}

#[tokio::test]
async fn code_flow_with_pkce_rs256_verified_by_openidconnect_rp() {
    rp_login(None).await;
}

#[tokio::test]
async fn code_flow_with_es256_id_tokens() {
    rp_login(Some("ES256")).await;
}

#[tokio::test]
async fn consent_is_remembered_per_scope_set() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("bob").await;
    let b = browser();
    let (url, _) = authorize_url(&s, &c, "openid email", &[]);
    assert!(matches!(
        run_flow(&b, &s, &url, "bob", PASSWORD, "allow").await,
        Outcome::Redirect(_)
    ));
    // Same scopes again: straight back with a code, no page.
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    let resp = b.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert!(query_param(&location(&resp), "code").is_some());
    // A wider scope set asks again.
    let (url, _) = authorize_url(&s, &c, "openid profile", &[]);
    let body = b.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(
        body.contains("action=\"/consent\""),
        "consent page expected"
    );
    assert!(
        body.contains("See your username and name"),
        "scope description shown"
    );
    assert!(body.contains("Test App"), "client name shown");
}

#[tokio::test]
async fn denying_consent_returns_access_denied_with_state() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("carol").await;
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    let Outcome::Redirect(loc) = run_flow(&browser(), &s, &url, "carol", PASSWORD, "deny").await
    else {
        panic!()
    };
    assert_eq!(query_param(&loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-123"));
    assert!(query_param(&loc, "code").is_none());
}

#[tokio::test]
async fn wrong_password_shows_the_login_page_again() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("dave").await;
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    let Outcome::Page(status, body) =
        run_flow(&browser(), &s, &url, "dave", "wrong password", "allow").await
    else {
        panic!("no redirect expected")
    };
    assert_eq!(status, 401);
    assert!(body.contains("Invalid username or password"));
}

#[tokio::test]
async fn login_form_without_csrf_cookie_is_refused() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("erin").await;
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    let page = browser()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Another browser (no cookie) posts the form: a cross-site forgery.
    let form = [
        ("username", "erin".to_owned()),
        ("password", PASSWORD.to_owned()),
        ("csrf_token", hidden(&page, "csrf_token").unwrap()),
        ("request", hidden(&page, "request").unwrap()),
    ];
    let resp = browser()
        .post(s.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().contains("gatehouse_session"))
    );
}

#[tokio::test]
async fn session_cookie_is_httponly_and_samesite() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("fred").await;
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    let b = browser();
    let page = b.get(&url).send().await.unwrap().text().await.unwrap();
    let form = [
        ("username", "fred".to_owned()),
        ("password", PASSWORD.to_owned()),
        ("csrf_token", hidden(&page, "csrf_token").unwrap()),
        ("request", hidden(&page, "request").unwrap()),
    ];
    let resp = b.post(s.url("/login")).form(&form).send().await.unwrap();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("gatehouse_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "http issuer: not Secure");
}

#[tokio::test]
async fn unknown_client_or_unregistered_redirect_uri_never_redirects() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let (verifier_url, _) = authorize_url(
        &s,
        &TestClient {
            id: "no-such-client".into(),
            secret: None,
        },
        "openid",
        &[],
    );
    let resp = browser().get(&verifier_url).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    for evil in [
        "https://evil.example/cb",
        "http://127.0.0.1:9/callback/x",
        "http://127.0.0.1:9/callback?x=1",
    ] {
        let (url, _) = authorize_url(&s, &c, "openid", &[]);
        let url = url.replace(
            &url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
            &url::form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>(),
        );
        let resp = browser().get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{evil}");
        assert!(
            resp.headers().get("location").is_none(),
            "{evil} must not be redirected to"
        );
        let body = resp.text().await.unwrap();
        assert!(body.contains("not registered"));
    }
}

#[tokio::test]
async fn loopback_redirect_uri_may_use_any_port() {
    let s = TestServer::start().await;
    let c = s
        .client(|r| r.redirect_uris = vec!["http://127.0.0.1/cb".into()])
        .await;
    s.user("gina").await;
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    let url = url.replace(
        &url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
        &url::form_urlencoded::byte_serialize(b"http://127.0.0.1:53111/cb").collect::<String>(),
    );
    let Outcome::Redirect(loc) = run_flow(&browser(), &s, &url, "gina", PASSWORD, "allow").await
    else {
        panic!()
    };
    assert!(loc.starts_with("http://127.0.0.1:53111/cb?"), "{loc}");
}

#[tokio::test]
async fn authorization_errors_go_back_to_the_client_with_state_and_iss() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("code_challenge_method", "plain")], "invalid_request"),
        (&[("scope", "openid admin:everything")], "invalid_scope"),
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("prompt", "none")], "login_required"),
        (
            &[("request", "eyJhbGciOiJub25lIn0.e30.")],
            "invalid_request_object",
        ),
        (&[("max_age", "-1")], "invalid_request"),
    ];
    for (extra, expected) in cases {
        let (url, _) = authorize_url(&s, &c, "openid", &[]);
        let mut u = url::Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| !extra.iter().any(|(ek, _)| ek == k))
            .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        let resp = browser().get(u.as_str()).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{extra:?}");
        let loc = location(&resp);
        assert!(loc.starts_with(REDIRECT), "{loc}");
        // A response_type with a token is answered in the fragment, its errors too.
        assert_eq!(
            response_param(&loc, "error").as_deref(),
            Some(*expected),
            "{extra:?}"
        );
        assert_eq!(response_param(&loc, "state").as_deref(), Some("st-123"));
        assert_eq!(
            response_param(&loc, "iss").as_deref(),
            Some(s.base.as_str())
        );
    }
}

#[tokio::test]
async fn public_clients_must_use_pkce() {
    let s = TestServer::start().await;
    let c = s.client(|r| r.auth_method = Some("none".into())).await;
    let url = format!(
        "{}?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=s1",
        s.url("/oauth/authorize"),
        c.id,
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let resp = browser().get(&url).send().await.unwrap();
    let loc = location(&resp);
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(
        query_param(&loc, "error_description")
            .unwrap()
            .contains("code_challenge")
    );
}

#[tokio::test]
async fn prompt_login_and_max_age_force_reauthentication() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("hank").await;
    let b = browser();
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    assert!(matches!(
        run_flow(&b, &s, &url, "hank", PASSWORD, "allow").await,
        Outcome::Redirect(_)
    ));
    // With a session and consent, prompt=login still shows the login form.
    let (url, _) = authorize_url(&s, &c, "openid", &[("prompt", "login")]);
    let body = b.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("action=\"/login\""));
    // ... and completing it returns a code without looping.
    assert!(matches!(
        run_flow(&b, &s, &url, "hank", PASSWORD, "allow").await,
        Outcome::Redirect(_)
    ));
    // max_age exceeded (clock moved on) also asks for the password again.
    s.clock.advance(120);
    let (url, _) = authorize_url(&s, &c, "openid", &[("max_age", "60")]);
    let body = b.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("action=\"/login\""));
    // prompt=none with a fresh enough session returns a code directly.
    let (url, _) = authorize_url(&s, &c, "openid", &[("prompt", "none")]);
    let resp = b.get(&url).send().await.unwrap();
    assert!(query_param(&location(&resp), "code").is_some());
}

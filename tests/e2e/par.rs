//! Pushed authorization requests (RFC 9126): the endpoint in discovery, client authentication
//! as at the token endpoint, validation as at the authorization endpoint, a single-use
//! `request_uri` bound to its client and valid 60 s, per-client `--require-par` and the global
//! `require_pushed_authorization_requests`.

use serde_json::Value;

use crate::support::*;

/// The authorization parameters of `client`, as pushed; returns (form, verifier).
fn params(client: &TestClient) -> (Vec<(String, String)>, String) {
    let (verifier, challenge) = pkce();
    let form = [
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "par-state"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let form = form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    (form, verifier)
}

async fn push(s: &TestServer, c: &TestClient, form: &[(String, String)]) -> (u16, Value) {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, body) = client_post(s, c, "/oauth/par", &form).await;
    (status, body)
}

fn authorize_with_uri(s: &TestServer, client_id: &str, request_uri: &str) -> String {
    let mut u = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri);
    u.to_string()
}

async fn status_of(url: &str) -> u16 {
    browser().get(url).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_pushed_request_is_used_once_by_its_client_rfc9126_4() {
    let s = TestServer::start().await;
    s.user("alice").await;
    let c = s.client(|_| {}).await;
    let meta = openid_configuration(&s).await;
    assert_eq!(
        meta["pushed_authorization_request_endpoint"],
        s.url("/oauth/par")
    );
    assert_eq!(meta["require_pushed_authorization_requests"], false);
    let (form, verifier) = params(&c);
    let (status, body) = push(&s, &c, &form).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["expires_in"], 60);
    let uri = str_of(&body, "request_uri").to_owned();
    assert!(uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    let url = authorize_with_uri(&s, &c.id, &uri);
    let loc = match run_flow(&browser(), &s, &url, "alice", PASSWORD, "allow").await {
        Outcome::Redirect(loc) => loc,
        Outcome::Page(st, b) => panic!("{st}: {b}"),
    };
    assert_eq!(query_param(&loc, "state").as_deref(), Some("par-state"));
    let code = query_param(&loc, "code").expect("a code");
    let (status, body) = redeem(&s, &c, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    // Single use: the same request_uri again is refused on a page.
    assert_eq!(status_of(&url).await, 400);
}

#[tokio::test]
async fn another_clients_or_an_expired_request_uri_is_refused_rfc9126_4() {
    let s = TestServer::start().await;
    let a = s.client(|_| {}).await;
    let b = s.client(|_| {}).await;
    let (form, _) = params(&a);
    let (_, body) = push(&s, &a, &form).await;
    let uri = str_of(&body, "request_uri").to_owned();
    assert_eq!(status_of(&authorize_with_uri(&s, &b.id, &uri)).await, 400);
    let (_, body) = push(&s, &a, &form).await;
    let uri = str_of(&body, "request_uri").to_owned();
    s.clock.advance(61);
    assert_eq!(status_of(&authorize_with_uri(&s, &a.id, &uri)).await, 400);
    let forged = "urn:ietf:params:oauth:request_uri:forged";
    assert_eq!(status_of(&authorize_with_uri(&s, &a.id, forged)).await, 400);
}

#[tokio::test]
async fn the_push_authenticates_and_validates_like_the_token_and_authorization_endpoints() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let (form, _) = params(&c);
    let wrong = TestClient {
        id: c.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    let (status, body) = push(&s, &wrong, &form).await;
    assert_eq!((status, str_of(&body, "error")), (401, "invalid_client"));
    let mut bad = form.clone();
    bad.retain(|(k, _)| k != "redirect_uri");
    bad.push(("redirect_uri".into(), "https://attacker.example/cb".into()));
    let (status, body) = push(&s, &c, &bad).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_request"));
    let mut nested = form.clone();
    nested.push(("request_uri".into(), "urn:x".into()));
    let (status, body) = push(&s, &c, &nested).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_request"));
    let other = s.client(|_| {}).await;
    let mut claimed = form.clone();
    claimed.retain(|(k, _)| k != "client_id");
    claimed.push(("client_id".into(), other.id.clone()));
    let (status, _) = push(&s, &c, &claimed).await;
    assert!(status == 400 || status == 401, "{status}");
}

#[tokio::test]
async fn a_client_registered_with_require_par_must_push_rfc9126_6() {
    let s = TestServer::start().await;
    let created = cli_json(&run_cli(
        &s.db_url,
        &[
            "client",
            "create",
            "--name",
            "strict",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid",
            "--require-par",
            "--json",
        ],
        None,
    ));
    let c = TestClient {
        id: str_of(&created, "client_id").to_owned(),
        secret: Some(str_of(&created, "client_secret").to_owned()),
    };
    let (direct, _) = authorize_url(&s, &c, "openid", &[]);
    let resp = browser().get(&direct).send().await.unwrap();
    let loc = location(&resp);
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
    let (form, _) = params(&c);
    let (_, body) = push(&s, &c, &form).await;
    let url = authorize_with_uri(&s, &c.id, str_of(&body, "request_uri"));
    assert_eq!(status_of(&url).await, 200, "the login page");
    // Other clients are not affected.
    let free = s.client(|_| {}).await;
    let (direct, _) = authorize_url(&s, &free, "openid", &[]);
    assert_eq!(status_of(&direct).await, 200);
}

#[tokio::test]
async fn the_server_may_require_par_for_everyone_rfc9126_5() {
    let s = TestServer::start_with(|st| st.par.require_pushed_authorization_requests = true).await;
    let meta = openid_configuration(&s).await;
    assert_eq!(meta["require_pushed_authorization_requests"], true);
    let c = s.client(|_| {}).await;
    let (direct, _) = authorize_url(&s, &c, "openid", &[]);
    let resp = browser().get(&direct).send().await.unwrap();
    assert_eq!(
        query_param(&location(&resp), "error").as_deref(),
        Some("invalid_request")
    );
    let (form, _) = params(&c);
    let (_, body) = push(&s, &c, &form).await;
    let url = authorize_with_uri(&s, &c.id, str_of(&body, "request_uri"));
    assert_eq!(status_of(&url).await, 200);
}

#[tokio::test]
async fn a_flood_of_pushes_is_bounded_per_client() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let (form, _) = params(&c);
    for _ in 0..50 {
        let (status, body) = push(&s, &c, &form).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = push(&s, &c, &form).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_request"));
    // Once they expire the client may push again; other clients are not affected.
    let other = s.client(|_| {}).await;
    let (other_form, _) = params(&other);
    assert_eq!(push(&s, &other, &other_form).await.0, 201);
    s.clock.advance(61);
    assert_eq!(push(&s, &c, &form).await.0, 201);
}

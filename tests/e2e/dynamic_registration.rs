//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592): initial
//! access tokens from `gatehouse registration-token create`, the registration policy and its
//! errors, registered clients that then use the token endpoint, and the client configuration
//! endpoint with the registration access token.

use serde_json::{Value, json};

use crate::support::*;

/// `registration-token create` with `args`, as one JSON object.
fn initial_token(s: &TestServer, args: &[&str]) -> Value {
    let mut all = vec!["registration-token", "create", "--json"];
    all.extend_from_slice(args);
    cli_json(&run_cli(&s.db_url, &all, None))
}

pub(crate) fn token_of(s: &TestServer, args: &[&str]) -> String {
    str_of(&initial_token(s, args), "token").to_owned()
}

/// POSTs `body` to the registration endpoint with `token` as the bearer (if any).
pub(crate) async fn register(s: &TestServer, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = http().post(s.url("/oauth/register")).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A request to a client configuration endpoint.
pub(crate) async fn manage(
    method: reqwest::Method,
    uri: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = http().request(method, uri).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub(crate) fn machine() -> Value {
    json!({ "client_name": "Robot", "grant_types": ["client_credentials"] })
}

#[tokio::test]
async fn rfc7591_s3_cli_token_registers_a_client_that_gets_client_credentials_tokens() {
    let s = TestServer::start().await;
    let out = initial_token(&s, &[]);
    let token = str_of(&out, "token");
    assert!(token.len() >= 32, "a high-entropy token: {out}");
    assert!(out["expires_at"].is_string(), "{out}");
    let (status, reg) = register(&s, Some(token), &machine()).await;
    assert_eq!(status, 201, "{reg}");
    let id = str_of(&reg, "client_id");
    assert!(!str_of(&reg, "client_secret").is_empty());
    assert_eq!(reg["client_secret_expires_at"], 0);
    assert!(reg["client_id_issued_at"].as_i64().unwrap() > 0);
    assert!(!str_of(&reg, "registration_access_token").is_empty());
    assert_eq!(
        reg["registration_client_uri"],
        s.url(&format!("/oauth/register/{id}"))
    );
    assert_eq!(reg["client_name"], "Robot");
    assert_eq!(reg["grant_types"], json!(["client_credentials"]));
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_basic");
    let client = TestClient {
        id: id.to_owned(),
        secret: Some(str_of(&reg, "client_secret").to_owned()),
    };
    let (status, body) = token_request(&s, &client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    // Each registration is audited, in the token's tenant.
    let audit = run_cli(&s.db_url, &["audit", "list", "--json"], None);
    let text = String::from_utf8_lossy(&audit.stdout);
    assert!(text.contains("client.register"), "{text}");
}

#[tokio::test]
async fn rfc7591_public_client_completes_the_code_flow_with_pkce() {
    let s = TestServer::start().await;
    s.user("alice").await;
    let token = token_of(&s, &[]);
    let body = json!({
        "client_name": "Native app",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid profile",
    });
    let (status, reg) = register(&s, Some(&token), &body).await;
    assert_eq!(status, 201, "{reg}");
    assert!(reg.get("client_secret").is_none(), "{reg}");
    let client = TestClient {
        id: str_of(&reg, "client_id").to_owned(),
        secret: None,
    };
    let (code, verifier) = get_code(&s, &client, "alice", "openid").await;
    let (status, tokens) = token_request(
        &s,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", &client.id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["id_token"].is_string());
}

#[tokio::test]
async fn rfc7591_s3_registration_needs_an_initial_access_token_unless_open() {
    let s = TestServer::start().await;
    let resp = http()
        .post(s.url("/oauth/register"))
        .json(&machine())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    let (status, body) = register(&s, Some("not-a-token"), &machine()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );

    let open = TestServer::start_with(|st| st.registration.open = true).await;
    let (status, body) = register(&open, None, &machine()).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn initial_access_tokens_expire_and_are_used_up_atomically() {
    let s = TestServer::start().await;
    let short = token_of(&s, &["--ttl", "60"]);
    s.clock.advance(61);
    let (status, body) = register(&s, Some(&short), &machine()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );

    let once = token_of(&s, &["--max-uses", "1"]);
    // A refused registration does not use the token up.
    let bad = json!({ "grant_types": ["implicit"] });
    assert_eq!(register(&s, Some(&once), &bad).await.0, 400);
    assert_eq!(register(&s, Some(&once), &machine()).await.0, 201);
    let (status, body) = register(&s, Some(&once), &machine()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );

    // Concurrent registrations never exceed max_uses.
    let twice = token_of(&s, &["--max-uses", "2"]);
    let attempts = (0..6).map(|_| {
        let (s, t) = (&s, twice.clone());
        async move { register(s, Some(&t), &machine()).await.0 }
    });
    let results = futures::future::join_all(attempts).await;
    assert_eq!(
        results.iter().filter(|&&c| c == 201).count(),
        2,
        "{results:?}"
    );
    assert!(results.iter().all(|&c| c == 201 || c == 401), "{results:?}");
}

#[tokio::test]
async fn rfc7591_s3_2_2_policy_errors() {
    let s = TestServer::start().await;
    let token = token_of(&s, &[]);
    for uri in [
        "http://app.example/cb",
        "https://app.example/cb#frag",
        "com.example.app:/cb",
    ] {
        let body = json!({ "redirect_uris": [uri] });
        let (status, err) = register(&s, Some(&token), &body).await;
        assert_eq!(status, 400, "{uri}");
        assert_eq!(err["error"], "invalid_redirect_uri", "{uri}: {err}");
    }
    for body in [
        json!({ "grant_types": ["implicit"], "redirect_uris": ["https://app.example/cb"] }),
        json!({ "grant_types": ["password"] }),
        json!({ "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"] }),
        json!({ "grant_types": ["client_credentials"], "scope": "admin:clients" }),
        json!({ "token_endpoint_auth_method": "private_key_jwt", "grant_types": ["client_credentials"] }),
        json!({ "token_endpoint_auth_method": "none", "grant_types": ["client_credentials"] }),
        json!({ "redirect_uris": "https://app.example/cb" }),
    ] {
        let (status, err) = register(&s, Some(&token), &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(err["error"], "invalid_client_metadata", "{body}: {err}");
    }
    let body = json!({ "grant_types": ["client_credentials"], "software_statement": "a.b.c" });
    let (status, err) = register(&s, Some(&token), &body).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_software_statement"))
    );
    // Bodies are bounded.
    let huge = json!({ "client_name": "x".repeat(100_000) });
    let (status, _) = register(&s, Some(&token), &huge).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn rfc7592_read_update_delete_with_the_registration_access_token() {
    let s = TestServer::start().await;
    let token = token_of(&s, &[]);
    let body = json!({
        "client_name": "Web app",
        "redirect_uris": ["https://app.example/cb"],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
    });
    let (_, a) = register(&s, Some(&token), &body).await;
    let (_, b) = register(&s, Some(&token), &machine()).await;
    let uri = str_of(&a, "registration_client_uri").to_owned();
    let a_token = str_of(&a, "registration_access_token").to_owned();
    let b_token = str_of(&b, "registration_access_token").to_owned();
    let a_id = str_of(&a, "client_id").to_owned();

    // §2.1 read.
    let (status, read) = manage(reqwest::Method::GET, &uri, &a_token, None).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["client_name"], "Web app");
    assert_eq!(read["redirect_uris"], json!(["https://app.example/cb"]));
    assert!(read.get("client_secret").is_none());
    // Another client's token, no token match, an unknown client: all the same 401.
    for (u, t) in [
        (uri.clone(), b_token.clone()),
        (uri.clone(), "wrong".to_owned()),
        (s.url("/oauth/register/no-such-client"), a_token.clone()),
    ] {
        let (status, err) = manage(reqwest::Method::GET, &u, &t, None).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (401, Some("invalid_token"))
        );
    }

    // §2.2 update: full replacement, validated as a registration.
    let update = json!({
        "client_id": a_id,
        "client_name": "Web app 2",
        "redirect_uris": ["https://app.example/new"],
        "grant_types": ["authorization_code"],
    });
    let (status, updated) = manage(reqwest::Method::PUT, &uri, &a_token, Some(&update)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["client_name"], "Web app 2");
    assert_eq!(updated["grant_types"], json!(["authorization_code"]));
    let (_, read) = manage(reqwest::Method::GET, &uri, &a_token, None).await;
    assert_eq!(read["redirect_uris"], json!(["https://app.example/new"]));
    let mut bad = update.clone();
    bad["redirect_uris"] = json!(["http://app.example/cb"]);
    let (status, err) = manage(reqwest::Method::PUT, &uri, &a_token, Some(&bad)).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_redirect_uri"))
    );
    let mut bad = update.clone();
    bad["client_id"] = json!("someone-else");
    let (status, err) = manage(reqwest::Method::PUT, &uri, &a_token, Some(&bad)).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );
    let (status, _) = manage(reqwest::Method::PUT, &uri, &b_token, Some(&update)).await;
    assert_eq!(status, 401);

    // §2.3 delete: another client's token is refused; the client's own deletes it.
    let (status, _) = manage(reqwest::Method::DELETE, &uri, &b_token, None).await;
    assert_eq!(status, 401);
    let (status, _) = manage(reqwest::Method::DELETE, &uri, &a_token, None).await;
    assert_eq!(status, 204);
    let (status, _) = manage(reqwest::Method::GET, &uri, &a_token, None).await;
    assert_eq!(status, 401);
    let gone = TestClient {
        id: a_id.clone(),
        secret: Some(str_of(&a, "client_secret").to_owned()),
    };
    let (status, _) = token_request(&s, &gone, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_initial_access_tokens_tenant_is_the_clients_tenant() {
    let s = TestServer::start().await;
    let acme = cli_json(&run_cli(
        &s.db_url,
        &["tenant", "create", "--name", "Acme", "--json"],
        None,
    ));
    let acme_id = str_of(&acme, "id").to_owned();
    let token = token_of(&s, &["--tenant", "Acme"]);
    let (status, reg) = register(&s, Some(&token), &machine()).await;
    assert_eq!(status, 201, "{reg}");
    let stored = s
        .store
        .get_client_by_id(str_of(&reg, "client_id"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.tenant_id.as_str(), acme_id);
}

#[tokio::test]
async fn discovery_advertises_the_registration_endpoint() {
    let s = TestServer::start().await;
    let meta = openid_configuration(&s).await;
    assert_eq!(meta["registration_endpoint"], s.url("/oauth/register"));
}

#[tokio::test]
async fn cli_registration_token_create_prints_one_object_and_names_bad_flags() {
    let s = TestServer::start().await;
    let out = initial_token(&s, &["--ttl", "600", "--max-uses", "3"]);
    for field in ["token", "expires_at", "tenant_id", "max_uses"] {
        assert!(out.get(field).is_some(), "{field}: {out}");
    }
    assert_eq!(out["max_uses"], 3);
    // The global --output json gives the same object.
    let out = cli_json(&run_cli(
        &s.db_url,
        &["--output", "json", "registration-token", "create"],
        None,
    ));
    assert!(out["token"].is_string());
    let bad = run_cli(
        &s.db_url,
        &["registration-token", "create", "--ttl", "5"],
        None,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--ttl"));
    let bad = run_cli(
        &s.db_url,
        &["registration-token", "create", "--tenant", "nowhere"],
        None,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--tenant"));
}

#[tokio::test]
async fn admin_api_creates_initial_access_tokens_with_write_clients_in_its_tenant() {
    use crate::admin_api::{key, post, tenant};
    let s = TestServer::start().await;
    let a = tenant(&s, "Tenant A", 10).await;
    let b = tenant(&s, "Tenant B", 10).await;
    let a_write = key(&s, &a, "a-write", "write:clients").await;
    let a_read = key(&s, &a, "a-read", "read:clients").await;
    let path = "/admin/v1/registration_tokens";
    assert_eq!(post(&s, path, &a_read, json!({})).await.status, 403);
    let other = post(&s, path, &a_write, json!({ "tenant": b })).await;
    assert!(other.status.is_client_error(), "{}", other.status);
    let bad = post(&s, path, &a_write, json!({ "ttl": 1 })).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let created = post(&s, path, &a_write, json!({ "max_uses": 1 })).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["tenant_id"], a.as_str());
    let token = str_of(&created.body, "token");
    let (status, reg) = register(&s, Some(token), &machine()).await;
    assert_eq!(status, 201, "{reg}");
    let stored = s
        .store
        .get_client_by_id(str_of(&reg, "client_id"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.tenant_id.as_str(), a);
}

#[tokio::test]
async fn rfc7591_private_key_jwt_client_with_jwks_authenticates_and_rfc7592_replaces_its_keys() {
    use crate::private_key_jwt::{ASSERTION_TYPE, assertion_claims, jwks_of, new_key};
    let s = TestServer::start().await;
    let token = token_of(&s, &[]);
    let (old, new) = (
        new_key(gatehouse_core::SigningAlg::ES256),
        new_key(gatehouse_core::SigningAlg::RS256),
    );
    let mut body = json!({
        "client_name": "Signed service",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": jwks_of(&[&old]),
    });
    let (status, reg) = register(&s, Some(&token), &body).await;
    assert_eq!(status, 201, "{reg}");
    assert!(reg.get("client_secret").is_none(), "{reg}");
    assert!(reg["jwks"]["keys"].is_array(), "{reg}");
    let id = str_of(&reg, "client_id").to_owned();
    let cc = |key: &gatehouse_jose::SigningKey| {
        let a = key
            .sign_jws("JWT", &assertion_claims(&s, &id, &id))
            .unwrap();
        let form = [
            ("grant_type", "client_credentials".to_owned()),
            ("client_assertion_type", ASSERTION_TYPE.to_owned()),
            ("client_assertion", a),
        ];
        let req = http().post(s.url("/oauth/token")).form(&form);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(cc(&old).await, 200);
    assert_eq!(cc(&new).await, 401);
    // A private key is not a public key set.
    let mut bad = body.clone();
    bad["jwks"] = json!({ "keys": [{ "kty": "oct", "k": "c2VjcmV0" }] });
    assert_eq!(
        register(&s, Some(&token), &bad).await.1["error"],
        "invalid_client_metadata"
    );
    // RFC 7592 §2.2: the update replaces the keys.
    body["jwks"] = jwks_of(&[&new]);
    let uri = str_of(&reg, "registration_client_uri");
    let rat = str_of(&reg, "registration_access_token");
    let (status, updated) = manage(reqwest::Method::PUT, uri, rat, Some(&body)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(cc(&new).await, 200);
    assert_eq!(cc(&old).await, 401);
}

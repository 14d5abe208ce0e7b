//! Callers of the admin HTTP API other than operator API keys: access tokens of clients and
//! users (their tenant, disabled tenants), API-key rate-limit classes, and admin rights that
//! cannot be minted through clients or users.

use serde_json::json;

use crate::admin_api::{call, get, ids, key, post, tenant};
use crate::support::{PASSWORD, TestServer, str_of, token_request};

#[tokio::test]
async fn client_credentials_token_with_admin_scope_authenticates() {
    let server = TestServer::start().await;
    let client = server
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris = vec![];
            r.scope = Some("admin:all read:users".into());
        })
        .await;
    let (status, body) = token_request(
        &server,
        &client,
        &[("grant_type", "client_credentials"), ("scope", "admin:all")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = str_of(&body, "access_token").to_owned();
    let r = get(&server, "/admin/v1/tenants", &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = get(&server, "/admin/v1/tenant", &token).await;
    assert_eq!(r.body["id"], "default");

    // A narrower token gets 403, an expired one 401.
    let (_, body) = token_request(
        &server,
        &client,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "read:users"),
        ],
    )
    .await;
    let narrow = str_of(&body, "access_token").to_owned();
    assert_eq!(get(&server, "/admin/v1/users", &narrow).await.status, 200);
    assert_eq!(get(&server, "/admin/v1/clients", &narrow).await.status, 403);
    server.clock.advance(3 * 86_400);
    assert_eq!(get(&server, "/admin/v1/tenants", &token).await.status, 401);
}

#[tokio::test]
async fn user_tokens_carry_their_tenant_and_disabled_tenants_are_refused() {
    let server = TestServer::start().await;
    let client = server
        .client(|r| r.scope = Some("openid read:users read:organizations".into()))
        .await;
    // Admin scopes reach a user's token only when the user holds them.
    crate::support::admin_user(
        &server,
        "operator-alice",
        "default",
        "read:users read:organizations",
    )
    .await;
    let tokens = crate::support::issue_tokens(
        &server,
        &client,
        "operator-alice",
        "openid read:users read:organizations",
    )
    .await;
    let at = str_of(&tokens, "access_token").to_owned();
    let r = get(&server, "/admin/v1/users", &at).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body, "username"), vec!["operator-alice"]);
    assert_eq!(
        get(&server, "/admin/v1/tenant", &at).await.body["id"],
        "default"
    );
    assert_eq!(get(&server, "/admin/v1/clients", &at).await.status, 403);

    // Disabling a tenant (platform administrator) locks its callers out at once.
    let t = tenant(&server, "Soon disabled", 5).await;
    let tk = key(&server, &t, "t-admin", "admin:all").await;
    assert_eq!(get(&server, "/admin/v1/users", &tk).await.status, 200);
    let platform = key(&server, "default", "platform", "admin:all").await;
    let r = call(
        &server,
        reqwest::Method::PATCH,
        &format!("/admin/v1/tenants/{t}"),
        Some(&platform),
        Some(json!({"disabled": true})),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["disabled"], true);
    let r = get(&server, "/admin/v1/users", &tk).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "invalid_token");

    // The default tenant holds the platform administrators: it cannot be disabled, and the
    // refusal changes nothing.
    let r = call(
        &server,
        reqwest::Method::PATCH,
        "/admin/v1/tenants/default",
        Some(&platform),
        Some(json!({"disabled": true, "name": "Renamed"})),
        None,
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("cannot be disabled")),
        "{}",
        r.body
    );
    let r = get(&server, "/admin/v1/tenant", &platform).await;
    assert_eq!(
        (r.body["disabled"].clone(), r.body["name"].clone()),
        (json!(false), json!("Default"))
    );
}

#[tokio::test]
async fn api_keys_are_rate_limited_by_class_reads_and_writes_apart() {
    let server = TestServer::start_with(|s| {
        let default = s
            .api_keys
            .rate_limit_classes
            .get_mut("default")
            .expect("a default class");
        default.reads_per_minute = 3;
        default.writes_per_minute = 1;
    })
    .await;
    let k = key(&server, "default", "ci-reader", "admin:all").await;
    for _ in 0..3 {
        assert_eq!(get(&server, "/admin/v1/users", &k).await.status, 200);
    }
    let r = get(&server, "/admin/v1/users", &k).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.body["error"], "rate_limited");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    // Writes have their own budget, and another key its own.
    let created = post(
        &server,
        "/admin/v1/users",
        &k,
        json!({"username": "rita", "password": PASSWORD}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let again = post(
        &server,
        "/admin/v1/users",
        &k,
        json!({"username": "rico", "password": PASSWORD}),
    )
    .await;
    assert_eq!(again.status, 429);
    let other = key(&server, "default", "dashboard", "read:users").await;
    assert_eq!(get(&server, "/admin/v1/users", &other).await.status, 200);
}

#[tokio::test]
async fn admin_rights_cannot_be_minted_through_clients_or_users() {
    let server = TestServer::start().await;
    let k = key(
        &server,
        "default",
        "provisioner",
        "write:clients write:users",
    )
    .await;
    let r = post(
        &server,
        "/admin/v1/clients",
        &k,
        json!({"name": "sneaky", "grant_types": ["client_credentials"], "scope": "admin:all"}),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["field"], "scope");
    let r = post(
        &server,
        "/admin/v1/users",
        &k,
        json!({"username": "boss", "password": PASSWORD, "admin_scopes": ["admin:all"]}),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["field"], "admin_scopes");
    // What the caller holds it may hand on.
    let r = post(
        &server,
        "/admin/v1/users",
        &k,
        json!({"username": "helper", "password": PASSWORD, "admin_scopes": ["write:users"]}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["admin_scopes"], json!(["write:users"]));
}

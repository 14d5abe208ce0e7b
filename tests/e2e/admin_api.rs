//! The admin HTTP API `/admin/v1` (issue 4): bearer authentication with API keys and access
//! tokens, scope checks, tenant isolation, secrets shown once, the API-key limit, revocation,
//! ETags with If-Match, pagination and audit cursors, and the OpenAPI document with its
//! offline Swagger UI.

use chrono::Utc;
use gatehouse_admin::users::NewUser;
use gatehouse_admin::{Actor, Context};
use gatehouse_core::apikey::ApiKeyRequest;
use gatehouse_core::tenant::TenantRegistration;
use gatehouse_server::settings::ApiKeySettings;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, TestServer, http, operator_client, operator_user, str_of, token_request,
};

/// Creates a tenant through the operator action; returns its id.
pub(crate) async fn tenant(server: &TestServer, name: &str, max_keys: u32) -> String {
    let actor = Actor::operator();
    let ctx = Context::new(&server.store, &actor, Utc::now());
    let reg = TenantRegistration {
        name: name.into(),
        max_api_keys: Some(max_keys),
        ..Default::default()
    };
    let v = gatehouse_admin::tenants::create(&ctx, reg).await.unwrap();
    v.id.to_string()
}

/// Creates an API key with `scope` for `tenant`; returns the secret.
pub(crate) async fn key(server: &TestServer, tenant: &str, name: &str, scope: &str) -> String {
    let actor = Actor::operator();
    let ctx = Context::new(&server.store, &actor, Utc::now());
    let policy = ApiKeySettings::default().policy().unwrap();
    let req = ApiKeyRequest {
        name: name.into(),
        scope: Some(scope.into()),
        ..Default::default()
    };
    let tenant = gatehouse_core::TenantId::parse(tenant).unwrap();
    let v = gatehouse_admin::api_keys::create(&ctx, &policy, &tenant, req)
        .await
        .unwrap();
    v.secret.expose().to_owned()
}

pub(crate) async fn user_in(server: &TestServer, tenant: &str, username: &str) -> String {
    let new = NewUser {
        username: username.into(),
        password: PASSWORD.into(),
        ..NewUser::default()
    };
    let v = operator_user(&server.store, tenant, new).await.unwrap();
    v.id.to_string()
}

pub(crate) struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

pub(crate) async fn call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
    if_match: Option<&str>,
) -> Resp {
    let mut r = http().request(method, server.url(path));
    if let Some(b) = bearer {
        r = r.bearer_auth(b);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    if let Some(m) = if_match {
        r = r.header("If-Match", m);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
    }
}

pub(crate) async fn get(server: &TestServer, path: &str, bearer: &str) -> Resp {
    call(server, reqwest::Method::GET, path, Some(bearer), None, None).await
}

pub(crate) async fn post(server: &TestServer, path: &str, bearer: &str, body: Value) -> Resp {
    call(
        server,
        reqwest::Method::POST,
        path,
        Some(bearer),
        Some(body),
        None,
    )
    .await
}

pub(crate) fn ids(body: &Value, key: &str) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {body}"))
        .iter()
        .map(|i| str_of(i, key).to_owned())
        .collect()
}

#[tokio::test]
async fn missing_or_bad_credentials_are_401_and_narrow_keys_403() {
    let server = TestServer::start().await;
    let v = call(&server, reqwest::Method::GET, "/admin/v1", None, None, None).await;
    assert_eq!(v.status, 200);
    assert_eq!(v.body["version"], "v1");

    let none = call(
        &server,
        reqwest::Method::GET,
        "/admin/v1/users",
        None,
        None,
        None,
    )
    .await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["error"], "invalid_token");
    let challenge = none.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""),
        "{challenge}"
    );
    for bad in ["gh_live_nonsense", "a.b.c", "not a key"] {
        let r = get(&server, "/admin/v1/users", bad).await;
        assert_eq!(r.status, 401, "{bad}");
        assert_eq!(r.body["error"], "invalid_token");
    }

    let reader = key(&server, "default", "reader", "read:users").await;
    assert_eq!(get(&server, "/admin/v1/users", &reader).await.status, 200);
    let denied = post(
        &server,
        "/admin/v1/users",
        &reader,
        json!({"username": "x", "password": PASSWORD}),
    )
    .await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.body["error"], "insufficient_scope");
    assert!(
        str_of(&denied.body, "error_description").contains("write:users"),
        "{}",
        denied.body
    );
    let challenge = denied.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("scope=\"write:users\""), "{challenge}");
    let audit = get(&server, "/admin/v1/audit", &reader).await;
    assert_eq!(audit.status, 403);
    assert!(str_of(&audit.body, "error_description").contains("read:audit"));
    // A tenant-scoped reader cannot rotate server keys either.
    let rotate = post(
        &server,
        "/admin/v1/keys/rotate",
        &reader,
        json!({"alg": "ES256"}),
    )
    .await;
    assert_eq!(rotate.status, 403);
}

#[tokio::test]
async fn tenant_admin_sees_and_creates_only_in_its_tenant() {
    let server = TestServer::start().await;
    let a = tenant(&server, "Tenant A", 10).await;
    let b = tenant(&server, "Tenant B", 10).await;
    let a_key = key(&server, &a, "a-admin", "admin:all").await;
    let _b_key = key(&server, &b, "b-admin", "read:users").await;
    let b_user = user_in(&server, &b, "bob").await;
    let b_client = operator_client(
        &server.store,
        gatehouse_core::client::ClientRegistration {
            name: "B app".into(),
            tenant_id: gatehouse_core::TenantId::parse(&b).unwrap(),
            grant_types: vec!["client_credentials".into()],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            scope: Some("api:read".into()),
            auth_method: None,
            id_token_alg: None,
            access_token_alg: None,
            access_token_ttl: None,
            pkce_optional: false,
            refresh_grace_seconds: None,
            refresh_idle_ttl: None,
            refresh_absolute_ttl: None,
            may_act: None,
        },
    )
    .await
    .unwrap();
    let b_client = b_client.client.client_id.to_string();

    // Create in A.
    let u = post(
        &server,
        "/admin/v1/users",
        &a_key,
        json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"}),
    )
    .await;
    assert_eq!(u.status, 201, "{}", u.body);
    assert_eq!(u.body["tenant"], a.as_str());
    assert!(u.body.get("password").is_none() && u.body.get("password_hash").is_none());
    let c = post(
        &server,
        "/admin/v1/clients",
        &a_key,
        json!({"name": "A app", "grant_types": ["client_credentials"], "scope": "api:read"}),
    )
    .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let a_client = str_of(&c.body, "client_id").to_owned();
    let first_secret = str_of(&c.body, "client_secret").to_owned();
    let k = post(
        &server,
        "/admin/v1/api_keys",
        &a_key,
        json!({"name": "ci", "scope": "read:users"}),
    )
    .await;
    assert_eq!(k.status, 201, "{}", k.body);
    assert_eq!(k.body["tenant"], a.as_str());

    // Lists show A's objects, never B's.
    let users = get(&server, "/admin/v1/users", &a_key).await;
    assert_eq!(ids(&users.body, "username"), vec!["alice"]);
    let clients = get(&server, "/admin/v1/clients", &a_key).await;
    assert_eq!(ids(&clients.body, "client_id"), vec![a_client.clone()]);
    let keys = get(&server, "/admin/v1/api_keys", &a_key).await;
    let names = ids(&keys.body, "name");
    assert!(names.contains(&"ci".to_owned()) && !names.contains(&"b-admin".to_owned()));
    let tenants = get(&server, "/admin/v1/tenants", &a_key).await;
    assert_eq!(ids(&tenants.body, "id"), vec![a.clone()]);
    let own = get(&server, "/admin/v1/tenant", &a_key).await;
    assert_eq!(own.body["id"], a.as_str());

    // B's objects do not exist for A; nor can A create in B.
    for path in [
        format!("/admin/v1/users/{b_user}"),
        format!("/admin/v1/clients/{b_client}"),
        format!("/admin/v1/tenants/{b}"),
        format!("/admin/v1/users?tenant={b}"),
        format!("/admin/v1/api_keys?tenant={b}"),
    ] {
        let r = get(&server, &path, &a_key).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert_eq!(r.body["error"], "not_found");
    }
    let r = call(
        &server,
        reqwest::Method::DELETE,
        &format!("/admin/v1/users/{b_user}"),
        Some(&a_key),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = post(
        &server,
        "/admin/v1/users",
        &a_key,
        json!({"tenant": b, "username": "mallory", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = post(&server, "/admin/v1/tenants", &a_key, json!({"name": "New"})).await;
    assert_eq!(r.status, 403);
    // A tenant admin may not lift its own limits.
    let r = call(
        &server,
        reqwest::Method::PATCH,
        &format!("/admin/v1/tenants/{a}"),
        Some(&a_key),
        Some(json!({"max_api_keys": 500})),
        None,
    )
    .await;
    assert_eq!(r.status, 403);

    // Client secret rotation: new secret shown once, the old one stops working.
    let rot = post(
        &server,
        &format!("/admin/v1/clients/{a_client}/secret"),
        &a_key,
        json!({}),
    )
    .await;
    assert_eq!(rot.status, 200, "{}", rot.body);
    let new_secret = str_of(&rot.body, "client_secret").to_owned();
    assert_ne!(new_secret, first_secret);
    let got = get(&server, &format!("/admin/v1/clients/{a_client}"), &a_key).await;
    assert!(got.body.get("client_secret").is_none(), "{}", got.body);
    let old = crate::support::TestClient {
        id: a_client.clone(),
        secret: Some(first_secret),
    };
    let (status, _) = token_request(&server, &old, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 401);
    let new = crate::support::TestClient {
        id: a_client.clone(),
        secret: Some(new_secret),
    };
    let (status, body) =
        token_request(&server, &new, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{body}");

    // The platform administrator sees both tenants.
    let platform = key(&server, "default", "platform", "admin:all").await;
    let all = get(&server, "/admin/v1/tenants", &platform).await;
    let all = ids(&all.body, "id");
    assert!(all.contains(&a) && all.contains(&b), "{all:?}");
    assert_eq!(
        get(&server, &format!("/admin/v1/users/{b_user}"), &platform)
            .await
            .status,
        200
    );
    let bu = get(&server, &format!("/admin/v1/users?tenant={b}"), &platform).await;
    assert_eq!(ids(&bu.body, "username"), vec!["bob"]);
    let created = post(
        &server,
        "/admin/v1/tenants",
        &platform,
        json!({"name": "Tenant C"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let keys = get(&server, "/admin/v1/keys", &platform).await;
    assert_eq!(keys.status, 200);
    let before = keys.body["keys"].as_array().unwrap().len();
    let rotated = post(
        &server,
        "/admin/v1/keys/rotate",
        &platform,
        json!({"alg": "ES256"}),
    )
    .await;
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let after = get(&server, "/admin/v1/keys", &platform).await;
    assert_eq!(after.body["keys"].as_array().unwrap().len(), before + 1);
    let bad = post(
        &server,
        "/admin/v1/keys/rotate",
        &platform,
        json!({"alg": "HS1"}),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["field"], "alg");
}

#[tokio::test]
async fn api_key_secret_once_limit_and_immediate_revocation() {
    let server = TestServer::start().await;
    let t = tenant(&server, "Small", 3).await;
    let admin_key = key(&server, &t, "admin", "admin:all").await;
    let created = post(
        &server,
        "/admin/v1/api_keys",
        &admin_key,
        json!({"name": "deploy", "scope": "read:users"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = str_of(&created.body, "secret").to_owned();
    let id = str_of(&created.body, "id").to_owned();

    let list = get(&server, "/admin/v1/api_keys", &admin_key).await;
    let text = list.body.to_string();
    assert!(!text.contains(&secret), "secret listed");
    for item in list.body["items"].as_array().unwrap() {
        assert!(item.get("secret").is_none());
        assert!(str_of(item, "masked").ends_with("..."));
    }
    let one = get(&server, &format!("/admin/v1/api_keys/{id}"), &admin_key).await;
    assert!(one.body.get("secret").is_none());
    assert!(!one.body.to_string().contains(&secret));

    // The new key works, within its scope.
    assert_eq!(get(&server, "/admin/v1/users", &secret).await.status, 200);
    assert_eq!(get(&server, "/admin/v1/clients", &secret).await.status, 403);

    // No escalation: a key cannot grant admin rights its creator lacks.
    let writer = key(&server, &t, "writer", "write:api_keys").await;
    let r = post(
        &server,
        "/admin/v1/api_keys",
        &writer,
        json!({"name": "sneaky", "scope": "admin:all"}),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Limit: admin, deploy and writer are the tenant's 3 active keys, its maximum.
    let full = post(
        &server,
        "/admin/v1/api_keys",
        &admin_key,
        json!({"name": "one-too-many"}),
    )
    .await;
    assert_eq!(full.status, 409, "{}", full.body);
    assert_eq!(full.body["error"], "api_key_limit_reached");
    assert!(str_of(&full.body, "error_description").contains("maximum of 3"));

    // DELETE revokes at once.
    let del = call(
        &server,
        reqwest::Method::DELETE,
        &format!("/admin/v1/api_keys/{id}"),
        Some(&admin_key),
        None,
        None,
    )
    .await;
    assert_eq!(del.status, 200, "{}", del.body);
    assert_eq!(del.body["revoked"], true);
    let after = get(&server, "/admin/v1/users", &secret).await;
    assert_eq!(after.status, 401);
}

async fn rename(server: &TestServer, path: &str, k: &str, if_match: &str, name: &str) -> Resp {
    call(
        server,
        reqwest::Method::PATCH,
        path,
        Some(k),
        Some(json!({ "name": name })),
        Some(if_match),
    )
    .await
}

#[tokio::test]
async fn etags_guard_changes_and_lists_paginate() {
    let server = TestServer::start().await;
    let t = tenant(&server, "Paged", 10).await;
    let k = key(&server, &t, "admin", "admin:all").await;
    let path = format!("/admin/v1/tenants/{t}");
    let first = get(&server, &path, &k).await;
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'), "{etag}");
    let again = get(&server, &path, &k).await;
    assert_eq!(again.headers["etag"].to_str().unwrap(), etag);

    let stale = rename(&server, &path, &k, "\"0000\"", "Renamed").await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.body["error"], "precondition_failed");
    assert_eq!(get(&server, &path, &k).await.body["name"], "Paged");
    let ok = rename(&server, &path, &k, &etag, "Renamed").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["name"], "Renamed");
    let new_etag = ok.headers["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    // The old tag no longer matches.
    assert_eq!(rename(&server, &path, &k, &etag, "Again").await.status, 412);
    // Invalid input names the field and changes nothing.
    let bad = call(
        &server,
        reqwest::Method::PATCH,
        &path,
        Some(&k),
        Some(json!({"name": ""})),
        None,
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["field"], "name");
    let unknown = call(
        &server,
        reqwest::Method::PATCH,
        &path,
        Some(&k),
        Some(json!({"colour": "red"})),
        None,
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.body["field"], "colour");

    // Users: a stale If-Match on DELETE is refused.
    let uid = user_in(&server, &t, "u0").await;
    let upath = format!("/admin/v1/users/{uid}");
    let r = call(
        &server,
        reqwest::Method::DELETE,
        &upath,
        Some(&k),
        None,
        Some("\"nope\""),
    )
    .await;
    assert_eq!(r.status, 412);
    let tag = get(&server, &upath, &k).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = call(
        &server,
        reqwest::Method::DELETE,
        &upath,
        Some(&k),
        None,
        Some(&tag),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(get(&server, &upath, &k).await.status, 404);

    // Pagination: 5 users in pages of 2, following `next`.
    for i in 1..=5 {
        user_in(&server, &t, &format!("user{i}")).await;
    }
    let mut seen = Vec::new();
    let mut next = Some("/admin/v1/users?limit=2".to_owned());
    let mut pages = 0;
    while let Some(p) = next {
        let r = get(&server, &p, &k).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = ids(&r.body, "username");
        assert!(page.len() <= 2);
        seen.extend(page);
        next = r.body["next"].as_str().map(str::to_owned);
        pages += 1;
        assert!(pages <= 3, "too many pages");
    }
    seen.sort();
    assert_eq!(seen, vec!["user1", "user2", "user3", "user4", "user5"]);
    let bad = get(&server, "/admin/v1/users?limit=0", &k).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["field"], "limit");
}

#[tokio::test]
async fn audit_pages_with_a_cursor_and_is_tenant_filtered() {
    let server = TestServer::start().await;
    let a = tenant(&server, "Audited A", 10).await;
    let b = tenant(&server, "Audited B", 10).await;
    let ka = key(&server, &a, "a", "admin:all").await;
    let _ = user_in(&server, &b, "bee").await;
    for i in 0..3 {
        let r = post(
            &server,
            "/admin/v1/users",
            &ka,
            json!({"username": format!("a{i}"), "password": PASSWORD}),
        )
        .await;
        assert_eq!(r.status, 201);
    }
    let mut after = 0;
    let mut actions = Vec::new();
    loop {
        let r = get(
            &server,
            &format!("/admin/v1/audit?after={after}&limit=2"),
            &ka,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let events = r.body["events"].as_array().unwrap().clone();
        assert!(events.len() <= 2);
        for e in &events {
            assert_eq!(e["tenant_id"], a.as_str(), "{e}");
            actions.push(str_of(e, "action").to_owned());
        }
        let next = r.body["next_after"].as_i64().unwrap();
        if events.is_empty() {
            assert_eq!(next, after);
            break;
        }
        assert!(next > after);
        after = next;
    }
    assert_eq!(
        actions.iter().filter(|a| *a == "user.create").count(),
        3,
        "{actions:?}"
    );
    // The API's own actions name the API key and carry a request id.
    let r = get(&server, "/admin/v1/audit?after=0&limit=100", &ka).await;
    let created = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "user.create")
        .cloned()
        .unwrap();
    assert_eq!(created["actor"], "a", "{created}");
    assert!(created["request_id"].is_string(), "{created}");
    // The platform administrator also sees B's events.
    let platform = key(&server, "default", "platform", "admin:all").await;
    let r = get(&server, "/admin/v1/audit?limit=1000", &platform).await;
    assert!(
        r.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["tenant_id"] == b.as_str())
    );
}

async fn openapi_document(server: &TestServer) -> Value {
    http()
        .get(server.url("/admin/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The server mounts the handlers with plain actix-web and the document lists them through
/// utoipa-actix-web: every documented operation must be routed (an unauthenticated call gets
/// the API's own answer, never the router's 404 or 405).
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let server = TestServer::start().await;
    let doc = openapi_document(&server).await;
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut operations = 0;
    for (path, item) in paths {
        // `{id}` and the like: any segment will do, the route is matched before the handler
        // reads it.
        let concrete: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = http()
                .request(m, server.url(&concrete))
                .send()
                .await
                .unwrap();
            assert!(
                ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&r.status()),
                "{method} {path}: {}",
                r.status()
            );
            if path != "/admin/v1" {
                assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            }
        }
    }
    assert!(operations >= 35, "only {operations} operations documented");
    // The check above can fail: an undocumented path is the router's 404.
    let r = http()
        .get(server.url("/admin/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn openapi_document_and_swagger_ui_are_served_locally() {
    let server = TestServer::start().await;
    let doc = openapi_document(&server).await;
    assert!(
        str_of(&doc, "openapi").starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for p in [
        "/admin/v1",
        "/admin/v1/tenants",
        "/admin/v1/tenants/{id}",
        "/admin/v1/users",
        "/admin/v1/clients/{id}/secret",
        "/admin/v1/api_keys/{id}",
        "/admin/v1/keys/rotate",
        "/admin/v1/audit",
    ] {
        assert!(doc["paths"].get(p).is_some(), "missing {p}");
    }
    assert!(
        doc["paths"]["/admin/v1/api_keys/{id}"]
            .get("delete")
            .is_some()
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"].get("CreateApiKey").is_some());

    let page = http().get(server.url("/admin/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        assert!(html.contains(asset), "page does not load {asset}");
        let r = http()
            .get(server.url(&format!("/admin/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        assert!(!r.bytes().await.unwrap().is_empty());
    }
    let init = http()
        .get(server.url("/admin/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/admin/openapi.json"), "{init}");
}

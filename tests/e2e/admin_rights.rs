//! Rights on the admin surface (issue 8), tried as an attacker: whatever the surface — the
//! console's forms, the admin API — nobody hands on an admin scope they do not hold (to an API
//! key, a client or a user), and a tenant administrator reaches no object of another tenant.
//! One core policy decides for every surface, so the answers agree.

use reqwest::Method;
use serde_json::json;

use crate::admin_api::{self as api, call};
use crate::console::{self, CONSOLE};
use crate::support::{PASSWORD, TestServer, admin_user, hidden, str_of};

/// Posts the console's create form for `tenant` with `scope`; returns (status, page).
async fn console_create(
    b: &reqwest::Client,
    server: &TestServer,
    form_tenant: &str,
    scope: &str,
) -> (u16, String) {
    let (_, page) = console::get(b, server, &format!("{CONSOLE}/api-keys")).await;
    let csrf = hidden(&page, "csrf_token").expect("csrf token");
    let resp = console::post(
        b,
        server,
        &format!("{CONSOLE}/api-keys/create"),
        &[
            ("csrf_token", &csrf),
            ("tenant", form_tenant),
            ("name", "escalation"),
            ("validity_days", "90"),
            ("scope", scope),
            ("environment", "live"),
        ],
    )
    .await;
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// The audit trail's `api_key.create` events.
async fn key_creations(server: &TestServer) -> usize {
    let out = crate::support::run_cli(&server.db_url, &["audit", "list", "--json"], None);
    crate::support::cli_json(&out)["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "api_key.create")
        .count()
}

#[tokio::test]
async fn console_refuses_a_key_with_admin_scopes_its_user_does_not_hold() {
    let server = TestServer::start().await;
    let acme = console::tenant(&server, "Acme", 10, "enabled").await;
    let globex = console::tenant(&server, "Globex", 10, "enabled").await;
    admin_user(&server, "key-clerk", &acme, "write:api_keys").await;
    let b = console::signed_in(&server, "key-clerk").await;

    for scope in [
        "admin:all",
        "write:keys",
        "read:audit files:read write:users",
    ] {
        let (status, page) = console_create(&b, &server, &acme, scope).await;
        assert_eq!(status, 403, "{scope}: {page}");
        assert!(page.contains("You cannot grant"), "{scope}: {page}");
        assert!(
            console::key_names(&server, &acme).await.is_empty(),
            "{scope}"
        );
    }
    // Nor in another tenant, named through the form's tenant field.
    let (status, _) = console_create(&b, &server, &globex, "").await;
    assert_eq!(status, 403);
    assert!(console::key_names(&server, &globex).await.is_empty());
    assert_eq!(key_creations(&server).await, 0, "nothing was created");

    // What the user holds it may hand on.
    let (status, page) = console_create(&b, &server, &acme, "write:api_keys files:read").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(console::key_names(&server, &acme).await.len(), 1);
}

#[tokio::test]
async fn admin_api_refuses_the_same_escalation_naming_the_scope() {
    let server = TestServer::start().await;
    let acme = api::tenant(&server, "Acme", 10).await;
    let clerk = api::key(&server, &acme, "clerk", "write:api_keys").await;
    for scope in ["admin:all", "write:keys"] {
        let r = api::post(
            &server,
            "/admin/v1/api_keys",
            &clerk,
            json!({"name": "escalation", "scope": scope}),
        )
        .await;
        assert_eq!(r.status, 403, "{scope}: {}", r.body);
        assert_eq!(r.body["error"], "insufficient_scope");
        assert_eq!(r.body["field"], "scope");
        assert!(
            str_of(&r.body, "error_description").contains(scope),
            "{}",
            r.body
        );
        let challenge = r.headers["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.contains(&format!("scope=\"{scope}\"")),
            "{challenge}"
        );
    }
    // Writing implies reading the same resource: the tenant still has only the clerk's key.
    let keys = api::get(&server, "/admin/v1/api_keys", &clerk).await;
    assert_eq!(keys.status, 200, "{}", keys.body);
    let names: Vec<&str> = keys.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| str_of(k, "name"))
        .collect();
    assert_eq!(names, vec!["clerk"]);
}

#[tokio::test]
async fn a_tenant_admin_creates_no_client_or_user_with_admin_scopes_it_lacks() {
    let server = TestServer::start().await;
    let acme = api::tenant(&server, "Acme", 10).await;
    let k = api::key(
        &server,
        &acme,
        "provisioner",
        "write:clients write:users read:users",
    )
    .await;
    for scope in ["admin:all", "write:keys", "read:users write:organizations"] {
        let r = api::post(
            &server,
            "/admin/v1/clients",
            &k,
            json!({"name": "svc", "grant_types": ["client_credentials"], "scope": scope}),
        )
        .await;
        assert_eq!(r.status, 403, "{scope}: {}", r.body);
        assert_eq!(r.body["field"], "scope");
        let r = api::post(
            &server,
            "/admin/v1/users",
            &k,
            json!({"username": "boss", "password": PASSWORD,
                   "admin_scopes": scope.split(' ').collect::<Vec<_>>()}),
        )
        .await;
        assert_eq!(r.status, 403, "{scope}: {}", r.body);
        assert_eq!(r.body["field"], "admin_scopes");
    }
    let clients = api::get(&server, "/admin/v1/clients", &k).await;
    assert_eq!(clients.body["items"], json!([]), "no client was created");
    let users = api::get(&server, "/admin/v1/users", &k).await;
    assert_eq!(users.body["items"], json!([]), "no user was created");
    // Scopes it holds, and scopes that are no admin rights, pass.
    let r = api::post(
        &server,
        "/admin/v1/clients",
        &k,
        json!({"name": "svc", "grant_types": ["client_credentials"], "scope": "read:users api:read"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn a_tenant_admin_reaches_no_object_of_another_tenant_through_any_api_route() {
    let server = TestServer::start().await;
    let acme = api::tenant(&server, "Acme", 10).await;
    let globex = api::tenant(&server, "Globex", 10).await;
    let a = api::key(&server, &acme, "acme-admin", "admin:all").await;
    let platform = api::key(&server, "default", "platform", "admin:all").await;
    // Globex's objects, made by the platform administrator.
    let user = api::user_in(&server, &globex, "gina").await;
    let c = api::post(
        &server,
        "/admin/v1/clients",
        &platform,
        json!({"tenant": globex, "name": "G app", "grant_types": ["client_credentials"]}),
    )
    .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let client = str_of(&c.body, "client_id").to_owned();
    let k = api::post(
        &server,
        "/admin/v1/api_keys",
        &platform,
        json!({"tenant": globex, "name": "g-key"}),
    )
    .await;
    assert_eq!(k.status, 201, "{}", k.body);
    let key_id = str_of(&k.body, "id").to_owned();

    let attempts: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, format!("/admin/v1/users/{user}"), None),
        (Method::DELETE, format!("/admin/v1/users/{user}"), None),
        (Method::GET, format!("/admin/v1/clients/{client}"), None),
        (Method::DELETE, format!("/admin/v1/clients/{client}"), None),
        (
            Method::POST,
            format!("/admin/v1/clients/{client}/secret"),
            Some(json!({})),
        ),
        (Method::GET, format!("/admin/v1/api_keys/{key_id}"), None),
        (Method::DELETE, format!("/admin/v1/api_keys/{key_id}"), None),
        (Method::GET, format!("/admin/v1/tenants/{globex}"), None),
        (
            Method::PATCH,
            format!("/admin/v1/tenants/{globex}"),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::GET,
            format!("/admin/v1/users?tenant={globex}"),
            None,
        ),
        (
            Method::GET,
            format!("/admin/v1/clients?tenant={globex}"),
            None,
        ),
        (
            Method::GET,
            format!("/admin/v1/api_keys?tenant={globex}"),
            None,
        ),
        (
            Method::GET,
            format!("/admin/v1/audit?tenant={globex}"),
            None,
        ),
        (
            Method::POST,
            "/admin/v1/users".into(),
            Some(json!({"tenant": globex, "username": "mole", "password": PASSWORD})),
        ),
        (
            Method::POST,
            "/admin/v1/clients".into(),
            Some(json!({"tenant": globex, "name": "mole", "grant_types": ["client_credentials"]})),
        ),
        (
            Method::POST,
            "/admin/v1/api_keys".into(),
            Some(json!({"tenant": globex, "name": "mole"})),
        ),
    ];
    for (method, path, body) in attempts {
        let r = call(&server, method.clone(), &path, Some(&a), body, None).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
        assert_eq!(r.body["error"], "not_found", "{method} {path}");
    }
    // Everything of Globex is still there, unchanged.
    let g = api::get(&server, &format!("/admin/v1/tenants/{globex}"), &platform).await;
    assert_eq!(g.body["name"], "Globex");
    for path in [
        format!("/admin/v1/users/{user}"),
        format!("/admin/v1/clients/{client}"),
    ] {
        assert_eq!(
            api::get(&server, &path, &platform).await.status,
            200,
            "{path}"
        );
    }
    let key = api::get(&server, &format!("/admin/v1/api_keys/{key_id}"), &platform).await;
    assert_eq!(key.body["revoked"], false);
    let users = api::get(
        &server,
        &format!("/admin/v1/users?tenant={globex}"),
        &platform,
    )
    .await;
    assert_eq!(users.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_tenant_admin_reaches_no_object_of_another_tenant_through_any_console_page() {
    let server = TestServer::start().await;
    let acme = console::tenant(&server, "Acme", 4, "enabled").await;
    let globex = console::tenant(&server, "Globex", 4, "enabled").await;
    admin_user(&server, "acme-admin", &acme, "admin:all").await;
    admin_user(&server, "root", "default", "admin:all").await;
    let root = console::signed_in(&server, "root").await;
    assert_eq!(
        console::create_key(&root, &server, &globex, "globex-key")
            .await
            .0,
        200
    );
    let gid = server
        .store
        .list_api_keys(&gatehouse_core::TenantId::parse(&globex).unwrap())
        .await
        .unwrap()[0]
        .id
        .clone();

    let b = console::signed_in(&server, "acme-admin").await;
    for path in [
        format!("{CONSOLE}/api-keys?tenant={globex}"),
        format!("{CONSOLE}/api-keys?tenant={globex}&delete={gid}"),
        format!("{CONSOLE}/clients?tenant={globex}"),
        format!("{CONSOLE}/audit?tenant={globex}"),
        format!("{CONSOLE}/audit?tenant={globex}&before=1000"),
    ] {
        let (status, page) = console::get(&b, &server, &path).await;
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("only see your own tenant"), "{path}: {page}");
        assert!(
            !page.contains("globex-key") && !page.contains(&gid),
            "{path}"
        );
    }
    // A key of Globex named on Acme's page is not offered for deletion.
    let (status, page) =
        console::get(&b, &server, &format!("{CONSOLE}/api-keys?delete={gid}")).await;
    assert_eq!(status, 200);
    assert!(!page.contains("id=\"confirm-delete\""), "{page}");
    let csrf = hidden(&page, "csrf_token").unwrap();
    let resp = console::post(
        &b,
        &server,
        &format!("{CONSOLE}/api-keys/delete"),
        &[("csrf_token", &csrf), ("id", &gid)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        console::key_names(&server, &globex).await,
        vec![("globex-key".to_owned(), false)]
    );
}

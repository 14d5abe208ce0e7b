//! The console's Users, Sessions and Tenants pages and the admin API's user endpoints of
//! issue 11, driven over HTTP as a browser and an API client would, and tried as an attacker:
//! fewer rights, another tenant, a stronger account, a missing CSRF token. One core policy
//! decides for both surfaces.

use reqwest::Method;
use serde_json::json;

use crate::admin_api::{self as api, call};
use crate::console::{self, CONSOLE, get, post, signed_in, try_sign_in};
use crate::support::{PASSWORD, TestServer, admin_user, hidden};

/// The CSRF token of the page at `path`.
async fn csrf(b: &reqwest::Client, s: &TestServer, path: &str) -> String {
    let (status, page) = get(b, s, path).await;
    assert_eq!(status, 200, "{path}: {page}");
    hidden(&page, "csrf_token").expect("csrf token")
}

/// Posts a console form with the session's CSRF token; returns (status, page or location).
async fn form(
    b: &reqwest::Client,
    s: &TestServer,
    action: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let token = csrf(b, s, &format!("{CONSOLE}/users")).await;
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    let resp = post(b, s, &format!("{CONSOLE}{action}"), &all).await;
    let status = resp.status().as_u16();
    let loc = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.text().await.unwrap();
    (status, loc.unwrap_or(body))
}

/// The id of the user `username` of the default tenant, as `user list` shows it.
fn user_id(s: &TestServer, username: &str) -> String {
    let out = crate::support::run_cli(&s.db_url, &["user", "list", "--json"], None);
    crate::support::cli_json(&out)["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .expect("the user is listed")
}

async fn console_signs_in(s: &TestServer, username: &str, password: &str) -> bool {
    try_sign_in(&crate::support::browser(), s, username, password)
        .await
        .status()
        .as_u16()
        == 303
}

#[tokio::test]
async fn an_admin_creates_disables_resets_and_ends_the_sessions_of_users() {
    let s = TestServer::start().await;
    admin_user(&s, "root", "default", "admin:all").await;
    let b = signed_in(&s, "root").await;

    let (status, page) = get(&b, &s, &format!("{CONSOLE}/users")).await;
    assert_eq!(status, 200);
    assert!(page.contains(">Users</a>") && page.contains(">Tenants</a>"));
    assert!(page.contains("root"));
    assert!(page.contains("name=\"admin_scope.read:audit\""));
    for header in ["content-security-policy", "x-frame-options"] {
        let r = b
            .get(s.url(&format!("{CONSOLE}/users")))
            .send()
            .await
            .unwrap();
        assert!(r.headers().contains_key(header), "{header}");
    }

    let (status, loc) = form(
        &b,
        &s,
        "/users/create",
        &[
            ("tenant", "default"),
            ("username", "auditor"),
            ("email", "auditor@example.com"),
            ("password", PASSWORD),
            ("admin_scope.read:audit", "on"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    let (_, page) = get(&b, &s, &loc).await;
    assert!(page.contains("The user was created."));
    assert!(page.contains("auditor@example.com") && page.contains("read:audit"));
    let id = user_id(&s, "auditor");
    assert!(page.contains(&format!("title=\"{id}\"")), "id on hover");

    // Signed in, the user has a session the admin sees and ends.
    let auditor = signed_in(&s, "auditor").await;
    let sessions = format!("{CONSOLE}/users/sessions?id={id}");
    let (status, page) = get(&b, &s, &sessions).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"sessions\""), "{page}");
    let (status, loc) = form(&b, &s, "/users/sessions/end", &[("id", &id)]).await;
    assert_eq!(status, 303);
    let (_, page) = get(&b, &s, &loc).await;
    assert!(page.contains("id=\"no-sessions\""), "{page}");
    let r = auditor
        .get(s.url(&format!("{CONSOLE}/audit")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        303,
        "signed out once the session ended"
    );
    assert!(crate::support::location(&r).ends_with("/sign-in"));

    // Disabled: no sign-in; enabled again: sign-in.
    let (status, loc) = form(&b, &s, "/users/disable", &[("id", &id)]).await;
    assert_eq!(status, 303);
    let (_, page) = get(&b, &s, &loc).await;
    assert!(page.contains("The user was disabled"));
    assert!(page.contains(">disabled<"));
    assert!(!console_signs_in(&s, "auditor", PASSWORD).await);
    form(&b, &s, "/users/enable", &[("id", &id)]).await;
    assert!(console_signs_in(&s, "auditor", PASSWORD).await);

    // A new password replaces the old one.
    let (status, _) = form(
        &b,
        &s,
        "/users/password",
        &[("id", &id), ("password", "another good passphrase")],
    )
    .await;
    assert_eq!(status, 303);
    assert!(!console_signs_in(&s, "auditor", PASSWORD).await);
    assert!(console_signs_in(&s, "auditor", "another good passphrase").await);
    let (status, page) = form(&b, &s, "/users/password", &[("id", &id), ("password", "x")]).await;
    assert_eq!(status, 400, "{page}");

    // The audit page names the user, with the id on hover, and filters.
    let (_, page) = get(&b, &s, &format!("{CONSOLE}/audit?action=user.disable")).await;
    assert!(
        page.contains(&format!("<span title=\"{id}\">auditor</span>")),
        "{page}"
    );
    assert!(!page.contains("user.create"), "filtered by action");
    let (_, page) = get(
        &b,
        &s,
        &format!("{CONSOLE}/audit?actor=root&outcome=success"),
    )
    .await;
    assert!(page.contains("user.reset_password"), "{page}");
    let (_, page) = get(&b, &s, &format!("{CONSOLE}/audit?actor=nobody-at-all")).await;
    assert!(page.contains("No entries."));
    let (_, page) = get(&b, &s, &format!("{CONSOLE}/audit?from=2999-01-01")).await;
    assert!(page.contains("No entries."));
    let (status, _) = get(&b, &s, &format!("{CONSOLE}/audit?from=yesterday")).await;
    assert_eq!(status, 400);
    let (status, _) = get(&b, &s, &format!("{CONSOLE}/audit?outcome=maybe")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn console_refuses_by_rights_tenant_rank_and_csrf() {
    let s = TestServer::start().await;
    let acme = console::tenant(&s, "Acme", 5, "enabled").await;
    let boss = admin_user(&s, "acme-boss", &acme, "admin:all").await;
    let plain = admin_user(&s, "acme-plain", &acme, "").await;
    let outsider = admin_user(&s, "default-user", "default", "").await;
    admin_user(&s, "clerk", &acme, "write:users").await;
    admin_user(&s, "reader", &acme, "read:users").await;
    let clerk = signed_in(&s, "clerk").await;

    // Only scopes the clerk holds are offered, and others are refused when posted anyway.
    let (_, page) = get(&clerk, &s, &format!("{CONSOLE}/users")).await;
    assert!(page.contains("admin_scope.write:users"));
    assert!(!page.contains("admin_scope.admin:all"));
    let (status, page) = form(
        &clerk,
        &s,
        "/users/create",
        &[
            ("tenant", &acme),
            ("username", "sneaky"),
            ("password", PASSWORD),
            ("admin_scope.admin:all", "on"),
        ],
    )
    .await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("You cannot grant admin:all"));
    // Not in another tenant.
    let (status, _) = form(
        &clerk,
        &s,
        "/users/create",
        &[
            ("tenant", "default"),
            ("username", "sneaky"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = get(&clerk, &s, &format!("{CONSOLE}/users?tenant=default")).await;
    assert_eq!(status, 403);
    let (status, _) = form(&clerk, &s, "/users/disable", &[("id", &outsider)]).await;
    assert_eq!(status, 404);
    let (status, _) = get(
        &clerk,
        &s,
        &format!("{CONSOLE}/users/sessions?id={outsider}"),
    )
    .await;
    assert_eq!(status, 404);
    // Not a stronger account of its own tenant: no takeover of an admin:all user.
    for action in ["/users/disable", "/users/sessions/end"] {
        let (status, page) = form(&clerk, &s, action, &[("id", &boss)]).await;
        assert_eq!(status, 403, "{action}: {page}");
        assert!(page.contains("holds admin:all"), "{page}");
    }
    let (status, _) = form(
        &clerk,
        &s,
        "/users/password",
        &[("id", &boss), ("password", "taken over at last")],
    )
    .await;
    assert_eq!(status, 403);
    assert!(console_signs_in(&s, "acme-boss", PASSWORD).await);
    // A plain user of its own tenant it may disable.
    let (status, _) = form(&clerk, &s, "/users/disable", &[("id", &plain)]).await;
    assert_eq!(status, 303);
    // No CSRF token, no change.
    let resp = post(
        &clerk,
        &s,
        &format!("{CONSOLE}/users/enable"),
        &[("id", plain.as_str())],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 403);
    // Tenants are for platform administrators.
    assert!(!page_has_tenants_link(&clerk, &s).await);
    let (status, _) = get(&clerk, &s, &format!("{CONSOLE}/tenants")).await;
    assert_eq!(status, 403);
    let (status, _) = form(&clerk, &s, "/tenants/create", &[("name", "Mine")]).await;
    assert_eq!(status, 403);
    let (status, _) = form(
        &clerk,
        &s,
        "/tenants/update",
        &[("id", &acme), ("disabled", "true")],
    )
    .await;
    assert_eq!(status, 403);

    // A reader sees users but changes nothing.
    let reader = signed_in(&s, "reader").await;
    let (status, page) = get(&reader, &s, &format!("{CONSOLE}/users")).await;
    assert_eq!(status, 200);
    assert!(!page.contains("Reset password"));
    let (status, page) = form(&reader, &s, "/users/enable", &[("id", &plain)]).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("write:users"));
}

async fn page_has_tenants_link(b: &reqwest::Client, s: &TestServer) -> bool {
    get(b, s, &format!("{CONSOLE}/users"))
        .await
        .1
        .contains(">Tenants</a>")
}

#[tokio::test]
async fn a_platform_admin_creates_renames_and_disables_tenants() {
    let s = TestServer::start().await;
    admin_user(&s, "root", "default", "admin:all").await;
    let b = signed_in(&s, "root").await;
    let (status, loc) = form(&b, &s, "/tenants/create", &[("name", "Initech")]).await;
    assert_eq!(status, 303);
    let (_, page) = get(&b, &s, &loc).await;
    assert!(page.contains("Initech"), "{page}");
    let id = crate::support::cli_json(&crate::support::run_cli(
        &s.db_url,
        &["tenant", "show", "Initech", "--json"],
        None,
    ))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(page.contains(&format!("title=\"{id}\"")));
    let (status, _) = form(
        &b,
        &s,
        "/tenants/update",
        &[("id", &id), ("name", "Initrode")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = form(
        &b,
        &s,
        "/tenants/update",
        &[("id", &id), ("disabled", "true")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = get(&b, &s, &format!("{CONSOLE}/tenants")).await;
    assert!(page.contains("Initrode") && !page.contains("Initech"));
    assert!(page.contains(">disabled<"));
}

#[tokio::test]
async fn admin_api_user_endpoints_refuse_by_rights_tenant_and_rank() {
    let s = TestServer::start().await;
    let acme = api::tenant(&s, "Acme", 5).await;
    let globex = api::tenant(&s, "Globex", 5).await;
    let clerk = api::key(&s, &acme, "clerk", "write:users").await;
    let reader = api::key(&s, &acme, "reader", "read:users").await;
    let root = api::key(&s, "default", "root", "admin:all").await;
    let ann = api::user_in(&s, &acme, "ann").await;
    let gil = api::user_in(&s, &globex, "gil").await;
    let boss = admin_user(&s, "boss", &acme, "admin:all").await;

    // Changes by the clerk in its own tenant.
    let r = call(
        &s,
        Method::PATCH,
        &format!("/admin/v1/users/{ann}"),
        Some(&clerk),
        Some(json!({"name": "Ann Example", "admin_scopes": ["read:users"]})),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Ann Example");
    let r = api::post(
        &s,
        &format!("/admin/v1/users/{ann}/disable"),
        &clerk,
        json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["disabled"], true);
    let r = api::post(
        &s,
        &format!("/admin/v1/users/{ann}/enable"),
        &clerk,
        json!({}),
    )
    .await;
    assert_eq!(r.body["disabled"], false);
    let r = api::post(
        &s,
        &format!("/admin/v1/users/{ann}/password"),
        &clerk,
        json!({"password": "a brand new passphrase"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api::post(
        &s,
        &format!("/admin/v1/users/{ann}/password"),
        &clerk,
        json!({"password": "short"}),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["field"].as_str()),
        (422, Some("password"))
    );
    let r = api::get(&s, &format!("/admin/v1/users/{ann}/sessions"), &reader).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["sessions"], json!([]));

    // Fewer rights: 403 naming the scope.
    let r = api::post(
        &s,
        &format!("/admin/v1/users/{ann}/disable"),
        &reader,
        json!({}),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("write:users")
    );
    // No escalation by PATCH.
    let r = call(
        &s,
        Method::PATCH,
        &format!("/admin/v1/users/{ann}"),
        Some(&clerk),
        Some(json!({"admin_scopes": ["admin:all"]})),
        None,
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // Another tenant's user is absent.
    for path in [
        format!("/admin/v1/users/{gil}/disable"),
        format!("/admin/v1/users/{gil}/password"),
    ] {
        let r = api::post(&s, &path, &clerk, json!({"password": "whatever works"})).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
    let r = api::get(&s, &format!("/admin/v1/users/{gil}/sessions"), &clerk).await;
    assert_eq!(r.status, 404);
    // A stronger account of its own tenant is out of reach.
    let r = api::post(
        &s,
        &format!("/admin/v1/users/{boss}/password"),
        &clerk,
        json!({"password": "taken over at last"}),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = call(
        &s,
        Method::DELETE,
        &format!("/admin/v1/users/{boss}/sessions"),
        Some(&clerk),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 403);

    // Tenants: name or id to read; deleting is for platform administrators, never `default`.
    let r = api::get(&s, "/admin/v1/tenants/Acme", &root).await;
    assert_eq!(r.body["id"], acme.as_str());
    let admin_of_acme = api::key(&s, &acme, "acme-admin", "admin:all").await;
    let del = |who: String, id: String| {
        let s = &s;
        async move {
            call(
                s,
                Method::DELETE,
                &format!("/admin/v1/tenants/{id}"),
                Some(&who),
                None,
                None,
            )
            .await
        }
    };
    assert_eq!(del(admin_of_acme, acme.clone()).await.status, 403);
    assert_eq!(del(root.clone(), "default".into()).await.status, 422);
    let r = del(root.clone(), globex.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["users"], 1);
    assert_eq!(del(root, globex).await.status, 404);
}

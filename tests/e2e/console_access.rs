//! Access to the admin console: who may sign in (admin users), admin scopes in the code flow,
//! session lifetime, CSRF on every form, cookies, and access ending when a tenant is disabled
//! or admin rights are removed.

use chrono::Utc;
use gatehouse_admin::tenants::{self, TenantChanges};
use gatehouse_admin::{Actor, Context};
use gatehouse_core::ports::UserStore;

use crate::console::{CONSOLE, get, key_names, post, signed_in, tenant, try_sign_in};
use crate::support::{
    PASSWORD, TestServer, admin_user, authorize_url, browser, cli_json, hidden, location,
    query_param, redeem, run_cli, run_flow,
};

#[tokio::test]
async fn user_create_admin_scope_flag_is_validated_and_stored() {
    let server = TestServer::start().await;
    let out = run_cli(
        &server.db_url,
        &[
            "user",
            "create",
            "--username",
            "root",
            "--password-stdin",
            "--admin-scope",
            "admin:all",
            "--admin-scope",
            "read:audit",
            "--json",
        ],
        Some(PASSWORD),
    );
    let v = cli_json(&out);
    assert_eq!(
        v["admin_scopes"],
        serde_json::json!(["admin:all", "read:audit"])
    );
    let bad = run_cli(
        &server.db_url,
        &[
            "user",
            "create",
            "--username",
            "mallory",
            "--password-stdin",
            "--admin-scope",
            "openid",
            "--json",
        ],
        Some(PASSWORD),
    );
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("--admin-scope"), "{stderr}");
    assert!(stderr.contains("openid"), "{stderr}");
    // Nothing was written: the name is still free.
    assert!(
        server
            .store
            .find_users_named("mallory", 1)
            .await
            .unwrap()
            .is_empty()
    );
    // The CLI-made admin can sign in to the console.
    signed_in(&server, "root").await;
}

#[tokio::test]
async fn code_flow_grants_admin_scopes_only_to_users_holding_them() {
    let server = TestServer::start().await;
    let client = server
        .client(|r| r.scope = Some("openid profile admin:all read:audit write:users".into()))
        .await;
    server.user("alice").await;
    admin_user(&server, "auditor", "default", "read:audit").await;
    let scope = "openid admin:all read:audit write:users";

    for (user, granted) in [("alice", "openid"), ("auditor", "openid read:audit")] {
        let (url, verifier) = authorize_url(&server, &client, scope, &[]);
        let loc = match run_flow(&browser(), &server, &url, user, PASSWORD, "allow").await {
            crate::support::Outcome::Redirect(l) => l,
            crate::support::Outcome::Page(s, b) => panic!("{user}: page {s}: {b}"),
        };
        let code = query_param(&loc, "code").expect("code");
        let (status, body) = redeem(&server, &client, &code, &verifier).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scope"], granted, "{user}");
    }

    // Only admin scopes the user does not hold: nothing is left to grant.
    let (url, _) = authorize_url(&server, &client, "admin:all", &[]);
    match run_flow(&browser(), &server, &url, "alice", PASSWORD, "allow").await {
        crate::support::Outcome::Redirect(l) => {
            assert_eq!(query_param(&l, "error").as_deref(), Some("invalid_scope"));
            assert!(query_param(&l, "code").is_none());
        }
        crate::support::Outcome::Page(s, b) => panic!("page {s}: {b}"),
    }
}

#[tokio::test]
async fn sign_in_is_refused_for_users_without_admin_scopes_like_a_wrong_password() {
    let server = TestServer::start().await;
    server.user("alice").await;
    admin_user(&server, "root", "default", "admin:all").await;

    // Not signed in: every page sends the browser to the sign-in page.
    let b = browser();
    let resp = b
        .get(server.url(&format!("{CONSOLE}/api-keys")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), format!("{CONSOLE}/sign-in"));

    let non_admin = try_sign_in(&b, &server, "alice", PASSWORD).await;
    assert_eq!(non_admin.status().as_u16(), 401);
    let non_admin_body = non_admin.text().await.unwrap();
    assert!(non_admin_body.contains("Invalid username or password."));
    let wrong = try_sign_in(&b, &server, "root", "not the password").await;
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Invalid username or password.")
    );
    // Still not signed in.
    let (status, _) = get(&b, &server, &format!("{CONSOLE}/api-keys")).await;
    assert_eq!(status, 303);

    // The admin signs in; the session cookie is HttpOnly, SameSite=Strict, Path=/admin.
    let resp = try_sign_in(&b, &server, "root", PASSWORD).await;
    assert_eq!(resp.status().as_u16(), 303);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("gatehouse_console="))
        .expect("console session cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/admin"), "{cookie}");
    assert!(!cookie.contains("Secure"), "http issuer: {cookie}");
    let (status, page) = get(&b, &server, &format!("{CONSOLE}/api-keys")).await;
    assert_eq!(status, 200);
    assert!(page.contains("API keys of"));

    // The sign-in attempts are in the audit trail (failures without the password).
    let (status, audit) = get(&b, &server, &format!("{CONSOLE}/audit")).await;
    assert_eq!(status, 200);
    assert!(audit.contains("console.sign_in"));
    assert!(audit.contains("failure"));
    assert!(!audit.contains("not the password"));

    // Signing out ends the session.
    let csrf = hidden(&page, "csrf_token").unwrap();
    let resp = post(
        &b,
        &server,
        &format!("{CONSOLE}/sign-out"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let (status, _) = get(&b, &server, &format!("{CONSOLE}/api-keys")).await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn session_ends_after_the_idle_lifetime() {
    let server = TestServer::start().await;
    admin_user(&server, "root", "default", "admin:all").await;
    let b = signed_in(&server, "root").await;
    assert_eq!(
        get(&b, &server, &format!("{CONSOLE}/api-keys")).await.0,
        200
    );
    server.clock.advance(3601);
    assert_eq!(
        get(&b, &server, &format!("{CONSOLE}/api-keys")).await.0,
        303
    );
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused() {
    let server = TestServer::start().await;
    admin_user(&server, "root", "default", "admin:all").await;
    let b = signed_in(&server, "root").await;
    let base = [
        ("tenant", "default"),
        ("name", "sneaky"),
        ("validity_days", "90"),
        ("environment", "live"),
    ];
    let missing = post(&b, &server, &format!("{CONSOLE}/api-keys/create"), &base).await;
    assert_eq!(missing.status().as_u16(), 403);
    let mut wrong = base.to_vec();
    wrong.push(("csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    let wrong = post(&b, &server, &format!("{CONSOLE}/api-keys/create"), &wrong).await;
    assert_eq!(wrong.status().as_u16(), 403);
    assert!(key_names(&server, "default").await.is_empty());

    // The sign-in form: a token that does not match its cookie is refused.
    let other = browser();
    let _ = other
        .get(server.url(&format!("{CONSOLE}/sign-in")))
        .send()
        .await
        .unwrap();
    let resp = post(
        &other,
        &server,
        &format!("{CONSOLE}/sign-in"),
        &[
            ("username", "root"),
            ("password", PASSWORD),
            ("csrf_token", "forged"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(
        get(&other, &server, &format!("{CONSOLE}/api-keys")).await.0,
        303
    );
}

#[tokio::test]
async fn disabling_the_tenant_or_removing_admin_rights_ends_console_access() {
    let server = TestServer::start().await;
    let t = tenant(&server, "Fading Co", 4, "enabled").await;
    admin_user(&server, "fading-admin", &t, "admin:all").await;
    let b = signed_in(&server, "fading-admin").await;
    assert_eq!(
        get(&b, &server, &format!("{CONSOLE}/api-keys")).await.0,
        200
    );
    let actor = Actor::operator();
    let changes = TenantChanges {
        disabled: Some(true),
        ..TenantChanges::default()
    };
    tenants::update(
        &Context::new(&server.store, &actor, Utc::now()),
        &t,
        changes,
        None,
    )
    .await
    .unwrap();
    // The open session ends, and signing in again is refused like a wrong password.
    assert_eq!(
        get(&b, &server, &format!("{CONSOLE}/api-keys")).await.0,
        303
    );
    let resp = try_sign_in(&browser(), &server, "fading-admin", PASSWORD).await;
    assert_eq!(resp.status().as_u16(), 401);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Invalid username or password.")
    );
}

#[tokio::test]
async fn cookies_are_secure_under_an_https_issuer() {
    let server = TestServer::start_with(|s| s.issuer = "https://id.example.com".into()).await;
    let resp = browser()
        .get(server.url(&format!("{CONSOLE}/sign-in")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("gatehouse_console_csrf="))
        .expect("sign-in CSRF cookie")
        .to_owned();
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(cookie.contains(attr), "{attr}: {cookie}");
    }
}

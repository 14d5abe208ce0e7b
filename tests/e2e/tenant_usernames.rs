//! Usernames are unique per tenant (issue 10), tried as an attacker would: a tenant admin
//! creating a user whose name only another tenant has is not told that it exists (no leak),
//! the same name twice in one tenant is a conflict, the login page resolves a name in its
//! client's tenant (another tenant's namesake's password is just a wrong password), and the
//! console resolves it in the tenant named on its form, else the platform tenant, else the
//! one tenant that has it.

use serde_json::json;

use crate::admin_api::{key, post, tenant};
use crate::console::CONSOLE;
use crate::support::*;
use crate::tenant_tokens::client_in;

/// A user `username` of `tenant` with the password `password`, made as the local operator.
async fn user_with(s: &TestServer, tenant: &str, username: &str, password: &str, admin: &str) {
    let new = gatehouse_admin::users::NewUser {
        username: username.into(),
        password: password.into(),
        profile: gatehouse_admin::users::ProfileInput {
            admin_scopes: admin.split_whitespace().map(str::to_owned).collect(),
            ..Default::default()
        },
        ..Default::default()
    };
    operator_user(&s.store, tenant, new).await.unwrap();
}

#[tokio::test]
async fn a_tenant_admin_creates_a_name_only_another_tenant_has_and_learns_nothing() {
    let s = TestServer::start().await;
    let a = tenant(&s, "Tenant A", 10).await;
    let b = tenant(&s, "Tenant B", 10).await;
    user_with(&s, &b, "bob", "b's password", "").await;
    let a_key = key(&s, &a, "a-admin", "admin:all").await;

    let body = json!({"username": "bob", "password": PASSWORD});
    let created = post(&s, "/admin/v1/users", &a_key, body.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["tenant"], a.as_str());
    // Twice in the same tenant: a conflict, as before.
    let again = post(&s, "/admin/v1/users", &a_key, body).await;
    assert_eq!(again.status, 409, "{}", again.body);

    // The CLI agrees: bob in the default tenant is new, a second one there is refused.
    let cli = |tenant: &str| {
        run_cli(
            &s.db_url,
            &[
                "user",
                "create",
                "--username",
                "bob",
                "--tenant",
                tenant,
                "--password-stdin",
                "--json",
            ],
            Some("pw of default bob\n"),
        )
    };
    cli_json(&cli("default"));
    let dup = cli("default");
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
}

#[tokio::test]
async fn the_login_page_resolves_a_username_in_its_clients_tenant() {
    let s = TestServer::start().await;
    let a = tenant(&s, "Tenant A", 10).await;
    let b = tenant(&s, "Tenant B", 10).await;
    user_with(&s, &a, "sam", "sam of A", "").await;
    user_with(&s, &b, "sam", "sam of B", "").await;
    let a_app = client_in(&s, &a, |_| {}).await;
    let b_app = client_in(&s, &b, |_| {}).await;

    for (app, own, other) in [
        (&a_app, "sam of A", "sam of B"),
        (&b_app, "sam of B", "sam of A"),
    ] {
        // The namesake's password: a wrong password, the login page again.
        let (url, _) = authorize_url(&s, app, "openid", &[]);
        match run_flow(&browser(), &s, &url, "sam", other, "allow").await {
            Outcome::Page(status, body) => {
                assert_eq!(status, 401, "{body}");
                assert!(body.contains("action=\"/login\""), "{body}");
            }
            Outcome::Redirect(loc) => panic!("signed in with the namesake's password: {loc}"),
        }
        // The user of the client's tenant, with their own password: a code.
        let (url, verifier) = authorize_url(&s, app, "openid", &[]);
        let code = match run_flow(&browser(), &s, &url, "sam", own, "allow").await {
            Outcome::Redirect(loc) => query_param(&loc, "code").expect("a code"),
            Outcome::Page(status, body) => panic!("{status}: {body}"),
        };
        let (status, tokens) = redeem(&s, app, &code, &verifier).await;
        assert_eq!(status, 200, "{tokens}");
    }
}

/// One console sign-in with an optional tenant field: the status (303 = signed in).
async fn console_sign_in(s: &TestServer, username: &str, password: &str, tenant: &str) -> u16 {
    let b = browser();
    let page = b
        .get(s.url(&format!("{CONSOLE}/sign-in")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"tenant\""), "{page}");
    let csrf = hidden(&page, "csrf_token").unwrap();
    let resp = b
        .post(s.url(&format!("{CONSOLE}/sign-in")))
        .form(&[
            ("username", username),
            ("password", password),
            ("tenant", tenant),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

#[tokio::test]
async fn the_console_resolves_a_username_in_the_named_tenant_the_platform_or_the_only_one() {
    let s = TestServer::start().await;
    let a = tenant(&s, "Tenant A", 10).await;
    let b = tenant(&s, "Tenant B", 10).await;
    user_with(&s, "default", "root", "platform root", "admin:all").await;
    user_with(&s, &a, "root", "root of A", "admin:all").await;
    user_with(&s, &a, "ops", "ops of A", "admin:all").await;
    user_with(&s, &b, "ops", "ops of B", "admin:all").await;
    user_with(&s, &b, "carol", "carol of B", "admin:all").await;

    // No tenant: the platform's root; A's root needs A named (by id or by name).
    assert_eq!(console_sign_in(&s, "root", "platform root", "").await, 303);
    assert_eq!(console_sign_in(&s, "root", "root of A", "").await, 401);
    assert_eq!(console_sign_in(&s, "root", "root of A", &a).await, 303);
    assert_eq!(
        console_sign_in(&s, "root", "root of A", "Tenant A").await,
        303
    );
    assert_eq!(console_sign_in(&s, "root", "platform root", &a).await, 401);
    // A name one tenant has needs no tenant; a shared one does.
    assert_eq!(console_sign_in(&s, "carol", "carol of B", "").await, 303);
    assert_eq!(console_sign_in(&s, "ops", "ops of A", "").await, 401);
    assert_eq!(console_sign_in(&s, "ops", "ops of B", &b).await, 303);
    // The wrong tenant, or one that does not exist: like a wrong password.
    assert_eq!(console_sign_in(&s, "carol", "carol of B", &a).await, 401);
    assert_eq!(
        console_sign_in(&s, "carol", "carol of B", "no such").await,
        401
    );
}

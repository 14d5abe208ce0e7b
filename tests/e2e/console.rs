//! The admin console's API-keys page (issue 4): the secret shown once and masked afterwards,
//! validation next to the field, sorting, the limit, API access off, delete with confirmation,
//! tenant isolation, expiry warnings, and the clients and audit pages. Sign-in and sessions
//! are in `console_access`.

use chrono::Utc;
use gatehouse_admin::tenants;
use gatehouse_admin::{Actor, Context};
use gatehouse_core::tenant::TenantRegistration;

use crate::support::{PASSWORD, TestServer, admin_user, browser, hidden, location};

pub(crate) const CONSOLE: &str = "/admin/console";

pub(crate) async fn tenant(
    server: &TestServer,
    name: &str,
    max_keys: u32,
    api_access: &str,
) -> String {
    let actor = Actor::operator();
    let ctx = Context::new(&server.store, &actor, Utc::now());
    let reg = TenantRegistration {
        name: name.into(),
        api_access: Some(api_access.into()),
        scope: None,
        max_api_keys: Some(max_keys),
    };
    let out = tenants::create(&ctx, reg).await.expect("create tenant");
    out.id.to_string()
}

/// Posts the sign-in form (after fetching it for its CSRF token); returns the response.
pub(crate) async fn try_sign_in(
    b: &reqwest::Client,
    server: &TestServer,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let form = b
        .get(server.url(&format!("{CONSOLE}/sign-in")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&form, "csrf_token").expect("csrf token on the sign-in form");
    b.post(server.url(&format!("{CONSOLE}/sign-in")))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap()
}

/// A browser signed in to the console as `username`.
pub(crate) async fn signed_in(server: &TestServer, username: &str) -> reqwest::Client {
    let b = browser();
    let resp = try_sign_in(&b, server, username, PASSWORD).await;
    assert_eq!(resp.status().as_u16(), 303, "sign-in of {username}");
    b
}

pub(crate) async fn get(b: &reqwest::Client, server: &TestServer, path: &str) -> (u16, String) {
    let resp = b.get(server.url(path)).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

pub(crate) async fn post(
    b: &reqwest::Client,
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    b.post(server.url(path)).form(form).send().await.unwrap()
}

/// The API keys page of `tenant` and its CSRF token.
pub(crate) async fn keys_page(
    b: &reqwest::Client,
    server: &TestServer,
    tenant: &str,
) -> (u16, String) {
    get(b, server, &format!("{CONSOLE}/api-keys?tenant={tenant}")).await
}

/// Creates a key through the console; returns (status, page).
pub(crate) async fn create_key(
    b: &reqwest::Client,
    server: &TestServer,
    tenant: &str,
    name: &str,
) -> (u16, String) {
    let (_, page) = keys_page(b, server, tenant).await;
    let csrf = hidden(&page, "csrf_token").unwrap();
    let resp = post(
        b,
        server,
        &format!("{CONSOLE}/api-keys/create"),
        &[
            ("csrf_token", &csrf),
            ("tenant", tenant),
            ("name", name),
            ("validity_days", "90"),
            ("scope", "read:audit"),
            ("environment", "test"),
        ],
    )
    .await;
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// HTML attribute text unescaped (the entities askama writes in URLs).
fn unescape(s: &str) -> String {
    s.replace("&#38;", "&").replace("&amp;", "&")
}

/// The attribute value that starts right after `marker`.
fn href_after(page: &str, marker: &str) -> Option<String> {
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(unescape(&page[start..end]))
}

/// The `href` of the element whose attributes end with `marker` (`<a href="…" id=…>`).
fn href_before(page: &str, marker: &str) -> Option<String> {
    let at = page.find(marker)?;
    let tag = &page[page[..at].rfind('<')?..at];
    href_after(tag, "href=\"")
}

pub(crate) async fn key_names(server: &TestServer, tenant: &str) -> Vec<(String, bool)> {
    let t = gatehouse_core::TenantId::parse(tenant).unwrap();
    server
        .store
        .list_api_keys(&t)
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.name.clone(), k.is_revoked()))
        .collect()
}

#[tokio::test]
async fn created_key_secret_is_shown_once_then_masked() {
    let server = TestServer::start().await;
    admin_user(&server, "root", "default", "admin:all").await;
    let b = signed_in(&server, "root").await;

    let (status, page) = keys_page(&b, &server, "default").await;
    assert_eq!(status, 200);
    assert!(page.contains("This tenant has no API keys."));
    // The page carries the login pages' security headers.
    let resp = b
        .get(server.url(&format!("{CONSOLE}/api-keys")))
        .send()
        .await
        .unwrap();
    let h = resp.headers();
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );

    // The create dialog: default validity 90.
    let (_, dialog) = get(
        &b,
        &server,
        &format!("{CONSOLE}/api-keys?tenant=default&create=1"),
    )
    .await;
    assert!(dialog.contains("id=\"create-dialog\""));
    assert_eq!(hidden(&dialog, "validity_days").as_deref(), Some("90"));

    let (status, created) = create_key(&b, &server, "default", "ci-deploy").await;
    assert_eq!(status, 200, "{created}");
    let secret = hidden(&created, "new-secret")
        .or_else(|| {
            let marker = "id=\"new-secret\" readonly value=\"";
            let start = created.find(marker)? + marker.len();
            let end = created[start..].find('"')? + start;
            Some(created[start..end].to_owned())
        })
        .expect("secret in the page");
    assert!(secret.starts_with("gh_test_"), "{secret}");
    assert!(created.contains("id=\"copy-secret\""));
    assert!(created.contains("shown only this once"));

    // The key exists, with the chosen fields, and the secret is never shown again.
    let (_, page) = keys_page(&b, &server, "default").await;
    assert!(!page.contains(&secret));
    let key = &server
        .store
        .list_api_keys(&gatehouse_core::TenantId::parse("default").unwrap())
        .await
        .unwrap()[0];
    assert_eq!(key.name, "ci-deploy");
    assert_eq!(key.environment.as_str(), "test");
    assert!(secret.starts_with(&key.prefix));
    assert!(page.contains(&format!("{}...", key.prefix)));
    assert!(page.contains("90 days left"));
    assert!(page.contains("never"));
    assert!(page.contains("read:audit"));

    // Creation is audited with the console user as actor, without the secret.
    let (_, audit) = get(&b, &server, &format!("{CONSOLE}/audit")).await;
    assert!(audit.contains("api_key.create"));
    assert!(!audit.contains(&secret));
}

#[tokio::test]
async fn validation_errors_are_shown_next_to_the_field() {
    let server = TestServer::start().await;
    admin_user(&server, "root", "default", "admin:all").await;
    let b = signed_in(&server, "root").await;
    let (status, page) = create_key(&b, &server, "default", "bad!name").await;
    assert_eq!(status, 400);
    assert!(page.contains("id=\"name-error\""), "{page}");
    assert!(page.contains("these characters are not allowed"));
    // The dialog keeps what was typed.
    assert!(page.contains("value=\"bad!name\""));

    let (_, p) = keys_page(&b, &server, "default").await;
    let csrf = hidden(&p, "csrf_token").unwrap();
    let resp = post(
        &b,
        &server,
        &format!("{CONSOLE}/api-keys/create"),
        &[
            ("csrf_token", &csrf),
            ("tenant", "default"),
            ("name", "ok-name"),
            ("validity_days", "5"),
            ("environment", "live"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
    let body = resp.text().await.unwrap();
    assert!(body.contains("id=\"validity-error\""), "{body}");
    assert!(body.contains("between 10 and 365"));
    assert!(key_names(&server, "default").await.is_empty());
}

#[tokio::test]
async fn keys_sort_by_every_column() {
    let server = TestServer::start().await;
    admin_user(&server, "root", "default", "admin:all").await;
    let b = signed_in(&server, "root").await;
    for name in ["bravo", "alpha", "charlie"] {
        assert_eq!(create_key(&b, &server, "default", name).await.0, 200);
    }
    let order = |page: &str| -> Vec<usize> {
        ["alpha", "bravo", "charlie"]
            .iter()
            .map(|n| page.find(&format!("{n}</td>")).expect(n))
            .collect()
    };
    let (_, asc) = get(
        &b,
        &server,
        &format!("{CONSOLE}/api-keys?sort=name&dir=asc"),
    )
    .await;
    let o = order(&asc);
    assert!(o[0] < o[1] && o[1] < o[2], "ascending by name");
    let (_, desc) = get(
        &b,
        &server,
        &format!("{CONSOLE}/api-keys?sort=name&dir=desc"),
    )
    .await;
    let o = order(&desc);
    assert!(o[0] > o[1] && o[1] > o[2], "descending by name");
    // The heading of the sorted column links to the other direction.
    let name_link = href_before(&asc, "id=\"sort-name\"").expect("name heading link");
    assert!(name_link.ends_with("sort=name&dir=desc"), "{name_link}");
    for col in [
        "secret",
        "created",
        "expires",
        "last_used",
        "scopes",
        "environment",
    ] {
        let (status, page) = get(
            &b,
            &server,
            &format!("{CONSOLE}/api-keys?sort={col}&dir=desc"),
        )
        .await;
        assert_eq!(status, 200, "{col}");
        assert!(page.contains("aria-sort=\"descending\""), "{col}");
    }
}

#[tokio::test]
async fn at_the_limit_the_create_button_is_disabled_with_a_tooltip() {
    let server = TestServer::start().await;
    let t = tenant(&server, "Small Co", 1, "enabled").await;
    // The keys made here carry read:audit, which their creator must hold to hand it on.
    admin_user(&server, "small-admin", &t, "write:api_keys read:audit").await;
    let b = signed_in(&server, "small-admin").await;
    let (_, page) = keys_page(&b, &server, &t).await;
    assert!(page.contains("<a class=\"button\" id=\"create-key\""));
    assert_eq!(create_key(&b, &server, &t, "only-one").await.0, 200);

    let (_, page) = keys_page(&b, &server, &t).await;
    let at = page.find("id=\"create-key\"").expect("create button");
    let button = &page[page[..at].rfind('<').unwrap()..at + page[at..].find('>').unwrap()];
    assert!(button.contains("disabled"), "{button}");
    assert!(
        button.contains("title=\"This tenant has its maximum of 1 active API keys."),
        "{button}"
    );
    // Posting anyway is refused with the limit explained, and nothing is created.
    let (status, body) = create_key(&b, &server, &t, "second").await;
    assert_eq!(status, 400);
    assert!(
        body.contains("already has its maximum of 1 active API keys"),
        "{body}"
    );
    assert_eq!(key_names(&server, &t).await.len(), 1);
}

#[tokio::test]
async fn api_access_disabled_shows_how_to_enable_it_and_offers_no_creation() {
    let server = TestServer::start().await;
    let t = tenant(&server, "Closed Co", 4, "disabled").await;
    admin_user(&server, "closed-admin", &t, "admin:all").await;
    let b = signed_in(&server, "closed-admin").await;
    let (status, page) = keys_page(&b, &server, &t).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"api-access-notice\""));
    assert!(page.contains(&format!("gatehouse tenant api-access {t} enabled")));
    assert!(!page.contains("id=\"create-key\""));
    let (_, dialog) = get(&b, &server, &format!("{CONSOLE}/api-keys?create=1")).await;
    assert!(!dialog.contains("id=\"create-dialog\""));
    let (status, _) = create_key(&b, &server, &t, "nope").await;
    assert_eq!(status, 400);
    assert!(key_names(&server, &t).await.is_empty());
}

#[tokio::test]
async fn a_tenant_admin_cannot_see_or_touch_another_tenants_keys() {
    let server = TestServer::start().await;
    let acme = tenant(&server, "Acme", 4, "enabled").await;
    let globex = tenant(&server, "Globex", 4, "enabled").await;
    admin_user(&server, "acme-admin", &acme, "admin:all").await;
    admin_user(&server, "root", "default", "admin:all").await;
    let root = signed_in(&server, "root").await;
    assert_eq!(
        create_key(&root, &server, &globex, "globex-secret-key")
            .await
            .0,
        200
    );
    assert_eq!(create_key(&root, &server, &acme, "acme-key").await.0, 200);

    let b = signed_in(&server, "acme-admin").await;
    // Own tenant by default, no tenant picker.
    let (status, page) = get(&b, &server, &format!("{CONSOLE}/api-keys")).await;
    assert_eq!(status, 200);
    assert!(page.contains("acme-key"));
    assert!(!page.contains("globex-secret-key"));
    assert!(!page.contains("tenant-picker"));
    for path in ["api-keys", "clients", "audit"] {
        let (status, page) = get(&b, &server, &format!("{CONSOLE}/{path}?tenant={globex}")).await;
        assert_eq!(status, 403, "{path}");
        assert!(!page.contains("globex-secret-key"));
    }
    // Deleting the other tenant's key by id is refused and changes nothing.
    let gid = server
        .store
        .list_api_keys(&gatehouse_core::TenantId::parse(&globex).unwrap())
        .await
        .unwrap()[0]
        .id
        .clone();
    let csrf = hidden(&page, "csrf_token").unwrap();
    let resp = post(
        &b,
        &server,
        &format!("{CONSOLE}/api-keys/delete"),
        &[("csrf_token", &csrf), ("id", &gid)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        key_names(&server, &globex).await,
        vec![("globex-secret-key".into(), false)]
    );
    // Creating in the other tenant is refused too.
    let resp = post(
        &b,
        &server,
        &format!("{CONSOLE}/api-keys/create"),
        &[
            ("csrf_token", &csrf),
            ("tenant", &globex),
            ("name", "intruder"),
            ("validity_days", "90"),
            ("environment", "live"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(key_names(&server, &globex).await.len(), 1);

    // The platform admin picks any tenant.
    let (status, page) = get(
        &root,
        &server,
        &format!("{CONSOLE}/api-keys?tenant={globex}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("tenant-picker"));
    assert!(page.contains("globex-secret-key"));
    // The picker names the tenants, with the id on hover, the shown one selected.
    assert!(
        page.contains(&format!(
            r#"<option value="{globex}" title="{globex}" selected>Globex</option>"#
        )),
        "{page}"
    );
    assert!(page.contains(&format!(r#"title="{acme}">Acme</option>"#)));
}

#[tokio::test]
async fn delete_asks_for_confirmation_then_revokes_at_once() {
    let server = TestServer::start().await;
    admin_user(&server, "root", "default", "admin:all").await;
    let b = signed_in(&server, "root").await;
    assert_eq!(create_key(&b, &server, "default", "doomed").await.0, 200);
    let id = server
        .store
        .list_api_keys(&gatehouse_core::TenantId::parse("default").unwrap())
        .await
        .unwrap()[0]
        .id
        .clone();
    let (_, list) = keys_page(&b, &server, "default").await;
    assert!(!list.contains("id=\"confirm-delete\""));
    let (status, confirm) = get(&b, &server, &format!("{CONSOLE}/api-keys?delete={id}")).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("id=\"confirm-delete\""));
    assert!(confirm.contains("stops working immediately"));
    assert_eq!(
        key_names(&server, "default").await,
        vec![("doomed".into(), false)]
    );

    let csrf = hidden(&confirm, "csrf_token").unwrap();
    let resp = post(
        &b,
        &server,
        &format!("{CONSOLE}/api-keys/delete"),
        &[("csrf_token", &csrf), ("id", &id)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(
        key_names(&server, "default").await,
        vec![("doomed".into(), true)]
    );
    let (_, after) = get(&b, &server, &location(&resp)).await;
    assert!(after.contains("The API key was deleted."));
    assert!(!after.contains("doomed</td>"));
    let (_, audit) = get(&b, &server, &format!("{CONSOLE}/audit")).await;
    assert!(audit.contains("api_key.revoke"));
}

#[tokio::test]
async fn clients_and_audit_pages_show_the_tenants_data() {
    let server = TestServer::start().await;
    let client = server.client(|r| r.name = "Billing Portal".into()).await;
    admin_user(&server, "root", "default", "read:clients read:audit").await;
    let b = signed_in(&server, "root").await;
    let (status, page) = get(&b, &server, &format!("{CONSOLE}/clients")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Billing Portal"));
    assert!(page.contains(&client.id));
    assert!(page.contains(crate::support::REDIRECT));
    assert!(page.contains("authorization_code"));
    // Without API-key rights the API keys page is not offered.
    assert!(!page.contains(">API keys</a>"));
    assert_eq!(
        get(&b, &server, &format!("{CONSOLE}/api-keys")).await.0,
        403
    );

    // Audit paging: more than a page of entries, newest first, "older" continues below.
    let actor = Actor::operator();
    let ctx = Context::new(&server.store, &actor, Utc::now());
    for i in 0..60 {
        ctx.audit(
            Some("default"),
            "test.event",
            &format!("target-{i:02}"),
            serde_json::json!({}),
        )
        .await
        .unwrap();
    }
    let (status, first) = get(&b, &server, &format!("{CONSOLE}/audit")).await;
    assert_eq!(status, 200);
    let newest = first.find("target-59").expect("newest entry");
    let older_entry = first.find("target-20").expect("entry 20");
    assert!(newest < older_entry, "newest first");
    assert!(!first.contains("target-05"));
    let href = href_after(&first, "id=\"older\" href=\"").expect("older link");
    let (status, second) = get(&b, &server, &href).await;
    assert_eq!(status, 200);
    assert!(second.contains("target-05"));
    assert!(!second.contains("target-59"));
}

#[tokio::test]
async fn expiry_warnings_and_last_use_are_shown() {
    use gatehouse_core::ports::Clock;
    let server = TestServer::start().await;
    admin_user(&server, "root", "default", "admin:all").await;
    let b = signed_in(&server, "root").await;
    let (_, p) = keys_page(&b, &server, "default").await;
    let csrf = hidden(&p, "csrf_token").unwrap();
    let resp = post(
        &b,
        &server,
        &format!("{CONSOLE}/api-keys/create"),
        &[
            ("csrf_token", &csrf),
            ("tenant", "default"),
            ("name", "short-lived"),
            ("validity_days", "10"),
            ("environment", "live"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let created = resp.text().await.unwrap();
    let secret = href_after(&created, "id=\"new-secret\" readonly value=\"").unwrap();

    // Within the 20-day warning threshold: marked.
    let (_, page) = keys_page(&b, &server, "default").await;
    assert!(page.contains("⚠ Expires within 20 days"), "{page}");
    assert!(page.contains("10 days left"));
    assert!(page.contains("never"));

    // A use of the key shows its time and address.
    let ip: std::net::IpAddr = "203.0.113.7".parse().unwrap();
    gatehouse_core::apikey_auth::authenticate_api_key(
        &server.store,
        &secret,
        Some(ip),
        server.clock.now(),
    )
    .await
    .expect("the key works");
    let (_, page) = keys_page(&b, &server, "default").await;
    assert!(page.contains("203.0.113.7"));
    assert!(!page.contains(">never<"));

    // After expiry: "expired N days ago" with the warning.
    server.clock.advance(11 * 86_400);
    let b = signed_in(&server, "root").await;
    let (_, page) = keys_page(&b, &server, "default").await;
    assert!(page.contains("expired 1 day ago"), "{page}");
    assert!(page.contains("⚠ Expired"));
}

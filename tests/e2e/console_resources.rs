//! The console's Resources page (RFC 8707 resource servers, issue 12): registered and deleted
//! as the CLI and admin API do, errors next to the field, deletion behind a confirmation; a
//! registered resource is then a token's audience. Tried as an attacker: no CSRF token, read
//! rights only, another tenant's admin.

use crate::console::{self, CONSOLE, get, post, signed_in};
use crate::support::{TestServer, admin_user, hidden, str_of, token_request};

const API: &str = "https://api.example.com/";

async fn resources_page(b: &reqwest::Client, s: &TestServer, tenant: &str) -> (u16, String) {
    get(b, s, &format!("{CONSOLE}/resources?tenant={tenant}")).await
}

async fn create(
    b: &reqwest::Client,
    s: &TestServer,
    csrf: &str,
    tenant: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let mut form = vec![("csrf_token", csrf), ("tenant", tenant)];
    form.extend_from_slice(fields);
    let resp = post(b, s, &format!("{CONSOLE}/resources/create"), &form).await;
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn resources_are_registered_used_and_deleted_from_the_console() {
    let s = TestServer::start().await;
    admin_user(&s, "root", "default", "admin:all").await;
    let b = signed_in(&s, "root").await;
    let (status, page) = resources_page(&b, &s, "default").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"no-resources\"") && page.contains(">Resources</a>"));
    let csrf = hidden(&page, "csrf_token").unwrap();

    // Refused next to the field, nothing written.
    let bad = [("identifier", "api.example.com"), ("scope", "api:read")];
    let (status, page) = create(&b, &s, &csrf, "default", &bad).await;
    assert_eq!(status, 400);
    assert!(page.contains("id=\"identifier-error\""), "{page}");
    let ttl = [
        ("identifier", API),
        ("scope", "api:read"),
        ("access_token_ttl", "5"),
    ];
    let (status, page) = create(&b, &s, &csrf, "default", &ttl).await;
    assert_eq!(status, 400);
    assert!(page.contains("id=\"ttl-error\""), "{page}");
    assert!(page.contains("id=\"no-resources\""));

    let good = [
        ("identifier", API),
        ("scope", "api:read api:write"),
        ("access_token_ttl", "120"),
        ("alg", "ES256"),
    ];
    let (status, page) = create(&b, &s, &csrf, "default", &good).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("class=\"mono resource-identifier\">https://api.example.com/<"));

    // A machine client now gets tokens for it, with its lifetime and audience.
    let c = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris = vec![];
            r.scope = Some("api:read".into());
        })
        .await;
    let form = [("grant_type", "client_credentials"), ("resource", API)];
    let (status, body) = token_request(&s, &c, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 120);
    let claims = crate::conformance_support::jwt_claims(str_of(&body, "access_token"));
    assert_eq!(claims["aud"], API);

    // Delete: confirmation first, then gone, and the resource is no longer a target.
    let (_, confirm) = get(
        &b,
        &s,
        &format!("{CONSOLE}/resources?tenant=default&delete=https%3A%2F%2Fapi.example.com%2F"),
    )
    .await;
    assert!(confirm.contains("id=\"confirm-delete\""), "{confirm}");
    let resp = post(
        &b,
        &s,
        &format!("{CONSOLE}/resources/delete"),
        &[
            ("csrf_token", &csrf),
            ("tenant", "default"),
            ("identifier", API),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let (_, page) = get(&b, &s, &crate::support::location(&resp)).await;
    assert!(page.contains("The resource was deleted.") && page.contains("id=\"no-resources\""));
    let (status, body) = token_request(&s, &c, &form).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_target"));
}

#[tokio::test]
async fn resource_forms_refuse_missing_csrf_read_only_admins_and_other_tenants() {
    let s = TestServer::start().await;
    let acme = console::tenant(&s, "Acme", 4, "enabled").await;
    admin_user(&s, "acme-admin", &acme, "admin:all").await;
    admin_user(&s, "viewer", "default", "read:clients").await;
    admin_user(&s, "clerk", "default", "write:clients").await;
    let good = [("identifier", API), ("scope", "api:read")];

    // No CSRF token or a forged one.
    let clerk = signed_in(&s, "clerk").await;
    let (status, _) = create(&clerk, &s, "forged", "default", &good).await;
    assert_eq!(status, 403);
    // Read rights only: the list but no form, and a POST is refused.
    let viewer = signed_in(&s, "viewer").await;
    let (status, page) = resources_page(&viewer, &s, "default").await;
    assert_eq!(status, 200);
    assert!(!page.contains("id=\"create-resource\""));
    let csrf = hidden(&page, "csrf_token").unwrap();
    let (status, _) = create(&viewer, &s, &csrf, "default", &good).await;
    assert_eq!(status, 403);
    // Another tenant's admin cannot register in or read the default tenant.
    let other = signed_in(&s, "acme-admin").await;
    let (_, page) = resources_page(&other, &s, &acme).await;
    let csrf = hidden(&page, "csrf_token").unwrap();
    let (status, _) = create(&other, &s, &csrf, "default", &good).await;
    assert!(status == 403 || status == 404, "{status}");
    let (status, _) = resources_page(&other, &s, "default").await;
    assert!(status == 403 || status == 404, "{status}");
    // Nothing was written by any of them; the clerk may.
    let (_, page) = resources_page(&clerk, &s, "default").await;
    assert!(page.contains("id=\"no-resources\""));
    let csrf = hidden(&page, "csrf_token").unwrap();
    let (status, page) = create(&clerk, &s, &csrf, "default", &good).await;
    assert_eq!(status, 200, "{page}");
}

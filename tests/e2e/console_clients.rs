//! The console's Clients and Signing keys pages over HTTP (issue 11): register a client with
//! its secret shown once, edit its redirect URIs and scopes (validated as a registration is,
//! errors next to the field), rotate its secret and delete it behind confirmation dialogs;
//! signing keys listed with status, algorithm and age, rotated (pre-published) by platform
//! administrators only. Tried as an attacker: no CSRF token, read rights only, another
//! tenant's client, a tenant admin rotating keys.

use crate::console::{self, CONSOLE, get, post, signed_in};
use crate::support::{REDIRECT, TestClient, TestServer, admin_user, hidden, token_request};

/// The value of the read-only input `id`.
fn input_value(page: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\" readonly value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}

async fn clients_page(b: &reqwest::Client, s: &TestServer, query: &str) -> (u16, String) {
    get(b, s, &format!("{CONSOLE}/clients{query}")).await
}

async fn csrf(b: &reqwest::Client, s: &TestServer) -> String {
    let (_, page) = clients_page(b, s, "").await;
    hidden(&page, "csrf_token").expect("csrf token")
}

async fn send(
    b: &reqwest::Client,
    s: &TestServer,
    action: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let resp = post(b, s, &format!("{CONSOLE}/clients/{action}"), form).await;
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

fn stored_client(
    s: &TestServer,
    id: &str,
) -> impl std::future::Future<Output = Option<gatehouse_core::client::Client>> {
    let store = s.store.clone();
    let id = id.to_owned();
    async move { store.get_client_by_id(&id).await.unwrap() }
}

#[tokio::test]
async fn clients_are_registered_edited_rotated_and_deleted_from_the_console() {
    let s = TestServer::start().await;
    admin_user(&s, "root", "default", "admin:all").await;
    let b = signed_in(&s, "root").await;
    let (status, page) = clients_page(&b, &s, "?create=1").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"create-dialog\""));
    let token = hidden(&page, "csrf_token").unwrap();

    // A machine client: the secret is shown once, and works.
    let (status, created) = send(
        &b,
        &s,
        "create",
        &[
            ("csrf_token", &token),
            ("tenant", "default"),
            ("name", "Nightly export"),
            ("kind", "machine"),
            ("redirect_uris", ""),
            ("scope", "api:read"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let secret = input_value(&created, "new-secret").expect("secret shown");
    assert!(created.contains("shown only this once"));
    let id = created
        .split("id=\"secret-client-id\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    let c = TestClient {
        id: id.clone(),
        secret: Some(secret.clone()),
    };
    let cc = [("grant_type", "client_credentials"), ("scope", "api:read")];
    assert_eq!(token_request(&s, &c, &cc).await.0, 200);
    let (_, list) = clients_page(&b, &s, "").await;
    assert!(!list.contains(&secret), "the secret is shown only once");
    assert!(
        list.contains(&format!("title=\"{id}\">Nightly export<")),
        "name, id on hover"
    );

    // Edit: a bad redirect URI is refused next to the field, nothing written.
    let web = s.client(|r| r.name = "Portal".into()).await;
    let (_, edit) = clients_page(&b, &s, &format!("?edit={}", web.id)).await;
    assert!(edit.contains("id=\"edit-dialog\""), "{edit}");
    assert!(edit.contains(REDIRECT));
    let (status, refused) = send(
        &b,
        &s,
        "update",
        &[
            ("csrf_token", &token),
            ("id", &web.id),
            ("name", "Portal"),
            ("redirect_uris", "http://evil.example/cb"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(refused.contains("id=\"redirect-error\""), "{refused}");
    let before = stored_client(&s, &web.id).await.unwrap();
    assert_eq!(before.redirect_uris[0].as_str(), REDIRECT);
    let other = "http://127.0.0.1:9/other";
    let (status, saved) = send(
        &b,
        &s,
        "update",
        &[
            ("csrf_token", &token),
            ("id", &web.id),
            ("name", "Portal 2"),
            ("redirect_uris", &format!("{REDIRECT}\r\n{other}\r\n")),
            ("scope", "openid profile"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert!(saved.contains("was saved"));
    let after = stored_client(&s, &web.id).await.unwrap();
    assert_eq!(after.name, "Portal 2");
    assert_eq!(after.redirect_uris.len(), 2);
    assert_eq!(after.allowed_scopes.to_string(), "openid profile");
    assert!(
        after.secret_hash == before.secret_hash,
        "the secret is kept"
    );

    // Rotate: a confirmation first, then the new secret once; the old one stops at once.
    let (_, confirm) = clients_page(&b, &s, &format!("?rotate={id}")).await;
    assert!(confirm.contains("id=\"confirm-rotate\""), "{confirm}");
    assert!(confirm.contains("stops working immediately"));
    let (status, rotated) = send(
        &b,
        &s,
        "rotate-secret",
        &[("csrf_token", &token), ("id", &id)],
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = input_value(&rotated, "new-secret").unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(token_request(&s, &c, &cc).await.0, 401);
    let c2 = TestClient {
        id: id.clone(),
        secret: Some(new_secret),
    };
    assert_eq!(token_request(&s, &c2, &cc).await.0, 200);

    // Delete: a confirmation first, then gone.
    let (_, confirm) = clients_page(&b, &s, &format!("?delete={id}")).await;
    assert!(confirm.contains("id=\"confirm-delete\""));
    let resp = post(
        &b,
        &s,
        &format!("{CONSOLE}/clients/delete"),
        &[("csrf_token", &token), ("id", &id)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let (_, gone) = get(&b, &s, &crate::support::location(&resp)).await;
    assert!(gone.contains("The client was deleted."));
    assert!(stored_client(&s, &id).await.is_none());
    assert_eq!(token_request(&s, &c2, &cc).await.0, 401);

    // Every change is in the audit trail.
    let (_, audit) = get(&b, &s, &format!("{CONSOLE}/audit")).await;
    for a in [
        "client.create",
        "client.update",
        "client.secret_rotate",
        "client.delete",
    ] {
        assert!(audit.contains(a), "{a}");
    }
}

/// The id of the client whose secret (or, for a public client, registration) the page just
/// announced.
fn created_id(page: &str) -> String {
    let secret = page
        .split("id=\"secret-client-id\">")
        .nth(1)
        .and_then(|r| r.split('<').next());
    let public = page
        .split("its client id is ")
        .nth(1)
        .and_then(|r| r.split(". It has no secret").next());
    secret
        .or(public)
        .unwrap_or_else(|| panic!("no new client id in {page}"))
        .to_owned()
}

#[tokio::test]
async fn device_and_delegating_clients_are_offered_and_registered_as_such() {
    let s = TestServer::start().await;
    admin_user(&s, "root", "default", "admin:all").await;
    let b = signed_in(&s, "root").await;
    let (_, page) = clients_page(&b, &s, "?create=1").await;
    assert!(page.contains("value=\"device\"") && page.contains("value=\"delegate\""));
    // The implicit flow is not a console kind: the CLI's warned opt-in is the only way.
    assert!(!page.contains("value=\"implicit\""));
    let token = hidden(&page, "csrf_token").unwrap();
    let create = |kind: &'static str, uris: &'static str| {
        let token = token.clone();
        let b = b.clone();
        let s = &s;
        async move {
            let form = [
                ("csrf_token", token.as_str()),
                ("tenant", "default"),
                ("name", kind),
                ("kind", kind),
                ("redirect_uris", uris),
                ("scope", "openid api:read"),
            ];
            send(&b, s, "create", &form).await
        }
    };
    // A device client gets no redirect URIs.
    let (status, page) = create("device", "https://tv.example/cb").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("no redirect URIs"), "{page}");
    let (status, page) = create("device", "").await;
    assert_eq!(status, 200, "{page}");
    let device = stored_client(&s, &created_id(&page)).await.unwrap();
    assert!(device.is_public());
    assert_eq!(
        device
            .grant_types
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>(),
        [
            "urn:ietf:params:oauth:grant-type:device_code",
            "refresh_token"
        ]
    );
    // The device application starts the device flow at once.
    let resp = crate::support::http()
        .post(s.url("/oauth/device_authorization"))
        .form(&[("client_id", device.id.as_str()), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // A delegating service is confidential, registered for the exchange only.
    let (status, page) = create("delegate", "").await;
    assert_eq!(status, 200, "{page}");
    let svc = stored_client(&s, &created_id(&page)).await.unwrap();
    assert!(!svc.is_public());
    assert_eq!(
        svc.grant_types
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>(),
        ["urn:ietf:params:oauth:grant-type:token-exchange"]
    );
    let (_, list) = clients_page(&b, &s, "").await;
    assert!(
        list.contains("<td>device</td>") && list.contains("<td>delegate</td>"),
        "{list}"
    );
}

#[tokio::test]
async fn client_forms_refuse_missing_csrf_read_only_admins_and_other_tenants() {
    let s = TestServer::start().await;
    let acme = console::tenant(&s, "Acme", 4, "enabled").await;
    admin_user(&s, "acme-admin", &acme, "admin:all").await;
    admin_user(&s, "viewer", "default", "read:clients").await;
    admin_user(&s, "clerk", "default", "write:clients").await;
    let target = s.client(|r| r.name = "Default app".into()).await;
    let before = stored_client(&s, &target.id).await.unwrap();
    let edit = |t: &str| {
        vec![
            ("csrf_token".to_owned(), t.to_owned()),
            ("id".to_owned(), target.id.clone()),
            ("name".to_owned(), "Hijacked".to_owned()),
            (
                "redirect_uris".to_owned(),
                "http://127.0.0.1:9/evil".to_owned(),
            ),
            ("scope".to_owned(), "openid".to_owned()),
        ]
    };
    let as_refs = |v: &[(String, String)]| -> Vec<(String, String)> { v.to_vec() };

    // No CSRF token, or a wrong one: refused.
    let clerk = signed_in(&s, "clerk").await;
    for t in ["", "forged"] {
        let form = as_refs(&edit(t));
        let resp = clerk
            .post(s.url(&format!("{CONSOLE}/clients/update")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403, "csrf {t:?}");
    }
    // A scope the admin cannot grant is refused by the policy.
    let token = csrf(&clerk, &s).await;
    let (status, page) = send(
        &clerk,
        &s,
        "create",
        &[
            ("csrf_token", &token),
            ("tenant", "default"),
            ("name", "Escalation"),
            ("kind", "machine"),
            ("scope", "admin:all"),
        ],
    )
    .await;
    assert_eq!(status, 403, "{page}");

    // Read rights only: no actions offered, every form refused.
    let viewer = signed_in(&s, "viewer").await;
    let (status, page) = clients_page(&viewer, &s, "").await;
    assert_eq!(status, 200);
    assert!(page.contains("Default app"));
    assert!(!page.contains("id=\"create-client\"") && !page.contains("class=\"delete\""));
    let (_, page) = clients_page(&viewer, &s, &format!("?edit={}", target.id)).await;
    assert!(!page.contains("id=\"edit-dialog\""));
    let token = csrf(&viewer, &s).await;
    for (action, form) in [
        ("update", edit(&token)),
        (
            "rotate-secret",
            vec![
                ("csrf_token".into(), token.clone()),
                ("id".into(), target.id.clone()),
            ],
        ),
        (
            "delete",
            vec![
                ("csrf_token".into(), token.clone()),
                ("id".into(), target.id.clone()),
            ],
        ),
    ] {
        let resp = viewer
            .post(s.url(&format!("{CONSOLE}/clients/{action}")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403, "{action}");
    }

    // Another tenant's admin: the client is "not found", and stays as it was.
    let other = signed_in(&s, "acme-admin").await;
    let (status, _) = clients_page(&other, &s, "?tenant=default").await;
    assert_eq!(status, 403);
    let token = csrf(&other, &s).await;
    for (action, form) in [
        ("update", edit(&token)),
        (
            "rotate-secret",
            vec![
                ("csrf_token".into(), token.clone()),
                ("id".into(), target.id.clone()),
            ],
        ),
        (
            "delete",
            vec![
                ("csrf_token".into(), token.clone()),
                ("id".into(), target.id.clone()),
            ],
        ),
    ] {
        let resp = other
            .post(s.url(&format!("{CONSOLE}/clients/{action}")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{action}");
        let text = resp.text().await.unwrap();
        assert!(!text.contains("Default app"), "{action}: {text}");
    }
    let after = stored_client(&s, &target.id).await.unwrap();
    assert_eq!(after.name, before.name);
    assert!(after.secret_hash == before.secret_hash);
    assert_eq!(after.redirect_uris[0].as_str(), REDIRECT);
}

#[tokio::test]
async fn signing_keys_are_listed_and_rotated_with_pre_publication_by_platform_admins_only() {
    let s = TestServer::start().await;
    let acme = console::tenant(&s, "Acme", 4, "enabled").await;
    admin_user(&s, "root", "default", "admin:all").await;
    admin_user(&s, "acme-admin", &acme, "admin:all").await;
    admin_user(&s, "auditor", "default", "read:audit").await;

    let root = signed_in(&s, "root").await;
    let resp = root
        .get(s.url(&format!("{CONSOLE}/signing-keys")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    let page = resp.text().await.unwrap();
    assert!(page.contains(">Signing keys</a>"), "in the navigation");
    assert!(page.contains("id=\"signing-keys\""));
    assert!(
        page.contains("RS256") && page.contains(">active<"),
        "{page}"
    );
    assert!(page.contains("id=\"prepublication\""));
    let before = s.store.list_signing_keys().await.unwrap().len();
    let token = hidden(&page, "csrf_token").unwrap();
    let resp = post(
        &root,
        &s,
        &format!("{CONSOLE}/signing-keys/rotate"),
        &[("csrf_token", &token), ("alg", "ES256")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("is published in the JWKS now"), "{page}");
    let keys = s.store.list_signing_keys().await.unwrap();
    assert_eq!(keys.len(), before + 1);
    // Published at once.
    let newest = keys.iter().max_by_key(|k| k.created_at).unwrap();
    let jwks: serde_json::Value = reqwest::get(s.url("/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(jwks.to_string().contains(&newest.kid), "{jwks}");
    // Bad input: a clear refusal, nothing written.
    let resp = post(
        &root,
        &s,
        &format!("{CONSOLE}/signing-keys/rotate"),
        &[("csrf_token", &token), ("alg", "HS256")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
    let resp = post(
        &root,
        &s,
        &format!("{CONSOLE}/signing-keys/rotate"),
        &[("alg", "ES256")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 403, "no CSRF token");

    // A tenant administrator sees the keys but may not rotate them.
    let acme_admin = signed_in(&s, "acme-admin").await;
    let (status, page) = get(&acme_admin, &s, &format!("{CONSOLE}/signing-keys")).await;
    assert_eq!(status, 200);
    assert!(!page.contains("id=\"rotate-key\"") && page.contains("id=\"rotate-note\""));
    let token = hidden(&page, "csrf_token").unwrap();
    let resp = post(
        &acme_admin,
        &s,
        &format!("{CONSOLE}/signing-keys/rotate"),
        &[("csrf_token", &token), ("alg", "ES256")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 403);
    // Without key rights: no link, and the page is refused.
    let auditor = signed_in(&s, "auditor").await;
    let (status, page) = get(&auditor, &s, &format!("{CONSOLE}/signing-keys")).await;
    assert_eq!(status, 403, "{page}");
    assert_eq!(s.store.list_signing_keys().await.unwrap().len(), before + 1);
}

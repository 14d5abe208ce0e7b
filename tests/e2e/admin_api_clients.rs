//! `PATCH /admin/v1/clients/{id}` (issue 11) tried as an attacker would: a caller with read
//! rights only, a tenant administrator reaching for another tenant's client, scopes the caller
//! does not hold, a stale `If-Match`, and invalid changes — each refused with nothing written;
//! an allowed change takes effect at once, changes the ETag and is audited.

use reqwest::Method;
use serde_json::json;

use crate::admin_api::{self as api, call};
use crate::support::{REDIRECT, TestServer, str_of};

#[tokio::test]
async fn client_patch_is_checked_by_rights_tenant_scopes_and_etag() {
    let server = TestServer::start().await;
    let acme = api::tenant(&server, "Acme", 10).await;
    let globex = api::tenant(&server, "Globex", 10).await;
    let writer = api::key(&server, &acme, "writer", "write:clients").await;
    let reader = api::key(&server, &acme, "reader", "read:clients").await;
    let g = api::key(&server, &globex, "globex-admin", "admin:all").await;
    let c = api::post(
        &server,
        "/admin/v1/clients",
        &writer,
        json!({"name": "Portal", "redirect_uris": [REDIRECT], "scope": "openid api:read"}),
    )
    .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let id = str_of(&c.body, "client_id").to_owned();
    let path = format!("/admin/v1/clients/{id}");
    let patch = |bearer: &str, body: serde_json::Value, tag: Option<&str>| {
        let (path, bearer, tag) = (path.clone(), bearer.to_owned(), tag.map(str::to_owned));
        let server = &server;
        async move {
            call(
                server,
                Method::PATCH,
                &path,
                Some(&bearer),
                Some(body),
                tag.as_deref(),
            )
            .await
        }
    };

    // Read rights only: 403 naming the scope; another tenant's admin: 404, as if absent.
    let r = patch(&reader, json!({"name": "Mine"}), None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = patch(&g, json!({"name": "Mine"}), None).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.body["error"], "not_found");
    // Scopes the caller does not hold are not handed to the client.
    let r = patch(&writer, json!({"scope": "openid admin:all"}), None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["field"], "scope");
    // Invalid changes name the member.
    for (body, field) in [
        (
            json!({"redirect_uris": ["http://evil.example/cb"]}),
            "redirect_uris",
        ),
        (json!({"redirect_uris": []}), "redirect_uris"),
        (json!({"grant_types": ["password"]}), "grant_types"),
        (json!({"access_token_ttl": 1}), "access_token_ttl"),
    ] {
        let r = patch(&writer, body.clone(), None).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.body["field"], field, "{body}");
    }
    let r = patch(&writer, json!({"auth_method": "none"}), None).await;
    assert_eq!(r.status.as_u16() / 100, 4, "unknown members are refused");
    // A stale ETag: 412.
    let r = patch(&writer, json!({"name": "Renamed"}), Some("\"stale\"")).await;
    assert_eq!(r.status, 412, "{}", r.body);
    let unchanged = api::get(&server, &path, &writer).await;
    assert_eq!(unchanged.body["name"], "Portal");
    assert_eq!(unchanged.body["scope"], "api:read openid");
    let tag = unchanged.headers["etag"].to_str().unwrap().to_owned();

    // Allowed: applied at once, a new ETag, audited.
    let other = "http://127.0.0.1:9/other";
    let r = patch(
        &writer,
        json!({"name": "Renamed", "redirect_uris": [other], "scope": "openid"}),
        Some(&tag),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["redirect_uris"], json!([other]));
    assert_eq!(r.body["scope"], "openid");
    assert_ne!(r.headers["etag"].to_str().unwrap(), tag);
    let again = patch(&writer, json!({"name": "Again"}), Some(&tag)).await;
    assert_eq!(again.status, 412, "the old tag is stale now");
    let audit = api::get(&server, &format!("/admin/v1/audit?tenant={acme}"), &g).await;
    assert_eq!(audit.status, 404, "Globex reads no audit of Acme");
    let platform = api::key(&server, "default", "platform", "admin:all").await;
    let audit = api::get(
        &server,
        &format!("/admin/v1/audit?tenant={acme}&after=0"),
        &platform,
    )
    .await;
    assert!(
        audit.body.to_string().contains("client.update"),
        "{}",
        audit.body
    );
}

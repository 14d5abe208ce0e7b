//! `/admin/v1/resources` (RFC 8707 resource servers) as an attacker would try it: another
//! tenant's key, a read-only key, bad input; and `resources` on client registration.

use reqwest::Method;
use serde_json::json;

use crate::admin_api::{call, get, key, post, tenant};
use crate::support::TestServer;

const API: &str = "https://api.a.example/";

#[tokio::test]
async fn resources_are_managed_only_with_the_right_and_in_the_own_tenant() {
    let s = TestServer::start().await;
    let a = tenant(&s, "Tenant A", 10).await;
    let b = tenant(&s, "Tenant B", 10).await;
    let a_write = key(&s, &a, "a-write", "write:clients").await;
    let a_read = key(&s, &a, "a-read", "read:clients").await;
    let b_write = key(&s, &b, "b-write", "write:clients").await;
    let body = json!({"identifier": API, "scope": "api:read", "alg": "ES256"});
    // Fewer rights: a read-only key cannot register.
    assert_eq!(
        post(&s, "/admin/v1/resources", &a_read, body.clone())
            .await
            .status,
        403
    );
    // Another tenant's key cannot register in A, list A's or delete A's.
    let mut in_a = body.clone();
    in_a["tenant"] = json!(a);
    let r = post(&s, "/admin/v1/resources", &b_write, in_a.clone()).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    let created = post(&s, "/admin/v1/resources", &a_write, body.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["identifier"], API);
    assert_eq!(created.body["alg"], "ES256");
    let dup = post(&s, "/admin/v1/resources", &a_write, body).await;
    assert_eq!(dup.status, 409);
    let listed = get(&s, &format!("/admin/v1/resources?tenant={a}"), &b_write).await;
    assert!(listed.status.is_client_error(), "{}", listed.status);
    let path = format!(
        "/admin/v1/resources?tenant={a}&identifier={}",
        url::form_urlencoded::byte_serialize(API.as_bytes()).collect::<String>()
    );
    let del = call(&s, Method::DELETE, &path, Some(&b_write), None, None).await;
    assert!(del.status.is_client_error(), "{}", del.status);
    let mine = get(&s, "/admin/v1/resources", &a_read).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["resources"][0]["identifier"], API);
    // B sees none of A's in its own list.
    let theirs = get(&s, "/admin/v1/resources", &b_write).await;
    assert_eq!(theirs.body["resources"].as_array().map(Vec::len), Some(0));
    // Bad input names its field; a client cannot be bound to an unknown resource.
    let bad = post(
        &s,
        "/admin/v1/resources",
        &a_write,
        json!({"identifier": "https://x.example/#f", "scope": "a"}),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.to_string().contains("identifier"), "{}", bad.body);
    let client = post(
        &s,
        "/admin/v1/clients",
        &a_write,
        json!({"name": "app", "grant_types": ["client_credentials"], "scope": "api:read",
               "resources": ["https://unknown.example/"]}),
    )
    .await;
    assert_eq!(client.status, 422, "{}", client.body);
    let client = post(
        &s,
        "/admin/v1/clients",
        &a_write,
        json!({"name": "app", "grant_types": ["client_credentials"], "scope": "api:read",
               "resources": [API]}),
    )
    .await;
    assert_eq!(client.status, 201, "{}", client.body);
    let del = call(&s, Method::DELETE, &path, Some(&a_write), None, None).await;
    assert_eq!(del.status, 204);
    let gone = call(&s, Method::DELETE, &path, Some(&a_write), None, None).await;
    assert_eq!(gone.status, 404);
}

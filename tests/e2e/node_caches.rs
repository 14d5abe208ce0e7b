//! Two nodes on one database answer clients, tenants and revocation checks from memory
//! (issue 9), and still honour a change made anywhere on their next request after the cache
//! check interval: a revoked token, a disabled tenant, a rotated secret, a deleted client.
//! Node A is the test server, node B a second in-process node with the default interval.

use std::time::Duration;

use serde_json::Value;

use crate::ops_support::*;
use crate::support::*;
use crate::tenant_tokens::{client_in, new_tenant, resource_server, set_disabled};

/// More than the default check interval (100 ms) plus a check.
const PAST_INTERVAL: Duration = Duration::from_millis(400);

async fn token_at(base: &str, c: &TestClient) -> (u16, Value) {
    post_form(
        base,
        c,
        "/oauth/token",
        &[("grant_type", "client_credentials"), ("scope", "api:read")],
    )
    .await
}

async fn active_at(base: &str, rs: &TestClient, token: &str) -> bool {
    let (status, body) = post_form(base, rs, "/oauth/introspect", &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body["active"] == true
}

fn machine(r: &mut gatehouse_core::client::ClientRegistration) {
    r.grant_types = vec!["client_credentials".into()];
    r.redirect_uris.clear();
    r.scope = Some("api:read".into());
}

#[tokio::test]
async fn a_token_revoked_on_one_node_is_inactive_on_the_other() {
    let a = TestServer::start().await;
    let b = Node::start(&a.db_url, &a.base, |_| {}).await;
    let tenant = new_tenant(&a, "Revokers").await;
    let app = client_in(&a, &tenant, machine).await;
    let rs = resource_server(&a, &tenant).await;
    let (status, body) = token_at(&b.base, &app).await;
    assert_eq!(status, 200, "{body}");
    let token = str_of(&body, "access_token").to_owned();
    // Both nodes know it as active (and have cached client, tenant and revocation lists).
    assert!(active_at(&a.base, &rs, &token).await);
    assert!(active_at(&b.base, &rs, &token).await);

    assert_eq!(revoke_token(&a, &app, &token, None).await, 200);
    assert!(!active_at(&a.base, &rs, &token).await);
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(!active_at(&b.base, &rs, &token).await);
}

#[tokio::test]
async fn a_disabled_tenant_stops_on_every_node_and_comes_back() {
    let a = TestServer::start().await;
    let b = Node::start(&a.db_url, &a.base, |_| {}).await;
    let tenant = new_tenant(&a, "Pausable").await;
    let app = client_in(&a, &tenant, machine).await;
    let rs = resource_server(&a, &new_tenant(&a, "Elsewhere").await).await;
    let (_, body) = token_at(&b.base, &app).await;
    let token = str_of(&body, "access_token").to_owned();
    assert!(active_at(&b.base, &rs, &token).await);

    set_disabled(&a, &tenant, true).await;
    tokio::time::sleep(PAST_INTERVAL).await;
    let (status, body) = token_at(&b.base, &app).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    assert!(!active_at(&b.base, &rs, &token).await);
    assert!(!active_at(&a.base, &rs, &token).await);

    set_disabled(&a, &tenant, false).await;
    tokio::time::sleep(PAST_INTERVAL).await;
    assert_eq!(token_at(&b.base, &app).await.0, 200);
    assert!(active_at(&b.base, &rs, &token).await);
}

#[tokio::test]
async fn a_rotated_secret_and_a_deleted_client_stop_on_every_node() {
    let a = TestServer::start().await;
    let b = Node::start(&a.db_url, &a.base, |_| {}).await;
    let app = a.client(machine).await;
    assert_eq!(token_at(&b.base, &app).await.0, 200);

    let fresh = gatehouse_core::secret::Secret::generate();
    assert!(
        a.store
            .set_client_secret_hash(&app.id, &fresh.hash())
            .await
            .unwrap()
    );
    tokio::time::sleep(PAST_INTERVAL).await;
    let (status, body) = token_at(&b.base, &app).await;
    assert_eq!(status, 401, "{body}");
    let rotated = TestClient {
        id: app.id.clone(),
        secret: Some(fresh.expose().to_owned()),
    };
    assert_eq!(token_at(&b.base, &rotated).await.0, 200);

    assert!(a.store.delete_client(&app.id).await.unwrap());
    tokio::time::sleep(PAST_INTERVAL).await;
    let (status, body) = token_at(&b.base, &rotated).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
}

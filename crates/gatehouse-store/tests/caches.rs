//! The node caches of clients, tenants and revocation lists (issue 9): two `Store`s on one
//! database stand for two nodes. What one node writes holds at once on that node and within
//! the check interval on the other. SQLite by default, PostgreSQL when
//! `GATEHOUSE_TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use gatehouse_core::client::{AuthMethod, Client, GrantType};
use gatehouse_core::ports::{ClientStore, GrantStore};
use gatehouse_core::revocation::RevokedTokenStore;
use gatehouse_core::secret::Secret;
use gatehouse_core::tenant::{Tenant, TenantStore};
use gatehouse_core::values::TenantId;
use gatehouse_core::{ClientId, GrantId, ScopeSet, SigningAlg};
use gatehouse_store::Store;
use gatehouse_store::test_support::TestDb;

const INTERVAL: Duration = Duration::from_millis(100);
/// Longer than the interval plus a check.
const PAST_INTERVAL: Duration = Duration::from_millis(300);

async fn two_nodes(db: &TestDb) -> (Store, Store) {
    let a = db.store().await;
    let b = Store::connect(&db.url).await.unwrap();
    a.set_cache_check_interval(INTERVAL);
    b.set_cache_check_interval(INTERVAL);
    (a, b)
}

fn tenant(id: &str) -> Tenant {
    Tenant {
        id: TenantId::parse(id).unwrap(),
        name: id.into(),
        created_at: Utc::now(),
        disabled: false,
        api_access_enabled: true,
        max_api_keys: 4,
        allowed_scopes: None,
    }
}

fn client(tenant: &TenantId) -> Client {
    Client {
        id: ClientId::generate(),
        tenant_id: tenant.clone(),
        name: "App".into(),
        secret_hash: Some(Secret::generate().hash()),
        auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::ClientCredentials],
        allowed_scopes: ScopeSet::parse("api:read").unwrap(),
        id_token_alg: SigningAlg::RS256,
        access_token_alg: Some(SigningAlg::ES256),
        access_token_ttl: None,
        require_pkce: true,
        refresh_grace_seconds: 0,
        refresh_idle_ttl: None,
        refresh_absolute_ttl: None,
        may_act: None,
        created_at: Utc::now(),
    }
}

#[tokio::test]
async fn a_disabled_tenant_is_disabled_at_once_here_and_within_the_interval_elsewhere() {
    let db = TestDb::new().await;
    let (a, b) = two_nodes(&db).await;
    let t = tenant("acme");
    a.insert_tenant(&t).await.unwrap();
    // Both nodes read (and cache) the enabled tenant.
    assert!(!a.find_tenant(&t.id).await.unwrap().unwrap().disabled);
    assert!(!b.find_tenant(&t.id).await.unwrap().unwrap().disabled);

    a.set_tenant_disabled(&t.id, true).await.unwrap();
    assert!(a.find_tenant(&t.id).await.unwrap().unwrap().disabled);
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(b.find_tenant(&t.id).await.unwrap().unwrap().disabled);

    // And back, written by the other node this time.
    b.set_tenant_disabled(&t.id, false).await.unwrap();
    assert!(!b.find_tenant(&t.id).await.unwrap().unwrap().disabled);
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(!a.find_tenant(&t.id).await.unwrap().unwrap().disabled);
}

#[tokio::test]
async fn deleted_clients_and_rotated_secrets_reach_every_node() {
    let db = TestDb::new().await;
    let (a, b) = two_nodes(&db).await;
    let default = TenantId::parse("default").unwrap();
    let c = client(&default);
    a.insert_client(&c).await.unwrap();
    let cached = b.find_client(&c.id).await.unwrap().unwrap();
    assert_eq!(cached.secret_hash, c.secret_hash);
    assert_eq!(cached.access_token_alg, Some(SigningAlg::ES256));

    let new_hash = Secret::generate().hash();
    assert!(
        a.set_client_secret_hash(c.id.as_str(), &new_hash)
            .await
            .unwrap()
    );
    tokio::time::sleep(PAST_INTERVAL).await;
    assert_eq!(
        b.find_client(&c.id).await.unwrap().unwrap().secret_hash,
        Some(new_hash)
    );

    assert!(b.delete_client(c.id.as_str()).await.unwrap());
    assert!(b.find_client(&c.id).await.unwrap().is_none());
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(a.find_client(&c.id).await.unwrap().is_none());
}

#[tokio::test]
async fn revocations_are_answered_from_memory_and_reach_every_node() {
    let db = TestDb::new().await;
    let (a, b) = two_nodes(&db).await;
    let now = Utc::now();
    let grant = GrantId::generate();
    assert!(!b.is_access_token_revoked("jti-1").await.unwrap());
    assert!(!b.is_grant_revoked(&grant).await.unwrap());

    a.revoke_access_token("jti-1", now + TimeDelta::hours(1), now)
        .await
        .unwrap();
    a.revoke_grant(&grant, now).await.unwrap();
    assert!(a.is_access_token_revoked("jti-1").await.unwrap());
    assert!(a.is_grant_revoked(&grant).await.unwrap());
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(b.is_access_token_revoked("jti-1").await.unwrap());
    assert!(b.is_grant_revoked(&grant).await.unwrap());
    assert!(!b.is_access_token_revoked("jti-2").await.unwrap());

    // Expired entries leave every node's list when housekeeping deletes them.
    let purged = b
        .delete_expired_revoked_tokens(now + TimeDelta::hours(2))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(!a.is_access_token_revoked("jti-1").await.unwrap());
}

#[tokio::test]
async fn a_zero_interval_checks_before_every_read() {
    let db = TestDb::new().await;
    let (a, b) = two_nodes(&db).await;
    b.set_cache_check_interval(Duration::ZERO);
    let t = tenant("zero");
    a.insert_tenant(&t).await.unwrap();
    assert!(!b.find_tenant(&t.id).await.unwrap().unwrap().disabled);
    a.set_tenant_disabled(&t.id, true).await.unwrap();
    assert!(b.find_tenant(&t.id).await.unwrap().unwrap().disabled);
}

#[tokio::test]
async fn a_write_in_plain_sql_reaches_every_node_too() {
    use sea_orm::ConnectionTrait;
    let db = TestDb::new().await;
    let (a, b) = two_nodes(&db).await;
    let t = tenant("by-sql");
    a.insert_tenant(&t).await.unwrap();
    assert!(!a.find_tenant(&t.id).await.unwrap().unwrap().disabled);
    assert!(!b.find_tenant(&t.id).await.unwrap().unwrap().disabled);
    // An operator's UPDATE (or a write path that forgot the cache) bumps the generation
    // through the trigger.
    a.db()
        .execute_unprepared("UPDATE tenants SET disabled = true WHERE id = 'by-sql'")
        .await
        .unwrap();
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(a.find_tenant(&t.id).await.unwrap().unwrap().disabled);
    assert!(b.find_tenant(&t.id).await.unwrap().unwrap().disabled);
}

#[tokio::test]
async fn client_options_and_resources_are_cached_and_reach_every_node() {
    use gatehouse_core::dpop::DpopClientStore;
    use gatehouse_core::resource::{ResourceServer, ResourceStore, ResourceUri};
    use sea_orm::ConnectionTrait;
    let db = TestDb::new().await;
    let (a, b) = two_nodes(&db).await;
    let default = TenantId::parse("default").unwrap();
    let c = client(&default);
    a.insert_client(&c).await.unwrap();
    // Read (and cached) on both nodes: not DPoP-required.
    assert!(!a.dpop_required(&c.id).await.unwrap());
    assert!(!b.dpop_required(&c.id).await.unwrap());
    // Required from node a: at once there, within the interval on b.
    a.set_dpop_required(&c.id, true).await.unwrap();
    assert!(a.dpop_required(&c.id).await.unwrap());
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(b.dpop_required(&c.id).await.unwrap());
    // Even an operator's plain SQL (the trigger moves the generation).
    a.db()
        .execute_unprepared(&format!(
            "UPDATE client_options SET dpop_required = false WHERE client_id = '{}'",
            c.id
        ))
        .await
        .unwrap();
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(!a.dpop_required(&c.id).await.unwrap());
    assert!(!b.dpop_required(&c.id).await.unwrap());

    // A resource read on b is answered from memory until a deletes it.
    let api = ResourceUri::parse("https://api.example/").unwrap();
    let r = ResourceServer {
        id: "rs_1".into(),
        tenant_id: default.clone(),
        identifier: api.clone(),
        scopes: ScopeSet::parse("api:read").unwrap(),
        access_token_ttl: None,
        access_token_alg: None,
        created_at: Utc::now(),
    };
    a.insert_resource(&r).await.unwrap();
    assert!(b.find_resource(&default, &api).await.unwrap().is_some());
    a.delete_resource(&default, &api).await.unwrap();
    assert!(a.find_resource(&default, &api).await.unwrap().is_none());
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(b.find_resource(&default, &api).await.unwrap().is_none());
}

//! Storage of tenants, API keys and the audit trail (issue 4), on SQLite and, when
//! `GATEHOUSE_TEST_DATABASE_URL` is set, PostgreSQL. Time is injected: no sleeps.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gatehouse_core::apikey::{ApiKeyPrefixes, ApiKeyRequest, CreateRefused};
use gatehouse_core::apikey_auth::{ApiKeyDenied, authenticate_api_key};
use gatehouse_core::audit::{ActorKind, NewAuditEvent, Outcome};
use gatehouse_core::tenant::{Tenant, TenantRegistration};
use gatehouse_core::values::TenantId;
use gatehouse_store::test_support::TestDb;
use gatehouse_store::{CreateApiKeyError, Error, Store};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

async fn tenant(store: &Store, scope: Option<&str>) -> Tenant {
    let t = TenantRegistration {
        name: "Acme".into(),
        scope: scope.map(str::to_owned),
        ..Default::default()
    }
    .validate(t0())
    .unwrap();
    store.insert_tenant(&t).await.unwrap();
    t
}

fn req(name: &str) -> ApiKeyRequest {
    ApiKeyRequest {
        name: name.into(),
        ..Default::default()
    }
}

async fn create(
    store: &Store,
    t: &TenantId,
    r: ApiKeyRequest,
    now: DateTime<Utc>,
) -> Result<gatehouse_core::apikey::NewApiKey, CreateApiKeyError> {
    store
        .create_api_key(t, r, &ApiKeyPrefixes::default(), now)
        .await
}

#[tokio::test]
async fn tenants_round_trip_and_the_default_tenant_has_api_access() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let def = store
        .get_tenant(&TenantId::parse("default").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(def.api_access_enabled && !def.disabled);
    assert_eq!(def.max_api_keys, 4);
    assert_eq!(def.allowed_scopes, None);

    let t = tenant(&store, Some("files:read files:write")).await;
    assert_eq!(store.get_tenant(&t.id).await.unwrap().unwrap(), t);
    assert_eq!(store.list_tenants().await.unwrap().len(), 2);
    let r = store.rename_tenant(&t.id, "Acme Corp").await.unwrap();
    assert_eq!(r.name, "Acme Corp");
    assert!(
        store
            .set_tenant_disabled(&t.id, true)
            .await
            .unwrap()
            .disabled
    );
    assert!(
        !store
            .set_tenant_api_access(&t.id, false)
            .await
            .unwrap()
            .api_access_enabled
    );
    let missing = TenantId::parse("nope").unwrap();
    assert!(matches!(
        store.rename_tenant(&missing, "x").await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.insert_tenant(&t).await,
        Err(Error::Conflict(_))
    ));
}

#[tokio::test]
async fn the_limit_counts_only_active_keys_at_the_injected_time() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let t = tenant(&store, None).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let mut r = req(&format!("key {i}"));
        r.validity_days = Some(10 + i);
        ids.push(create(&store, &t.id, r, t0()).await.unwrap().key.id);
    }
    let err = create(&store, &t.id, req("fifth"), t0()).await.unwrap_err();
    assert!(matches!(
        err,
        CreateApiKeyError::Refused(CreateRefused::LimitReached { max: 4, .. })
    ));
    // Revoking one frees a slot.
    store.revoke_api_key(&ids[3], t0()).await.unwrap();
    create(&store, &t.id, req("fifth"), t0()).await.unwrap();
    assert!(create(&store, &t.id, req("sixth"), t0()).await.is_err());
    // Ten days later the 10-day key has expired and frees a slot.
    let later = t0() + TimeDelta::days(10);
    assert_eq!(store.count_active_api_keys(&t.id, later).await.unwrap(), 3);
    create(&store, &t.id, req("sixth"), later).await.unwrap();
    assert_eq!(store.list_api_keys(&t.id).await.unwrap().len(), 6);
}

#[tokio::test]
async fn keys_round_trip_without_the_secret() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let t = tenant(&store, Some("files:read files:write")).await;
    let mut r = req("billing sync");
    r.scope = Some("files:read".into());
    r.environment = Some("test".into());
    r.allow_ips = vec!["10.0.0.0/8".into(), "2001:db8::/32".into()];
    r.rate_limit_class = Some("bulk".into());
    let new = create(&store, &t.id, r, t0()).await.unwrap();
    assert!(new.secret.expose().starts_with("gh_test_"));
    let listed = store.list_api_keys(&t.id).await.unwrap();
    assert_eq!(listed, vec![new.key.clone()]);
    assert_ne!(listed[0].secret_hash.to_hex(), new.secret.expose());
    assert!(new.secret.expose().starts_with(&listed[0].prefix));

    // A scope outside the tenant's allowed scopes is refused, naming it.
    let mut r = req("too much");
    r.scope = Some("admin:all".into());
    let err = create(&store, &t.id, r, t0()).await.unwrap_err();
    assert!(err.to_string().contains("admin:all"), "{err}");
    // Unknown tenant.
    let err = create(&store, &TenantId::parse("nope").unwrap(), req("x"), t0())
        .await
        .unwrap_err();
    assert!(matches!(err, CreateApiKeyError::Store(Error::NotFound(_))));
    // API access off, tenant disabled.
    store.set_tenant_api_access(&t.id, false).await.unwrap();
    assert!(matches!(
        create(&store, &t.id, req("x"), t0()).await,
        Err(CreateApiKeyError::Refused(
            CreateRefused::ApiAccessDisabled(_)
        ))
    ));
}

#[tokio::test]
async fn authentication_against_the_store_expiry_revocation_tenant_and_last_use() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let t = tenant(&store, None).await;
    let mut r = req("monitoring dashboard");
    r.allow_ips = vec!["192.0.2.0/24".into()];
    let new = create(&store, &t.id, r, t0()).await.unwrap();
    let secret = new.secret.expose().to_owned();
    let ip = Some("192.0.2.9".parse().unwrap());

    let p = authenticate_api_key(&store, &secret, ip, t0())
        .await
        .unwrap();
    assert_eq!(p.name, "monitoring dashboard");
    assert_eq!(p.tenant_id, t.id);
    let k = store.get_api_key(&new.key.id).await.unwrap().unwrap();
    assert_eq!(k.last_used_at, Some(t0()));
    assert_eq!(k.last_used_ip.as_deref(), Some("192.0.2.9"));

    assert_eq!(
        authenticate_api_key(&store, &secret, Some("198.51.100.1".parse().unwrap()), t0()).await,
        Err(ApiKeyDenied::IpNotAllowed)
    );
    let expiry = t0() + TimeDelta::days(90);
    assert!(
        authenticate_api_key(&store, &secret, ip, expiry - TimeDelta::seconds(1))
            .await
            .is_ok()
    );
    assert_eq!(
        authenticate_api_key(&store, &secret, ip, expiry).await,
        Err(ApiKeyDenied::Expired)
    );
    store.set_tenant_disabled(&t.id, true).await.unwrap();
    assert_eq!(
        authenticate_api_key(&store, &secret, ip, t0()).await,
        Err(ApiKeyDenied::TenantDisabled)
    );
    store.set_tenant_disabled(&t.id, false).await.unwrap();
    store.revoke_api_key(&new.key.id, t0()).await.unwrap();
    assert_eq!(
        authenticate_api_key(&store, &secret, ip, t0()).await,
        Err(ApiKeyDenied::Revoked)
    );

    // Each denial is in the audit trail, naming the key, never holding the secret.
    let events = store.audit().list_after(0, 100, None).await.unwrap();
    let reasons: Vec<&str> = events
        .iter()
        .filter(|e| e.event.action == "api_key.use")
        .map(|e| e.event.details["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["ip_not_allowed", "expired", "tenant_disabled", "revoked"]
    );
    assert!(
        events
            .iter()
            .all(|e| e.event.actor.as_deref() == Some("monitoring dashboard"))
    );
    assert!(
        !serde_json::to_string(&events)
            .unwrap()
            .contains(&secret[8..])
    );
    assert!(store.delete_api_key(&new.key.id).await.unwrap());
    assert_eq!(
        authenticate_api_key(&store, &secret, ip, t0()).await,
        Err(ApiKeyDenied::Unknown)
    );
}

#[tokio::test]
async fn audit_trail_is_read_with_a_cursor() {
    let db = TestDb::new().await;
    let store = db.store().await;
    assert_eq!(store.audit().last_id().await.unwrap(), 0);
    let mut ids = Vec::new();
    for i in 0..5 {
        let e = NewAuditEvent {
            at: t0() + TimeDelta::seconds(i),
            tenant_id: Some(if i % 2 == 0 { "default" } else { "other" }.into()),
            actor_kind: ActorKind::User,
            actor: Some(format!("user{i}")),
            action: "login".into(),
            target: None,
            source_ip: Some("192.0.2.1".into()),
            request_id: Some(format!("req-{i}")),
            outcome: if i == 4 {
                Outcome::Failure
            } else {
                Outcome::Success
            },
            details: serde_json::json!({ "n": i }),
        };
        ids.push(store.audit().append(&e).await.unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let page = store.audit().list_after(0, 2, None).await.unwrap();
    assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), ids[..2]);
    let rest = store
        .audit()
        .list_after(page[1].id, 100, None)
        .await
        .unwrap();
    assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), ids[2..]);
    assert_eq!(rest[2].event.outcome, Outcome::Failure);
    assert_eq!(rest[2].event.at, t0() + TimeDelta::seconds(4));
    assert_eq!(rest[2].event.details["n"], 4);
    let other = store
        .audit()
        .list_after(0, 100, Some("other"))
        .await
        .unwrap();
    assert_eq!(other.len(), 2);
    assert_eq!(store.audit().last_id().await.unwrap(), ids[4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_appends_are_all_stored_each_with_its_own_id() {
    let db = TestDb::new().await;
    let store = db.store().await;
    store.start_audit_batching();
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let e = NewAuditEvent {
                    at: t0(),
                    tenant_id: Some("default".into()),
                    actor_kind: ActorKind::Client,
                    actor: Some(format!("client{i}")),
                    action: "token.issue".into(),
                    target: Some(format!("jti-{i}")),
                    source_ip: None,
                    request_id: Some(format!("req-{i}")),
                    outcome: Outcome::Success,
                    details: serde_json::json!({ "n": i }),
                };
                (i, store.audit().append(&e).await.unwrap())
            })
        })
        .collect();
    let mut by_id = std::collections::BTreeMap::new();
    for t in tasks {
        let (i, id) = t.await.unwrap();
        assert!(by_id.insert(id, i).is_none(), "id {id} given twice");
    }
    // Every acknowledged event is stored under the id its caller got.
    let stored = store.audit().list_after(0, 1000, None).await.unwrap();
    assert_eq!(stored.len(), 60);
    for e in stored {
        let i = by_id[&e.id];
        assert_eq!(e.event.target, Some(format!("jti-{i}")));
    }
}

#[tokio::test]
async fn upgrading_a_database_gives_existing_tenants_the_default_policy() {
    use sea_orm::{ConnectionTrait, Database};
    use sea_orm_migration::MigratorTrait;

    let db = TestDb::new().await;
    let conn = Database::connect(db.url.as_str()).await.unwrap();
    // The schema before this migration, with a tenant of its own.
    gatehouse_store::Migrator::up(&conn, Some(1)).await.unwrap();
    conn.execute_unprepared(
        "INSERT INTO tenants (id, name, created_at) VALUES ('old', 'Old', '2026-01-01T00:00:00Z')",
    )
    .await
    .unwrap();
    conn.close().await.unwrap();

    let store = Store::connect(&db.url).await.unwrap();
    let old = store
        .get_tenant(&TenantId::parse("old").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(old.api_access_enabled && !old.disabled);
    assert_eq!(old.max_api_keys, 4);
    assert_eq!(old.allowed_scopes, None);
    create(&store, &old.id, req("after upgrade"), t0())
        .await
        .unwrap();
}

//! The operator actions against a real store (SQLite, or PostgreSQL when
//! `GATEHOUSE_TEST_DATABASE_URL` is set): each asks the policy and validates before it writes,
//! so a refused action leaves neither a row nor an audit event; errors name typed fields;
//! secrets shown once never print in `Debug`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

use chrono::Utc;
use gatehouse_admin::api_keys::{self, ApiKeyPolicy};
use gatehouse_admin::clients::{self, NewClientRequest};
use gatehouse_admin::users::{self, NewUser, ProfileInput};
use gatehouse_admin::{
    Actor, BlockingHasher, Context, Denied, Field, Grantee, Object, OpError, signing_keys, tenants,
};
use gatehouse_core::TenantId;
use gatehouse_core::admin::AdminPrincipal;
use gatehouse_core::apikey::ApiKeyRequest;
use gatehouse_core::audit::ActorKind;
use gatehouse_core::client::ClientRegistration;
use gatehouse_core::tenant::TenantRegistration;
use gatehouse_core::{ScopeSet, SigningAlg};
use gatehouse_store::test_support::TestDb;
use gatehouse_store::{KeyStatus, Store};

fn policy() -> ApiKeyPolicy {
    ApiKeyPolicy {
        prefixes: Default::default(),
        rate_limit_classes: ["default".to_owned()].into(),
        expiry_warning_days: 20,
    }
}

fn api_key_of(tenant: &TenantId, scopes: &str) -> Actor {
    Actor::admin(
        AdminPrincipal {
            tenant: tenant.clone(),
            actor_kind: ActorKind::ApiKey,
            actor: "ci".into(),
            scopes: ScopeSet::parse(scopes).unwrap(),
        },
        Some("192.0.2.7".into()),
        Some("req-1".into()),
    )
}

async fn tenant(store: &Store, name: &str) -> TenantId {
    let op = Actor::operator();
    let reg = TenantRegistration {
        name: name.into(),
        max_api_keys: Some(10),
        ..Default::default()
    };
    let t = tenants::create(&Context::new(store, &op, Utc::now()), reg)
        .await
        .unwrap();
    t.id
}

async fn audit_count(store: &Store) -> usize {
    store.audit().list_after(0, 1000, None).await.unwrap().len()
}

#[tokio::test]
async fn a_refused_grant_writes_no_key_and_no_audit_event() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let acme = tenant(&store, "Acme").await;
    let before = audit_count(&store).await;
    let clerk = api_key_of(&acme, "write:api_keys");
    let ctx = Context::new(&store, &clerk, Utc::now());
    for scope in ["admin:all", "write:keys"] {
        let req = ApiKeyRequest {
            name: "escalation".into(),
            scope: Some(scope.into()),
            ..Default::default()
        };
        let err = api_keys::create(&ctx, &policy(), &acme, req)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, OpError::Denied(Denied::CannotGrant { grantee: Grantee::ApiKey, scope: s }) if s == scope),
            "{err:?}"
        );
    }
    assert!(store.list_api_keys(&acme).await.unwrap().is_empty());
    assert_eq!(audit_count(&store).await, before);
}

#[tokio::test]
async fn another_tenants_objects_are_reported_as_of_another_tenant_and_stay_untouched() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let acme = tenant(&store, "Acme").await;
    let globex = tenant(&store, "Globex").await;
    let op = Actor::operator();
    let new = NewUser {
        username: "gina".into(),
        password: "correct horse battery".into(),
        ..NewUser::default()
    };
    let gina = users::create(
        &Context::new(&store, &op, Utc::now()),
        &globex,
        new,
        &BlockingHasher,
    )
    .await
    .unwrap();
    let acme_admin = api_key_of(&acme, "admin:all");
    let ctx = Context::new(&store, &acme_admin, Utc::now());
    let id = gina.id.to_string();
    for err in [
        users::get(&ctx, &id).await.unwrap_err(),
        users::delete(&ctx, &id, None).await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, OpError::OtherTenant { what: Object::User, id: i } if *i == id),
            "{err:?}"
        );
    }
    let err = users::page(&ctx, &globex, None, 10).await.unwrap_err();
    assert!(
        matches!(
            err,
            OpError::OtherTenant {
                what: Object::Tenant,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(store.get_user_by_id(&id).await.unwrap().is_some());
}

#[tokio::test]
async fn field_errors_name_typed_fields_and_nothing_is_written() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let op = Actor::operator();
    let ctx = Context::new(&store, &op, Utc::now());
    let default = TenantId::default_tenant();
    let before = audit_count(&store).await;

    let mut reg = ClientRegistration::named("App", default.clone());
    reg.redirect_uris = vec!["http://evil.example/cb".into()];
    let req = NewClientRequest {
        registration: reg,
        keys: None,
    };
    match clients::create(&ctx, req, None).await {
        Err(OpError::Invalid(f)) => assert_eq!(f.field, Field::RedirectUris, "{f}"),
        other => panic!("{other:?}"),
    }
    let new = NewUser {
        username: "bob".into(),
        password: "correct horse battery".into(),
        profile: ProfileInput {
            phone: Some("call me".into()),
            ..ProfileInput::default()
        },
        ..NewUser::default()
    };
    match users::create(&ctx, &default, new, &BlockingHasher).await {
        Err(OpError::Invalid(f)) => assert_eq!(f.field, Field::Phone, "{f}"),
        other => panic!("{other:?}"),
    }
    let nowhere = TenantId::parse("nowhere").unwrap();
    let new = NewUser {
        username: "bob".into(),
        password: "correct horse battery".into(),
        ..NewUser::default()
    };
    match users::create(&ctx, &nowhere, new, &BlockingHasher).await {
        Err(OpError::UnknownTenant(t)) => assert_eq!(t, "nowhere"),
        other => panic!("{other:?}"),
    }
    assert!(
        clients::page(&ctx, &default, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        users::page(&ctx, &default, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(audit_count(&store).await, before);
}

#[tokio::test]
async fn secrets_shown_once_never_print_in_debug() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let op = Actor::operator();
    let ctx = Context::new(&store, &op, Utc::now());
    let req = ApiKeyRequest {
        name: "ci".into(),
        ..Default::default()
    };
    let created = api_keys::create(&ctx, &policy(), &TenantId::default_tenant(), req)
        .await
        .unwrap();
    let secret = created.secret.expose().to_owned();
    assert!(!format!("{created:?}").contains(&secret));
    let json = serde_json::to_value(&created).unwrap();
    assert_eq!(json["secret"], secret.as_str());
    assert!(secret.starts_with(json["prefix"].as_str().unwrap()));

    let reg = ClientRegistration::named("Svc", TenantId::default_tenant());
    let req = NewClientRequest {
        registration: ClientRegistration {
            redirect_uris: vec!["https://app.example/cb".into()],
            ..reg
        },
        keys: None,
    };
    let client = clients::create(&ctx, req, None).await.unwrap();
    let client_secret = client.client_secret.as_ref().unwrap().expose().to_owned();
    assert!(!format!("{client:?}").contains(&client_secret));
}

#[tokio::test]
async fn the_local_operator_acts_everywhere_and_is_audited_by_login_name() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let acme = tenant(&store, "Acme").await;
    let op = Actor::operator();
    let ctx = Context::new(&store, &op, Utc::now());
    let req = ApiKeyRequest {
        name: "deploy".into(),
        scope: Some("admin:all".into()),
        ..Default::default()
    };
    let k = api_keys::create(&ctx, &policy(), &acme, req).await.unwrap();
    let events = store.audit().list_after(0, 1000, None).await.unwrap();
    let e = events
        .iter()
        .find(|e| e.event.action == "api_key.create")
        .expect("audited");
    assert_eq!(e.event.actor_kind, ActorKind::Operator);
    assert_eq!(e.event.target.as_deref(), Some(k.key.id.as_str()));
    assert!(e.event.actor.as_deref().is_some_and(|a| !a.is_empty()));
    assert_eq!(e.event.tenant_id.as_deref(), Some(acme.as_str()));
}

#[tokio::test]
async fn only_a_platform_admin_rotates_signing_keys() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let acme = tenant(&store, "Acme").await;
    for actor in [
        api_key_of(&acme, "admin:all"),
        api_key_of(&TenantId::default_tenant(), "write:keys"),
    ] {
        let ctx = Context::new(&store, &actor, Utc::now());
        let err = signing_keys::rotate(&ctx, "ES256", None, DELAY)
            .await
            .unwrap_err();
        assert!(
            matches!(err, OpError::Denied(Denied::PlatformAdminOnly)),
            "{err:?}"
        );
    }
    assert!(store.list_signing_keys().await.unwrap().is_empty());
    let platform = api_key_of(&TenantId::default_tenant(), "admin:all");
    let ctx = Context::new(&store, &platform, Utc::now());
    match signing_keys::rotate(&ctx, "HS256", None, DELAY).await {
        Err(OpError::Invalid(f)) => assert_eq!(f.field, Field::Alg),
        other => panic!("{other:?}"),
    }
    // The first key of an algorithm signs at once: nothing could be signed with it before.
    let first = signing_keys::rotate(&ctx, "ES256", None, DELAY)
        .await
        .unwrap();
    assert_eq!(first.alg, SigningAlg::ES256.as_str());
    assert_eq!(first.status, "active");
    assert_eq!(signing_keys::list(&ctx).await.unwrap().keys.len(), 1);
    // A rotation pre-publishes: the new key waits for the propagation delay, the old one signs.
    let second = signing_keys::rotate(&ctx, "ES256", None, DELAY)
        .await
        .unwrap();
    assert_eq!(second.status, "next");
    assert_eq!(second.activates_at, Some(ctx.now + DELAY));
    // Rotating again before it signs replaces the pending key, which stays published (retired).
    let third = signing_keys::rotate(&ctx, "ES256", None, DELAY)
        .await
        .unwrap();
    let keys = store.list_signing_keys().await.unwrap();
    let status_of = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().status;
    assert_eq!(status_of(&first.kid), KeyStatus::Active);
    assert_eq!(status_of(&second.kid), KeyStatus::Retired);
    assert_eq!(status_of(&third.kid), KeyStatus::Next);
}

/// The propagation delay of the rotations above.
const DELAY: chrono::Duration = chrono::Duration::seconds(10);

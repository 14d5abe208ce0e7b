//! Running and checking migrations apart from serving (`gatehouse migrate [--check]`,
//! `serve --no-migrate`), and the upgrade to per-tenant usernames on a database that already
//! holds users and their sessions: nothing that hangs off a user is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use gatehouse_core::ports::{Session, SessionStore, UserStore};
use gatehouse_core::secret::Secret;
use gatehouse_core::user::User;
use gatehouse_core::values::{ScopeSet, TenantId, UserId};
use gatehouse_store::test_support::TestDb;
use gatehouse_store::{Error, Migrator, Store};
use sea_orm_migration::MigratorTrait;

fn user(id: &str, tenant: &str, username: &str) -> User {
    User {
        id: UserId::parse(id).unwrap(),
        tenant_id: TenantId::parse(tenant).unwrap(),
        username: username.into(),
        email: None,
        password_hash: "$argon2id$placeholder".into(),
        created_at: Utc::now(),
        profile: Default::default(),
        admin_scopes: ScopeSet::parse("").unwrap(),
    }
}

#[tokio::test]
async fn pending_migrations_are_listed_without_being_applied_then_applied_once() {
    let db = TestDb::new().await;
    let store = Store::open(&db.url, Duration::from_secs(5)).await.unwrap();
    let pending = store.pending_migrations().await.unwrap();
    assert_eq!(pending.len(), Migrator::migrations().len());
    // Checking wrote nothing.
    assert_eq!(store.pending_migrations().await.unwrap(), pending);
    match store.require_migrated().await {
        Err(e @ Error::MigrationsPending(_)) => {
            assert!(e.to_string().contains("gatehouse migrate"), "{e}")
        }
        other => panic!("expected pending migrations, got {other:?}"),
    }
    store.migrate().await.unwrap();
    assert!(store.pending_migrations().await.unwrap().is_empty());
    store.require_migrated().await.unwrap();
    store.migrate().await.unwrap();
}

#[tokio::test]
async fn upgrading_to_per_tenant_usernames_keeps_users_and_their_sessions() {
    let db = TestDb::new().await;
    let store = Store::open(&db.url, Duration::from_secs(5)).await.unwrap();
    let all = Migrator::migrations().len();
    let last = Migrator::migrations().last().unwrap().name().to_owned();
    assert!(last.contains("per_tenant_usernames"), "{last}");
    // The schema as the previous release left it, with a user and a session in it.
    Migrator::up(store.db(), Some(u32::try_from(all - 1).unwrap()))
        .await
        .unwrap();
    let bob = user("bob-default", "default", "bob");
    store.insert_user(&bob).await.unwrap();
    let now = Utc::now();
    let session = Session {
        id_hash: Secret::generate().hash(),
        user_id: bob.id.clone(),
        auth_time: now,
        csrf_token: "csrf".into(),
        expires_at: now + TimeDelta::hours(1),
        last_seen: now,
    };
    store.insert_session(&session).await.unwrap();

    assert_eq!(store.pending_migrations().await.unwrap(), [last]);
    store.migrate().await.unwrap();

    let kept = store.find_session(&session.id_hash).await.unwrap();
    assert_eq!(kept.map(|s| s.user_id), Some(bob.id.clone()));
    let found = store
        .find_user_by_username(&bob.tenant_id, "bob")
        .await
        .unwrap();
    assert_eq!(found.map(|u| u.id), Some(bob.id.clone()));
    // Deleting the user still takes their sessions with it (the foreign key survived).
    assert!(store.delete_user(bob.id.as_str()).await.unwrap());
    assert!(
        store
            .find_session(&session.id_hash)
            .await
            .unwrap()
            .is_none()
    );
    // The same name twice in one tenant is still refused.
    store.insert_user(&bob).await.unwrap();
    let twin = user("bob-twin", "default", "bob");
    assert!(matches!(
        store.insert_user(&twin).await,
        Err(Error::Conflict(_))
    ));
}

//! Running and checking migrations apart from serving (`gatehouse migrate [--check]`,
//! `serve --no-migrate`), and the upgrade to per-tenant usernames on a database that already
//! holds users and their sessions: nothing that hangs off a user is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use gatehouse_core::ports::{SessionStore, UserStore};
use gatehouse_core::secret::Secret;
use gatehouse_core::user::User;
use gatehouse_core::values::{ScopeSet, TenantId, UserId};
use gatehouse_store::test_support::TestDb;
use gatehouse_store::{Error, Migrator, Store};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
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
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let upgrade = names
        .iter()
        .position(|n| n.contains("per_tenant_usernames"))
        .expect("the per-tenant usernames migration");
    // The schema as the release before it left it, with a user and a session in it (written
    // as that release wrote them: the entities of today know later columns).
    Migrator::up(store.db(), Some(u32::try_from(upgrade).unwrap()))
        .await
        .unwrap();
    let bob = user("bob-default", "default", "bob");
    let now = Utc::now();
    let session_hash = Secret::generate().hash();
    let backend = store.db().get_database_backend();
    let (users_sql, sessions_sql) = match backend {
        DbBackend::Postgres => (
            "INSERT INTO users (id, tenant_id, username, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            "INSERT INTO sessions (id_hash, user_id, auth_time, csrf_token, expires_at, \
             created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        ),
        _ => (
            "INSERT INTO users (id, tenant_id, username, password_hash, created_at) \
             VALUES (?, ?, ?, ?, ?)",
            "INSERT INTO sessions (id_hash, user_id, auth_time, csrf_token, expires_at, \
             created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ),
    };
    store
        .db()
        .execute_raw(Statement::from_sql_and_values(
            backend,
            users_sql,
            [
                bob.id.as_str().into(),
                "default".into(),
                "bob".into(),
                bob.password_hash.clone().into(),
                now.into(),
            ],
        ))
        .await
        .unwrap();
    store
        .db()
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sessions_sql,
            [
                session_hash.to_hex().into(),
                bob.id.as_str().into(),
                now.into(),
                "csrf".into(),
                (now + TimeDelta::hours(1)).into(),
                now.into(),
                now.into(),
            ],
        ))
        .await
        .unwrap();

    assert_eq!(store.pending_migrations().await.unwrap(), names[upgrade..]);
    store.migrate().await.unwrap();

    let kept = store.find_session(&session_hash).await.unwrap();
    assert_eq!(kept.map(|s| s.user_id), Some(bob.id.clone()));
    let found = store
        .find_user_by_username(&bob.tenant_id, "bob")
        .await
        .unwrap();
    assert_eq!(found.map(|u| u.id), Some(bob.id.clone()));
    // Deleting the user still takes their sessions with it (the foreign key survived).
    assert!(store.delete_user(bob.id.as_str()).await.unwrap());
    assert!(store.find_session(&session_hash).await.unwrap().is_none());
    // The same name twice in one tenant is still refused.
    store.insert_user(&bob).await.unwrap();
    let twin = user("bob-twin", "default", "bob");
    assert!(matches!(
        store.insert_user(&twin).await,
        Err(Error::Conflict(_))
    ));
}

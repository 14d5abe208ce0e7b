//! The signing-key life cycle in storage: next → active → retired → deleted, with every
//! transition won by exactly one caller.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gatehouse_core::SigningAlg;
use gatehouse_store::test_support::TestDb;
use gatehouse_store::{KeyStatus, Store, StoredKey};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn key(kid: &str, alg: SigningAlg) -> StoredKey {
    StoredKey::new(
        kid.into(),
        alg,
        vec![0x30, 1, 2, 3],
        false,
        serde_json::json!({ "kid": kid }),
        t0(),
    )
}

async fn status_of(store: &Store, kid: &str) -> Option<KeyStatus> {
    store
        .list_signing_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.kid == kid)
        .map(|k| k.status)
}

#[tokio::test]
async fn next_key_is_published_once_activated_when_due_and_retires_the_old_one() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let rs = SigningAlg::RS256;
    store.insert_active_key(&key("a", rs), t0()).await.unwrap();
    let due = t0() + TimeDelta::days(90);

    // Only against the current active key, and only once per algorithm.
    assert!(
        !store
            .insert_next_key(&key("n0", rs), due, "zz")
            .await
            .unwrap()
    );
    assert!(
        store
            .insert_next_key(&key("n1", rs), due, "a")
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_next_key(&key("n2", rs), due, "a")
            .await
            .unwrap()
    );
    assert_eq!(status_of(&store, "n1").await, Some(KeyStatus::Next));
    assert_eq!(status_of(&store, "n2").await, None);

    // Not before activates_at; then exactly once.
    let early = due - TimeDelta::seconds(1);
    assert_eq!(store.activate_next_key(rs, early).await.unwrap(), None);
    assert_eq!(
        store.activate_next_key(rs, due).await.unwrap().as_deref(),
        Some("n1")
    );
    assert_eq!(store.activate_next_key(rs, due).await.unwrap(), None);
    let keys = store.list_signing_keys().await.unwrap();
    let a = keys.iter().find(|k| k.kid == "a").unwrap();
    let n1 = keys.iter().find(|k| k.kid == "n1").unwrap();
    assert_eq!(
        (a.status, a.active, a.retired_at),
        (KeyStatus::Retired, false, Some(due))
    );
    assert_eq!((n1.status, n1.active), (KeyStatus::Active, true));
    assert_eq!(n1.activated_at(), due);

    // Pruning never touches active or next keys.
    assert!(
        store
            .insert_next_key(&key("n3", rs), due + TimeDelta::days(90), "n1")
            .await
            .unwrap()
    );
    let far = due + TimeDelta::days(1000);
    assert_eq!(store.delete_keys_retired_before(far).await.unwrap(), 1);
    assert_eq!(status_of(&store, "n3").await, Some(KeyStatus::Next));

    // An immediate rotation discards the pending next key and restarts the schedule.
    store.insert_active_key(&key("m", rs), far).await.unwrap();
    assert_eq!(status_of(&store, "n3").await, None);
    assert_eq!(status_of(&store, "n1").await, Some(KeyStatus::Retired));
    assert_eq!(status_of(&store, "m").await, Some(KeyStatus::Active));
}

#[tokio::test]
async fn a_plaintext_key_is_encrypted_once() {
    let db = TestDb::new().await;
    let store = db.store().await;
    store
        .insert_active_key(&key("e", SigningAlg::ES256), t0())
        .await
        .unwrap();
    assert!(
        store
            .store_encrypted_private_key("e", vec![b'G', 9])
            .await
            .unwrap()
    );
    assert!(
        !store
            .store_encrypted_private_key("e", vec![b'G', 8])
            .await
            .unwrap()
    );
    let k = &store.list_signing_keys().await.unwrap()[0];
    assert!(k.encrypted);
    assert_eq!(k.private_key, vec![b'G', 9]);
    assert!(!format!("{k:?}").contains("71, 9"));
}

#[tokio::test]
async fn keys_of_a_database_from_before_the_life_cycle_migration_keep_their_state() {
    use gatehouse_store::Migrator;
    use sea_orm::{ConnectionTrait, Database, Statement};
    use sea_orm_migration::MigratorTrait;

    let db = TestDb::new().await;
    let conn = Database::connect(db.url.as_str()).await.unwrap();
    Migrator::up(&conn, Some(1)).await.unwrap();
    let backend = conn.get_database_backend();
    for (kid, active, retired) in [("old", false, Some(t0())), ("cur", true, None)] {
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => {
                    "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, \
                     active, retired_at) VALUES ($1, 'RS256', $2, $3, $4, $5, $6)"
                }
                _ => {
                    "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, \
                     active, retired_at) VALUES (?, 'RS256', ?, ?, ?, ?, ?)"
                }
            },
            [
                kid.into(),
                vec![0x30u8, 1].into(),
                serde_json::json!({ "kid": kid }).into(),
                t0().into(),
                active.into(),
                retired.into(),
            ],
        ))
        .await
        .unwrap();
    }
    Migrator::up(&conn, None).await.unwrap();
    let store = Store::from_connection(conn);
    let keys = store.list_signing_keys().await.unwrap();
    let by = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap();
    assert_eq!(by("old").status, KeyStatus::Retired);
    assert_eq!(by("cur").status, KeyStatus::Active);
    assert_eq!(by("cur").activated_at(), t0());
    assert_eq!(by("cur").activates_at, Some(t0()));
    assert!(keys.iter().all(|k| !k.encrypted));
    // The scheduler can pre-publish against the migrated active key.
    let due = t0() + TimeDelta::days(90);
    assert!(
        store
            .insert_next_key(&key("n", SigningAlg::RS256), due, "cur")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn nodes_starting_together_agree_on_one_first_key_per_algorithm() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let rs = SigningAlg::RS256;
    // Eight "nodes" create their first RS256 key at the same moment: exactly one wins.
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        attempts.spawn(async move {
            store
                .insert_first_key(&key(&format!("first-{i}"), rs), t0())
                .await
                .unwrap()
        });
    }
    let won = attempts.join_all().await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let keys = store.list_signing_keys().await.unwrap();
    let active: Vec<_> = keys.iter().filter(|k| k.alg == rs && k.active).collect();
    assert_eq!(active.len(), 1);
    assert_eq!(
        keys.iter().filter(|k| k.alg == rs).count(),
        1,
        "the losers stored nothing"
    );
    // An algorithm without a key still gets its own.
    assert!(
        store
            .insert_first_key(&key("es", SigningAlg::ES256), t0())
            .await
            .unwrap()
    );
}

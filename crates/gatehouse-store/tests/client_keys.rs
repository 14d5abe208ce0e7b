//! Storage of signed client authentication (RFC 7523 §3 item 7): single use of `jti` under
//! concurrency, takeover of expired records, and trusts. SQLite by default, PostgreSQL when
//! `GATEHOUSE_TEST_DATABASE_URL` is set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

use chrono::{TimeDelta, Utc};
use gatehouse_core::ScopeSet;
use gatehouse_core::client_auth::{JtiUse, ReplayStore};
use gatehouse_core::jwt_bearer::{Trust, TrustStore};
use gatehouse_core::values::TenantId;
use gatehouse_store::Error;
use gatehouse_store::test_support::TestDb;

#[tokio::test]
async fn a_jti_is_fresh_exactly_once_even_under_concurrency() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let now = Utc::now();
    let exp = now + TimeDelta::seconds(120);
    let results = concurrent_uses(&store, "client:c1", "j1", exp, now).await;
    assert_eq!(results.iter().filter(|r| **r == JtiUse::Fresh).count(), 1);
    // Another issuer's identical jti is independent.
    assert_eq!(
        store.use_jti("client:c2", "j1", exp, now).await.unwrap(),
        JtiUse::Fresh
    );
    // Still a replay before expiry; taken over once the record expired.
    assert_eq!(
        store.use_jti("client:c1", "j1", exp, now).await.unwrap(),
        JtiUse::Replayed
    );
    let later = exp + TimeDelta::seconds(1);
    let exp2 = later + TimeDelta::seconds(60);
    assert_eq!(
        store.use_jti("client:c1", "j1", exp2, later).await.unwrap(),
        JtiUse::Fresh
    );
    assert_eq!(
        store.use_jti("client:c1", "j1", exp2, later).await.unwrap(),
        JtiUse::Replayed
    );
    // Housekeeping removes expired records only.
    assert_eq!(store.delete_expired_assertions(later).await.unwrap(), 1);
}

async fn concurrent_uses(
    store: &gatehouse_store::Store,
    iss: &str,
    jti: &str,
    exp: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
) -> Vec<JtiUse> {
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (s, iss, jti) = (store.clone(), iss.to_owned(), jti.to_owned());
        handles.push(tokio::spawn(async move {
            s.use_jti(&iss, &jti, exp, now).await.unwrap()
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn trusts_are_found_by_issuer_and_subject_and_unique() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let t = Trust {
        id: "trust_1".into(),
        tenant_id: TenantId::parse("default").unwrap(),
        issuer: "https://ci.example".into(),
        subject: "bot".into(),
        jwks: serde_json::json!({"keys": []}),
        scopes: ScopeSet::parse("a b").unwrap(),
        created_at: Utc::now(),
    };
    store.insert_trust(&t).await.unwrap();
    let found = store
        .find_trust("https://ci.example", "bot")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, "trust_1");
    assert_eq!(found.scopes, t.scopes);
    assert!(
        store
            .find_trust("https://ci.example", "other")
            .await
            .unwrap()
            .is_none()
    );
    let mut dup = t.clone();
    dup.id = "trust_2".into();
    assert!(matches!(
        store.insert_trust(&dup).await,
        Err(Error::Conflict(_))
    ));
    let mut orphan = t.clone();
    orphan.id = "trust_3".into();
    orphan.subject = "x".into();
    orphan.tenant_id = TenantId::parse("nope").unwrap();
    assert!(matches!(
        store.insert_trust(&orphan).await,
        Err(Error::NotFound(_))
    ));
}

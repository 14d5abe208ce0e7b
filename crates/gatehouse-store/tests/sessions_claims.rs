//! Storage of session activity (idle expiry), claims requests by grant (OIDC Core §5.5) and
//! user profile claims, on SQLite or (with `GATEHOUSE_TEST_DATABASE_URL`) PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gatehouse_core::claims_request::{ClaimsRequest, ClaimsRequestStore};
use gatehouse_core::ports::{GrantStore, RefreshRecord, Session, SessionStore, UserStore};
use gatehouse_core::secret::Secret;
use gatehouse_core::session::SessionActivityStore;
use gatehouse_core::user::{User, UserProfile};
use gatehouse_core::{ClientId, GrantId, ScopeSet, TenantId, UserId};
use gatehouse_store::Store;
use gatehouse_store::test_support::TestDb;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap() + TimeDelta::microseconds(654_321)
}

async fn user(store: &Store) -> User {
    let u = User {
        id: UserId::generate(),
        tenant_id: TenantId::parse("default").unwrap(),
        username: format!("u-{}", &Secret::generate().hash().to_hex()[..8]),
        email: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: t0(),
        profile: UserProfile {
            name: Some("Zoë Ñandú".into()),
            given_name: Some("Zoë".into()),
            family_name: None,
            phone_number: Some("+1 555 0100".into()),
            address: Some(serde_json::json!({"formatted": "1 Main St", "country": "US"})),
        },
        admin_scopes: ScopeSet::parse("read:audit write:api_keys").unwrap(),
    };
    store.insert_user(&u).await.unwrap();
    u
}

#[tokio::test]
async fn user_profiles_round_trip() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let u = user(&store).await;
    let got = store.find_user(&u.id).await.unwrap().unwrap();
    assert!(got.profile == u.profile);
    assert_eq!(got.admin_scopes, u.admin_scopes);
}

#[tokio::test]
async fn touching_a_session_moves_last_seen_and_idle_purge_uses_it() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let u = user(&store).await;
    let mk = || Session {
        id_hash: Secret::generate().hash(),
        user_id: u.id.clone(),
        auth_time: t0(),
        csrf_token: "c".into(),
        expires_at: t0() + TimeDelta::hours(12),
        last_seen: t0(),
    };
    let (idle, active) = (mk(), mk());
    store.insert_session(&idle).await.unwrap();
    store.insert_session(&active).await.unwrap();
    let later = t0() + TimeDelta::minutes(50);
    store.touch_session(&active.id_hash, later).await.unwrap();
    let got = store.find_session(&active.id_hash).await.unwrap().unwrap();
    assert_eq!(got.last_seen, later);

    // Idle timeout 1 h, purged at t0 + 70 min: only the untouched session goes.
    let purged = store
        .delete_idle_sessions(t0() + TimeDelta::minutes(10))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert!(store.find_session(&idle.id_hash).await.unwrap().is_none());
    assert!(store.find_session(&active.id_hash).await.unwrap().is_some());
}

#[tokio::test]
async fn claims_requests_are_kept_per_grant_while_it_lives() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let req =
        ClaimsRequest::parse(r#"{"userinfo":{"name":null},"id_token":{"email":null}}"#).unwrap();
    let (live, dead) = (GrantId::generate(), GrantId::generate());
    store.save_claims_request(&live, &req, t0()).await.unwrap();
    store.save_claims_request(&dead, &req, t0()).await.unwrap();
    assert_eq!(
        store.find_claims_request(&live).await.unwrap(),
        Some(req.clone())
    );
    assert_eq!(
        store
            .find_claims_request(&GrantId::generate())
            .await
            .unwrap(),
        None
    );

    // A refresh token keeps `live` alive; `dead` has none and is old enough to go.
    let u = user(&store).await;
    let c = gatehouse_core::client::Client {
        id: ClientId::generate(),
        tenant_id: TenantId::parse("default").unwrap(),
        name: "App".into(),
        secret_hash: None,
        auth_method: gatehouse_core::client::AuthMethod::None,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        grant_types: vec![],
        allowed_scopes: ScopeSet::parse("openid").unwrap(),
        id_token_alg: gatehouse_core::SigningAlg::RS256,
        access_token_alg: Some(gatehouse_core::SigningAlg::RS256),
        access_token_ttl: None,
        require_pkce: true,
        created_at: t0(),
        refresh_grace_seconds: 0,
        refresh_idle_ttl: None,
        refresh_absolute_ttl: None,
        may_act: None,
    };
    store.insert_client(&c).await.unwrap();
    store
        .insert_refresh(&RefreshRecord {
            token_hash: Secret::generate().hash(),
            grant_id: live.clone(),
            client_id: c.id.clone(),
            user_id: u.id.clone(),
            scope: ScopeSet::parse("openid").unwrap(),
            granted_scope: ScopeSet::parse("openid").unwrap(),
            auth_time: t0(),
            issued_at: t0(),
            expires_at: t0() + TimeDelta::days(30),
            used_at: None,
            revoked: false,
            family_expires_at: None,
            replaced_by: None,
            rotation_salt: None,
            dpop_jkt: None,
        })
        .await
        .unwrap();
    let purged = store
        .delete_stale_claims_requests(t0() + TimeDelta::days(2))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert!(store.find_claims_request(&live).await.unwrap().is_some());
    assert!(store.find_claims_request(&dead).await.unwrap().is_none());
}

/// Running the migrations again on an up-to-date database changes nothing.
#[tokio::test]
async fn reconnecting_migrates_idempotently() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let u = user(&store).await;
    drop(store);
    let again = Store::connect(&db.url).await.unwrap();
    assert!(again.find_user(&u.id).await.unwrap().is_some());
}

//! Storage tests. Each test has its own database: SQLite by default, PostgreSQL when
//! `GATEHOUSE_TEST_DATABASE_URL` is set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gatehouse_core::claims_request::{ClaimsRequest, ClaimsRequestStore};
use gatehouse_core::client::{AuthMethod, Client, GrantType};
use gatehouse_core::ports::{
    ClientStore, CodeRecord, CodeStore, ConsentStore, GrantStore, GrantTerms, Redemption,
    RefreshRecord, Rotation, Session, SessionStore, UserStore,
};
use gatehouse_core::resource::{ResourceStore, ResourceUri};
use gatehouse_core::rotation::RotationStore;
use gatehouse_core::secret::{Secret, SecretHash};
use gatehouse_core::user::User;
use gatehouse_core::values::{PkceChallenge, TenantId};
use gatehouse_core::{ClientId, GrantId, RedirectUri, ScopeSet, SigningAlg, UserId};
use gatehouse_store::test_support::TestDb;
use gatehouse_store::{Error, Store, StoredKey};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// A fixed instant with sub-second digits, to check timestamps survive the round trip.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap() + TimeDelta::microseconds(123_456)
}

fn default_tenant() -> TenantId {
    TenantId::parse("default").unwrap()
}

fn client() -> Client {
    Client {
        id: ClientId::generate(),
        tenant_id: default_tenant(),
        name: "App".into(),
        secret_hash: Some(Secret::generate().hash()),
        auth_method: AuthMethod::ClientSecretPost,
        redirect_uris: vec![
            RedirectUri::parse("https://app.example/cb").unwrap(),
            RedirectUri::parse("http://127.0.0.1/cb").unwrap(),
        ],
        post_logout_redirect_uris: vec![RedirectUri::parse("https://app.example/bye").unwrap()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        allowed_scopes: ScopeSet::parse("openid profile email offline_access").unwrap(),
        id_token_alg: SigningAlg::ES256,
        access_token_alg: Some(SigningAlg::RS256),
        access_token_ttl: Some(600),
        require_pkce: true,
        refresh_grace_seconds: 20,
        refresh_idle_ttl: Some(3600),
        refresh_absolute_ttl: None,
        may_act: None,
        created_at: t0(),
    }
}

fn user(username: &str) -> User {
    User {
        id: UserId::generate(),
        tenant_id: default_tenant(),
        username: username.into(),
        email: Some(format!("{username}@example.com")),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: t0(),
        profile: Default::default(),
        admin_scopes: Default::default(),
    }
}

/// A store with one client and one user in it.
async fn fixture(db: &TestDb) -> (Store, Client, User) {
    let store = db.store().await;
    let c = client();
    let u = user(&format!("alice-{}", uuid_like()));
    store.insert_client(&c).await.unwrap();
    store.insert_user(&u).await.unwrap();
    (store, c, u)
}

fn uuid_like() -> String {
    Secret::generate().hash().to_hex()[..8].to_owned()
}

fn code(c: &Client, u: &User) -> (CodeRecord, SecretHash) {
    let hash = Secret::generate().hash();
    let rec = CodeRecord {
        code_hash: hash.clone(),
        client_id: c.id.clone(),
        user_id: u.id.clone(),
        redirect_uri: c.redirect_uris[0].clone(),
        redirect_uri_in_request: true,
        scope: ScopeSet::parse("openid profile").unwrap(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: Some(PkceChallenge::from_stored(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        )),
        auth_time: t0(),
        grant_id: GrantId::generate(),
        expires_at: t0() + TimeDelta::seconds(60),
        dpop_jkt: None,
    };
    (rec, hash)
}

fn refresh(c: &Client, u: &User, grant: &GrantId) -> RefreshRecord {
    RefreshRecord {
        token_hash: Secret::generate().hash(),
        grant_id: grant.clone(),
        client_id: c.id.clone(),
        user_id: u.id.clone(),
        scope: ScopeSet::parse("openid").unwrap(),
        granted_scope: ScopeSet::parse("openid offline_access").unwrap(),
        auth_time: t0(),
        issued_at: t0(),
        expires_at: t0() + TimeDelta::days(30),
        used_at: None,
        revoked: false,
        family_expires_at: Some(t0() + TimeDelta::days(90)),
        replaced_by: None,
        rotation_salt: None,
        dpop_jkt: None,
    }
}

/// Redeems a code that must win: the code as redeemed, with its grant's terms.
async fn redeem_fresh(store: &Store, hash: &SecretHash) -> (CodeRecord, GrantTerms) {
    match store.redeem_code(hash, t0()).await.unwrap() {
        Redemption::Redeemed(code, terms) => (code, terms),
        other => panic!("a fresh code must be redeemed, got {other:?}"),
    }
}

/// Stores `token` and reads it back with its grant's terms.
async fn stored_with_terms(store: &Store, token: &RefreshRecord) -> (RefreshRecord, GrantTerms) {
    store.insert_refresh(token).await.unwrap();
    store
        .find_refresh_with_terms(&token.token_hash)
        .await
        .unwrap()
        .expect("the token exists")
}

fn assert_clients_equal(a: &Client, b: &Client) {
    assert_eq!(a.id, b.id);
    assert_eq!(a.tenant_id, b.tenant_id);
    assert_eq!(a.name, b.name);
    assert_eq!(a.secret_hash, b.secret_hash);
    assert_eq!(a.auth_method, b.auth_method);
    assert_eq!(a.redirect_uris, b.redirect_uris);
    assert_eq!(a.post_logout_redirect_uris, b.post_logout_redirect_uris);
    assert_eq!(a.grant_types, b.grant_types);
    assert_eq!(a.allowed_scopes, b.allowed_scopes);
    assert_eq!(a.id_token_alg, b.id_token_alg);
    assert_eq!(a.access_token_alg, b.access_token_alg);
    assert_eq!(a.access_token_ttl, b.access_token_ttl);
    assert_eq!(a.require_pkce, b.require_pkce);
    assert_eq!(a.created_at, b.created_at);
}

#[tokio::test]
async fn migrations_are_idempotent_and_seed_the_default_tenant() {
    let db = TestDb::new().await;
    let first = db.store().await;
    let second = Store::connect(&db.url).await.expect("second connect");
    assert!(first.tenant_exists(&default_tenant()).await.unwrap());
    assert!(second.tenant_exists(&default_tenant()).await.unwrap());
    assert!(
        !second
            .tenant_exists(&TenantId::parse("other").unwrap())
            .await
            .unwrap()
    );

    let backend = second.db().get_database_backend();
    assert_eq!(backend == DbBackend::Postgres, db.is_postgres());
    if backend == DbBackend::Sqlite {
        let row = second
            .db()
            .query_one_raw(Statement::from_string(backend, "PRAGMA journal_mode"))
            .await
            .unwrap();
        let mode: String = row.unwrap().try_get_by_index(0).unwrap();
        assert_eq!(mode, "wal");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_connects_migrate_once() {
    let db = TestDb::new().await;
    let url = db.url.clone();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Store::connect(&url).await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().expect("concurrent connect");
    }
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let c = client();
    store.insert_client(&c).await.unwrap();
    assert!(store.find_client(&c.id).await.unwrap().is_some());
}

#[tokio::test]
async fn client_and_user_round_trip() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;

    let found = store.find_client(&c.id).await.unwrap().expect("client");
    assert_clients_equal(&found, &c);
    assert!(
        store
            .find_client(&ClientId::generate())
            .await
            .unwrap()
            .is_none()
    );

    let mut public = client();
    public.secret_hash = None;
    public.auth_method = AuthMethod::None;
    public.access_token_ttl = None;
    public.post_logout_redirect_uris.clear();
    store.insert_client(&public).await.unwrap();
    assert_clients_equal(
        &store.find_client(&public.id).await.unwrap().unwrap(),
        &public,
    );
    assert!(matches!(
        store.insert_client(&public).await,
        Err(Error::Conflict(_))
    ));

    for found in [
        store.find_user(&u.id).await.unwrap().expect("by id"),
        store
            .find_user_by_username(&u.tenant_id, &u.username)
            .await
            .unwrap()
            .expect("by username"),
    ] {
        assert_eq!(found.id, u.id);
        assert_eq!(found.tenant_id, u.tenant_id);
        assert_eq!(found.username, u.username);
        assert_eq!(found.email, u.email);
        assert_eq!(found.password_hash, u.password_hash);
        assert_eq!(found.created_at, u.created_at);
    }
    assert!(
        store
            .find_user_by_username(&u.tenant_id, "nobody")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn duplicate_username_is_a_conflict() {
    let db = TestDb::new().await;
    let store = db.store().await;
    store.insert_user(&user("bob")).await.unwrap();
    match store.insert_user(&user("bob")).await {
        Err(Error::Conflict(m)) => assert!(m.contains("bob"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The same name in another tenant is another user (usernames are unique per tenant).
    let tenant = gatehouse_core::tenant::Tenant {
        id: TenantId::parse("other").unwrap(),
        name: "other".into(),
        created_at: t0(),
        disabled: false,
        api_access_enabled: true,
        max_api_keys: 4,
        allowed_scopes: None,
    };
    store.insert_tenant(&tenant).await.unwrap();
    let mut namesake = user("bob");
    namesake.id = UserId::parse("bob-of-other").unwrap();
    namesake.tenant_id = tenant.id.clone();
    store.insert_user(&namesake).await.unwrap();
    let found = store
        .find_user_by_username(&tenant.id, "bob")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, namesake.id);
    assert_eq!(store.find_users_named("bob", 5).await.unwrap().len(), 2);
    let mut lost = user("carol");
    lost.tenant_id = TenantId::parse("nowhere").unwrap();
    assert!(matches!(
        store.insert_user(&lost).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn a_code_is_redeemed_once() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;
    let (rec, hash) = code(&c, &u);
    store.insert_code(&rec).await.unwrap();

    let (got, terms) = redeem_fresh(&store, &hash).await;
    assert_eq!(
        terms,
        GrantTerms::default(),
        "its grant named no resource or claims"
    );
    assert_eq!(got.code_hash, rec.code_hash);
    assert_eq!(got.client_id, rec.client_id);
    assert_eq!(got.user_id, rec.user_id);
    assert_eq!(got.redirect_uri, rec.redirect_uri);
    assert_eq!(got.redirect_uri_in_request, rec.redirect_uri_in_request);
    assert_eq!(got.scope, rec.scope);
    assert_eq!(got.nonce, rec.nonce);
    assert_eq!(got.code_challenge, rec.code_challenge);
    assert_eq!(got.auth_time, rec.auth_time);
    assert_eq!(got.grant_id, rec.grant_id);
    assert_eq!(got.expires_at, rec.expires_at);

    let Redemption::AlreadyRedeemed(again) = store.redeem_code(&hash, t0()).await.unwrap() else {
        panic!("second redemption must be a replay");
    };
    assert_eq!(again.grant_id, rec.grant_id);
    assert!(matches!(
        store
            .redeem_code(&Secret::generate().hash(), t0())
            .await
            .unwrap(),
        Redemption::NotFound
    ));
}

/// A redemption and a rotation read the code or token with the resources and the `claims`
/// request saved for its grant, and nothing of another grant's.
#[tokio::test]
async fn codes_and_refresh_tokens_are_read_with_the_terms_of_their_grant() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;
    let (rec, hash) = code(&c, &u);
    store.insert_code(&rec).await.unwrap();
    let resources = vec![
        ResourceUri::parse("https://api.example.com/").unwrap(),
        ResourceUri::parse("https://files.example.com/v1").unwrap(),
    ];
    let claims =
        ClaimsRequest::parse(r#"{"userinfo":{"name":null},"id_token":{"email":null}}"#).unwrap();
    let grant = &rec.grant_id;
    store
        .save_grant_resources(grant, &resources, t0())
        .await
        .unwrap();
    store
        .save_claims_request(grant, &claims, t0())
        .await
        .unwrap();
    // Another grant with terms of its own, which must not leak into this one's.
    let other = GrantId::generate();
    store
        .save_grant_resources(&other, &resources[..1], t0())
        .await
        .unwrap();
    let expected = GrantTerms {
        resources: resources.clone(),
        claims: Some(claims.clone()),
    };

    let (got, terms) = redeem_fresh(&store, &hash).await;
    assert_eq!(got.grant_id, *grant);
    assert_eq!(terms, expected);

    let token = refresh(&c, &u, grant);
    let (found, terms) = stored_with_terms(&store, &token).await;
    assert_eq!(found.grant_id, *grant);
    assert_eq!(found.scope, token.scope);
    assert_eq!(found.expires_at, token.expires_at);
    assert_eq!(terms, expected);

    // Only resources for `other`; nothing at all for a third grant.
    let (_, terms) = stored_with_terms(&store, &refresh(&c, &u, &other)).await;
    assert_eq!(terms.resources, resources[..1]);
    assert_eq!(terms.claims, None);
    let (mut other_code, other_hash) = code(&c, &u);
    other_code.grant_id = other.clone();
    store.insert_code(&other_code).await.unwrap();
    let (got, terms) = redeem_fresh(&store, &other_hash).await;
    assert_eq!(got.grant_id, other);
    assert_eq!(terms.resources, resources[..1]);
    assert_eq!(terms.claims, None);
    let (_, terms) = stored_with_terms(&store, &refresh(&c, &u, &GrantId::generate())).await;
    assert_eq!(terms, GrantTerms::default());
    assert!(
        store
            .find_refresh_with_terms(&Secret::generate().hash())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_have_one_winner() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;
    let (rec, hash) = code(&c, &u);
    store.insert_code(&rec).await.unwrap();

    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (store, hash) = (store.clone(), hash.clone());
            tokio::spawn(async move { store.redeem_code(&hash, Utc::now()).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Redemption::Redeemed(..) => won += 1,
            Redemption::AlreadyRedeemed(_) => {}
            Redemption::NotFound => panic!("the code exists"),
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn refresh_tokens_rotate_once_and_die_with_their_grant() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;
    let grant = GrantId::generate();
    let rt = refresh(&c, &u, &grant);
    store.insert_refresh(&rt).await.unwrap();

    let found = store
        .find_refresh(&rt.token_hash)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(found.token_hash, rt.token_hash);
    assert_eq!(found.grant_id, rt.grant_id);
    assert_eq!(found.client_id, rt.client_id);
    assert_eq!(found.user_id, rt.user_id);
    assert_eq!(found.scope, rt.scope);
    assert_eq!(found.granted_scope, rt.granted_scope);
    assert_eq!(found.auth_time, rt.auth_time);
    assert_eq!(found.issued_at, rt.issued_at);
    assert_eq!(found.expires_at, rt.expires_at);
    assert_eq!(found.used_at, None);
    assert!(!found.revoked);
    assert!(
        store
            .find_refresh(&Secret::generate().hash())
            .await
            .unwrap()
            .is_none()
    );

    let now = t0() + TimeDelta::seconds(5);
    assert!(matches!(
        store.mark_refresh_used(&rt.token_hash, now).await.unwrap(),
        Rotation::Rotated
    ));
    assert!(matches!(
        store.mark_refresh_used(&rt.token_hash, now).await.unwrap(),
        Rotation::AlreadyUsed
    ));
    assert_eq!(
        store
            .find_refresh(&rt.token_hash)
            .await
            .unwrap()
            .unwrap()
            .used_at,
        Some(now)
    );

    let next = refresh(&c, &u, &grant);
    store.insert_refresh(&next).await.unwrap();
    let other_grant = refresh(&c, &u, &GrantId::generate());
    store.insert_refresh(&other_grant).await.unwrap();
    assert!(!store.is_grant_revoked(&grant).await.unwrap());

    store.revoke_grant(&grant, now).await.unwrap();
    store.revoke_grant(&grant, now).await.unwrap(); // idempotent
    assert!(store.is_grant_revoked(&grant).await.unwrap());
    assert!(
        store
            .find_refresh(&next.token_hash)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert!(
        store
            .find_refresh(&rt.token_hash)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert!(matches!(
        store
            .mark_refresh_used(&next.token_hash, now)
            .await
            .unwrap(),
        Rotation::AlreadyUsed
    ));
    assert!(
        !store
            .find_refresh(&other_grant.token_hash)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert!(!store.is_grant_revoked(&other_grant.grant_id).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_have_one_winner() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;
    let rt = refresh(&c, &u, &GrantId::generate());
    store.insert_refresh(&rt).await.unwrap();

    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (store, hash) = (store.clone(), rt.token_hash.clone());
            tokio::spawn(async move { store.mark_refresh_used(&hash, Utc::now()).await.unwrap() })
        })
        .collect();
    let mut rotated = 0;
    for t in tasks {
        if let Rotation::Rotated = t.await.unwrap() {
            rotated += 1;
        }
    }
    assert_eq!(rotated, 1);
}

/// RFC 9700 §4.14.2 under a race: many requests present one refresh token at once; each
/// stores its successor and tries the rotation, and every loser revokes the family. The
/// revocations must all succeed (PostgreSQL used to abort some with "deadlock detected").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_revocations_of_one_family_never_fail() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;
    let grant = GrantId::generate();
    let first = refresh(&c, &u, &grant);
    store.insert_refresh(&first).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            let (c, u, grant, old) = (
                c.clone(),
                u.clone(),
                grant.clone(),
                first.token_hash.clone(),
            );
            tokio::spawn(async move {
                let successor = refresh(&c, &u, &grant);
                store.insert_refresh(&successor).await?;
                match store
                    .rotate_refresh(&old, &successor.token_hash, Utc::now())
                    .await?
                {
                    Rotation::Rotated => Ok(1),
                    Rotation::AlreadyUsed => {
                        store.revoke_grant(&grant, Utc::now()).await.map(|()| 0)
                    }
                }
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        winners += t.await.unwrap().unwrap();
    }
    assert_eq!(winners, 1);
    assert!(store.is_grant_revoked(&grant).await.unwrap());
    assert!(
        store
            .find_refresh(&first.token_hash)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
}

/// A derived successor (grace-period clients) is inserted by every concurrent rotation of its
/// predecessor: the second insert of the same token is not an error.
#[tokio::test]
async fn inserting_the_same_refresh_token_twice_keeps_one_row() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;
    let rt = refresh(&c, &u, &GrantId::generate());
    store.insert_refresh(&rt).await.unwrap();
    store.insert_refresh(&rt).await.unwrap();
    assert!(store.find_refresh(&rt.token_hash).await.unwrap().is_some());
}

#[tokio::test]
async fn consent_accumulates_scopes() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;
    assert!(store.find_consent(&u.id, &c.id).await.unwrap().is_none());

    store
        .save_consent(
            &u.id,
            &c.id,
            &ScopeSet::parse("openid profile").unwrap(),
            t0(),
        )
        .await
        .unwrap();
    store
        .save_consent(
            &u.id,
            &c.id,
            &ScopeSet::parse("openid email").unwrap(),
            t0(),
        )
        .await
        .unwrap();
    let got = store.find_consent(&u.id, &c.id).await.unwrap().unwrap();
    assert_eq!(got, ScopeSet::parse("email openid profile").unwrap());

    let other = client();
    store.insert_client(&other).await.unwrap();
    assert!(
        store
            .find_consent(&u.id, &other.id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn sessions_are_stored_found_and_deleted() {
    let db = TestDb::new().await;
    let (store, _c, u) = fixture(&db).await;
    let s = Session {
        id_hash: Secret::generate().hash(),
        user_id: u.id.clone(),
        auth_time: t0(),
        csrf_token: "csrf-token".into(),
        expires_at: t0() + TimeDelta::hours(8),
        last_seen: t0(),
    };
    store.insert_session(&s).await.unwrap();
    let got = store
        .find_session(&s.id_hash)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got.id_hash, s.id_hash);
    assert_eq!(got.user_id, s.user_id);
    assert_eq!(got.auth_time, s.auth_time);
    assert_eq!(got.csrf_token, s.csrf_token);
    assert_eq!(got.expires_at, s.expires_at);

    store.delete_session(&s.id_hash).await.unwrap();
    assert!(store.find_session(&s.id_hash).await.unwrap().is_none());
    store.delete_session(&s.id_hash).await.unwrap();
}

fn key(kid: &str, alg: SigningAlg, created_at: DateTime<Utc>) -> StoredKey {
    StoredKey::new(
        kid.into(),
        alg,
        vec![0x30, 0x82, 0x01, 0x00, 0xff],
        false,
        serde_json::json!({ "kty": "EC", "kid": kid }),
        created_at,
    )
}

#[tokio::test]
async fn key_rotation_retires_the_old_key() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let t1 = t0() + TimeDelta::days(1);
    store
        .insert_active_key(&key("rs-1", SigningAlg::RS256, t0()), t0())
        .await
        .unwrap();
    store
        .insert_active_key(&key("es-1", SigningAlg::ES256, t0()), t0())
        .await
        .unwrap();
    store
        .insert_active_key(&key("rs-2", SigningAlg::RS256, t1), t1)
        .await
        .unwrap();

    let keys = store.list_signing_keys().await.unwrap();
    let kids: Vec<_> = keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, ["es-1", "rs-1", "rs-2"]);
    let by = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap();
    assert!(!by("rs-1").active);
    assert_eq!(by("rs-1").retired_at, Some(t1));
    assert!(by("rs-2").active && by("rs-2").retired_at.is_none());
    assert!(by("es-1").active);
    assert_eq!(by("rs-2").private_key, vec![0x30, 0x82, 0x01, 0x00, 0xff]);
    assert_eq!(by("rs-2").public_jwk["kid"], "rs-2");
    assert!(!format!("{:?}", by("rs-2")).contains("48, 130"));
    for alg in SigningAlg::ALL {
        assert_eq!(keys.iter().filter(|k| k.alg == alg && k.active).count(), 1);
    }
    assert!(matches!(
        store
            .insert_active_key(&key("rs-2", SigningAlg::RS256, t1), t1)
            .await,
        Err(Error::Conflict(_))
    ));
    // The failed insert rolled back: rs-2 is still the active key.
    assert!(
        store
            .list_signing_keys()
            .await
            .unwrap()
            .iter()
            .any(|k| k.kid == "rs-2" && k.active)
    );

    assert_eq!(store.delete_keys_retired_before(t1).await.unwrap(), 0);
    assert_eq!(
        store
            .delete_keys_retired_before(t1 + TimeDelta::seconds(1))
            .await
            .unwrap(),
        1
    );
    let kids: Vec<_> = store
        .list_signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, ["es-1", "rs-2"]);
}

#[tokio::test]
async fn housekeeping_removes_expired_rows() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;
    let (old_code, old_hash) = code(&c, &u);
    let (mut fresh_code, fresh_hash) = code(&c, &u);
    fresh_code.expires_at = t0() + TimeDelta::hours(2);
    store.insert_code(&old_code).await.unwrap();
    store.insert_code(&fresh_code).await.unwrap();
    let mut old_rt = refresh(&c, &u, &GrantId::generate());
    old_rt.expires_at = t0();
    store.insert_refresh(&old_rt).await.unwrap();
    let live_rt = refresh(&c, &u, &GrantId::generate());
    store.insert_refresh(&live_rt).await.unwrap();
    let s = Session {
        id_hash: Secret::generate().hash(),
        user_id: u.id.clone(),
        auth_time: t0(),
        csrf_token: "x".into(),
        expires_at: t0() + TimeDelta::minutes(30),
        last_seen: t0(),
    };
    store.insert_session(&s).await.unwrap();

    // Old code expired at t0+60s; purge at t0+2h removes it (more than an hour past expiry).
    let purged = store
        .delete_expired(t0() + TimeDelta::hours(2))
        .await
        .unwrap();
    assert_eq!(
        (purged.codes, purged.refresh_tokens, purged.sessions),
        (1, 1, 1)
    );
    assert!(matches!(
        store.redeem_code(&old_hash, t0()).await.unwrap(),
        Redemption::NotFound
    ));
    assert!(matches!(
        store.redeem_code(&fresh_hash, t0()).await.unwrap(),
        Redemption::Redeemed(..)
    ));
    assert!(
        store
            .find_refresh(&old_rt.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_refresh(&live_rt.token_hash)
            .await
            .unwrap()
            .is_some()
    );
}

// Token lifecycle: the revoked access-token list and the rotation transitions.

#[tokio::test]
async fn revoked_access_tokens_are_listed_until_they_expire() {
    use gatehouse_core::revocation::RevokedTokenStore;
    let db = TestDb::new().await;
    let (store, _, _) = fixture(&db).await;
    let now = Utc::now();
    assert!(!store.is_access_token_revoked("jti-1").await.unwrap());
    store
        .revoke_access_token("jti-1", now + TimeDelta::hours(1), now)
        .await
        .unwrap();
    // Revoking twice is harmless.
    store
        .revoke_access_token("jti-1", now + TimeDelta::hours(1), now)
        .await
        .unwrap();
    assert!(store.is_access_token_revoked("jti-1").await.unwrap());
    assert_eq!(store.delete_expired_revoked_tokens(now).await.unwrap(), 0);
    assert_eq!(
        store
            .delete_expired_revoked_tokens(now + TimeDelta::hours(2))
            .await
            .unwrap(),
        1
    );
    assert!(!store.is_access_token_revoked("jti-1").await.unwrap());
}

#[tokio::test]
async fn rotation_links_the_successor_and_a_grace_swap_happens_once() {
    let db = TestDb::new().await;
    let (store, c, u) = fixture(&db).await;
    let fetched = store.find_client(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (
            fetched.refresh_grace_seconds,
            fetched.refresh_idle_ttl,
            fetched.refresh_absolute_ttl
        ),
        (20, Some(3600), None)
    );
    let grant = GrantId::generate();
    let now = Utc::now();
    let old = refresh(&c, &u, &grant);
    let b = refresh(&c, &u, &grant);
    let c2 = refresh(&c, &u, &grant);
    for r in [&old, &b, &c2] {
        store.insert_refresh(r).await.unwrap();
    }
    assert!(matches!(
        store
            .rotate_refresh(&old.token_hash, &b.token_hash, now)
            .await
            .unwrap(),
        Rotation::Rotated
    ));
    assert!(matches!(
        store
            .rotate_refresh(&old.token_hash, &b.token_hash, now)
            .await
            .unwrap(),
        Rotation::AlreadyUsed
    ));
    let back = store.find_refresh(&old.token_hash).await.unwrap().unwrap();
    assert_eq!(back.replaced_by, Some(b.token_hash.clone()));
    assert_eq!(back.family_expires_at, old.family_expires_at);
    // The rotation salt of grace-period clients is kept as stored.
    let mut salted = refresh(&c, &u, &grant);
    let salt = gatehouse_core::secret::RotationSalt::generate();
    salted.rotation_salt = Some(salt.clone());
    store.insert_refresh(&salted).await.unwrap();
    let back = store
        .find_refresh(&salted.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.rotation_salt, Some(salt));
    assert_eq!(
        store
            .find_refresh(&c2.token_hash)
            .await
            .unwrap()
            .unwrap()
            .rotation_salt,
        None
    );
}

//! Device authorizations (RFC 8628) on both backends: a decision is recorded once and only
//! while pending and unexpired, consuming an approved one succeeds once, polls are recorded,
//! and the purge deletes exactly the expired ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use chrono::{TimeDelta, TimeZone, Utc};
use gatehouse_core::device::{Decision, DeviceAuthorization, DeviceStatus, DeviceStore, UserCode};
use gatehouse_core::secret::Secret;
use gatehouse_core::{ClientId, ScopeSet, UserId};
use gatehouse_store::PurgePolicy;
use gatehouse_store::test_support::TestDb;

fn record(
    client: &str,
    expires_in: i64,
    now: chrono::DateTime<Utc>,
) -> (Secret, UserCode, DeviceAuthorization) {
    let device = Secret::generate();
    let user = UserCode::generate();
    let r = DeviceAuthorization {
        device_code_hash: device.hash(),
        user_code_hash: user.hash(),
        client_id: ClientId::parse(client).unwrap(),
        scope: ScopeSet::parse("openid api:read").unwrap(),
        status: DeviceStatus::Pending,
        user_id: None,
        auth_time: None,
        interval: 5,
        last_polled_at: None,
        expires_at: now + TimeDelta::seconds(expires_in),
    };
    (device, user, r)
}

#[tokio::test]
async fn a_device_authorization_is_decided_once_and_consumed_once_rfc8628_3_4() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
    let (device, user, r) = record("tv", 600, now);
    store.insert_device(&r).await.unwrap();
    let found = store
        .find_device_by_user_code(&user.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.status, found.interval), (DeviceStatus::Pending, 5));
    assert_eq!(store.pending_devices(&r.client_id, now).await.unwrap(), 1);
    // Not approved yet: nothing to consume.
    assert!(!store.consume_device(&device.hash()).await.unwrap());
    store
        .record_device_poll(&device.hash(), now, 10)
        .await
        .unwrap();
    let decision = Decision {
        approved: true,
        user_id: UserId::parse("u1").unwrap(),
        auth_time: now,
        scope: ScopeSet::parse("openid").unwrap(),
    };
    // Too late, then in time, then again.
    let late = now + TimeDelta::seconds(601);
    assert!(
        !store
            .decide_device(&device.hash(), &decision, late)
            .await
            .unwrap()
    );
    assert!(
        store
            .decide_device(&device.hash(), &decision, now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_device(&device.hash(), &decision, now)
            .await
            .unwrap()
    );
    let got = store.find_device(&device.hash()).await.unwrap().unwrap();
    assert_eq!(got.status, DeviceStatus::Approved);
    assert_eq!(got.user_id.as_ref().map(|u| u.as_str()), Some("u1"));
    assert_eq!(got.scope.to_string(), "openid");
    assert_eq!((got.interval, got.last_polled_at), (10, Some(now)));
    assert_eq!(got.auth_time, Some(now));
    assert!(store.consume_device(&device.hash()).await.unwrap());
    assert!(!store.consume_device(&device.hash()).await.unwrap());
    let got = store.find_device(&device.hash()).await.unwrap().unwrap();
    assert_eq!(got.status, DeviceStatus::Consumed);
}

#[tokio::test]
async fn the_purge_deletes_expired_device_authorizations_only() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
    let mut live = None;
    for exp in [-600, -1, 300] {
        let (device, _, r) = record("tv", exp, now);
        store.insert_device(&r).await.unwrap();
        live = Some(device);
    }
    let policy = PurgePolicy {
        batch_size: 1,
        audit_before: None,
    };
    let report = store.purge(now, policy).await.unwrap();
    assert_eq!(report.device_authorizations, 2);
    let live = live.unwrap();
    assert!(store.find_device(&live.hash()).await.unwrap().is_some());
    let client = ClientId::parse("tv").unwrap();
    assert_eq!(store.pending_devices(&client, now).await.unwrap(), 1);
}

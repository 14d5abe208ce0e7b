//! The purge deletes in bounded batches exactly what has expired — revoked-token entries past
//! their token's expiry, audit events older than the retention when one is set — and nothing
//! still valid. (Codes, refresh tokens and sessions: `store.rs`, `delete_expired`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use chrono::{TimeDelta, TimeZone, Utc};
use gatehouse_core::audit::NewAuditEvent;
use gatehouse_core::revocation::RevokedTokenStore;
use gatehouse_store::PurgePolicy;
use gatehouse_store::test_support::TestDb;

#[tokio::test]
async fn a_purge_in_batches_of_one_deletes_only_what_expired() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
    for (jti, exp) in [
        ("gone-1", -120),
        ("gone-2", -1),
        ("gone-3", -60),
        ("live", 60),
    ] {
        store
            .revoke_access_token(jti, now + TimeDelta::seconds(exp), now)
            .await
            .unwrap();
    }
    for days in [40, 31, 29, 0] {
        let at = now - TimeDelta::days(days);
        let e = NewAuditEvent::operator(
            at,
            None,
            "test.event",
            &format!("{days}"),
            serde_json::json!({}),
        );
        store.audit().append(&e).await.unwrap();
    }
    let keep_forever = PurgePolicy {
        batch_size: 1,
        audit_before: None,
    };
    let report = store.purge(now, keep_forever).await.unwrap();
    assert_eq!(report.revoked_tokens, 3);
    assert_eq!(report.audit_events, 0);
    assert!(store.is_access_token_revoked("live").await.unwrap());

    let thirty_days = PurgePolicy {
        batch_size: 1,
        audit_before: Some(now - TimeDelta::days(30)),
    };
    let report = store.purge(now, thirty_days).await.unwrap();
    assert_eq!((report.revoked_tokens, report.audit_events), (0, 2));
    let again = store.purge(now, thirty_days).await.unwrap();
    assert_eq!(again, Default::default());
}

//! The audit trail's cursor is commit-ordered (issue 10) and buffered appends are written
//! (issue 9). Several stores on one database stand for several nodes writing at once while a
//! reader follows "after N": it must see every event, none skipped. SQLite by default,
//! PostgreSQL when `GATEHOUSE_TEST_DATABASE_URL` is set (where the race exists).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{TimeZone, Utc};
use gatehouse_core::audit::{ActorKind, NewAuditEvent, Outcome};
use gatehouse_store::Store;
use gatehouse_store::test_support::TestDb;

const WRITERS: usize = 6;
const EVENTS_EACH: usize = 60;

fn event(writer: usize, n: usize) -> NewAuditEvent {
    event_of("token.issue", writer, n)
}

fn event_of(action: &str, writer: usize, n: usize) -> NewAuditEvent {
    NewAuditEvent::protocol(
        Utc::now(),
        Some("default".into()),
        ActorKind::Client,
        Some(format!("writer{writer}")),
        action,
        Some(format!("{writer}-{n}")),
        Outcome::Success,
        serde_json::json!({}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_following_the_cursor_never_skips_an_event_of_concurrent_writers() {
    let db = TestDb::new().await;
    let reader = db.store().await;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = Store::connect(&db.url).await.unwrap();
        // Half the nodes write through the group-commit writer, half directly.
        if w % 2 == 0 {
            store.start_audit_batching();
        }
        writers.push(tokio::spawn(async move {
            for n in 0..EVENTS_EACH {
                store.audit().append(&event(w, n)).await.unwrap();
            }
        }));
    }
    let done = Arc::new(AtomicBool::new(false));
    let follower = {
        let done = done.clone();
        tokio::spawn(async move {
            let (mut cursor, mut seen) = (0, Vec::new());
            loop {
                let finished = done.load(Ordering::SeqCst);
                let page = reader.audit().list_after(cursor, 50, None).await.unwrap();
                if page.is_empty() && finished {
                    return seen;
                }
                for e in page {
                    assert!(e.id > cursor);
                    cursor = e.id;
                    seen.push(e.id);
                }
            }
        })
    };
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let seen = follower.await.unwrap();
    let all: BTreeSet<i64> = db
        .store()
        .await
        .audit()
        .list_after(0, 1000, None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(all.len(), WRITERS * EVENTS_EACH);
    let seen_set: BTreeSet<i64> = seen.iter().copied().collect();
    let skipped: Vec<_> = all.difference(&seen_set).collect();
    assert!(skipped.is_empty(), "the follower skipped {skipped:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_events_are_written_by_the_next_flush() {
    let db = TestDb::new().await;
    let store = db.store().await;
    store.start_audit_batching();
    for n in 0..40 {
        store.audit().append_buffered(event(0, n)).await.unwrap();
    }
    store.flush_audit().await;
    let stored = store.audit().list_after(0, 1000, None).await.unwrap();
    let targets: BTreeSet<String> = stored.into_iter().filter_map(|e| e.event.target).collect();
    assert_eq!(targets.len(), 40);
    assert!(targets.contains("0-0") && targets.contains("0-39"));

    // Without the writer a buffered append is written at once.
    let direct = Store::connect(&db.url).await.unwrap();
    direct.audit().append_buffered(event(1, 0)).await.unwrap();
    assert_eq!(
        direct
            .audit()
            .list_after(0, 1000, None)
            .await
            .unwrap()
            .len(),
        41
    );
}

/// Events come back exactly as appended, batched or alone: every field, absent ones as
/// absent, the details as the same JSON, the time to the microsecond. The time is stored as
/// the entity layer stores times, so comparing `at` with a bound time finds the row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_stored_field_for_field_batched_or_alone() {
    use gatehouse_store::entities::audit_event;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let db = TestDb::new().await;
    let store = db.store().await;
    store.start_audit_batching();
    let at = Utc.with_ymd_and_hms(2026, 12, 5, 1, 2, 3).unwrap();
    let full = NewAuditEvent {
        at: at + chrono::TimeDelta::nanoseconds(123_456_789),
        tenant_id: Some("t-1".into()),
        actor_kind: ActorKind::User,
        actor: Some("ü \"quoted\" \\ actor\n\t😀 \u{7f}".into()),
        action: "login".into(),
        target: Some("u-1".into()),
        source_ip: Some("2001:db8::1".into()),
        request_id: Some("r-1".into()),
        outcome: Outcome::Failure,
        details: serde_json::json!({
            "reason": "bad_password",
            "n": 3,
            "nested": {"a": [1, null, true]},
            "f": 0.1,
            "big": u64::MAX,
            "neg": i64::MIN,
            "s": "line\nbreak \"q\" \\ 😀 \u{2028}",
        }),
    };
    let bare = NewAuditEvent {
        at,
        tenant_id: None,
        actor_kind: ActorKind::Operator,
        actor: None,
        action: "tenant.create".into(),
        target: None,
        source_ip: None,
        request_id: None,
        outcome: Outcome::Success,
        details: serde_json::json!({}),
    };
    // Two buffered (one batch), then one acknowledged alone.
    store.audit().append_buffered(full.clone()).await.unwrap();
    store.audit().append_buffered(bare.clone()).await.unwrap();
    store.flush_audit().await;
    store.audit().append(&full).await.unwrap();

    let stored: Vec<NewAuditEvent> = store
        .audit()
        .list_after(0, 10, None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    let mut expected_full = full.clone();
    expected_full.at = at + chrono::TimeDelta::microseconds(123_456);
    assert_eq!(stored, [expected_full.clone(), bare, expected_full.clone()]);

    let conn = store.db();
    let same_time = |t| {
        audit_event::Entity::find()
            .filter(audit_event::Column::At.eq(t))
            .count(conn)
    };
    assert_eq!(same_time(expected_full.at).await.unwrap(), 2);
    assert_eq!(same_time(at).await.unwrap(), 1);
}

/// A backlog larger than one commit (the writer takes at most `MAX_COMMIT` events per
/// transaction, in statements of at most 256 rows) is written whole and in queue order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_several_commits_is_written_in_queue_order() {
    let db = TestDb::new().await;
    let store = db.store().await;
    store.start_audit_batching();
    let n = gatehouse_store::audit::MAX_COMMIT + 300;
    for i in 0..n {
        store.audit().append_buffered(event(0, i)).await.unwrap();
    }
    store.flush_audit().await;
    let mut targets = Vec::new();
    let mut after = 0;
    loop {
        let page = store.audit().list_after(after, 1000, None).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.id;
        targets.extend(page.into_iter().filter_map(|e| e.event.target));
    }
    let expected: Vec<String> = (0..n).map(|i| format!("0-{i}")).collect();
    assert_eq!(targets, expected);
}

/// Buffered events wait for company (up to `LINGER`), but never behind a security decision:
/// an acknowledged append wakes the writer, and what was queued before it is in the trail, in
/// queue order, by the time the append returns — no flush needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_append_commits_the_buffered_events_queued_before_it() {
    let db = TestDb::new().await;
    let store = db.store().await;
    store.start_audit_batching();
    for n in 0..5 {
        store.audit().append_buffered(event(0, n)).await.unwrap();
    }
    let id = store
        .audit()
        .append(&event_of("token.revoke", 1, 0))
        .await
        .unwrap();
    let stored = store.audit().list_after(0, 1000, None).await.unwrap();
    let targets: Vec<String> = stored
        .iter()
        .filter_map(|e| e.event.target.clone())
        .collect();
    assert_eq!(targets, ["0-0", "0-1", "0-2", "0-3", "0-4", "1-0"]);
    assert_eq!(stored.last().map(|e| e.id), Some(id));
}

//! Many concurrent uses of one refresh token (RFC 6749 §6, RFC 9700 §4.14.2): exactly one
//! rotation wins, every other request is `400 invalid_grant` (the reuse revokes the family),
//! and none is a server error — on SQLite (busy/locked) as on PostgreSQL (row-lock order).

use crate::support::*;

/// Sends `n` refresh requests with the same token at once; returns their (status, body).
async fn race(s: &TestServer, c: &TestClient, rt: &str, n: usize) -> Vec<(u16, serde_json::Value)> {
    futures::future::join_all((0..n).map(|_| refresh_with(s, c, rt))).await
}

fn check(results: &[(u16, serde_json::Value)]) {
    let ok = results.iter().filter(|(st, _)| *st == 200).count();
    let server_errors: Vec<_> = results.iter().filter(|(st, _)| *st >= 500).collect();
    assert!(server_errors.is_empty(), "server errors: {server_errors:?}");
    assert_eq!(ok, 1, "exactly one rotation wins: {results:?}");
    for (st, body) in results.iter().filter(|(st, _)| *st != 200) {
        assert_eq!(
            (*st, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn fifty_concurrent_refreshes_one_200_the_rest_invalid_grant_rfc9700_4_14_2() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("rae").await;
    let t0 = issue_tokens(&s, &c, "rae", "openid offline_access").await;
    check(&race(&s, &c, str_of(&t0, "refresh_token"), 50).await);
}

#[tokio::test]
async fn fifty_concurrent_refreshes_with_a_grace_period_never_fail_the_server_rfc9700_4_14_2() {
    // With a grace period every racer derives the same successor: its insert must not fail.
    let s = TestServer::start().await;
    let c = s.client(|r| r.refresh_grace_seconds = Some(30)).await;
    s.user("ria").await;
    let t0 = issue_tokens(&s, &c, "ria", "openid offline_access").await;
    let results = race(&s, &c, str_of(&t0, "refresh_token"), 50).await;
    let server_errors: Vec<_> = results.iter().filter(|(st, _)| *st >= 500).collect();
    assert!(server_errors.is_empty(), "server errors: {server_errors:?}");
    assert!(results.iter().any(|(st, _)| *st == 200), "{results:?}");
    for (st, body) in results.iter().filter(|(st, _)| *st != 200) {
        assert_eq!(
            (*st, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{body}"
        );
    }
}

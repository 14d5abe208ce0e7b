//! A node killed with SIGKILL under load loses nothing it acknowledged: every refresh token a
//! client received (and has not presented since) works after the restart, exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::ops_support::*;
use crate::support::*;

/// Chains of refresh tokens, each rotated again and again.
const CHAINS: usize = 8;
/// Workers, each driving `CHAINS / WORKERS` chains in turn.
const WORKERS: usize = 4;

/// A chain's newest token and whether the server may have seen it presented (a request with
/// it was sent and got no answer: it may or may not have been redeemed).
#[derive(Debug, Clone)]
struct Chain {
    token: String,
    uncertain: bool,
}

/// Rotates `chains` in turn at `base` until a request goes unanswered; returns them.
async fn drive(
    base: String,
    client: TestClient,
    mut chains: Vec<Chain>,
    done: Arc<AtomicUsize>,
) -> Vec<Chain> {
    for i in (0..chains.len()).cycle() {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", chains[i].token.as_str()),
        ];
        let sent = http()
            .post(format!("{base}/oauth/token"))
            .basic_auth(&client.id, client.secret.as_deref())
            .form(&form)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            // Never reached the server: the token was not presented.
            Err(e) if e.is_connect() => return chains,
            Err(_) => {
                chains[i].uncertain = true;
                return chains;
            }
        };
        let status = resp.status().as_u16();
        let body: serde_json::Value = match resp.json().await {
            Ok(b) => b,
            Err(_) => {
                chains[i].uncertain = true;
                return chains;
            }
        };
        assert_eq!(status, 200, "a refresh failed under load: {body}");
        chains[i].token = str_of(&body, "refresh_token").to_owned();
        done.fetch_add(1, Ordering::SeqCst);
    }
    chains
}

#[tokio::test]
async fn refresh_tokens_acknowledged_before_a_kill_9_work_exactly_once_after_restart() {
    let db = gatehouse_store::test_support::TestDb::new().await;
    let store = db.store().await;
    let client = register(
        &store,
        &["authorization_code", "refresh_token"],
        "openid offline_access",
        // No grace period: a second use of a token is a reuse, refused.
        |r| r.refresh_grace_seconds = Some(0),
    )
    .await;
    user_with(&store, "durable-dora", &[]).await;
    let mut node = Process::spawn(&db.url, None, "", &[]);
    node.ready().await;
    let mut chains = Vec::new();
    for _ in 0..CHAINS {
        let (tokens, _) =
            code_flow_at(&node.base, &client, "durable-dora", "openid offline_access").await;
        chains.push(Chain {
            token: str_of(&tokens, "refresh_token").to_owned(),
            uncertain: false,
        });
    }
    let done = Arc::new(AtomicUsize::new(0));
    let per = CHAINS / WORKERS;
    let workers: Vec<_> = chains
        .chunks(per)
        .map(|c| {
            tokio::spawn(drive(
                node.base.clone(),
                client.clone(),
                c.to_vec(),
                done.clone(),
            ))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while done.load(Ordering::SeqCst) < 40 {
        assert!(Instant::now() < deadline, "the load did not get going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    node.signal("KILL");
    let _ = node.exit_status(Duration::from_secs(10)).await;
    let mut chains = Vec::new();
    for w in workers {
        chains.extend(w.await.unwrap());
    }
    let mut restarted = Process::spawn(&db.url, None, "", &[]);
    restarted.ready().await;
    let certain: Vec<_> = chains.iter().filter(|c| !c.uncertain).collect();
    assert!(certain.len() >= CHAINS - WORKERS, "{chains:?}");
    for c in certain {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", c.token.as_str()),
        ];
        let (status, body) = post_form(&restarted.base, &client, "/oauth/token", &form).await;
        assert_eq!(status, 200, "an acknowledged token was lost: {body}");
        let (status, body) = post_form(&restarted.base, &client, "/oauth/token", &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "used twice"
        );
    }
}

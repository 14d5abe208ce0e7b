//! Signing-key life cycle (RFC 7517 §5 key sets, RFC 7515 §4.1.4 `kid`): scheduled rotation
//! with pre-publication, retirement and removal from the JWKS, several nodes on one database,
//! racing schedulers, and private keys encrypted at rest under `GATEHOUSE_MASTER_KEY`.

use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use gatehouse_admin::{Actor, Context};
use gatehouse_jose::MasterKey;
use gatehouse_server::keys::{Schedule, scheduler_tick};
use gatehouse_server::{Application, Settings};
use serde_json::Value;

use crate::support::*;

const DAY: i64 = 86_400;
const MK1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const MK2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

fn mk(hex: &str) -> Option<MasterKey> {
    Some(MasterKey::parse(hex).unwrap())
}

async fn jwks_kids(base: &str) -> Vec<String> {
    let jwks: Value = http()
        .get(format!("{base}/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn machine_client(s: &TestServer) -> TestClient {
    s.client(|r| {
        r.grant_types = vec!["client_credentials".into()];
        r.redirect_uris.clear();
        r.scope = Some("api:read".into());
    })
    .await
}

/// The `kid` of a fresh access token from the server at `base`.
async fn signing_kid(s: &TestServer, base: &str, c: &TestClient) -> String {
    let resp = http()
        .post(format!("{base}/oauth/token"))
        .basic_auth(&c.id, c.secret.as_deref())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", s.base);
    let t: Value = resp.json().await.unwrap();
    jsonwebtoken::decode_header(t["access_token"].as_str().unwrap())
        .unwrap()
        .kid
        .unwrap()
}

async fn keys_with(s: &TestServer, alg: &str, status: &str) -> Vec<Value> {
    let actor = Actor::operator();
    let ctx = Context::new(&s.store, &actor, chrono::Utc::now());
    let list = gatehouse_admin::signing_keys::list(&ctx).await.unwrap();
    let list = serde_json::to_value(&list).unwrap();
    list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["alg"] == alg && k["status"] == status)
        .cloned()
        .collect()
}

/// Starts one more node on `s`'s database and clock; returns its base URL.
async fn another_node(
    s: &TestServer,
    master_key: Option<MasterKey>,
) -> Result<(String, tokio::sync::oneshot::Sender<()>), String> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let settings = Settings {
        issuer: s.base.clone(),
        database_url: s.db_url.clone(),
        workers: 1,
        master_key,
        ..Settings::default()
    };
    let app = Application::build_with_listener(settings, listener, s.clock.clone()).await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = rx.await;
    }));
    Ok((base, tx))
}

#[tokio::test]
async fn scheduled_rotation_prepublishes_switches_then_unpublishes_on_every_node() {
    let (s, state) = TestServer::start_with_state(|st| st.master_key = mk(MK1)).await;
    let (node_b, _stop_b) = another_node(&s, mk(MK1)).await.unwrap();
    let c = machine_client(&s).await;
    let old = signing_kid(&s, &s.base, &c).await;
    assert_eq!(jwks_kids(&s.base).await.len(), 2);

    // Not due yet: nothing changes.
    state.run_key_scheduler().await.unwrap();
    assert_eq!(jwks_kids(&s.base).await.len(), 2);

    // 90-day interval, 1-day pre-publication: a day before the end, the next key is published.
    s.clock.advance(89 * DAY + 60);
    state.run_key_scheduler().await.unwrap();
    let next = keys_with(&s, "RS256", "next").await;
    assert_eq!(next.len(), 1);
    assert_eq!(keys_with(&s, "ES256", "next").await.len(), 1);
    assert_eq!(next[0]["encrypted"], true);
    let new = next[0]["kid"].as_str().unwrap().to_owned();
    let published = jwks_kids(&s.base).await;
    assert_eq!(published.len(), 4);
    assert!(published.contains(&new) && published.contains(&old));
    assert_eq!(
        signing_kid(&s, &s.base, &c).await,
        old,
        "next key must not sign yet"
    );

    // The other node publishes it after its own reload, without a restart.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !jwks_kids(&node_b).await.contains(&new) {
        assert!(
            Instant::now() < deadline,
            "node B never published the next key"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(signing_kid(&s, &node_b, &c).await, old);

    // After the window the new key signs; the old one stays published.
    s.clock.advance(DAY);
    state.run_key_scheduler().await.unwrap();
    assert_eq!(signing_kid(&s, &s.base, &c).await, new);
    assert!(jwks_kids(&s.base).await.contains(&old));
    assert_eq!(keys_with(&s, "RS256", "retired").await[0]["kid"], old);
    let deadline = Instant::now() + Duration::from_secs(10);
    while signing_kid(&s, &node_b, &c).await != new {
        assert!(
            Instant::now() < deadline,
            "node B never switched to the new key"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Once every token the old key signed has expired, it leaves the JWKS and the database.
    let window = Schedule::from_settings(&Settings::default()).retired_window;
    s.clock.advance(window.num_seconds() + 60);
    state.run_key_scheduler().await.unwrap();
    let published = jwks_kids(&s.base).await;
    assert_eq!(published.len(), 2, "{published:?}");
    assert!(!published.contains(&old) && published.contains(&new));
    assert!(keys_with(&s, "RS256", "retired").await.is_empty());
}

#[tokio::test]
async fn racing_schedulers_publish_one_next_key_per_algorithm() {
    let (s, state) = TestServer::start_with_state(|_| {}).await;
    s.clock.advance(89 * DAY + 60);
    let schedule = Schedule::from_settings(&Settings::default());
    let now = state.now();
    let (a, b, c) = tokio::join!(
        scheduler_tick(&s.store, &schedule, None, now),
        scheduler_tick(&s.store, &schedule, None, now),
        state.run_key_scheduler(),
    );
    a.unwrap();
    b.unwrap();
    c.unwrap();
    for alg in ["RS256", "ES256"] {
        assert_eq!(keys_with(&s, alg, "next").await.len(), 1, "{alg}");
        assert_eq!(keys_with(&s, alg, "active").await.len(), 1, "{alg}");
    }
    // A later tick past the window activates exactly one new key per algorithm.
    s.clock.advance(DAY);
    let now = state.now();
    let (a, b) = tokio::join!(
        scheduler_tick(&s.store, &schedule, None, now),
        scheduler_tick(&s.store, &schedule, None, now),
    );
    a.unwrap();
    b.unwrap();
    for alg in ["RS256", "ES256"] {
        assert_eq!(keys_with(&s, alg, "active").await.len(), 1, "{alg}");
        assert_eq!(keys_with(&s, alg, "retired").await.len(), 1, "{alg}");
        assert!(keys_with(&s, alg, "next").await.is_empty(), "{alg}");
    }
}

#[tokio::test]
async fn rotation_interval_zero_disables_scheduled_rotation() {
    let (s, state) = TestServer::start_with_state(|st| st.keys.rotation_interval = 0).await;
    s.clock.advance(400 * DAY);
    state.run_key_scheduler().await.unwrap();
    assert_eq!(jwks_kids(&s.base).await.len(), 2);
    assert!(keys_with(&s, "RS256", "next").await.is_empty());
}

#[tokio::test]
async fn the_server_refuses_to_start_with_a_wrong_or_missing_master_key() {
    let s = TestServer::start_with(|st| st.master_key = mk(MK1)).await;
    for k in s.store.list_signing_keys().await.unwrap() {
        assert!(k.encrypted);
        assert!(gatehouse_jose::envelope::is_envelope(&k.private_key));
    }
    let err = another_node(&s, mk(MK2)).await.expect_err("wrong key");
    assert!(err.contains("GATEHOUSE_MASTER_KEY"), "{err}");
    let err = another_node(&s, None).await.expect_err("missing key");
    assert!(err.contains("GATEHOUSE_MASTER_KEY"), "{err}");
    assert!(another_node(&s, mk(MK1)).await.is_ok());
    assert_eq!(s.store.list_signing_keys().await.unwrap().len(), 2);
}

#[tokio::test]
async fn plaintext_keys_are_encrypted_when_a_master_key_is_configured() {
    let s = TestServer::start().await;
    let before = s.store.list_signing_keys().await.unwrap();
    assert!(
        before
            .iter()
            .all(|k| !k.encrypted && k.private_key[0] == 0x30)
    );
    let (node, _stop) = another_node(&s, mk(MK1)).await.unwrap();
    let after = s.store.list_signing_keys().await.unwrap();
    assert_eq!(after.len(), 2);
    for k in &after {
        assert!(k.encrypted && gatehouse_jose::envelope::is_envelope(&k.private_key));
        assert!(before.iter().any(|b| b.kid == k.kid));
    }
    let c = machine_client(&s).await;
    let kid = signing_kid(&s, &node, &c).await;
    assert!(after.iter().any(|k| k.kid == kid));
    assert!(another_node(&s, mk(MK2)).await.is_err());
}

fn gatehouse(db_url: &str, master_key: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(args)
        .env("GATEHOUSE_DATABASE_URL", db_url)
        .env_remove("GATEHOUSE_MASTER_KEY")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null());
    if let Some(k) = master_key {
        cmd.env("GATEHOUSE_MASTER_KEY", k);
    }
    cmd.output().unwrap()
}

fn json_out(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn cli_rotate_and_list_use_the_master_key() {
    let (s, state) = TestServer::start_with_state(|st| st.master_key = mk(MK1)).await;
    let wrong = gatehouse(
        &s.db_url,
        Some(MK2),
        &["key", "rotate", "--alg", "ES256", "--json"],
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("GATEHOUSE_MASTER_KEY"));
    let missing = gatehouse(
        &s.db_url,
        None,
        &["key", "rotate", "--alg", "ES256", "--json"],
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("GATEHOUSE_MASTER_KEY"));
    assert_eq!(
        s.store.list_signing_keys().await.unwrap().len(),
        2,
        "nothing written"
    );

    let rotated = json_out(&gatehouse(
        &s.db_url,
        Some(MK1),
        &["key", "rotate", "--alg", "ES256", "--json"],
    ));
    // Pre-published: it signs only after the propagation delay.
    assert_eq!(rotated["active"], false);
    assert_eq!(rotated["status"], "next");
    assert!(rotated["activates_at"].is_string());
    assert_eq!(rotated["encrypted"], true);
    let list = json_out(&gatehouse(&s.db_url, Some(MK1), &["key", "list", "--json"]));
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    let next: Vec<_> = keys.iter().filter(|k| k["status"] == "next").collect();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0]["kid"], rotated["kid"]);
    assert!(
        keys.iter()
            .all(|k| k["encrypted"] == true && k["created_at"].is_string())
    );
    let bad = gatehouse(&s.db_url, Some("too short"), &["key", "list", "--json"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("GATEHOUSE_MASTER_KEY"));
    // The running server can read the key the CLI sealed, and signs with it when it is due.
    s.clock.advance(11);
    state.run_key_scheduler().await.unwrap();
    assert!(
        state
            .keys
            .current()
            .active(gatehouse_core::SigningAlg::ES256)
            .is_some_and(|k| k.kid() == rotated["kid"])
    );
    let c = machine_client(&s).await;
    let _ = signing_kid(&s, &s.base, &c).await;
}

#[tokio::test]
async fn the_master_key_file_and_the_schedule_settings_are_checked() {
    let dir = std::env::temp_dir().join(format!("gh-mk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("master.key");
    std::fs::write(&file, format!("{MK1}\n")).unwrap();
    let mut settings = Settings::default();
    settings.keys.master_key_file = file.display().to_string();
    let loaded = settings.clone().validated().unwrap();
    let sealed = loaded.master_key.as_ref().unwrap().seal("k", b"x").unwrap();
    assert_eq!(mk(MK1).unwrap().open("k", &sealed).unwrap(), b"x");
    assert!(!format!("{loaded:?}").contains(MK1));

    std::fs::write(&file, "not a key").unwrap();
    let err = settings.clone().validated().unwrap_err();
    assert!(
        err.contains("keys.master_key_file") && !err.contains("not a key"),
        "{err}"
    );
    settings.keys.master_key_file = dir.join("missing").display().to_string();
    assert!(
        settings
            .validated()
            .unwrap_err()
            .contains("keys.master_key_file")
    );

    let mut s = Settings::default();
    s.keys.rotation_interval = 3600;
    s.keys.prepublish = 7200;
    assert!(
        s.validated()
            .unwrap_err()
            .contains("keys.rotation_interval")
    );
    let mut s = Settings::default();
    s.keys.prepublish = -1;
    assert!(s.validated().unwrap_err().contains("keys.prepublish"));
    let _ = std::fs::remove_dir_all(&dir);
}

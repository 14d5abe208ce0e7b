//! The `gatehouse` binary as operators' scripts use it (shared/contract.md): JSON output,
//! errors naming the field with nothing written, key rotation seen by a running server, and
//! `serve` with graceful shutdown.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};

use crate::support::*;

fn gatehouse(db_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    run_cli(db_url, args, stdin)
}

fn json(out: &Output) -> serde_json::Value {
    cli_json(out)
}

async fn count(s: &TestServer, table: &str) -> i64 {
    let db = s.store.db();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn client_create_prints_the_secret_once_as_json() {
    let s = TestServer::start().await;
    let out = gatehouse(
        &s.db_url,
        &[
            "client",
            "create",
            "--name",
            "CLI App",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid api:read",
            "--id-token-alg",
            "ES256",
            "--json",
        ],
        None,
    );
    let v = json(&out);
    assert!(v["client_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        v["client_secret"].as_str().is_some_and(|s| s.len() >= 43),
        "256-bit secret"
    );
    assert_eq!(v["id_token_alg"], "ES256");
    // A running server sees the new client at once.
    let c = TestClient {
        id: v["client_id"].as_str().unwrap().into(),
        secret: v["client_secret"].as_str().map(Into::into),
    };
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    assert_eq!(browser().get(&url).send().await.unwrap().status(), 200);
    // A public client has a null secret.
    let out = gatehouse(
        &s.db_url,
        &[
            "client",
            "create",
            "--name",
            "SPA",
            "--redirect-uri",
            REDIRECT,
            "--auth-method",
            "none",
            "--json",
        ],
        None,
    );
    assert!(json(&out)["client_secret"].is_null());
}

#[tokio::test]
async fn bad_flags_exit_non_zero_name_the_field_and_write_nothing() {
    let s = TestServer::start().await;
    let before = count(&s, "clients").await;
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                "http://evil.example/cb",
                "--json",
            ],
            "--redirect-uri",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                REDIRECT,
                "--grant-type",
                "password",
                "--json",
            ],
            "--grant-type",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                REDIRECT,
                "--id-token-alg",
                "HS256",
                "--json",
            ],
            "--id-token-alg",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                REDIRECT,
                "--scope",
                "a\"b",
                "--json",
            ],
            "--scope",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                REDIRECT,
                "--tenant",
                "nope",
                "--json",
            ],
            "--tenant",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                REDIRECT,
                "--auth-method",
                "magic",
                "--json",
            ],
            "--auth-method",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                REDIRECT,
                "--access-token-ttl",
                "5",
                "--json",
            ],
            "--access-token-ttl",
        ),
        (&["key", "rotate", "--alg", "HS256", "--json"], "--alg"),
    ];
    for (args, field) in cases {
        let out = gatehouse(&s.db_url, args, None);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(field),
            "{args:?}: stderr {err:?} should name {field}"
        );
        assert!(out.stdout.is_empty());
    }
    assert_eq!(count(&s, "clients").await, before, "nothing written");
}

#[tokio::test]
async fn user_create_reads_the_password_from_stdin_and_the_user_can_log_in() {
    let s = TestServer::start().await;
    let out = gatehouse(
        &s.db_url,
        &[
            "user",
            "create",
            "--username",
            "sam",
            "--email",
            "sam@example.com",
            "--password-stdin",
            "--json",
        ],
        Some("s3cret-passw0rd\n"),
    );
    let v = json(&out);
    let id = v["id"].as_str().unwrap().to_owned();
    let c = s.client(|_| {}).await;
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    let Outcome::Redirect(loc) =
        run_flow(&browser(), &s, &url, "sam", "s3cret-passw0rd", "allow").await
    else {
        panic!("login with the stdin password (newline stripped) should work")
    };
    assert!(query_param(&loc, "code").is_some());
    let _ = id;
    // Duplicate username: error, nothing written.
    let users = count(&s, "users").await;
    let out = gatehouse(
        &s.db_url,
        &[
            "user",
            "create",
            "--username",
            "sam",
            "--password-stdin",
            "--json",
        ],
        Some("another-password\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sam"));
    assert_eq!(count(&s, "users").await, users);
    // Too short a password names the problem.
    let out = gatehouse(
        &s.db_url,
        &[
            "user",
            "create",
            "--username",
            "tim",
            "--password-stdin",
            "--json",
        ],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
}

#[tokio::test]
async fn key_rotate_is_picked_up_by_a_running_server_and_old_keys_stay_published() {
    let (s, state) = TestServer::start_with_state(|_| {}).await;
    let before = json(&gatehouse(&s.db_url, &["key", "list", "--json"], None));
    assert_eq!(before["keys"].as_array().unwrap().len(), 2);
    let rotated = json(&gatehouse(
        &s.db_url,
        &["key", "rotate", "--alg", "RS256", "--json"],
        None,
    ));
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    // Published now, signing after [keys] propagation_delay (10 s by default).
    assert_eq!(rotated["status"], "next");
    let activates = chrono::DateTime::parse_from_rfc3339(rotated["activates_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let ahead = activates - chrono::Utc::now();
    assert!(
        (1..=10).contains(&ahead.num_seconds()),
        "activates_at {activates}"
    );
    let after = json(&gatehouse(&s.db_url, &["key", "list", "--json"], None));
    let keys = after["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    let signing: Vec<_> = keys
        .iter()
        .filter(|k| k["alg"] == "RS256" && k["active"] == true)
        .collect();
    assert_eq!(signing.len(), 1);
    assert_ne!(signing[0]["kid"], new_kid.as_str());
    // The contract: a running server publishes a rotated key within 10 seconds (its reload),
    // before the key signs anything.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let jwks: serde_json::Value = http()
            .get(s.url("/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == new_kid.as_str())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not publish the rotated key within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let c = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris.clear();
            r.scope = Some("api:read".into());
        })
        .await;
    let kid_now = async || {
        let (_, t) = token_request(&s, &c, &[("grant_type", "client_credentials")]).await;
        jsonwebtoken::decode_header(t["access_token"].as_str().unwrap())
            .unwrap()
            .kid
            .unwrap()
    };
    assert_ne!(kid_now().await, new_kid, "not signing before its time");
    // Once due it signs (the server's clock moved past activates_at).
    s.clock.advance(11);
    state.run_key_scheduler().await.unwrap();
    assert_eq!(kid_now().await, new_kid);
    let jwks: serde_json::Value = http()
        .get(s.url("/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        3,
        "the retired key is still published"
    );
}

#[tokio::test]
async fn serve_starts_with_zero_configuration_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("gh-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", format!("http://127.0.0.1:{port}"))
        .env_remove("GATEHOUSE_DATABASE_URL")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
    let deadline = Instant::now() + Duration::from_secs(60);
    let meta: serde_json::Value = loop {
        if let Ok(r) = http().get(&url).send().await {
            break r.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(meta["issuer"], format!("http://127.0.0.1:{port}"));
    assert!(
        dir.join("data/gatehouse.db").exists(),
        "default SQLite database under data/"
    );
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(c) = child.try_wait().unwrap() {
            break c;
        }
        assert!(Instant::now() < deadline, "no graceful shutdown");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(code.success(), "exit status {code:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

//! The operator contract for tenants, API keys and the audit trail (issue 4,
//! shared/contract.md): `tenant create`, `apikey create|list|revoke`, the per-tenant limit,
//! errors naming the flag with nothing written, and `audit list --after N` as a cursor.

use std::process::{Command, Output, Stdio};

use gatehouse_core::apikey::parse_api_key;
use gatehouse_core::apikey_auth::{ApiKeyDenied, authenticate_api_key};
use gatehouse_store::test_support::TestDb;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

use crate::support::{cli_json, run_cli};

fn gatehouse(db_url: &str, args: &[&str]) -> Output {
    run_cli(db_url, args, None)
}

/// The one JSON object a successful `--json` command prints.
fn ok_json(out: &Output) -> Value {
    cli_json(out)
}

/// A failed command: non-zero exit, nothing on stdout; returns stderr.
fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "expected failure");
    assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn count(db: &TestDb, table: &str) -> i64 {
    let store = db.store().await;
    let conn = store.db();
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

fn create_key(url: &str, tenant: &str, name: &str) -> Output {
    gatehouse(
        url,
        &[
            "apikey", "create", "--tenant", tenant, "--name", name, "--json",
        ],
    )
}

#[tokio::test]
async fn tenant_create_prints_its_id_and_policy() {
    let db = TestDb::new().await;
    let v = ok_json(&gatehouse(
        &db.url,
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--scope",
            "files:read files:write",
            "--json",
        ],
    ));
    assert!(v["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(v["name"], "Acme");
    assert_eq!(
        v["api_access_enabled"], true,
        "operator-created tenants have API access"
    );
    assert_eq!(v["max_api_keys"], 4);
    assert_eq!(v["allowed_scopes"], "files:read files:write");
    let off = ok_json(&gatehouse(
        &db.url,
        &[
            "tenant",
            "create",
            "--name",
            "Quiet",
            "--api-access",
            "disabled",
            "--json",
        ],
    ));
    assert_eq!(off["api_access_enabled"], false);
    let list = ok_json(&gatehouse(&db.url, &["tenant", "list", "--json"]));
    assert_eq!(list["tenants"].as_array().unwrap().len(), 3, "default + 2");

    // API keys cannot be created while API access is off.
    let err = failed(&create_key(&db.url, off["id"].as_str().unwrap(), "ci"));
    assert!(err.contains("API access is not enabled"), "{err}");

    let before = count(&db, "tenants").await;
    let err = failed(&gatehouse(
        &db.url,
        &[
            "tenant",
            "create",
            "--name",
            "X",
            "--api-access",
            "maybe",
            "--json",
        ],
    ));
    assert!(err.contains("--api-access"), "{err}");
    let err = failed(&gatehouse(
        &db.url,
        &[
            "tenant",
            "create",
            "--name",
            "X",
            "--scope",
            "bad\"scope",
            "--json",
        ],
    ));
    assert!(err.contains("--scope"), "{err}");
    assert_eq!(count(&db, "tenants").await, before, "nothing written");
}

#[tokio::test]
async fn apikey_create_list_revoke_and_the_secret_is_shown_once() {
    let db = TestDb::new().await;
    let t = ok_json(&gatehouse(
        &db.url,
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--scope",
            "files:read files:write",
            "--json",
        ],
    ));
    let tenant = t["id"].as_str().unwrap();
    let v = ok_json(&gatehouse(
        &db.url,
        &[
            "apikey",
            "create",
            "--tenant",
            tenant,
            "--name",
            "billing sync",
            "--scope",
            "files:read",
            "--validity-days",
            "30",
            "--env",
            "test",
            "--allow-ip",
            "10.0.0.0/8",
            "--json",
        ],
    ));
    let secret = v["secret"].as_str().unwrap();
    let prefix = v["prefix"].as_str().unwrap();
    assert!(secret.starts_with("gh_test_"));
    assert!(secret.starts_with(prefix) && prefix.len() < secret.len() / 2);
    assert!(parse_api_key(secret).is_ok(), "checksum valid");
    let expires = chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((29 * 24..=30 * 24).contains(&days), "{days} hours");

    let list = ok_json(&gatehouse(
        &db.url,
        &["apikey", "list", "--tenant", tenant, "--json"],
    ));
    let text = list.to_string();
    assert!(!text.contains(secret), "never the secret");
    let k = &list["api_keys"][0];
    for f in [
        "id",
        "name",
        "prefix",
        "scopes",
        "environment",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked",
    ] {
        assert!(k.get(f).is_some(), "field {f} in {k}");
    }
    assert_eq!(k["id"], v["id"]);
    assert_eq!(k["name"], "billing sync");
    assert_eq!(k["prefix"], prefix);
    assert_eq!(k["scopes"], serde_json::json!(["files:read"]));
    assert_eq!(k["environment"], "test");
    assert_eq!(k["revoked"], false);
    assert_eq!(k["last_used_at"], Value::Null);
    assert_eq!(k["expires"], "30 days left");

    // The key works against the store from an allowed address, and not after revocation.
    let store = db.store().await;
    let ip = Some("10.1.2.3".parse().unwrap());
    let now = chrono::Utc::now();
    assert!(authenticate_api_key(&store, secret, ip, now).await.is_ok());
    let id = v["id"].as_str().unwrap();
    let r = ok_json(&gatehouse(&db.url, &["apikey", "revoke", id, "--json"]));
    assert_eq!(r["id"], id);
    assert_eq!(r["revoked"], true);
    assert_eq!(
        authenticate_api_key(&store, secret, ip, now).await,
        Err(ApiKeyDenied::Revoked)
    );
    let list = ok_json(&gatehouse(
        &db.url,
        &["apikey", "list", "--tenant", tenant, "--json"],
    ));
    assert_eq!(list["api_keys"][0]["revoked"], true);
    assert!(
        list["api_keys"][0]["last_used_at"].is_string(),
        "last use recorded"
    );

    let err = failed(&gatehouse(
        &db.url,
        &["apikey", "revoke", "no-such-key", "--json"],
    ));
    assert!(err.contains("no API key"), "{err}");
}

#[tokio::test]
async fn apikey_create_bad_flags_name_the_field_and_write_nothing() {
    let db = TestDb::new().await;
    let t = ok_json(&gatehouse(
        &db.url,
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--scope",
            "files:read",
            "--json",
        ],
    ));
    let tenant = t["id"].as_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--name", "deploy/prod"], "--name"),
        (&["--name", ""], "--name"),
        (&["--name", "ok", "--validity-days", "9"], "--validity-days"),
        (
            &["--name", "ok", "--validity-days", "366"],
            "--validity-days",
        ),
        (
            &["--name", "ok", "--validity-days", "ten"],
            "--validity-days",
        ),
        (&["--name", "ok", "--env", "prod"], "--env"),
        (&["--name", "ok", "--scope", "files:write"], "--scope"),
        (&["--name", "ok", "--allow-ip", "10.0.0.0/33"], "--allow-ip"),
        (
            &["--name", "ok", "--rate-limit-class", "a b"],
            "--rate-limit-class",
        ),
    ];
    for (extra, flag) in cases {
        let mut args = vec!["apikey", "create", "--tenant", tenant];
        args.extend_from_slice(extra);
        args.push("--json");
        let err = failed(&gatehouse(&db.url, &args));
        assert!(err.contains(flag), "{extra:?}: {err}");
    }
    let err = failed(&create_key(&db.url, "no-such-tenant", "ok"));
    assert!(err.contains("--tenant"), "{err}");
    let err = failed(&gatehouse(
        &db.url,
        &["apikey", "create", "--name", "x", "--json"],
    ));
    assert!(err.contains("--tenant"), "{err}");
    assert_eq!(count(&db, "api_keys").await, 0, "nothing written");
}

#[tokio::test]
async fn the_fifth_active_key_is_refused_with_a_clear_error() {
    let db = TestDb::new().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(ok_json(&create_key(&db.url, "default", &format!("key {i}")))["id"].clone());
    }
    let err = failed(&create_key(&db.url, "default", "fifth"));
    assert!(err.contains("maximum of 4 active API keys"), "{err}");
    assert_eq!(count(&db, "api_keys").await, 4);
    ok_json(&gatehouse(
        &db.url,
        &["apikey", "revoke", ids[0].as_str().unwrap(), "--json"],
    ));
    ok_json(&create_key(&db.url, "default", "fifth"));
}

#[tokio::test]
async fn audit_list_is_a_cursor_over_operator_actions() {
    let db = TestDb::new().await;
    let empty = ok_json(&gatehouse(
        &db.url,
        &["audit", "list", "--after", "0", "--json"],
    ));
    assert_eq!(empty["events"], serde_json::json!([]));
    assert_eq!(empty["next_after"], 0);

    let t = ok_json(&gatehouse(
        &db.url,
        &["tenant", "create", "--name", "Acme", "--json"],
    ));
    let tenant = t["id"].as_str().unwrap();
    let k = ok_json(&create_key(&db.url, tenant, "nightly export"));
    ok_json(&gatehouse(
        &db.url,
        &["apikey", "revoke", k["id"].as_str().unwrap(), "--json"],
    ));

    let all = ok_json(&gatehouse(
        &db.url,
        &["audit", "list", "--after", "0", "--json"],
    ));
    let events = all["events"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["tenant.create", "api_key.create", "api_key.revoke"]
    );
    assert!(
        !all.to_string().contains(k["secret"].as_str().unwrap()),
        "no secrets"
    );
    for e in events {
        assert_eq!(e["tenant_id"], tenant);
        assert_eq!(e["outcome"], "success");
        assert!(e["time"].is_string() && e["id"].is_i64());
    }
    assert_eq!(events[1]["target"], k["id"]);
    assert_eq!(all["next_after"], events[2]["id"]);

    // Paging with the cursor.
    let first = ok_json(&gatehouse(
        &db.url,
        &["audit", "list", "--after", "0", "--limit", "2", "--json"],
    ));
    assert_eq!(first["events"].as_array().unwrap().len(), 2);
    let cursor = first["next_after"].to_string();
    let rest = ok_json(&gatehouse(
        &db.url,
        &["audit", "list", "--after", &cursor, "--json"],
    ));
    assert_eq!(rest["events"].as_array().unwrap().len(), 1);
    assert_eq!(rest["events"][0]["action"], "api_key.revoke");
    let none = ok_json(&gatehouse(
        &db.url,
        &[
            "audit",
            "list",
            "--after",
            &rest["next_after"].to_string(),
            "--json",
        ],
    ));
    assert_eq!(none["events"], serde_json::json!([]));
    assert_eq!(none["next_after"], rest["next_after"]);

    let err = failed(&gatehouse(
        &db.url,
        &["audit", "list", "--after", "-1", "--json"],
    ));
    assert!(err.contains("--after"), "{err}");
    let err = failed(&gatehouse(
        &db.url,
        &["audit", "list", "--limit", "0", "--json"],
    ));
    assert!(err.contains("--limit"), "{err}");
}

#[tokio::test]
async fn existing_operator_actions_are_audited_and_tail_follows_new_events() {
    use std::io::{BufRead, BufReader};

    let db = TestDb::new().await;
    let c = ok_json(&gatehouse(
        &db.url,
        &[
            "client",
            "create",
            "--name",
            "Svc",
            "--grant-type",
            "client_credentials",
            "--json",
        ],
    ));
    let all = ok_json(&gatehouse(&db.url, &["audit", "list", "--json"]));
    assert_eq!(all["events"][0]["action"], "client.create");
    assert_eq!(all["events"][0]["target"], c["client_id"]);
    assert!(
        !all.to_string()
            .contains(c["client_secret"].as_str().unwrap())
    );

    // `audit tail` starts at the newest event and prints only new ones, one JSON per line.
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["audit", "tail", "--interval", "1"])
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    });
    // Give tail time to read its starting cursor, then add an event (the tail polls every second).
    let mut line = None;
    for _ in 0..20 {
        ok_json(&gatehouse(
            &db.url,
            &["tenant", "create", "--name", "Followed", "--json"],
        ));
        std::thread::sleep(std::time::Duration::from_millis(500));
        if reader.is_finished() {
            line = Some(reader.join().unwrap());
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    let line = line.expect("tail printed an event");
    let e: Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(e["action"], "tenant.create");
}

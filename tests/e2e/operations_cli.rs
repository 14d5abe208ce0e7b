//! The operations commands of issue 10 as an operator runs them: `migrate [--check]` and
//! `serve --no-migrate`, database connect errors (fast, naming host, port and cause, never the
//! password) and a server outliving a database outage, `master-key rotate` and a restart with
//! the new key, `purge`, and `backup` while serving with a restore from the copy.

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gatehouse_core::ports::UserStore;
use gatehouse_store::Store;
use gatehouse_store::test_support::TestDb;

use crate::ops_support::{Process, free_port};
use crate::support::*;

/// Runs the binary with `args` on `db_url` and extra environment (no master key otherwise).
fn gatehouse(db_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(args)
        .env("GATEHOUSE_DATABASE_URL", db_url)
        .env_remove("GATEHOUSE_MASTER_KEY")
        .env_remove("GATEHOUSE_NEW_MASTER_KEY")
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{}", free_port()))
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run gatehouse")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const LAST_MIGRATION: &str = "m20261204_000020_per_tenant_usernames";

#[tokio::test]
async fn migrate_check_lists_pending_migrations_and_serve_no_migrate_waits_for_migrate() {
    let db = TestDb::new().await;
    // A new database: serving without migrating is refused, naming the way out.
    let refused = gatehouse(&db.url, &["serve", "--no-migrate"], &[]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains("pending") && err.contains("gatehouse migrate"),
        "{err}"
    );

    let check = gatehouse(&db.url, &["migrate", "--check"], &[]);
    assert!(!check.status.success());
    let listed = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(listed.contains(LAST_MIGRATION), "{listed}");
    // Checking applied nothing.
    assert!(
        !gatehouse(&db.url, &["migrate", "--check"], &[])
            .status
            .success()
    );

    let applied = cli_json(&gatehouse(&db.url, &["migrate", "--json"], &[]));
    let names = applied["applied"].as_array().unwrap();
    assert!(names.iter().any(|n| n == LAST_MIGRATION), "{applied}");
    let check = gatehouse(&db.url, &["migrate", "--check", "--json"], &[]);
    assert_eq!(cli_json(&check)["pending"], serde_json::json!([]));
    let again = cli_json(&gatehouse(&db.url, &["migrate", "--json"], &[]));
    assert_eq!(again["applied"], serde_json::json!([]));

    // Migrated: the same refusal setting now serves.
    let mut node = Process::spawn(&db.url, None, "[database]\nmigrate_on_start = false\n", &[]);
    node.ready().await;
}

/// Runs `args` against `url` and asserts a fast, one-line failure containing `needles`.
fn fails_fast(url: &str, args: &[&str], needles: &[&str]) {
    let started = Instant::now();
    let out = gatehouse(url, args, &[]);
    let took = started.elapsed();
    let err = stderr(&out);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(
        took < Duration::from_secs(20),
        "{args:?} took {took:?}: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "{args:?}: no {n:?} in {err}");
    }
    assert!(!err.contains("hunter2"), "the password leaked: {err}");
    assert!(!err.contains("pool timed out"), "{err}");
}

#[tokio::test]
async fn an_unreachable_database_fails_fast_naming_host_port_and_cause() {
    let port = free_port();
    let refused = format!("postgres://gh:hunter2@127.0.0.1:{port}/gh");
    let at = format!("127.0.0.1:{port}");
    for args in [
        &["migrate", "--check"][..],
        &["key", "list"],
        &["purge"],
        &["serve"],
    ] {
        fails_fast(&refused, args, &[&at, "refused"]);
    }
    let unknown = "postgres://gh:hunter2@no-such-host.invalid:5432/gh";
    fails_fast(unknown, &["migrate"], &["no-such-host.invalid:5432"]);
    let postgres = std::env::var("GATEHOUSE_TEST_DATABASE_URL").unwrap_or_default();
    if !postgres.trim().is_empty() {
        let admin = postgres;
        let mut url = url::Url::parse(admin.trim()).unwrap();
        url.set_path("/gh_no_such_database");
        let _ = url.set_password(Some("hunter2"));
        fails_fast(
            url.as_str(),
            &["migrate"],
            &["\"gh_no_such_database\" does not exist"],
        );
    }
}

/// A TCP relay to the database that can be cut (every connection dropped, new ones closed at
/// once) and restored: a database outage without touching the database.
struct Relay {
    up: Arc<AtomicBool>,
    port: u16,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let flag = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !flag.load(Ordering::SeqCst) {
                    continue;
                }
                let (flag, upstream) = (flag.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut out);
                    tokio::select! {
                        _ = copy => {}
                        _ = async {
                            while flag.load(Ordering::SeqCst) {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        } => {}
                    }
                });
            }
        });
        Relay { up, port }
    }
}

/// Polls `/health/ready` until it answers `status` (at most 40 s).
async fn ready_becomes(node: &Process, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let got = http()
            .get(node.url("/health/ready"))
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map(|r| r.status().as_u16());
        if got.as_ref().ok() == Some(&status) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "ready stays {got:?}, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_server_outlives_a_database_outage_and_is_ready_again_when_it_returns() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        return; // A SQLite file has no outage; this runs on PostgreSQL.
    }
    db.store().await;
    let mut url = url::Url::parse(&db.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let relay = Relay::start(upstream).await;
    url.set_port(Some(relay.port)).unwrap();
    let mut node = Process::spawn(url.as_str(), None, "", &[]);
    node.ready().await;

    relay.up.store(false, Ordering::SeqCst);
    ready_becomes(&node, 503).await;
    let live = http().get(node.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status().as_u16(), 200);

    relay.up.store(true, Ordering::SeqCst);
    ready_becomes(&node, 200).await;
    let meta = http()
        .get(node.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(meta.status().as_u16(), 200);
}

const KEY_1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const KEY_2: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const KEY_3: &str = "3333333333333333333333333333333333333333333333333333333333333333";

/// A client_credentials token from `node` for a client_secret_basic client.
async fn token_status(node: &Process, id: &str, secret: &str) -> u16 {
    http()
        .post(node.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "api:read")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn master_key_rotate_reseals_everything_and_only_the_new_key_starts_the_server() {
    let db = TestDb::new().await;
    let old = [("GATEHOUSE_MASTER_KEY", KEY_1)];
    let mut node = Process::spawn(&db.url, None, "", &old);
    node.ready().await;
    let client = cli_json(&gatehouse(
        &db.url,
        &[
            "client",
            "create",
            "--name",
            "svc",
            "--grant-type",
            "client_credentials",
            "--scope",
            "api:read",
            "--json",
        ],
        &old,
    ));
    let (id, secret) = (
        str_of(&client, "client_id"),
        str_of(&client, "client_secret"),
    );
    let jwt_client = gatehouse(
        &db.url,
        &[
            "client",
            "create",
            "--name",
            "hs",
            "--grant-type",
            "client_credentials",
            "--auth-method",
            "client_secret_jwt",
            "--json",
        ],
        &old,
    );
    cli_json(&jwt_client);
    node.signal("TERM");
    node.exit_status(Duration::from_secs(30)).await;

    // Without the current key, or with a wrong one: refused, nothing written.
    let args = ["master-key", "rotate", "--json"];
    let no_current = gatehouse(&db.url, &args, &[("GATEHOUSE_NEW_MASTER_KEY", KEY_2)]);
    assert!(!no_current.status.success());
    assert!(stderr(&no_current).contains("no current master key"));
    let wrong = [
        ("GATEHOUSE_MASTER_KEY", KEY_3),
        ("GATEHOUSE_NEW_MASTER_KEY", KEY_2),
    ];
    let refused = gatehouse(&db.url, &args, &wrong);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("does not open"),
        "{}",
        stderr(&refused)
    );
    let missing_new = gatehouse(&db.url, &args, &old);
    assert!(stderr(&missing_new).contains("--new-key-file"));

    let rotate = [
        ("GATEHOUSE_MASTER_KEY", KEY_1),
        ("GATEHOUSE_NEW_MASTER_KEY", KEY_2),
    ];
    let done = cli_json(&gatehouse(&db.url, &args, &rotate));
    assert_eq!(done["signing_keys"], 2, "{done}");
    assert_eq!(done["client_secrets"], 1, "{done}");
    let log = cli_json(&gatehouse(&db.url, &["audit", "list", "--json"], &[]));
    assert!(log.to_string().contains("master_key.rotate"));

    // The old key no longer starts a server; the new one does, and it signs.
    let mut stale = Process::spawn(&db.url, None, "", &old);
    let status = stale.exit_status(Duration::from_secs(30)).await;
    assert!(!status.success());
    assert!(
        stale.log_text().contains("master key"),
        "{}",
        stale.log_text()
    );
    let mut fresh = Process::spawn(&db.url, None, "", &[("GATEHOUSE_MASTER_KEY", KEY_2)]);
    fresh.ready().await;
    assert_eq!(token_status(&fresh, id, secret).await, 200);
}

#[tokio::test]
async fn purge_deletes_expired_rows_and_reports_what_it_deleted() {
    let s = TestServer::start().await;
    s.user("ann").await;
    let out = cli_json(&run_cli(&s.db_url, &["purge", "--json"], None));
    for kind in [
        "codes",
        "refresh_tokens",
        "sessions",
        "revoked_tokens",
        "replay_entries",
        "audit_events",
    ] {
        assert!(out[kind].is_u64(), "{kind} in {out}");
    }
    // Retention off (the default): no audit event goes.
    assert_eq!(out["audit_events"], 0);
    let log = cli_json(&run_cli(&s.db_url, &["audit", "list", "--json"], None));
    assert!(!log["events"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn backup_copies_a_serving_sqlite_database_and_a_server_runs_on_the_copy() {
    let s = TestServer::start().await;
    let dir = std::env::temp_dir().join(format!("gh-backup-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("copy.db");
    let to = copy.to_str().unwrap();
    if s.db_url.starts_with("postgres") {
        let out = run_cli(&s.db_url, &["backup", "--to", to], None);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
        return;
    }
    s.user("kept-in-backup").await;
    let out = cli_json(&run_cli(&s.db_url, &["backup", "--to", to, "--json"], None));
    assert_eq!(out["backup"], to);
    assert!(out["bytes"].as_u64().unwrap() > 0);
    // Never over an existing file.
    let again = run_cli(&s.db_url, &["backup", "--to", to], None);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"));

    // Restore = point a server at the copy: it serves, and the data is there.
    let copy_url = format!("sqlite://{to}?mode=rwc");
    let mut node = Process::spawn(&copy_url, None, "", &[]);
    node.ready().await;
    let store = Store::connect(&copy_url).await.unwrap();
    let users = store.find_users_named("kept-in-backup", 2).await.unwrap();
    assert_eq!(users.len(), 1);
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

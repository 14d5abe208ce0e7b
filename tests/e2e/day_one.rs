//! Day one for an operator (issue 11): `config check` on good and bad settings (every problem,
//! each naming its setting and source), settings and database errors that say where, an
//! invalid `GATEHOUSE_LOG` refused, the issuer following `GATEHOUSE_LISTEN`, `serve --help`
//! naming the environment, shell completions, `/` and `/admin/docs`, and
//! `perform authorization-code` driven through the login and consent pages.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Outcome, PASSWORD, TestServer, browser, http, run_flow};

/// A fresh directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("gh-day1-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary run in `dir` with `env` and no inherited Gatehouse variables.
fn gatehouse(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("GATEHOUSE_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn config_check_summarises_a_good_configuration_and_the_issuer_follows_listen() {
    let dir = temp_dir("good");
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::write(
        dir.join("config/gatehouse.toml"),
        "listen = \"127.0.0.1:18080\"\n[server]\nbody_timeout = 20\n",
    )
    .unwrap();
    let out = gatehouse(&dir, &["config", "check"], &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.starts_with("configuration OK"), "{stdout}");
    assert!(
        stdout.contains("file:     config/gatehouse.toml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("issuer:   http://127.0.0.1:18080 (follows listen)"),
        "{stdout}"
    );
    // The default SQLite path, resolved once against the working directory.
    let db = dir.join("data/gatehouse.db");
    assert!(
        stdout.contains(&format!("database: sqlite://{}", db.display())),
        "{stdout}"
    );
    assert!(stdout.contains("(created on first start)"), "{stdout}");
    // An explicit issuer wins over the listen address.
    let out = gatehouse(
        &dir,
        &["config", "check"],
        &[("GATEHOUSE_ISSUER", "https://id.example.com/")],
    );
    assert!(
        text(&out.stdout).contains("issuer:   https://id.example.com\n"),
        "{}",
        text(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_check_reports_every_problem_with_its_setting_and_source() {
    let dir = temp_dir("bad");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "[server]\nbody_timeout = 0\n[tokens]\naccess_token_ttl = 1\n[tls]\ncert_file = \"c.pem\"\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let out = gatehouse(
        &dir,
        &["config", "check", "--config", &path],
        &[
            ("GATEHOUSE_ISSUER", "ftp://id.example.com"),
            ("GATEHOUSE_LOG", "verbose"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no summary on failure");
    let stderr = text(&out.stderr);
    for expected in [
        format!("error: server.body_timeout (from file {path}): must be between 1 and"),
        format!("error: tokens.access_token_ttl (from file {path}): must be at least 60"),
        "error: tls.key_file (from built-in default): must be set when tls.cert_file is".into(),
        "error: issuer (from environment variable GATEHOUSE_ISSUER): must be an http(s) URL"
            .into(),
        "error: GATEHOUSE_LOG (from environment variable GATEHOUSE_LOG): \"verbose\" is not a level"
            .into(),
        "error: the configuration has 5 problem(s)".into(),
    ] {
        assert!(stderr.contains(&expected), "{expected}\nin:\n{stderr}");
    }
    assert_eq!(stderr.lines().count(), 6, "one line per problem:\n{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_check_reports_type_errors_and_unknown_keys_of_every_section() {
    let dir = temp_dir("types");
    let file = dir.join("g.toml");
    std::fs::write(
        &file,
        "workers = \"many\"\ncolour = \"blue\"\n[server]\nbody_timout = 5\n[tokens]\naccess_token_ttl = \"1h\"\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let out = gatehouse(&dir, &["config", "check", "--config", &path], &[]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    for expected in [
        format!("error: workers (from file {path}): invalid type"),
        format!("error: colour (from file {path}): unknown setting"),
        format!(
            "error: server.body_timout (from file {path}): unknown setting `body_timout` (known: header_timeout, body_timeout"
        ),
        format!("error: tokens.access_token_ttl (from file {path}): invalid type"),
    ] {
        assert!(stderr.contains(&expected), "{expected}\nin:\n{stderr}");
    }
    // A file that does not parse: once, on one line, with where.
    std::fs::write(&file, "issuer = \"http://x\n").unwrap();
    let out = gatehouse(&dir, &["config", "check", "--config", &path], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: configuration (from file {path}): TOML parse error at line 1, column"
        )),
        "{stderr}"
    );
    // A missing --config file names the flag; other commands refuse the same way.
    let out = gatehouse(&dir, &["tenant", "list", "--config", "nowhere.toml"], &[]);
    assert!(
        text(&out.stderr).starts_with("error: --config (from file nowhere.toml): no such file"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_invalid_log_filter_stops_every_command() {
    let dir = temp_dir("log");
    for filter in ["verbose", "info,gatehouse=loud"] {
        let out = gatehouse(&dir, &["tenant", "list"], &[("GATEHOUSE_LOG", filter)]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with("error: GATEHOUSE_LOG (from environment variable GATEHOUSE_LOG)"),
            "{filter}: {stderr}"
        );
    }
    assert!(!dir.join("data").exists(), "nothing was opened or created");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_database_error_names_the_resolved_path_once() {
    let dir = temp_dir("db");
    // A file where the database's directory should be: SQLite cannot open it.
    std::fs::write(dir.join("data"), "not a directory").unwrap();
    let out = gatehouse(
        &dir,
        &["tenant", "list"],
        &[("GATEHOUSE_DATABASE_URL", "sqlite://data/g.db?mode=rwc")],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let resolved = format!("sqlite://{}?mode=rwc", dir.join("data/g.db").display());
    assert!(
        stderr.contains(&format!("error: database_url: cannot open {resolved}: ")),
        "{stderr}"
    );
    assert!(!stderr.contains("database: database"), "{stderr}");
    // A command that would create a new database says so.
    std::fs::remove_file(dir.join("data")).unwrap();
    let out = gatehouse(&dir, &["tenant", "list"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: database_url: {} does not exist, creating a new empty database",
            dir.join("data/gatehouse.db").display()
        )),
        "{stderr}"
    );
    let out = gatehouse(&dir, &["tenant", "list"], &[]);
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_help_names_the_environment_and_completions_cover_every_shell() {
    let dir = std::env::temp_dir();
    let out = gatehouse(&dir, &["serve", "--help"], &[]);
    let help = text(&out.stdout);
    for var in [
        "GATEHOUSE_ISSUER",
        "GATEHOUSE_LISTEN",
        "GATEHOUSE_DATABASE_URL",
        "GATEHOUSE_MASTER_KEY",
        "GATEHOUSE_LOG",
        "GATEHOUSE_LOG_FORMAT",
        "GATEHOUSE_REDIS_URL",
    ] {
        assert!(help.contains(var), "{var} in\n{help}");
    }
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef gatehouse"),
        ("fish", "complete -c gatehouse"),
    ] {
        let out = gatehouse(&dir, &["completions", shell], &[]);
        assert!(out.status.success());
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}");
        assert!(
            script.contains("authorization-code"),
            "{shell}: every command"
        );
    }
    let out = gatehouse(&dir, &["completions", "powershell"], &[]);
    assert!(!out.status.success());
}

#[tokio::test]
async fn serve_with_only_listen_set_publishes_an_issuer_on_that_port_and_logs_its_database() {
    let dir = temp_dir("serve");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("GATEHOUSE_ISSUER")
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env_remove("GATEHOUSE_LOG")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let meta: serde_json::Value = loop {
        if let Ok(r) = http()
            .get(format!("{base}/.well-known/openid-configuration"))
            .send()
            .await
        {
            break r.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(meta["issuer"], base);
    assert_eq!(meta["token_endpoint"], format!("{base}/oauth/token"));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait();
    let mut log = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        log.push_str(&line.unwrap());
        log.push('\n');
    }
    let db = dir.join("data/gatehouse.db");
    assert!(
        log.contains("database opened") && log.contains(&db.display().to_string()),
        "{log}"
    );
    assert!(log.contains("issuer follows the listen address"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_root_and_admin_docs_without_slash_answer_with_security_headers() {
    let server = TestServer::start().await;
    let r = http().get(server.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert!(r.headers().contains_key("content-security-policy"));
    let body = r.text().await.unwrap();
    assert!(body.contains("/.well-known/openid-configuration"), "{body}");
    assert!(body.contains(&server.base), "names the issuer");
    let r = http().get(server.url("/admin/docs")).send().await.unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "/admin/docs/");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let r = http().get(server.url("/admin/docs/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// Starts `perform authorization-code` against `server` and returns it with the URL it
/// printed and the rest of its standard error (when it ends).
fn start_perform(
    server: &TestServer,
    args: &[&str],
) -> (std::process::Child, String, std::thread::JoinHandle<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["perform", "authorization-code", "--issuer", &server.base])
        .args(args)
        .args(["--port", "0", "--timeout", "60"])
        .env_remove("GATEHOUSE_CLIENT_SECRET")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the authorization URL").unwrap();
        if line.starts_with(&server.base) {
            break line;
        }
    };
    // Keep reading standard error so the child never blocks on it.
    let rest =
        std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    (child, url, rest)
}

fn param(url: &str, name: &str) -> String {
    crate::support::query_param(url, name).unwrap_or_default()
}

#[tokio::test]
async fn perform_authorization_code_signs_in_and_prints_the_tokens() {
    let server = TestServer::start().await;
    let client = server.client(|_| {}).await;
    server.user("alice").await;
    let secret = client.secret.clone().unwrap();
    let (child, url, _) = start_perform(
        &server,
        &[
            "--client-id",
            &client.id,
            "--client-secret",
            &secret,
            "--scope",
            "openid email offline_access",
        ],
    );
    assert_eq!(param(&url, "code_challenge_method"), "S256");
    assert_eq!(param(&url, "code_challenge").len(), 43);
    assert!(param(&url, "state").len() >= 22 && param(&url, "nonce").len() >= 22);
    let redirect = param(&url, "redirect_uri");
    assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"));
    let b = browser();
    let Outcome::Redirect(to) = run_flow(&b, &server, &url, "alice", PASSWORD, "allow").await
    else {
        panic!("no redirect");
    };
    assert!(to.starts_with(&redirect), "{to}");
    // The browser follows the redirect to the command's listener.
    let page = http().get(&to).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success());
    let tokens: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for field in ["access_token", "id_token", "refresh_token"] {
        assert!(tokens[field].is_string(), "{field}: {tokens}");
    }
    // The access token works.
    let r = http()
        .get(server.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let info: serde_json::Value = r.json().await.unwrap();
    assert_eq!(info["email"], "alice@example.com");
}

#[tokio::test]
async fn perform_authorization_code_refuses_a_redirect_with_another_state() {
    let server = TestServer::start().await;
    let client = server.client(|_| {}).await;
    let secret = client.secret.clone().unwrap();
    let (child, url, stderr) = start_perform(
        &server,
        &["--client-id", &client.id, "--client-secret", &secret],
    );
    let redirect = param(&url, "redirect_uri");
    // An attacker's redirect: a code of their own, without the request's state.
    let forged = format!("{redirect}?code=stolen&state=guessed");
    let _ = http().get(&forged).send().await.unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no tokens");
    let stderr = stderr.join().unwrap();
    assert!(
        stderr.contains("error: the redirect's state does not match"),
        "{stderr}"
    );
}

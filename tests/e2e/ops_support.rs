//! Harness of the operations tests: the `gatehouse` binary as a node of its own (signals,
//! logs, exit codes), a second in-process node on a server's database, code flows against any
//! node, and the metrics text.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_server::{AppState, Application, Settings};
use serde_json::Value;

use crate::support::*;

/// A port free at the time of asking.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `gatehouse serve` in a process of its own.
pub struct Process {
    child: Child,
    pub base: String,
    pub port: u16,
    pub log: PathBuf,
    dir: PathBuf,
}

impl Process {
    /// Starts the binary on `db_url` with `config` (TOML) and extra environment; its standard
    /// error goes to [`Process::log`]. The issuer is `issuer`, else its own address.
    pub fn spawn(db_url: &str, issuer: Option<&str>, config: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let dir = std::env::temp_dir().join(format!("gh-node-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config_file = dir.join("gatehouse.toml");
        std::fs::write(&config_file, config).unwrap();
        let log = dir.join("stderr.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        cmd.arg("--config")
            .arg(&config_file)
            .arg("serve")
            .current_dir(&dir)
            .env_remove("GATEHOUSE_LOG")
            .env_remove("GATEHOUSE_LOG_FORMAT")
            .env_remove("GATEHOUSE_REDIS_URL")
            .env_remove("GATEHOUSE_MASTER_KEY")
            .env("GATEHOUSE_DATABASE_URL", db_url)
            .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
            .env("GATEHOUSE_ISSUER", issuer.unwrap_or(&base))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start gatehouse");
        Self {
            child,
            base,
            port,
            log,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits until `/health/ready` answers 200 (at most 60 s; the log is shown otherwise).
    pub async fn ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http().get(self.url("/health/ready")).send().await
                && r.status() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("gatehouse exited ({status}): {}", self.log_text());
            }
            assert!(Instant::now() < deadline, "not ready: {}", self.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`TERM`, `HUP`, `KILL`) to the process.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{signal} failed");
    }

    /// Waits for the process to exit, at most `within`.
    pub async fn exit_status(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running after {within:?}: {}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Everything the process wrote to standard error so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Another in-process node on the database of `server`, with its own listener, clock and
/// caches (a second machine of the cluster).
pub struct Node {
    pub base: String,
    pub state: actix_web::web::Data<AppState>,
    pub clock: Arc<TestClock>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Node {
    pub async fn start(db_url: &str, issuer: &str, tweak: impl FnOnce(&mut Settings)) -> Node {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let mut settings = Settings {
            issuer: issuer.to_owned(),
            database_url: db_url.to_owned(),
            workers: 2,
            ..Settings::default()
        };
        tweak(&mut settings);
        let clock = Arc::new(TestClock::default());
        let app = Application::build_with_listener(settings, listener, clock.clone())
            .await
            .expect("build node");
        let state = app.state();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run(async move {
            let _ = rx.await;
        }));
        Node {
            base,
            state,
            clock,
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Runs the code flow (PKCE, state, nonce) at `base` for `client` and `user`; returns the
/// token response and the secrets the flow used (`verifier`, `state`, `nonce`, `code`).
pub async fn code_flow_at(
    base: &str,
    client: &TestClient,
    user: &str,
    scope: &str,
) -> (Value, Vec<String>) {
    let (verifier, challenge) = pkce();
    let state = format!("state-{}", uuid_ish());
    let nonce = format!("nonce-{}", uuid_ish());
    let mut u = url::Url::parse(&format!("{base}/oauth/authorize")).unwrap();
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let code = match run_flow_at(&browser(), base, u.as_str(), user, PASSWORD, "allow").await {
        Outcome::Redirect(loc) => query_param(&loc, "code").expect("code"),
        Outcome::Page(s, body) => panic!("expected a redirect, got {s}: {body}"),
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, body) = post_form(base, client, "/oauth/token", &form).await;
    assert_eq!(status, 200, "{body}");
    (body, vec![verifier, state, nonce, code])
}

fn uuid_ish() -> String {
    let (a, _) = pkce();
    a.chars().rev().take(16).collect()
}

/// POSTs `form` to `base` + `path` with HTTP Basic for `client`: (status, JSON or Null).
pub async fn post_form(
    base: &str,
    client: &TestClient,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let resp = http()
        .post(format!("{base}{path}"))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The metrics text of `base`.
pub async fn metrics_text(base: &str) -> String {
    let resp = http().get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

/// The value of the sample `series` (name and labels exactly as rendered), if present.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

// ---- Setup through the operator actions, for nodes that are processes ----

/// Registers a confidential client of the default tenant.
pub async fn register(
    store: &gatehouse_store::Store,
    grant_types: &[&str],
    scope: &str,
    tweak: impl FnOnce(&mut gatehouse_core::client::ClientRegistration),
) -> TestClient {
    let mut reg = gatehouse_core::client::ClientRegistration {
        name: "Ops app".into(),
        tenant_id: gatehouse_core::TenantId::parse("default").unwrap(),
        grant_types: grant_types.iter().map(|g| g.to_string()).collect(),
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec![],
        scope: Some(scope.into()),
        auth_method: None,
        id_token_alg: None,
        access_token_alg: None,
        access_token_ttl: None,
        pkce_optional: false,
        refresh_grace_seconds: None,
        refresh_idle_ttl: None,
        refresh_absolute_ttl: None,
        may_act: None,
    };
    tweak(&mut reg);
    TestClient::from(&operator_client(store, reg).await.unwrap())
}

/// An API key of the default tenant with `scope`; returns the secret.
pub async fn api_key(store: &gatehouse_store::Store, scope: &str) -> String {
    let actor = gatehouse_admin::Actor::operator();
    let ctx = gatehouse_admin::Context::new(store, &actor, chrono::Utc::now());
    let policy = gatehouse_server::settings::ApiKeySettings::default()
        .policy()
        .unwrap();
    let req = gatehouse_core::apikey::ApiKeyRequest {
        name: "ops".into(),
        scope: Some(scope.into()),
        ..Default::default()
    };
    let tenant = gatehouse_core::TenantId::parse("default").unwrap();
    gatehouse_admin::api_keys::create(&ctx, &policy, &tenant, req)
        .await
        .unwrap()
        .secret
        .expose()
        .to_owned()
}

/// A user of the default tenant (password [`PASSWORD`]) holding `admin_scopes`.
pub async fn user_with(store: &gatehouse_store::Store, username: &str, admin_scopes: &[&str]) {
    let new = gatehouse_admin::users::NewUser {
        username: username.into(),
        email: Some(format!("{username}@example.com")),
        password: PASSWORD.into(),
        profile: gatehouse_admin::users::ProfileInput {
            admin_scopes: admin_scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        },
    };
    operator_user(store, "default", new).await.unwrap();
}

//! Test harness: start the server, register clients and users, and act as a browser.

#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use gatehouse_admin::clients::NewClientRequest;
use gatehouse_admin::users::{NewUser, ProfileInput};
use gatehouse_admin::views::{CreatedClient, UserView};
use gatehouse_admin::{Actor, Context, OpError};
use gatehouse_core::TenantId;
use gatehouse_core::client::ClientRegistration;
use gatehouse_core::ports::Clock;
use gatehouse_server::{Application, Settings};
use gatehouse_store::Store;
use gatehouse_store::test_support::TestDb;

pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
pub const PASSWORD: &str = "correct horse battery staple";

/// A clock tests can move forward.
#[derive(Default)]
pub struct TestClock {
    offset_secs: AtomicI64,
}

impl TestClock {
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.offset_secs.load(Ordering::SeqCst))
    }
}

pub struct TestServer {
    pub base: String,
    pub store: Store,
    pub clock: Arc<TestClock>,
    pub db_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// The running server's shared state (its store, with the audit writer).
    server: actix_web::web::Data<gatehouse_server::AppState>,
    // Dropped last: the database outlives the server.
    _db: TestDb,
}

#[derive(Clone)]
pub struct TestClient {
    pub id: String,
    pub secret: Option<String>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::new().await;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let base = format!("http://127.0.0.1:{port}");
        let mut settings = Settings {
            issuer: base.clone(),
            database_url: db.url.clone(),
            workers: 2,
            ..Settings::default()
        };
        // Tests write through their own `Store` (another "node"): check the caches' generations
        // before every read so what a test writes holds on its next request.
        settings.cache.check_interval_ms = 0;
        tweak(&mut settings);
        let clock = Arc::new(TestClock::default());
        let (tx, server) = run_server(settings, listener, clock.clone()).await;
        let store = Store::connect(&db.url).await.expect("store");
        Self {
            base,
            store,
            clock,
            db_url: db.url.clone(),
            shutdown: Some(tx),
            server,
            _db: db,
        }
    }

    /// Waits until the server has written every audit event queued so far (routine events
    /// are written in batches, after the response).
    pub async fn flush_audit(&self) {
        self.server.store.flush_audit().await;
    }

    /// The server's (test) clock now.
    pub fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn client(&self, f: impl FnOnce(&mut ClientRegistration)) -> TestClient {
        let mut reg = ClientRegistration {
            name: "Test App".into(),
            tenant_id: TenantId::parse("default").unwrap(),
            grant_types: vec![],
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: vec![],
            scope: Some("openid profile email offline_access api:read api:write".into()),
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
        f(&mut reg);
        let out = operator_client(&self.store, reg)
            .await
            .expect("create client");
        TestClient::from(&out)
    }

    pub async fn user(&self, username: &str) -> String {
        let new = NewUser {
            username: username.into(),
            email: Some(format!("{username}@example.com")),
            password: PASSWORD.into(),
            ..NewUser::default()
        };
        let out = operator_user(&self.store, "default", new)
            .await
            .expect("create user");
        out.id.to_string()
    }
}

impl From<&CreatedClient> for TestClient {
    fn from(c: &CreatedClient) -> Self {
        TestClient {
            id: c.client.client_id.to_string(),
            secret: c.client_secret.as_ref().map(|s| s.expose().to_owned()),
        }
    }
}

/// Registers a client (in `reg.tenant_id`) as the local operator does at the CLI.
pub async fn operator_client(
    store: &Store,
    reg: ClientRegistration,
) -> Result<CreatedClient, OpError> {
    let actor = Actor::operator();
    let ctx = Context::new(store, &actor, Utc::now());
    let req = NewClientRequest {
        registration: reg,
        keys: None,
    };
    gatehouse_admin::clients::create(&ctx, req, None).await
}

/// Creates a user of `tenant` as the local operator does at the CLI.
pub async fn operator_user(store: &Store, tenant: &str, new: NewUser) -> Result<UserView, OpError> {
    let actor = Actor::operator();
    let ctx = Context::new(store, &actor, Utc::now());
    let tenant = TenantId::parse(tenant).expect("tenant id");
    gatehouse_admin::users::create(&ctx, &tenant, new, &gatehouse_admin::BlockingHasher).await
}

/// Builds and runs the server on a thread and runtime of its own, as `gatehouse serve` runs it,
/// and answers once it serves: its shutdown trigger and shared state. Not on the test's
/// runtime: a test that blocks its thread (waiting for a `gatehouse` command, say) would
/// otherwise stall the server's background tasks — the audit writer in the middle of a write
/// transaction, holding SQLite's write lock against that very command.
async fn run_server(
    settings: Settings,
    listener: TcpListener,
    clock: Arc<TestClock>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    actix_web::web::Data<gatehouse_server::AppState>,
) {
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let app = Application::build_with_listener(settings, listener, clock)
                .await
                .expect("build app");
            if ready_tx.send(app.state()).is_err() {
                return;
            }
            let _ = app
                .run(async move {
                    let _ = rx.await;
                })
                .await;
        });
    });
    let state = ready_rx
        .await
        .expect("the server failed to start (see above)");
    (tx, state)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A browser: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A plain HTTP client for machine endpoints.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `value` of the input named `name` in an HTML page, unescaped.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find(';') else { break };
        let ent = &rest[i + 1..i + j];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            _ => ent
                .strip_prefix('#')
                .and_then(|n| n.parse::<u32>().ok())
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => out.push(c),
            None => out.push_str(&rest[i..i + j + 1]),
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

/// The Location header of a redirect response.
pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A response parameter of a redirect to the client: from the fragment when there is one
/// (responses with tokens, and their errors), else from the query.
pub fn response_param(url: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    match u.fragment() {
        Some(f) => url::form_urlencoded::parse(f.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned()),
        None => query_param(url, name),
    }
}

/// The outcome of one trip through the authorization endpoint.
pub enum Outcome {
    /// A redirect back to the client.
    Redirect(String),
    /// A page (status, body).
    Page(u16, String),
}

/// Follows the flow a person would: the authorize URL, the login form (if shown), the consent
/// form (if shown, answered with `decision`), until a redirect to the client or a page that
/// is neither form.
pub async fn run_flow(
    b: &reqwest::Client,
    server: &TestServer,
    authorize_url: &str,
    username: &str,
    password: &str,
    decision: &str,
) -> Outcome {
    run_flow_at(b, &server.base, authorize_url, username, password, decision).await
}

/// [`run_flow`] against the server at `base` (another node, or the binary).
pub async fn run_flow_at(
    b: &reqwest::Client,
    base: &str,
    authorize_url: &str,
    username: &str,
    password: &str,
    decision: &str,
) -> Outcome {
    let mut resp = b.get(authorize_url).send().await.unwrap();
    for _ in 0..4 {
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            return Outcome::Redirect(location(&resp));
        }
        let body = resp.text().await.unwrap();
        if body.contains("action=\"/login\"") && status == 200 {
            let form = [
                ("username", username.to_owned()),
                ("password", password.to_owned()),
                ("csrf_token", hidden(&body, "csrf_token").unwrap()),
                ("request", hidden(&body, "request").unwrap()),
            ];
            resp = b
                .post(format!("{base}/login"))
                .form(&form)
                .send()
                .await
                .unwrap();
        } else if body.contains("action=\"/consent\"") {
            let form = [
                ("decision", decision.to_owned()),
                ("csrf_token", hidden(&body, "csrf_token").unwrap()),
                ("request", hidden(&body, "request").unwrap()),
            ];
            resp = b
                .post(format!("{base}/consent"))
                .form(&form)
                .send()
                .await
                .unwrap();
        } else {
            return Outcome::Page(status, body);
        }
    }
    panic!("the flow did not end");
}

/// A PKCE pair (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier = format!("verifier-{}-{}", uuid_like(), uuid_like());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static N: AtomicI64 = AtomicI64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!(
        "{:x}{:x}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
        n
    )
}

/// An authorize URL for `client` with PKCE; returns (url, verifier).
pub fn authorize_url(
    server: &TestServer,
    client: &TestClient,
    scope: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut u = url::Url::parse(&server.url("/oauth/authorize")).unwrap();
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &client.id)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", scope)
            .append_pair("state", "st-123")
            .append_pair("nonce", "n-456")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    (u.to_string(), verifier)
}

/// Logs in and consents; returns the code.
pub async fn get_code(
    server: &TestServer,
    client: &TestClient,
    username: &str,
    scope: &str,
) -> (String, String) {
    let (url, verifier) = authorize_url(server, client, scope, &[]);
    match run_flow(&browser(), server, &url, username, PASSWORD, "allow").await {
        Outcome::Redirect(loc) => (
            query_param(&loc, "code").expect("code in redirect"),
            verifier,
        ),
        Outcome::Page(s, body) => panic!("expected a redirect, got {s}: {body}"),
    }
}

/// POSTs a token request with HTTP Basic client authentication.
pub async fn token_request(
    server: &TestServer,
    client: &TestClient,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let mut req = http().post(server.url("/oauth/token")).form(form);
    if let Some(secret) = &client.secret {
        req = req.basic_auth(&client.id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp
        .json::<serde_json::Value>()
        .await
        .unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// Exchanges a code at the token endpoint.
pub async fn redeem(
    server: &TestServer,
    client: &TestClient,
    code: &str,
    verifier: &str,
) -> (u16, serde_json::Value) {
    token_request(
        server,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

// ---- Token lifecycle helpers (revocation, introspection, refresh policy) ----

/// POSTs `form` to `path` authenticated as `client`: HTTP Basic for confidential clients,
/// `client_id` in the body for public ones. Returns (status, Cache-Control, JSON body or Null).
pub async fn client_post(
    server: &TestServer,
    client: &TestClient,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, serde_json::Value) {
    let mut form: Vec<(&str, &str)> = form.to_vec();
    let mut req = http().post(server.url(path));
    match &client.secret {
        Some(secret) => req = req.basic_auth(&client.id, Some(secret)),
        None => form.push(("client_id", &client.id)),
    }
    let resp = req.form(&form).send().await.unwrap();
    let status = resp.status().as_u16();
    let cache = resp
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    (status, cache, body)
}

/// Revokes `token` (with an optional `token_type_hint`); returns the status.
pub async fn revoke_token(
    server: &TestServer,
    client: &TestClient,
    token: &str,
    hint: Option<&str>,
) -> u16 {
    let mut form = vec![("token", token)];
    if let Some(h) = hint {
        form.push(("token_type_hint", h));
    }
    client_post(server, client, "/oauth/revoke", &form).await.0
}

/// Introspects `token`; asserts a 200 and returns the body.
pub async fn introspect_token(
    server: &TestServer,
    client: &TestClient,
    token: &str,
) -> serde_json::Value {
    let (status, _, body) =
        client_post(server, client, "/oauth/introspect", &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The status of a userinfo request with `access_token`.
pub async fn userinfo_status(server: &TestServer, access_token: &str) -> u16 {
    http()
        .get(server.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Runs the code flow for `user` and returns the token response (asserting a 200).
pub async fn issue_tokens(
    server: &TestServer,
    client: &TestClient,
    user: &str,
    scope: &str,
) -> serde_json::Value {
    let (code, verifier) = get_code(server, client, user, scope).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, _, body) = client_post(server, client, "/oauth/token", &form).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A refresh-token grant request.
pub async fn refresh_with(
    server: &TestServer,
    client: &TestClient,
    refresh_token: &str,
) -> (u16, serde_json::Value) {
    token_request(
        server,
        client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// A string member of a JSON body.
pub fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

impl TestServer {
    /// Like [`TestServer::start_with`], also returning the server's shared state, through which
    /// tests run the key scheduler (`state.run_key_scheduler()`) after moving `clock`.
    pub async fn start_with_state(
        tweak: impl FnOnce(&mut Settings),
    ) -> (Self, actix_web::web::Data<gatehouse_server::AppState>) {
        let db = TestDb::new().await;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let base = format!("http://127.0.0.1:{port}");
        let mut settings = Settings {
            issuer: base.clone(),
            database_url: db.url.clone(),
            workers: 2,
            ..Settings::default()
        };
        // Tests write through their own `Store` (another "node"): check the caches' generations
        // before every read so what a test writes holds on its next request.
        settings.cache.check_interval_ms = 0;
        tweak(&mut settings);
        let clock = Arc::new(TestClock::default());
        let (tx, state) = run_server(settings, listener, clock.clone()).await;
        let store = Store::connect(&db.url).await.expect("store");
        let server = Self {
            base,
            store,
            clock,
            db_url: db.url.clone(),
            shutdown: Some(tx),
            server: state.clone(),
            _db: db,
        };
        (server, state)
    }
}

// ---- The `gatehouse` binary, as operators' scripts run it ----

/// Runs the built `gatehouse` binary against `db_url` (from a neutral directory, with no
/// issuer override), feeding `stdin` if given; standard input is closed otherwise.
pub fn run_cli(db_url: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATABASE_URL", db_url)
        .env_remove("GATEHOUSE_ISSUER")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gatehouse");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// The one JSON object a successful `--json` command prints (asserts success and one line).
pub fn cli_json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(
        text.trim().lines().count(),
        1,
        "exactly one JSON object: {text}"
    );
    serde_json::from_str(text.trim()).unwrap()
}

/// The server's OpenID configuration document (`/.well-known/openid-configuration`).
pub async fn openid_configuration(s: &TestServer) -> serde_json::Value {
    http()
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Whether the array member `field` of a metadata document lists `value`.
pub fn lists(meta: &serde_json::Value, field: &str, value: &str) -> bool {
    meta[field]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == value))
}

/// Creates a user of `tenant` holding `scopes` (space-separated admin scopes; "" for none).
pub async fn admin_user(server: &TestServer, username: &str, tenant: &str, scopes: &str) -> String {
    let new = NewUser {
        username: username.into(),
        password: PASSWORD.into(),
        profile: ProfileInput {
            admin_scopes: scopes.split_whitespace().map(str::to_owned).collect(),
            ..Default::default()
        },
        ..NewUser::default()
    };
    let out = operator_user(&server.store, tenant, new)
        .await
        .expect("create user");
    out.id.to_string()
}

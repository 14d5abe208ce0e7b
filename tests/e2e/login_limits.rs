//! Sign-in throttling (`[login_throttle]`, docs/security.md): only failures count, per username
//! at an address and per address, with doubling waits. A throttled attempt gets the form again
//! with 429 and `Retry-After` before any password is checked, so even the right password
//! waits; but successes are never counted, and failures from one address never refuse the
//! same user elsewhere. `/login` and the console share the counters. Several client addresses
//! are simulated with `X-Forwarded-For` from a trusted proxy (127.0.0.1).

use gatehouse_core::audit::AuditEvent;

use crate::support::*;

const CONSOLE_SIGN_IN: &str = "/admin/console/sign-in";

/// The default allowances, but a first wait of a minute, so that a wait cannot run out while a
/// slow test machine is still making its next request.
fn minute_waits(st: &mut gatehouse_server::Settings) {
    st.login_throttle.initial_wait_seconds = 60;
}

/// Such a server that also believes `X-Forwarded-For` from the test client.
async fn behind_proxy() -> TestServer {
    TestServer::start_with(|st| {
        minute_waits(st);
        st.network.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await
}

/// A `Retry-After` of the first wait.
fn first_wait(retry: Option<String>) -> bool {
    retry
        .and_then(|r| r.parse::<u64>().ok())
        .is_some_and(|r| (1..=60).contains(&r))
}

/// One `/login` attempt from `from` for `client`: (status, Retry-After, body).
async fn login_from(
    s: &TestServer,
    client: &TestClient,
    from: &str,
    username: &str,
    password: &str,
) -> (u16, Option<String>, String) {
    let b = browser();
    let (url, _) = authorize_url(s, client, "openid", &[]);
    let page = b.get(&url).send().await.unwrap().text().await.unwrap();
    let form = [
        ("username", username.to_owned()),
        ("password", password.to_owned()),
        (
            "csrf_token",
            hidden(&page, "csrf_token").expect("a login form"),
        ),
        ("request", hidden(&page, "request").unwrap()),
    ];
    let resp = b
        .post(s.url("/login"))
        .header("x-forwarded-for", from)
        .form(&form)
        .send()
        .await
        .unwrap();
    answer(resp).await
}

/// One console sign-in attempt from `from`: (status, Retry-After, body).
async fn console_from(
    s: &TestServer,
    from: &str,
    username: &str,
    password: &str,
) -> (u16, Option<String>, String) {
    let b = browser();
    let page = b
        .get(s.url(CONSOLE_SIGN_IN))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf_token").expect("a sign-in form");
    let resp = b
        .post(s.url(CONSOLE_SIGN_IN))
        .header("x-forwarded-for", from)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    answer(resp).await
}

async fn answer(resp: reqwest::Response) -> (u16, Option<String>, String) {
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, resp.text().await.unwrap())
}

async fn denied_sign_ins(s: &TestServer, action: &str) -> Vec<AuditEvent> {
    let all = s.store.audit().list_after(0, 1000, None).await.unwrap();
    all.into_iter()
        .filter(|e| e.event.action == action && e.event.outcome.as_str() == "denied")
        .collect()
}

#[tokio::test]
async fn a_hundred_successful_sign_ins_from_one_address_are_never_throttled() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("office").await;
    for i in 0..100 {
        let (status, _, body) = login_from(&s, &c, "127.0.0.1", "office", PASSWORD).await;
        // Consent is asked for every new browser; what matters is: not refused.
        assert_eq!(status, 200, "sign-in {i}: {body}");
        assert!(body.contains("action=\"/consent\""), "sign-in {i}: {body}");
    }
}

#[tokio::test]
async fn guessing_one_account_makes_that_address_wait_even_with_the_right_password() {
    let s = TestServer::start_with(minute_waits).await;
    let c = s.client(|_| {}).await;
    s.user("zoe").await;
    // Five free failures; the sixth starts a wait.
    for _ in 0..6 {
        let (status, retry, body) = login_from(&s, &c, "127.0.0.1", "zoe", "wrong password").await;
        assert_eq!((status, retry), (401, None), "{body}");
        assert!(body.contains("Invalid username or password"), "{body}");
    }
    // Another letter case is the same account; the right password waits too.
    let (status, retry, body) = login_from(&s, &c, "127.0.0.1", "ZOE", PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert!(first_wait(retry));
    assert!(body.contains("Too many failed sign-in attempts"), "{body}");
    assert!(
        body.contains("action=\"/login\""),
        "the form is still there"
    );
    let denied = denied_sign_ins(&s, "login").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].event.details["reason"], "rate_limited");
    // Once the wait is over, the right password works.
    s.clock.advance(61);
    let (status, _, body) = login_from(&s, &c, "127.0.0.1", "zoe", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("action=\"/consent\""), "{body}");
}

#[tokio::test]
async fn the_victim_is_not_locked_out_by_guesses_from_elsewhere() {
    let s = behind_proxy().await;
    let c = s.client(|_| {}).await;
    s.user("alice").await;
    let mut throttled = 0;
    for _ in 0..40 {
        let (status, _, _) = login_from(&s, &c, "203.0.113.66", "alice", "hunter2").await;
        assert!(status == 401 || status == 429, "{status}");
        throttled += usize::from(status == 429);
    }
    assert!(throttled > 0, "the guessing address was never slowed");
    // Alice, from her own address, at once.
    let (status, _, body) = login_from(&s, &c, "198.51.100.7", "alice", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("action=\"/consent\""), "{body}");
}

#[tokio::test]
async fn spraying_many_accounts_from_one_address_is_slowed_there_only() {
    let s = behind_proxy().await;
    let c = s.client(|_| {}).await;
    // Twenty free failures per address, whatever the usernames; the 21st starts a wait.
    for i in 0..21 {
        let (status, _, _) = login_from(&s, &c, "203.0.113.5", &format!("user{i}"), "pw").await;
        assert_eq!(status, 401, "attempt {i}");
    }
    let (status, retry, _) = login_from(&s, &c, "203.0.113.5", "fresh-name", "pw").await;
    assert_eq!(status, 429);
    assert!(first_wait(retry));
    let (status, _, _) = login_from(&s, &c, "192.0.2.44", "fresh-name", "pw").await;
    assert_eq!(status, 401, "another address is not affected");
}

#[tokio::test]
async fn console_brute_force_is_refused_before_the_password_and_shared_with_login() {
    let s = behind_proxy().await;
    admin_user(&s, "root", "default", "admin:all").await;
    let c = s.client(|_| {}).await;
    let attacker = "203.0.113.99";
    for i in 0..6 {
        let (status, _, _) = console_from(&s, attacker, "root", &format!("guess-{i}")).await;
        assert_eq!(status, 401, "guess {i}");
    }
    // The right password from the guessing address is refused while the wait lasts...
    let (status, retry, body) = console_from(&s, attacker, "root", PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert!(first_wait(retry));
    assert!(body.contains("Too many failed sign-in attempts"), "{body}");
    assert!(
        body.contains("name=\"csrf_token\""),
        "the form is still there"
    );
    // ...at the login page too (the counters are shared)...
    let (status, _, _) = login_from(&s, &c, attacker, "root", PASSWORD).await;
    assert_eq!(status, 429);
    // ...and audited as refused, without the password.
    let denied = denied_sign_ins(&s, "console.sign_in").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].event.details["reason"], "rate_limited");
    assert_eq!(denied[0].event.source_ip.as_deref(), Some(attacker));
    assert!(!serde_json::to_string(&denied).unwrap().contains(PASSWORD));
    // The same admin from another address signs in.
    let (status, _, body) = console_from(&s, "198.51.100.20", "root", PASSWORD).await;
    assert_eq!(status, 303, "{body}");
}

#[tokio::test]
async fn the_old_per_minute_keys_are_refused_with_their_replacement_named() {
    let dir = std::env::temp_dir().join(format!("gatehouse-old-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gatehouse.toml");
    std::fs::write(
        &path,
        "[rate_limits]\nlogin_attempts_per_ip_per_minute = 60\n",
    )
    .unwrap();
    let err = gatehouse_server::Settings::load(Some(&path)).unwrap_err();
    assert!(
        err.contains("rate_limits.login_attempts_per_ip_per_minute"),
        "{err}"
    );
    assert!(
        err.contains("login_throttle.address_free_failures"),
        "{err}"
    );
    std::fs::write(&path, "[login_throttle]\naddress_free_failures = 50\n").unwrap();
    let s = gatehouse_server::Settings::load(Some(&path)).unwrap();
    assert_eq!(s.login_throttle.address_free_failures, 50);
    std::fs::remove_dir_all(&dir).unwrap();
}

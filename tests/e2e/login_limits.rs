//! Login attempts are rate-limited per account and per client address (`[rate_limits]`): past
//! the limit the login page answers 429 with `Retry-After`, before any password is checked, so
//! even the right password does not get through until the window passes.

use crate::support::*;

/// Posts the login form shown by `page` and returns (status, Retry-After, body).
async fn attempt(
    b: &reqwest::Client,
    s: &TestServer,
    page: &str,
    username: &str,
    password: &str,
) -> (u16, Option<String>, String) {
    let form = [
        ("username", username.to_owned()),
        ("password", password.to_owned()),
        ("csrf_token", hidden(page, "csrf_token").unwrap()),
        ("request", hidden(page, "request").unwrap()),
    ];
    let resp = b.post(s.url("/login")).form(&form).send().await.unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, resp.text().await.unwrap())
}

#[tokio::test]
async fn guessing_one_account_is_stopped_and_the_right_password_waits_too() {
    let s = TestServer::start_with(|st| {
        st.rate_limits.login_attempts_per_user_per_minute = 3;
    })
    .await;
    let c = s.client(|_| {}).await;
    s.user("zoe").await;
    let b = browser();
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    let mut page = b.get(&url).send().await.unwrap().text().await.unwrap();
    for _ in 0..3 {
        let (status, retry, body) = attempt(&b, &s, &page, "zoe", "wrong password").await;
        assert_eq!((status, retry), (401, None));
        assert!(body.contains("Invalid username or password"), "{body}");
        page = body;
    }
    // Different letter case is the same account.
    let (status, retry, body) = attempt(&b, &s, &page, "ZOE", PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert!(body.contains("Too many sign-in attempts"), "{body}");
    // The page still carries a working form, and another account is not affected.
    s.user("yan").await;
    let (status, _, body) = attempt(&b, &s, &body, "yan", "wrong password").await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn spraying_many_accounts_from_one_address_is_stopped() {
    let s = TestServer::start_with(|st| {
        st.rate_limits.login_attempts_per_ip_per_minute = 4;
    })
    .await;
    let c = s.client(|_| {}).await;
    let b = browser();
    let (url, _) = authorize_url(&s, &c, "openid", &[]);
    let mut page = b.get(&url).send().await.unwrap().text().await.unwrap();
    let mut statuses = Vec::new();
    for i in 0..6 {
        let (status, _, body) = attempt(&b, &s, &page, &format!("user{i}"), "guess").await;
        statuses.push(status);
        page = body;
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 429, 429]);
}

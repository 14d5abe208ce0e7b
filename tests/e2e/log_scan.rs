//! The log keeps no secret: a full run of the binary at `debug` in JSON (code flow with PKCE,
//! state and nonce; refresh; userinfo; client credentials; introspection and revocation; an
//! API key at the admin API and in a token exchange; console sign-ins, right and wrong; an
//! authorization request carrying `id_token_hint` and `login_hint`) is scanned for every
//! secret and token it used, and none is found. Every line is JSON, and the request lines
//! carry their request id.

use std::time::Duration;

use serde_json::Value;

use crate::ops_support::*;
use crate::support::*;

const WRONG_PASSWORD: &str = "wrong-horse-battery-9f3c";

/// Every JWT, and each of its parts, as separate needles (a log might show one part only).
fn needles_of(token: &str) -> Vec<String> {
    let mut v = vec![token.to_owned()];
    if token.split('.').count() == 3 {
        v.extend(token.split('.').filter(|p| p.len() > 16).map(str::to_owned));
    }
    v
}

/// The tokens of a token response.
fn tokens_in(body: &Value) -> Vec<String> {
    ["access_token", "refresh_token", "id_token"]
        .iter()
        .filter_map(|f| body[*f].as_str())
        .flat_map(needles_of)
        .collect()
}

/// Signs in at the console with `password`; returns the session cookie's value
/// (`gatehouse_console`), if one was set.
async fn console_sign_in(base: &str, username: &str, password: &str) -> Option<String> {
    let b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = b
        .get(format!("{base}/admin/console/sign-in"))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf_token").expect("a sign-in form");
    let resp = b
        .post(format!("{base}/admin/console/sign-in"))
        .header("cookie", cookies.join("; "))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='))
        .find(|(name, v)| *name == "gatehouse_console" && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

#[tokio::test]
async fn a_full_run_at_debug_level_logs_no_secret() {
    let db = gatehouse_store::test_support::TestDb::new().await;
    let store = db.store().await;
    let web = register(
        &store,
        &["authorization_code", "refresh_token"],
        "openid profile email offline_access",
        |_| {},
    )
    .await;
    let machine = register(&store, &["client_credentials"], "api:read", |r| {
        r.redirect_uris.clear()
    })
    .await;
    user_with(&store, "log-lena", &["admin:all"]).await;
    let key = api_key(&store, "admin:all").await;
    let env = [("GATEHOUSE_LOG", "debug"), ("GATEHOUSE_LOG_FORMAT", "json")];
    let mut node = Process::spawn(&db.url, None, "", &env);
    node.ready().await;
    let base = node.base.clone();
    let mut secrets = vec![
        web.secret.clone().unwrap(),
        machine.secret.clone().unwrap(),
        PASSWORD.to_owned(),
        WRONG_PASSWORD.to_owned(),
        key.clone(),
    ];

    // The code flow, refresh, userinfo, introspection and revocation.
    let (tokens, flow) =
        code_flow_at(&base, &web, "log-lena", "openid profile offline_access").await;
    secrets.extend(flow);
    secrets.extend(tokens_in(&tokens));
    let refresh = str_of(&tokens, "refresh_token");
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let (status, refreshed) = post_form(&base, &web, "/oauth/token", &form).await;
    assert_eq!(status, 200, "{refreshed}");
    secrets.extend(tokens_in(&refreshed));
    let access = str_of(&refreshed, "access_token");
    let info = http()
        .get(format!("{base}/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
    let (status, _) = post_form(&base, &web, "/oauth/introspect", &[("token", access)]).await;
    assert_eq!(status, 200);
    let new_refresh = str_of(&refreshed, "refresh_token");
    let (status, _) = post_form(&base, &web, "/oauth/revoke", &[("token", new_refresh)]).await;
    assert_eq!(status, 200);
    // A hint-carrying authorization request: the hints are personal data.
    let id_token = str_of(&tokens, "id_token");
    let hinted = format!(
        "{base}/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&id_token_hint={id_token}&login_hint=lena.private%40example.com&state=hint-state-5521",
        web.id,
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let _ = browser().get(&hinted).send().await.unwrap();
    secrets.extend([
        "lena.private@example.com".to_owned(),
        "hint-state-5521".to_owned(),
    ]);

    // Client credentials; the API key at the admin API and exchanged for a token.
    let (status, cc) = post_form(
        &base,
        &machine,
        "/oauth/token",
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{cc}");
    secrets.extend(tokens_in(&cc));
    let users = http()
        .get(format!("{base}/admin/v1/users"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    let exchanged: Value = http()
        .post(format!("{base}/oauth/token"))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", key.as_str()),
            (
                "subject_token_type",
                "urn:gatehouse:params:oauth:token-type:api_key",
            ),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    secrets.extend(tokens_in(&exchanged));
    assert!(exchanged["access_token"].is_string(), "{exchanged}");

    // Console sign-ins: a wrong password, then the right one (its session cookie is secret).
    assert!(
        console_sign_in(&base, "log-lena", WRONG_PASSWORD)
            .await
            .is_none()
    );
    let session = console_sign_in(&base, "log-lena", PASSWORD)
        .await
        .expect("a console session");
    secrets.push(session);

    node.signal("TERM");
    assert!(node.exit_status(Duration::from_secs(15)).await.success());
    let log = node.log_text();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 20, "{log}");
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "gatehouse::access")
        .collect();
    assert!(requests.len() >= 10, "{log}");
    assert!(
        requests.iter().all(|l| l["span"]["request_id"].is_string()),
        "request lines carry their request id"
    );
    assert!(
        requests.iter().any(|l| l["query"]
            .as_str()
            .is_some_and(|q| q.contains("id_token_hint") && q.contains("login_hint"))),
        "the parameter names are logged"
    );
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "the log shows a secret ({} characters, starting {:?})",
            secret.len(),
            &secret[..secret.len().min(6)]
        );
    }
}

//! Probes and metrics as an orchestrator and a monitoring system see them: `/health/live`,
//! `/health/ready` (503 once the database is gone), `/metrics` in the Prometheus text format
//! with closed-set labels and no secret, the separate metrics listener, request ids that the
//! audit trail keeps, and the Swagger UI's security headers.

use sea_orm::ConnectionTrait;

use crate::admin_api::{get, key};
use crate::ops_support::*;
use crate::support::*;

#[tokio::test]
async fn ready_reports_each_check_and_says_503_when_the_database_is_gone() {
    let (s, state) = TestServer::start_with_state(|_| {}).await;
    for path in ["/health", "/health/live"] {
        let r = http().get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.text().await.unwrap(), "ok");
    }
    let r = http().get(s.url("/health/ready")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "database": "ok", "migrations": "ok", "signing_keys": "ok"})
    );
    // The database goes away: PostgreSQL's is dropped under the server; SQLite's file cannot
    // vanish from under open connections, so its pool is closed instead.
    if s.db_url.starts_with("postgres") {
        let admin = sea_orm::Database::connect(
            std::env::var("GATEHOUSE_TEST_DATABASE_URL").unwrap().trim(),
        )
        .await
        .unwrap();
        let name = s.db_url.rsplit('/').next().unwrap().to_owned();
        admin
            .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .await
            .unwrap();
    } else {
        state.store.db().close_by_ref().await.unwrap();
    }
    let r = http().get(s.url("/health/ready")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["database"], "unavailable");
    assert_eq!(body["signing_keys"], "ok", "keys stay loaded: {body}");
    // Liveness does not depend on the database: the process is not restarted for an outage.
    let r = http().get(s.url("/health/live")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn metrics_count_tokens_by_grant_and_requests_by_route_without_any_secret() {
    let s = TestServer::start().await;
    let machine = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris.clear();
            r.scope = Some("api:read".into());
        })
        .await;
    let (status, cc) = token_request(&s, &machine, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{cc}");
    let web = s.client(|_| {}).await;
    s.user("metric-mia").await;
    let (tokens, flow_secrets) =
        code_flow_at(&s.base, &web, "metric-mia", "openid offline_access").await;
    let (status, refreshed) = refresh_with(&s, &web, str_of(&tokens, "refresh_token")).await;
    assert_eq!(status, 200, "{refreshed}");
    // A path nobody routes, with a secret in it, and a query with secret values.
    let _ = http()
        .get(s.url("/no-such-path/secret-in-path-42"))
        .send()
        .await;
    let _ = http()
        .get(s.url("/oauth/authorize?login_hint=hinted-user&state=state-value-77"))
        .send()
        .await;

    let text = metrics_text(&s.base).await;
    for grant in ["client_credentials", "authorization_code", "refresh_token"] {
        let n = sample(
            &text,
            &format!("gatehouse_tokens_issued_total{{grant_type=\"{grant}\"}}"),
        );
        assert!(n.is_some_and(|n| n >= 1.0), "{grant}: {text}");
    }
    assert!(
        sample(
            &text,
            "gatehouse_http_requests_total{route=\"/oauth/token\",method=\"POST\",status=\"200\"}"
        )
        .is_some_and(|n| n >= 3.0),
        "{text}"
    );
    assert!(text.contains("gatehouse_http_request_duration_seconds_bucket{route=\"/oauth/token\""));
    assert!(text.contains("route=\"unmatched\""));
    assert!(
        sample(
            &text,
            "gatehouse_sign_ins_total{audience=\"login_page\",outcome=\"success\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(text.contains("gatehouse_signing_key_age_seconds{alg=\"RS256\"}"));
    assert!(text.contains("gatehouse_db_pool_connections{state=\"idle\"}"));
    assert!(text.contains("# TYPE gatehouse_http_request_duration_seconds histogram"));
    let mut secrets = vec![
        machine.secret.clone().unwrap(),
        web.secret.clone().unwrap(),
        PASSWORD.to_owned(),
        "metric-mia".to_owned(),
        "secret-in-path-42".to_owned(),
        "hinted-user".to_owned(),
        "state-value-77".to_owned(),
    ];
    for t in [&cc, &tokens, &refreshed] {
        for field in ["access_token", "refresh_token", "id_token"] {
            if let Some(v) = t[field].as_str() {
                secrets.push(v.to_owned());
            }
        }
    }
    secrets.extend(flow_secrets);
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "the metrics show {secret}");
    }
}

#[tokio::test]
async fn metrics_on_their_own_listener_are_not_on_the_main_one() {
    let port = free_port();
    let s = TestServer::start_with(|st| st.metrics.listen = format!("127.0.0.1:{port}")).await;
    let main = http().get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404);
    let other = format!("http://127.0.0.1:{port}");
    let text = metrics_text(&other).await;
    assert!(text.contains("gatehouse_build_info"), "{text}");
    let ready = http()
        .get(format!("{other}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    // Off altogether.
    let off = TestServer::start_with(|st| st.metrics.enabled = false).await;
    let r = http().get(off.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_request_id_is_returned_and_kept_by_the_audit_trail() {
    let s = TestServer::start().await;
    let machine = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris.clear();
            r.scope = Some("api:read".into());
        })
        .await;
    let resp = http()
        .post(s.url("/oauth/token"))
        .header("x-request-id", "lb-7f3a.trace:42")
        .basic_auth(&machine.id, machine.secret.as_deref())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-request-id"], "lb-7f3a.trace:42");
    // Audit appends may be written behind the response: look for a little while.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let events = s.store.audit().list_after(0, 1000, None).await.unwrap();
        if let Some(issued) = events.iter().find(|e| e.event.action == "token.issue") {
            assert_eq!(issued.event.request_id.as_deref(), Some("lb-7f3a.trace:42"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no token.issue event");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Without one (or with one that is not plain) the server makes one up and says which.
    for sent in [None, Some("not plain\"<x>")] {
        let mut req = http().get(s.url("/health/live"));
        if let Some(v) = sent {
            req = req.header("x-request-id", v);
        }
        let resp = req.send().await.unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 36, "{id}");
        assert_ne!(Some(id), sent);
    }
}

#[tokio::test]
async fn swagger_ui_carries_the_security_headers_of_every_page() {
    let s = TestServer::start().await;
    let k = key(&s, "default", "docs", "admin:all").await;
    // The API itself still works behind the same middleware.
    assert_eq!(get(&s, "/admin/v1/keys", &k).await.status, 200);
    for path in [
        "/admin/docs/",
        "/admin/docs/index.html",
        "/admin/docs/swagger-ui.css",
        "/admin/docs/swagger-initializer.js",
    ] {
        let r = http().get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "connect-src 'self'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
}

//! The audit trail of the protocol endpoints (issue 4): failed and successful logins (the
//! username tried, never the password), consent decisions, token issuance and revocation (ids
//! only), refresh-token reuse, code replay and token exchange; each with tenant, actor, source
//! IP and request id.

use gatehouse_core::audit::AuditEvent;
use serde_json::Value;

use crate::support::*;
use crate::tenant_tokens::{client_in, new_tenant, user_in};

/// The whole trail once the server's group-commit writer is idle: routine successes
/// (`token.issue`, `token.exchange`) are queued without the request waiting for their commit
/// (docs/security.md), so they land a few milliseconds after the response.
async fn events(s: &TestServer) -> Vec<AuditEvent> {
    s.flush_audit().await;
    let mut seen = s.store.audit().list_after(0, 1000, None).await.unwrap();
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let now = s.store.audit().list_after(0, 1000, None).await.unwrap();
        if now.len() == seen.len() {
            return now;
        }
        seen = now;
    }
}

fn find<'a>(all: &'a [AuditEvent], action: &str, outcome: &str) -> Vec<&'a AuditEvent> {
    all.iter()
        .filter(|e| e.event.action == action && e.event.outcome.as_str() == outcome)
        .collect()
}

/// The whole trail as text, to check that no secret is in it.
fn dump(all: &[AuditEvent]) -> String {
    serde_json::to_string(all).unwrap()
}

#[tokio::test]
async fn logins_consent_issuance_revocation_and_reuse_are_audited() {
    let s = TestServer::start().await;
    let acme = new_tenant(&s, "Acme").await;
    let app = client_in(&s, &acme, |_| {}).await;
    let uid = user_in(&s, "ann", &acme).await;

    // A failed login: the username tried, the client's tenant, the source IP, a request id.
    let (url, _) = authorize_url(&s, &app, "openid offline_access", &[]);
    let wrong = "not-the-password-123";
    match run_flow(&browser(), &s, &url, "ann", wrong, "allow").await {
        Outcome::Page(status, _) => assert_eq!(status, 401),
        Outcome::Redirect(l) => panic!("logged in with a wrong password: {l}"),
    }
    let all = events(&s).await;
    let failed = find(&all, "login", "failure");
    assert_eq!(failed.len(), 1, "{}", dump(&all));
    let f = &failed[0].event;
    assert_eq!(f.actor.as_deref(), Some("ann"));
    assert_eq!(f.tenant_id.as_deref(), Some(acme.as_str()));
    assert_eq!(f.source_ip.as_deref(), Some("127.0.0.1"));
    assert!(f.request_id.as_deref().is_some_and(|r| !r.is_empty()));

    // A successful login with consent, and the token issuance.
    let t = issue_tokens(&s, &app, "ann", "openid offline_access").await;
    let at = str_of(&t, "access_token").to_owned();
    let rt = str_of(&t, "refresh_token").to_owned();
    let all = events(&s).await;
    let ok = find(&all, "login", "success");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].event.actor.as_deref(), Some(uid.as_str()));
    let consent = find(&all, "consent", "success");
    assert_eq!(consent.len(), 1);
    assert_eq!(consent[0].event.target.as_deref(), Some(app.id.as_str()));
    assert_eq!(consent[0].event.details["decision"], "allow");
    assert_eq!(consent[0].event.details["scope"], "offline_access openid");
    let issued = find(&all, "token.issue", "success");
    assert_eq!(issued.len(), 1);
    let i = &issued[0].event;
    assert_eq!(i.actor.as_deref(), Some(app.id.as_str()));
    assert_eq!(i.tenant_id.as_deref(), Some(acme.as_str()));
    assert_eq!(i.details["grant_type"], "authorization_code");
    let jti = crate::tenant_tokens::jwt_claims(&at)["jti"].clone();
    assert_eq!(i.details["jti"], jti);
    assert_eq!(i.source_ip.as_deref(), Some("127.0.0.1"));

    // Rotation, then the old refresh token comes back: reuse detected.
    let (status, body) = refresh_with(&s, &app, &rt).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = refresh_with(&s, &app, &rt).await;
    assert_eq!(status, 400);
    let all = events(&s).await;
    let reuse = find(&all, "token.refresh_reuse", "denied");
    assert_eq!(reuse.len(), 1, "{}", dump(&all));
    assert_eq!(reuse[0].event.actor.as_deref(), Some(app.id.as_str()));
    assert!(reuse[0].event.target.is_some(), "the grant id");
    let refreshes: Vec<&Value> = find(&all, "token.issue", "success")
        .iter()
        .map(|e| &e.event.details["grant_type"])
        .collect();
    assert_eq!(refreshes, ["authorization_code", "refresh_token"]);

    // Revocation of an access token: its jti.
    assert_eq!(revoke_token(&s, &app, &at, None).await, 200);
    let all = events(&s).await;
    let revoked = find(&all, "token.revoke", "success");
    assert_eq!(revoked.len(), 1);
    assert_eq!(
        revoked[0]
            .event
            .target
            .as_ref()
            .map(|t| Value::from(t.as_str())),
        Some(jti)
    );
    assert_eq!(revoked[0].event.details["token_type"], "access_token");

    // No secret is in the trail: not the password tried, nor any token.
    let text = dump(&all);
    for secret in [wrong, PASSWORD, at.as_str(), rt.as_str()] {
        assert!(!text.contains(secret), "a secret is in the audit trail");
    }
}

#[tokio::test]
async fn a_consent_refusal_and_a_replayed_code_are_audited() {
    let s = TestServer::start().await;
    let app = s.client(|_| {}).await;
    s.user("bob").await;
    let (url, _) = authorize_url(&s, &app, "openid", &[]);
    match run_flow(&browser(), &s, &url, "bob", PASSWORD, "deny").await {
        Outcome::Redirect(loc) => {
            assert_eq!(query_param(&loc, "error").as_deref(), Some("access_denied"))
        }
        Outcome::Page(status, body) => panic!("{status}: {body}"),
    }
    let all = events(&s).await;
    let denied = find(&all, "consent", "denied");
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].event.details["decision"], "deny");
    assert_eq!(denied[0].event.tenant_id.as_deref(), Some("default"));

    let (code, verifier) = get_code(&s, &app, "bob", "openid").await;
    let (status, _) = redeem(&s, &app, &code, &verifier).await;
    assert_eq!(status, 200);
    let (status, _) = redeem(&s, &app, &code, &verifier).await;
    assert_eq!(status, 400);
    let all = events(&s).await;
    assert_eq!(find(&all, "token.code_replay", "denied").len(), 1);
    assert!(!dump(&all).contains(&code), "the code is not in the trail");
}

#[tokio::test]
async fn the_request_id_of_the_caller_is_recorded() {
    let s = TestServer::start().await;
    let app = s
        .client(|r| r.grant_types = vec!["client_credentials".into()])
        .await;
    let resp = http()
        .post(s.url("/oauth/token"))
        .basic_auth(&app.id, app.secret.as_deref())
        .header("x-request-id", "trace-42")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let all = events(&s).await;
    let issued = find(&all, "token.issue", "success");
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].event.request_id.as_deref(), Some("trace-42"));
    assert_eq!(issued[0].event.details["grant_type"], "client_credentials");
}

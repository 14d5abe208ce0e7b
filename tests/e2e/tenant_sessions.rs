//! Login sessions are bound to their tenant (issue 8): a browser signed in as a user of one
//! tenant is, at a client of another tenant, as good as not signed in — the login page instead
//! of consent, `login_required` for `prompt=none`, a consent post refused with nothing saved —
//! so no token of another tenant's client is ever issued to that user, admin scopes least of
//! all. The same browser still gets consent and codes at its own tenant's clients.

use gatehouse_core::ClientId;
use gatehouse_core::UserId;
use gatehouse_core::ports::ConsentStore;

use crate::support::*;
use crate::tenant_tokens::{client_in, new_tenant, user_in};

const ADMIN_SCOPE: &str = "openid admin:all";

/// A browser with a live login session of `root` (a platform admin of the default tenant),
/// made by signing in at a client of the default tenant; returns it with the consent page's
/// CSRF token (the session's synchronizer token).
async fn signed_in_as_root(s: &TestServer) -> (reqwest::Client, String) {
    let home = s.client(|r| r.scope = Some(ADMIN_SCOPE.into())).await;
    let b = browser();
    let (url, _) = authorize_url(s, &home, ADMIN_SCOPE, &[]);
    match run_flow(&b, s, &url, "root", PASSWORD, "allow").await {
        Outcome::Redirect(loc) => assert!(query_param(&loc, "code").is_some(), "{loc}"),
        Outcome::Page(status, body) => panic!("{status}: {body}"),
    }
    // The session's CSRF token, from a consent page the session may see.
    let (url, _) = authorize_url(s, &home, ADMIN_SCOPE, &[("prompt", "consent")]);
    let page = b.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("action=\"/consent\""), "{page}");
    (b, hidden(&page, "csrf_token").unwrap())
}

#[tokio::test]
async fn a_session_of_another_tenant_gets_the_login_page_not_consent() {
    let s = TestServer::start().await;
    admin_user(&s, "root", "default", "admin:all").await;
    let acme = new_tenant(&s, "Acme").await;
    let foreign = client_in(&s, &acme, |r| r.scope = Some(ADMIN_SCOPE.into())).await;
    let (b, _) = signed_in_as_root(&s).await;

    let (url, _) = authorize_url(&s, &foreign, ADMIN_SCOPE, &[]);
    let resp = b.get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("action=\"/login\""), "{page}");
    assert!(!page.contains("action=\"/consent\""), "{page}");

    // prompt=none: nobody is signed in as far as this client is concerned.
    let (url, _) = authorize_url(&s, &foreign, ADMIN_SCOPE, &[("prompt", "none")]);
    let resp = b.get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    let loc = location(&resp);
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("login_required")
    );
    assert!(query_param(&loc, "code").is_none());

    // Signing in there with the default tenant's credentials fails like a wrong password.
    let (url, _) = authorize_url(&s, &foreign, ADMIN_SCOPE, &[]);
    match run_flow(&b, &s, &url, "root", PASSWORD, "allow").await {
        Outcome::Page(status, body) => {
            assert_eq!(status, 401);
            assert!(body.contains("Invalid username or password"), "{body}");
        }
        Outcome::Redirect(loc) => panic!("signed in across tenants: {loc}"),
    }
}

#[tokio::test]
async fn a_forged_consent_post_for_another_tenants_client_gets_nothing() {
    let s = TestServer::start().await;
    let root = admin_user(&s, "root", "default", "admin:all").await;
    let acme = new_tenant(&s, "Acme").await;
    let foreign = client_in(&s, &acme, |r| r.scope = Some(ADMIN_SCOPE.into())).await;
    let (b, csrf) = signed_in_as_root(&s).await;

    let (url, _) = authorize_url(&s, &foreign, ADMIN_SCOPE, &[]);
    let request = url.split_once('?').unwrap().1.to_owned();
    let resp = b
        .post(s.url("/consent"))
        .form(&[
            ("decision", "allow"),
            ("csrf_token", csrf.as_str()),
            ("request", request.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("expired"));
    let consent = s
        .store
        .find_consent(
            &UserId::parse(&root).unwrap(),
            &ClientId::parse(&foreign.id).unwrap(),
        )
        .await
        .unwrap();
    assert!(consent.is_none(), "no consent was recorded");
    let all = s.store.audit().list_after(0, 1000, None).await.unwrap();
    assert!(
        !all.iter()
            .any(|e| e.event.action == "consent" && e.event.tenant_id.as_deref() == Some(&acme)),
        "no consent event in the other tenant"
    );
}

#[tokio::test]
async fn the_same_browser_keeps_working_at_its_own_tenant_and_users_of_a_tenant_sign_in_there() {
    let s = TestServer::start().await;
    admin_user(&s, "root", "default", "admin:all").await;
    let (b, _) = signed_in_as_root(&s).await;
    // Root's own tenant: the session counts (no login form), and admin scopes are granted.
    let home = s.client(|r| r.scope = Some(ADMIN_SCOPE.into())).await;
    let (url, verifier) = authorize_url(&s, &home, ADMIN_SCOPE, &[]);
    let code = match run_flow(&b, &s, &url, "not-used", "not-used", "allow").await {
        Outcome::Redirect(loc) => query_param(&loc, "code").expect("code"),
        Outcome::Page(status, body) => panic!("{status}: {body}"),
    };
    let (status, body) = redeem(&s, &home, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "admin:all openid");

    // A user of Acme at Acme's client: signs in, and gets no admin scope they do not hold.
    let acme = new_tenant(&s, "Acme").await;
    let app = client_in(&s, &acme, |r| r.scope = Some(ADMIN_SCOPE.into())).await;
    user_in(&s, "ann", &acme).await;
    let (url, verifier) = authorize_url(&s, &app, ADMIN_SCOPE, &[]);
    let code = match run_flow(&browser(), &s, &url, "ann", PASSWORD, "allow").await {
        Outcome::Redirect(loc) => query_param(&loc, "code").expect("code"),
        Outcome::Page(status, body) => panic!("{status}: {body}"),
    };
    let (status, body) = redeem(&s, &app, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid");
    let claims = crate::tenant_tokens::jwt_claims(str_of(&body, "access_token"));
    assert_eq!(claims["tenant"], acme.as_str());
}

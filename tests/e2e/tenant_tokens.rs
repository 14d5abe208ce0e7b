//! Tokens carry their tenant (issue 4): the `tenant` claim of JWT access tokens and the
//! `tenant` member of introspection answers, for user and client tokens of a non-default
//! tenant; and a disabled tenant's tokens, clients and users stop working at once (and work
//! again once it is enabled). Also the helpers the other issue-4 token tests share.

use base64::Engine;
use chrono::Utc;
use gatehouse_admin::tenants::{self, TenantChanges};
use gatehouse_admin::users::NewUser;
use gatehouse_admin::{Actor, Context};
use gatehouse_core::TenantId;
use gatehouse_core::client::ClientRegistration;
use gatehouse_core::tenant::TenantRegistration;
use serde_json::Value;

use crate::support::*;

/// Creates a tenant named `name`; returns its id.
pub async fn new_tenant(s: &TestServer, name: &str) -> String {
    let reg = TenantRegistration {
        name: name.into(),
        ..Default::default()
    };
    let actor = Actor::operator();
    let ctx = Context::new(&s.store, &actor, Utc::now());
    let out = tenants::create(&ctx, reg).await.expect("create tenant");
    out.id.to_string()
}

/// A confidential client (`client_secret_basic`) of `tenant` allowed the code, refresh and
/// client-credentials grants.
pub async fn client_in(
    s: &TestServer,
    tenant: &str,
    f: impl FnOnce(&mut ClientRegistration),
) -> TestClient {
    let mut reg = ClientRegistration {
        name: "Tenant App".into(),
        tenant_id: TenantId::parse(tenant).unwrap(),
        grant_types: vec![
            "authorization_code".into(),
            "refresh_token".into(),
            "client_credentials".into(),
        ],
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
    let out = operator_client(&s.store, reg).await.expect("create client");
    TestClient::from(&out)
}

/// A user of `tenant` with the test password; returns the user id.
pub async fn user_in(s: &TestServer, username: &str, tenant: &str) -> String {
    let new = NewUser {
        username: username.into(),
        email: Some(format!("{username}@example.com")),
        password: PASSWORD.into(),
        ..NewUser::default()
    };
    let out = operator_user(&s.store, tenant, new)
        .await
        .expect("create user");
    out.id.to_string()
}

/// Disables or re-enables a tenant as an operator would.
pub async fn set_disabled(s: &TestServer, tenant: &str, disabled: bool) {
    let actor = Actor::operator();
    let ctx = Context::new(&s.store, &actor, Utc::now());
    let changes = TenantChanges {
        disabled: Some(disabled),
        ..TenantChanges::default()
    };
    tenants::update(&ctx, tenant, changes, None)
        .await
        .expect("set tenant disabled");
}

/// The payload of a JWT, unverified (for reading claims; see [`verify_with_jwks`]).
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWS");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Verifies an access token against the server's published JWKS (RFC 9068 §4: `typ`
/// `at+jwt`, issuer, audience = issuer); returns its claims.
pub async fn verify_with_jwks(s: &TestServer, token: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwks: jsonwebtoken::jwk::JwkSet = http()
        .get(s.url("/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid in JWKS");
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[&s.base]);
    v.set_issuer(&[&s.base]);
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &v,
    )
    .expect("valid signature")
    .claims
}

/// A resource server of `tenant`: a confidential client that introspects.
pub async fn resource_server(s: &TestServer, tenant: &str) -> TestClient {
    client_in(s, tenant, |r| {
        r.name = "Resource Server".into();
        r.grant_types = vec!["client_credentials".into()];
        r.redirect_uris = vec![];
        r.scope = Some("api:read".into());
    })
    .await
}

#[tokio::test]
async fn user_and_client_tokens_carry_their_tenant() {
    let s = TestServer::start().await;
    let acme = new_tenant(&s, "Acme").await;
    let app = client_in(&s, &acme, |_| {}).await;
    let rs = resource_server(&s, &acme).await;
    let uid = user_in(&s, "ann", &acme).await;

    let t = issue_tokens(&s, &app, "ann", "openid api:read").await;
    let at = str_of(&t, "access_token");
    let claims = verify_with_jwks(&s, at).await;
    assert_eq!(claims["tenant"], acme.as_str());
    assert_eq!(claims["sub"], uid.as_str());
    let i = introspect_token(&s, &rs, at).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["tenant"], acme.as_str());

    let (status, cc) = token_request(
        &s,
        &app,
        &[("grant_type", "client_credentials"), ("scope", "api:read")],
    )
    .await;
    assert_eq!(status, 200, "{cc}");
    let cc_at = str_of(&cc, "access_token");
    assert_eq!(jwt_claims(cc_at)["tenant"], acme.as_str());
    assert_eq!(jwt_claims(cc_at)["sub"], app.id.as_str());
    let i = introspect_token(&s, &rs, cc_at).await;
    assert_eq!(i["tenant"], acme.as_str());

    // The default tenant's tokens say so too.
    let d = s.client(|_| {}).await;
    s.user("dora").await;
    let t = issue_tokens(&s, &d, "dora", "openid").await;
    assert_eq!(jwt_claims(str_of(&t, "access_token"))["tenant"], "default");
}

#[tokio::test]
async fn a_disabled_tenant_s_tokens_stop_at_once_and_enabling_restores_them() {
    let s = TestServer::start().await;
    let acme = new_tenant(&s, "Acme").await;
    let app = client_in(&s, &acme, |_| {}).await;
    let rs_default = s.client(|_| {}).await;
    user_in(&s, "ann", &acme).await;
    let t = issue_tokens(&s, &app, "ann", "openid offline_access").await;
    let at = str_of(&t, "access_token").to_owned();
    let rt = str_of(&t, "refresh_token").to_owned();
    assert_eq!(userinfo_status(&s, &at).await, 200);
    // A resource server of another (enabled) tenant introspects it.
    assert_eq!(introspect_token(&s, &rs_default, &at).await["active"], true);

    set_disabled(&s, &acme, true).await;
    assert_eq!(
        introspect_token(&s, &rs_default, &at).await,
        serde_json::json!({ "active": false })
    );
    assert_eq!(userinfo_status(&s, &at).await, 401);
    let resp = http()
        .get(s.url("/userinfo"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    // The tenant's client cannot authenticate, so its refresh and other grants fail.
    let (status, body) = refresh_with(&s, &app, &rt).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = token_request(&s, &app, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    // Nobody signs in at the tenant's client.
    let (url, _) = authorize_url(&s, &app, "openid", &[]);
    let resp = browser().get(&url).send().await.unwrap();
    let status = resp.status().as_u16();
    assert!((400..500).contains(&status), "{status}");
    assert!(resp.text().await.unwrap().contains("unknown client_id"));

    set_disabled(&s, &acme, false).await;
    assert_eq!(introspect_token(&s, &rs_default, &at).await["active"], true);
    assert_eq!(userinfo_status(&s, &at).await, 200);
    let (status, body) = refresh_with(&s, &app, &rt).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        jwt_claims(str_of(&body, "access_token"))["tenant"],
        acme.as_str()
    );
}

#[tokio::test]
async fn a_user_of_another_tenant_cannot_sign_in_at_a_client() {
    let s = TestServer::start().await;
    let acme = new_tenant(&s, "Acme").await;
    let app = client_in(&s, &acme, |_| {}).await;
    s.user("dora").await;
    let (url, _) = authorize_url(&s, &app, "openid", &[]);
    match run_flow(&browser(), &s, &url, "dora", PASSWORD, "allow").await {
        Outcome::Page(status, _) => assert_eq!(status, 401),
        Outcome::Redirect(loc) => panic!("signed in across tenants: {loc}"),
    }
}

//! Using API keys at the protocol endpoints (issue 4): introspection of a key by a resource
//! server of its tenant (RFC 7662, with the `client_ip` extension), the RFC 8693 exchange of a
//! key for a short-lived JWT access token, and the IP allowlist against the real source
//! address (with and without a trusted proxy).

use gatehouse_admin::{Actor, Context, api_keys};
use gatehouse_core::apikey::ApiKeyRequest;
use gatehouse_server::settings::ApiKeySettings;
use serde_json::{Value, json};

use crate::support::*;
use crate::tenant_tokens::{
    client_in, jwt_claims, new_tenant, resource_server, set_disabled, verify_with_jwks,
};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const API_KEY_TYPE: &str = "urn:gatehouse:params:oauth:token-type:api_key";

/// A key of `tenant` with scopes `files:read files:write`; returns (id, secret).
async fn new_key(s: &TestServer, tenant: &str, name: &str, allow: &[&str]) -> (String, String) {
    let req = ApiKeyRequest {
        name: name.into(),
        scope: Some("files:read files:write".into()),
        validity_days: Some(30),
        allow_ips: allow.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    };
    let actor = Actor::operator();
    let ctx = Context::new(&s.store, &actor, s.clock_now());
    let policy = ApiKeySettings::default().policy().unwrap();
    let tenant = gatehouse_core::TenantId::parse(tenant).unwrap();
    let out = api_keys::create(&ctx, &policy, &tenant, req)
        .await
        .expect("create key");
    (out.key.id.clone(), out.secret.expose().to_owned())
}

async fn revoke(s: &TestServer, id: &str) {
    let actor = Actor::operator();
    let ctx = Context::new(&s.store, &actor, s.clock_now());
    api_keys::revoke(&ctx, id, None).await.expect("revoke key");
}

/// A token-exchange request without client authentication.
async fn exchange(s: &TestServer, key: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    exchange_with(s, key, extra, &[]).await
}

async fn exchange_with(
    s: &TestServer,
    key: &str,
    extra: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", EXCHANGE),
        ("subject_token", key),
        ("subject_token_type", API_KEY_TYPE),
    ];
    form.extend_from_slice(extra);
    let mut req = http().post(s.url("/oauth/token")).form(&form);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_key_is_described_to_resource_servers_of_its_tenant_only() {
    let s = TestServer::start().await;
    let acme = new_tenant(&s, "Acme").await;
    let other = new_tenant(&s, "Other").await;
    let rs = resource_server(&s, &acme).await;
    let stranger = resource_server(&s, &other).await;
    let (id, key) = new_key(&s, &acme, "billing sync", &[]).await;

    let i = introspect_token(&s, &rs, &key).await;
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(i["token_type"], "api_key");
    assert_eq!(i["sub"], id.as_str());
    assert_eq!(i["tenant"], acme.as_str());
    assert_eq!(i["name"], "billing sync");
    assert_eq!(i["scope"], "files:read files:write");
    assert_eq!(i["environment"], "live");
    let (iat, exp) = (i["iat"].as_i64().unwrap(), i["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 30 * 86_400);
    assert!(i.get("allowed_ips").is_none());

    assert_eq!(
        introspect_token(&s, &stranger, &key).await,
        json!({ "active": false })
    );
    let mut typo = key.clone();
    typo.pop();
    assert_eq!(
        introspect_token(&s, &rs, &typo).await,
        json!({ "active": false })
    );
    // A public client may not introspect at all.
    let public = client_in(&s, &acme, |r| {
        r.auth_method = Some("none".into());
        r.grant_types = vec!["authorization_code".into()];
    })
    .await;
    let (status, _, body) = client_post(&s, &public, "/oauth/introspect", &[("token", &key)]).await;
    assert_eq!(status, 401, "{body}");

    revoke(&s, &id).await;
    assert_eq!(
        introspect_token(&s, &rs, &key).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn an_expired_key_or_a_disabled_tenant_is_inactive() {
    let s = TestServer::start().await;
    let acme = new_tenant(&s, "Acme").await;
    let rs = resource_server(&s, &acme).await;
    let rs_default = s.client(|_| {}).await;
    let (_, key) = new_key(&s, &acme, "nightly export", &[]).await;
    assert_eq!(introspect_token(&s, &rs, &key).await["active"], true);
    s.clock.advance(30 * 86_400);
    assert_eq!(
        introspect_token(&s, &rs, &key).await,
        json!({ "active": false })
    );

    let (_, key2) = new_key(&s, &acme, "second", &[]).await;
    let (status, x) = exchange(&s, &key2, &[]).await;
    assert_eq!(status, 200, "{x}");
    let jwt = str_of(&x, "access_token").to_owned();
    assert_eq!(
        introspect_token(&s, &rs_default, &jwt).await["active"],
        true
    );
    set_disabled(&s, &acme, true).await;
    // The tenant's own resource server cannot even authenticate now; another tenant's sees
    // the exchanged token inactive.
    assert_eq!(
        introspect_token(&s, &rs_default, &jwt).await,
        json!({ "active": false })
    );
    let (status, _, _) = client_post(&s, &rs, "/oauth/introspect", &[("token", &key2)]).await;
    assert_eq!(status, 401);
    let (status, body) = exchange(&s, &key2, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn introspection_checks_the_allowlist_against_client_ip_when_given() {
    let s = TestServer::start().await;
    let acme = new_tenant(&s, "Acme").await;
    let rs = resource_server(&s, &acme).await;
    let (_, key) = new_key(&s, &acme, "office only", &["10.0.0.0/8"]).await;
    let i = introspect_token(&s, &rs, &key).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["allowed_ips"], json!(["10.0.0.0/8"]));
    let ask = |ip: &'static str| {
        let (rs, key, s) = (&rs, &key, &s);
        async move {
            client_post(
                s,
                rs,
                "/oauth/introspect",
                &[("token", key), ("client_ip", ip)],
            )
            .await
        }
    };
    let (status, _, body) = ask("10.1.2.3").await;
    assert_eq!((status, body["active"].clone()), (200, json!(true)));
    let (status, _, body) = ask("192.0.2.1").await;
    assert_eq!((status, body), (200, json!({ "active": false })));
    let (status, _, body) = ask("not-an-ip").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("client_ip")
    );
}

#[tokio::test]
async fn a_key_is_exchanged_for_a_short_lived_jwt_rfc8693() {
    let s = TestServer::start().await;
    let acme = new_tenant(&s, "Acme").await;
    let rs = resource_server(&s, &acme).await;
    let (id, key) = new_key(&s, &acme, "billing sync", &[]).await;

    let (status, x) = exchange(&s, &key, &[]).await;
    assert_eq!(status, 200, "{x}");
    assert_eq!(
        x["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(x["token_type"], "Bearer");
    assert_eq!(x["expires_in"], 300);
    assert_eq!(x["scope"], "files:read files:write");
    assert!(x.get("refresh_token").is_none());
    let at = str_of(&x, "access_token");
    let claims = verify_with_jwks(&s, at).await;
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["tenant"], acme.as_str());
    assert_eq!(claims["api_key"], id.as_str());
    assert_eq!(claims["api_key_name"], "billing sync");
    assert_eq!(claims["scope"], "files:read files:write");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    let i = introspect_token(&s, &rs, at).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["tenant"], acme.as_str());
    assert_eq!(i["name"], "billing sync");

    // Narrowing is allowed, widening is not.
    let (status, narrow) = exchange(&s, &key, &[("scope", "files:read")]).await;
    assert_eq!(status, 200, "{narrow}");
    assert_eq!(narrow["scope"], "files:read");
    assert_eq!(
        jwt_claims(str_of(&narrow, "access_token"))["scope"],
        "files:read"
    );
    let (status, wide) = exchange(&s, &key, &[("scope", "files:read admin:all")]).await;
    assert_eq!(status, 400);
    assert_eq!(wide["error"], "invalid_scope");

    // Other subject token types and delegation are refused.
    let (status, body) = exchange(
        &s,
        &key,
        &[(
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:refresh_token",
        )],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    // Revoking the key ends the exchanged token and further exchanges.
    revoke(&s, &id).await;
    assert_eq!(
        introspect_token(&s, &rs, at).await,
        json!({ "active": false })
    );
    let (status, body) = exchange(&s, &key, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn exchanged_tokens_end_with_their_key_and_clients_must_match_its_tenant() {
    let s = TestServer::start_with(|st| st.api_keys.exchange_token_ttl = 3600).await;
    let acme = new_tenant(&s, "Acme").await;
    let other = new_tenant(&s, "Other").await;
    let rs = resource_server(&s, &acme).await;
    let (_, key) = new_key(&s, &acme, "short", &[]).await;

    // A client of the key's tenant may authenticate; it becomes the token's client_id.
    let (status, x) = client_post(
        &s,
        &rs,
        "/oauth/token",
        &[
            ("grant_type", EXCHANGE),
            ("subject_token", &key),
            ("subject_token_type", API_KEY_TYPE),
        ],
    )
    .await
    .into_status_body();
    assert_eq!(status, 200, "{x}");
    assert_eq!(
        jwt_claims(str_of(&x, "access_token"))["client_id"],
        rs.id.as_str()
    );
    assert_eq!(x["expires_in"], 3600);
    // A client of another tenant, or bad credentials, are refused.
    let stranger = resource_server(&s, &other).await;
    let form = [
        ("grant_type", EXCHANGE),
        ("subject_token", key.as_str()),
        ("subject_token_type", API_KEY_TYPE),
    ];
    let (status, body) = client_post(&s, &stranger, "/oauth/token", &form)
        .await
        .into_status_body();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let forged = TestClient {
        id: rs.id.clone(),
        secret: Some("wrong".into()),
    };
    let (status, body) = client_post(&s, &forged, "/oauth/token", &form)
        .await
        .into_status_body();
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // The token's exp is capped by the key's expiry, and it is inactive once the key expires.
    s.clock.advance(30 * 86_400 - 600);
    let (status, x) = exchange(&s, &key, &[]).await;
    assert_eq!(status, 200, "{x}");
    let expires_in = x["expires_in"].as_i64().unwrap();
    assert!((590..=600).contains(&expires_in), "{expires_in}");
    let at = str_of(&x, "access_token").to_owned();
    assert_eq!(introspect_token(&s, &rs, &at).await["active"], true);
    s.clock.advance(600);
    assert_eq!(
        introspect_token(&s, &rs, &at).await,
        json!({ "active": false })
    );
    let (status, body) = exchange(&s, &key, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn the_allowlist_is_enforced_with_the_real_source_address() {
    let s = TestServer::start().await;
    let acme = new_tenant(&s, "Acme").await;
    let (_, office) = new_key(&s, &acme, "office", &["10.0.0.0/8"]).await;
    let (_, local) = new_key(&s, &acme, "local", &["127.0.0.1/32"]).await;
    let (status, body) = exchange(&s, &office, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = exchange(&s, &local, &[]).await;
    assert_eq!(status, 200, "{body}");
    // Without trusted proxies, X-Forwarded-For is not believed.
    let xff = [("x-forwarded-for", "10.1.2.3")];
    let (status, _) = exchange_with(&s, &office, &[], &xff).await;
    assert_eq!(status, 400);
    let denied = s
        .store
        .audit()
        .list_after(0, 1000, Some(acme.as_str()))
        .await
        .unwrap();
    let reasons: Vec<&str> = denied
        .iter()
        .filter(|e| e.event.action == "api_key.use")
        .map(|e| e.event.details["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["ip_not_allowed", "ip_not_allowed"]);
}

#[tokio::test]
async fn a_trusted_proxy_s_forwarded_address_is_the_source() {
    let s =
        TestServer::start_with(|st| st.network.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let acme = new_tenant(&s, "Acme").await;
    let (_, office) = new_key(&s, &acme, "office", &["10.0.0.0/8"]).await;
    let (_, local) = new_key(&s, &acme, "local", &["127.0.0.1/32"]).await;
    let xff = [("x-forwarded-for", "10.1.2.3")];
    let (status, body) = exchange_with(&s, &office, &[], &xff).await;
    assert_eq!(status, 200, "{body}");
    // Behind the proxy, the local key is used from 10.1.2.3: refused.
    let (status, _) = exchange_with(&s, &local, &[], &xff).await;
    assert_eq!(status, 400);
    let (status, _) = exchange(&s, &office, &[]).await;
    assert_eq!(status, 400, "no header: the proxy itself is the source");
}

trait StatusBody {
    fn into_status_body(self) -> (u16, Value);
}

impl StatusBody for (u16, String, Value) {
    fn into_status_body(self) -> (u16, Value) {
        (self.0, self.2)
    }
}

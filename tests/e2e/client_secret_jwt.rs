//! `client_secret_jwt` client authentication (OIDC Core §9, RFC 7523 §2.2): an opt-in per client,
//! available only with a master key, which keeps the secret sealed at rest. HS256 assertions
//! keyed with the secret authenticate at the token, introspection and revocation endpoints;
//! replays, other secrets, other algorithms and the bare secret are `invalid_client`.

use chrono::Utc;
use gatehouse_admin::clients::NewClientRequest;
use gatehouse_admin::{Actor, Context, Field, OpError};
use gatehouse_core::client::ClientRegistration;
use gatehouse_jose::MasterKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

use crate::private_key_jwt::{ASSERTION_TYPE, assertion_claims};
use crate::support::*;

const MK: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn registration() -> ClientRegistration {
    ClientRegistration {
        grant_types: vec!["client_credentials".into()],
        scope: Some("api:read".into()),
        auth_method: Some("client_secret_jwt".into()),
        ..ClientRegistration::named("HMAC service", gatehouse_core::TenantId::default_tenant())
    }
}

/// Registers the client as the local operator does, with the server's master key (if any).
async fn register(
    s: &TestServer,
    master: Option<&MasterKey>,
) -> Result<gatehouse_admin::views::CreatedClient, OpError> {
    let actor = Actor::operator();
    let ctx = Context::new(&s.store, &actor, Utc::now());
    let req = NewClientRequest {
        registration: registration(),
        keys: None,
    };
    gatehouse_admin::clients::create(&ctx, req, master).await
}

async fn server() -> (TestServer, String, String) {
    let s = TestServer::start_with(|st| st.master_key = Some(MasterKey::parse(MK).unwrap())).await;
    let master = MasterKey::parse(MK).unwrap();
    let out = register(&s, Some(&master)).await.unwrap();
    let id = out.client.client_id.to_string();
    let secret = out.client_secret.unwrap().expose().to_owned();
    assert_eq!(out.client.auth_method, "client_secret_jwt");
    (s, id, secret)
}

fn hs(alg: Algorithm, secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn post(s: &TestServer, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = http().post(s.url(path)).form(form).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn cc(s: &TestServer, assertion: &str) -> (u16, Value) {
    post(
        s,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
    )
    .await
}

#[tokio::test]
async fn hs256_assertions_keyed_with_the_secret_authenticate_once() {
    let (s, id, secret) = server().await;
    let meta = openid_configuration(&s).await;
    let has = |f: &str, v: &str| meta[f].as_array().unwrap().iter().any(|x| x == v);
    assert!(has(
        "token_endpoint_auth_methods_supported",
        "client_secret_jwt"
    ));
    assert!(has(
        "token_endpoint_auth_signing_alg_values_supported",
        "HS256"
    ));

    let assertion = hs(Algorithm::HS256, &secret, &assertion_claims(&s, &id, &id));
    let (status, body) = cc(&s, &assertion).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(body["scope"], "api:read");

    // The same assertion again is a replay.
    let (status, body) = cc(&s, &assertion).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // Introspection and revocation accept the same method.
    for (path, check_active) in [("/oauth/introspect", true), ("/oauth/revoke", false)] {
        let a = hs(Algorithm::HS256, &secret, &assertion_claims(&s, &id, &id));
        let (status, body) = post(
            &s,
            path,
            &[
                ("token", &token),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &a),
            ],
        )
        .await;
        assert_eq!(status, 200, "{path}: {body}");
        if check_active {
            assert_eq!(body["active"], true, "{body}");
        }
    }
}

#[tokio::test]
async fn other_secrets_algorithms_and_the_bare_secret_are_refused() {
    let (s, id, secret) = server().await;
    let claims = assertion_claims(&s, &id, &id);
    for (what, assertion) in [
        (
            "another secret",
            hs(Algorithm::HS256, "not-the-secret", &claims),
        ),
        ("HS512", hs(Algorithm::HS512, &secret, &claims)),
        (
            "mangled",
            format!("{}x", hs(Algorithm::HS256, &secret, &claims)),
        ),
    ] {
        let (status, body) = cc(&s, &assertion).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{what}: {body}"
        );
    }
    // iss/sub naming another client, with this client's secret.
    let mut other = assertion_claims(&s, &id, &id);
    other["sub"] = "someone-else".into();
    let (status, _) = cc(&s, &hs(Algorithm::HS256, &secret, &other)).await;
    assert_eq!(status, 401);
    // The secret itself is not a password for Basic or post authentication.
    let resp = http()
        .post(s.url("/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let (status, _) = post(
        &s,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn without_a_master_key_the_method_is_neither_offered_nor_registrable() {
    let s = TestServer::start().await;
    let meta = openid_configuration(&s).await;
    assert!(!lists(
        &meta,
        "token_endpoint_auth_methods_supported",
        "client_secret_jwt"
    ));
    let err = register(&s, None).await.unwrap_err();
    let OpError::Invalid(f) = &err else {
        panic!("{err}")
    };
    assert_eq!(f.field, Field::AuthMethod, "{err}");
    assert!(f.reason.contains("master key"), "{err}");
    // Nothing was written.
    let out = run_cli(&s.db_url, &["audit", "list", "--json"], None);
    let audit = cli_json(&out);
    assert!(
        !audit.to_string().contains("HMAC service"),
        "a refused client must not be recorded: {audit}"
    );
}

#[tokio::test]
async fn a_rotated_secret_keys_the_assertions_and_the_old_one_stops() {
    let (s, id, old) = server().await;
    let master = MasterKey::parse(MK).unwrap();
    let actor = Actor::operator();
    let ctx = Context::new(&s.store, &actor, Utc::now());
    // Without the master key the HS256 key cannot be sealed: refused, nothing changes.
    let refused = gatehouse_admin::clients::rotate_secret(&ctx, &id, None, None).await;
    assert!(matches!(refused, Err(OpError::Refused(_))), "{refused:?}");
    let (status, body) = cc(
        &s,
        &hs(Algorithm::HS256, &old, &assertion_claims(&s, &id, &id)),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let rotated = gatehouse_admin::clients::rotate_secret(&ctx, &id, None, Some(&master))
        .await
        .unwrap();
    let new = rotated.client_secret.expose().to_owned();
    assert_ne!(new, old);
    let (status, body) = cc(
        &s,
        &hs(Algorithm::HS256, &new, &assertion_claims(&s, &id, &id)),
    )
    .await;
    assert_eq!(status, 200, "the new secret signs: {body}");
    let (status, body) = cc(
        &s,
        &hs(Algorithm::HS256, &old, &assertion_claims(&s, &id, &id)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "the old secret no longer signs"
    );
}

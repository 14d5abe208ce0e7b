//! ES256 access tokens (issue 9): chosen per client (`client create --access-token-alg`, the
//! admin API's `access_token_alg`) or for every client that chose none (`[tokens]
//! access_token_alg`); the token names a key the JWKS publishes, and introspection, userinfo
//! and resource servers accept it like an RS256 one.

use gatehouse_core::SigningAlg;
use serde_json::{Value, json};

use crate::admin_api::{key, post, tenant};
use crate::support::*;

fn machine(r: &mut gatehouse_core::client::ClientRegistration) {
    r.grant_types = vec!["client_credentials".into()];
    r.redirect_uris.clear();
    r.scope = Some("api:read".into());
}

/// A client-credentials token of `c`: its header `alg` and `kid`, and the token.
async fn token_of(s: &TestServer, c: &TestClient) -> (String, String, String) {
    let (status, body) = token_request(s, c, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{body}");
    let token = str_of(&body, "access_token").to_owned();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    (format!("{:?}", header.alg), header.kid.unwrap(), token)
}

/// The JWKS entry with `kid`.
async fn jwk(s: &TestServer, kid: &str) -> Value {
    let jwks: Value = http()
        .get(s.url("/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .cloned()
        .unwrap_or_else(|| panic!("kid {kid} not in the JWKS {jwks}"))
}

#[tokio::test]
async fn a_client_may_choose_es256_access_tokens_and_others_keep_rs256() {
    let s = TestServer::start().await;
    let es = s
        .client(|r| {
            machine(r);
            r.access_token_alg = Some("ES256".into());
        })
        .await;
    let rs = s.client(machine).await;

    let (alg, kid, token) = token_of(&s, &es).await;
    assert_eq!(alg, "ES256");
    let key = jwk(&s, &kid).await;
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["alg"], "ES256");
    let answer = introspect_token(&s, &rs, &token).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["client_id"], es.id.as_str());

    let (alg, kid, _) = token_of(&s, &rs).await;
    assert_eq!(alg, "RS256");
    assert_eq!(jwk(&s, &kid).await["kty"], "RSA");
}

#[tokio::test]
async fn the_server_default_applies_to_clients_that_chose_none() {
    let s = TestServer::start_with(|c| c.tokens.access_token_alg = SigningAlg::ES256).await;
    let default = s.client(machine).await;
    let rsa = s
        .client(|r| {
            machine(r);
            r.access_token_alg = Some("RS256".into());
        })
        .await;
    assert_eq!(token_of(&s, &default).await.0, "ES256");
    assert_eq!(token_of(&s, &rsa).await.0, "RS256");
    // Discovery still names both algorithms the JWKS serves.
    let meta = openid_configuration(&s).await;
    let algs = meta["id_token_signing_alg_values_supported"].to_string();
    assert!(algs.contains("RS256") && algs.contains("ES256"), "{algs}");
}

#[tokio::test]
async fn the_cli_and_the_admin_api_set_the_algorithm_and_refuse_unknown_ones() {
    let s = TestServer::start().await;
    let out = run_cli(
        &s.db_url,
        &[
            "client",
            "create",
            "--name",
            "Fast",
            "--grant-type",
            "client_credentials",
            "--scope",
            "api:read",
            "--access-token-alg",
            "ES256",
            "--json",
        ],
        None,
    );
    let v = cli_json(&out);
    assert_eq!(v["access_token_alg"], "ES256");
    let c = TestClient {
        id: str_of(&v, "client_id").to_owned(),
        secret: Some(str_of(&v, "client_secret").to_owned()),
    };
    assert_eq!(token_of(&s, &c).await.0, "ES256");

    let out = run_cli(
        &s.db_url,
        &[
            "client",
            "create",
            "--name",
            "Bad",
            "--grant-type",
            "client_credentials",
            "--access-token-alg",
            "HS256",
            "--json",
        ],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--access-token-alg"), "{err}");

    let t = tenant(&s, "Api", 4).await;
    let admin = key(&s, &t, "admin", "admin:all").await;
    let created = post(
        &s,
        "/admin/v1/clients",
        &admin,
        json!({"name": "Api app", "grant_types": ["client_credentials"], "scope": "api:read",
               "access_token_alg": "ES256"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["access_token_alg"], "ES256");
    let bad = post(
        &s,
        "/admin/v1/clients",
        &admin,
        json!({"name": "Bad", "grant_types": ["client_credentials"], "access_token_alg": "none"}),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body.to_string().contains("access_token_alg"),
        "{}",
        bad.body
    );
}

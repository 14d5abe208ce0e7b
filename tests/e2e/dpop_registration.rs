//! DPoP client metadata in dynamic client registration (RFC 9449 §5.2 with RFC 7591 and
//! RFC 7592): `dpop_bound_access_tokens: true` registers a client that must send DPoP proofs,
//! the value is echoed by registration and the management read, replaced by the management
//! update, and anything but a boolean is `invalid_client_metadata`.

use gatehouse_core::SigningAlg;
use serde_json::{Value, json};

use crate::dpop::{claims_of, proof, token_with};
use crate::dynamic_registration::{machine, manage, register, token_of};
use crate::private_key_jwt::new_key;
use crate::support::*;

fn client_of(reg: &Value) -> TestClient {
    TestClient {
        id: str_of(reg, "client_id").to_owned(),
        secret: Some(str_of(reg, "client_secret").to_owned()),
    }
}

fn with_dpop(v: Value) -> Value {
    let mut body = machine();
    body["dpop_bound_access_tokens"] = v;
    body
}

const CC: [(&str, &str); 1] = [("grant_type", "client_credentials")];

#[tokio::test]
async fn dpop_bound_access_tokens_registers_a_client_that_must_send_proofs_rfc9449_5_2() {
    let s = TestServer::start().await;
    let token = token_of(&s, &[]);
    let (status, reg) = register(&s, Some(&token), &with_dpop(json!(true))).await;
    assert_eq!(status, 201, "{reg}");
    assert_eq!(reg["dpop_bound_access_tokens"], true);
    let c = client_of(&reg);
    // No proof: refused. A proof: a DPoP-bound token.
    let (status, body) = token_with(&s, &c, &CC, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let key = new_key(SigningAlg::ES256);
    let (status, body) = token_with(&s, &c, &CC, Some(proof(&s, &key))).await;
    assert_eq!(
        (status, body["token_type"].as_str()),
        (200, Some("DPoP")),
        "{body}"
    );
    assert!(claims_of(str_of(&body, "access_token"))["cnf"]["jkt"].is_string());

    // RFC 7592 §2.1 read echoes it.
    let uri = str_of(&reg, "registration_client_uri").to_owned();
    let rat = str_of(&reg, "registration_access_token").to_owned();
    let (status, read) = manage(reqwest::Method::GET, &uri, &rat, None).await;
    assert_eq!(
        (status, &read["dpop_bound_access_tokens"]),
        (200, &json!(true))
    );

    // §2.2 update replaces it: false (or omitted), and Bearer tokens are issued again.
    let mut update = with_dpop(json!(false));
    update["client_id"] = json!(c.id);
    let (status, updated) = manage(reqwest::Method::PUT, &uri, &rat, Some(&update)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["dpop_bound_access_tokens"], false);
    let (_, read) = manage(reqwest::Method::GET, &uri, &rat, None).await;
    assert_eq!(read["dpop_bound_access_tokens"], false);
    let (status, body) = token_with(&s, &c, &CC, None).await;
    assert_eq!((status, body["token_type"].as_str()), (200, Some("Bearer")));
    // ... and back to true.
    update["dpop_bound_access_tokens"] = json!(true);
    let (status, updated) = manage(reqwest::Method::PUT, &uri, &rat, Some(&update)).await;
    assert_eq!(
        (status, &updated["dpop_bound_access_tokens"]),
        (200, &json!(true))
    );
    let (status, body) = token_with(&s, &c, &CC, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let mut omitted = machine();
    omitted["client_id"] = json!(c.id);
    let (_, updated) = manage(reqwest::Method::PUT, &uri, &rat, Some(&omitted)).await;
    assert_eq!(updated["dpop_bound_access_tokens"], false);
    assert_eq!(token_with(&s, &c, &CC, None).await.0, 200);
}

#[tokio::test]
async fn dpop_bound_access_tokens_defaults_to_false_and_must_be_a_boolean_rfc9449_5_2() {
    let s = TestServer::start().await;
    let token = token_of(&s, &[]);
    let (status, reg) = register(&s, Some(&token), &machine()).await;
    assert_eq!(
        (status, &reg["dpop_bound_access_tokens"]),
        (201, &json!(false))
    );
    let c = client_of(&reg);
    let (status, body) = token_with(&s, &c, &CC, None).await;
    assert_eq!((status, body["token_type"].as_str()), (200, Some("Bearer")));
    for bad in [json!("true"), json!(1), json!([true]), json!({"x": true})] {
        let (status, err) = register(&s, Some(&token), &with_dpop(bad.clone())).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (400, Some("invalid_client_metadata")),
            "{bad}"
        );
    }
    // In an update too; the client stays as it was.
    let uri = str_of(&reg, "registration_client_uri").to_owned();
    let rat = str_of(&reg, "registration_access_token").to_owned();
    let mut update = with_dpop(json!("yes"));
    update["client_id"] = json!(c.id);
    let (status, err) = manage(reqwest::Method::PUT, &uri, &rat, Some(&update)).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );
    let (_, read) = manage(reqwest::Method::GET, &uri, &rat, None).await;
    assert_eq!(read["dpop_bound_access_tokens"], false);
}

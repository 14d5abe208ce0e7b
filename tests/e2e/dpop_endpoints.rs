//! DPoP (RFC 9449) at the authorization server's other client-authenticated endpoints:
//! introspection (`/oauth/introspect`) and revocation (`/oauth/revoke`) verify a proof sent
//! with the request exactly as the token endpoint does (§4.3, for their own URL; single use,
//! §11.1; server nonces, §8); a client registered "DPoP required" sends proofs wherever it
//! authenticates (token, PAR, revocation, introspection; §5); a public client revokes its
//! bound tokens only with a proof of their key (§5).

use gatehouse_core::SigningAlg;
use gatehouse_jose::SigningKey;
use serde_json::{Value, json};

use crate::dpop::{claims, code_form, code_with, header, proof, service, token_with};
use crate::private_key_jwt::new_key;
use crate::support::*;

/// A proof signed with `key` for `htm` at `path`.
fn proof_for(s: &TestServer, key: &SigningKey, htm: &str, path: &str) -> String {
    key.sign_with_header(&header(key), &claims(s, htm, path))
        .unwrap()
}

/// POSTs `form` to `path` as `c` (Basic, or `client_id` for public clients) with these `DPoP`
/// header values: (status, body, `DPoP-Nonce`).
async fn post(
    s: &TestServer,
    c: &TestClient,
    path: &str,
    form: &[(&str, &str)],
    proofs: &[&str],
) -> (u16, Value, Option<String>) {
    let mut form = form.to_vec();
    let mut req = http().post(s.url(path));
    match &c.secret {
        Some(secret) => req = req.basic_auth(&c.id, Some(secret)),
        None => form.push(("client_id", &c.id)),
    }
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    let resp = req.form(&form).send().await.unwrap();
    let status = resp.status().as_u16();
    let nonce = resp
        .headers()
        .get("dpop-nonce")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, resp.json().await.unwrap_or(Value::Null), nonce)
}

fn refused(r: &(u16, Value, Option<String>)) -> bool {
    r.0 == 400 && r.1["error"] == "invalid_dpop_proof"
}

/// A Bearer access token of `c` (client credentials, no proof).
async fn bearer_token(s: &TestServer, c: &TestClient) -> String {
    let form = [("grant_type", "client_credentials")];
    let (status, body) = token_with(s, c, &form, None).await;
    assert_eq!(status, 200, "{body}");
    str_of(&body, "access_token").to_owned()
}

#[tokio::test]
async fn proofs_at_introspection_are_verified_as_at_the_token_endpoint_rfc9449_4_3() {
    let s = TestServer::start().await;
    let c = service(&s).await;
    let at = bearer_token(&s, &c).await;
    let form = [("token", at.as_str())];
    let key = new_key(SigningAlg::ES256);
    let introspect = "/oauth/introspect";
    // A valid proof for this endpoint: accepted, the answer unchanged.
    let p = proof_for(&s, &key, "POST", introspect);
    let (status, body, _) = post(&s, &c, introspect, &form, &[&p]).await;
    assert_eq!(
        (status, body["active"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    // The same proof again (§11.1): refused.
    assert!(refused(&post(&s, &c, introspect, &form, &[&p]).await));
    // A proof for another endpoint (htu), another host, or another method (htm).
    let other_endpoint = proof(&s, &key);
    assert!(refused(
        &post(&s, &c, introspect, &form, &[&other_endpoint]).await
    ));
    let mut cl = claims(&s, "POST", introspect);
    cl["htu"] = json!("https://attacker.example/oauth/introspect");
    let other_host = key.sign_with_header(&header(&key), &cl).unwrap();
    assert!(refused(
        &post(&s, &c, introspect, &form, &[&other_host]).await
    ));
    let get = proof_for(&s, &key, "GET", introspect);
    assert!(refused(&post(&s, &c, introspect, &form, &[&get]).await));
    // Too old, or signed by another key than its jwk, or two DPoP headers.
    let mut cl = claims(&s, "POST", introspect);
    cl["iat"] = json!(s.clock_now().timestamp() - 301);
    let old = key.sign_with_header(&header(&key), &cl).unwrap();
    assert!(refused(&post(&s, &c, introspect, &form, &[&old]).await));
    let forged = new_key(SigningAlg::ES256)
        .sign_with_header(&header(&key), &claims(&s, "POST", introspect))
        .unwrap();
    assert!(refused(&post(&s, &c, introspect, &form, &[&forged]).await));
    let (a, b) = (
        proof_for(&s, &key, "POST", introspect),
        proof_for(&s, &key, "POST", introspect),
    );
    assert!(refused(&post(&s, &c, introspect, &form, &[&a, &b]).await));
    // Without a DPoP header, nothing changes for a client that is not DPoP-required.
    let (status, body, _) = post(&s, &c, introspect, &form, &[]).await;
    assert_eq!((status, body["active"].as_bool()), (200, Some(true)));
}

#[tokio::test]
async fn proofs_at_revocation_are_verified_as_at_the_token_endpoint_rfc9449_4_3() {
    let s = TestServer::start().await;
    let c = service(&s).await;
    let at = bearer_token(&s, &c).await;
    let form = [("token", at.as_str())];
    let key = new_key(SigningAlg::ES256);
    let revoke = "/oauth/revoke";
    // Refused proofs revoke nothing: a proof for another endpoint (htu), another method.
    let wrong_htu = proof_for(&s, &key, "POST", "/oauth/introspect");
    assert!(refused(&post(&s, &c, revoke, &form, &[&wrong_htu]).await));
    let wrong_htm = proof_for(&s, &key, "GET", revoke);
    assert!(refused(&post(&s, &c, revoke, &form, &[&wrong_htm]).await));
    assert_eq!(introspect_token(&s, &c, &at).await["active"], true);
    // A valid proof: the token is revoked.
    let p = proof_for(&s, &key, "POST", revoke);
    let (status, body, _) = post(&s, &c, revoke, &form, &[&p]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(introspect_token(&s, &c, &at).await["active"], false);
    // The same proof again: refused (§11.1), even for another token.
    let other = bearer_token(&s, &c).await;
    let r = post(&s, &c, revoke, &[("token", other.as_str())], &[&p]).await;
    assert!(refused(&r));
    assert_eq!(introspect_token(&s, &c, &other).await["active"], true);
}

#[tokio::test]
async fn a_dpop_required_client_sends_proofs_wherever_it_authenticates_rfc9449_5() {
    let s = TestServer::start().await;
    let created = cli_json(&run_cli(
        &s.db_url,
        &[
            "client",
            "create",
            "--name",
            "bound",
            "--grant-type",
            "client_credentials",
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid api:read",
            "--dpop-required",
            "--json",
        ],
        None,
    ));
    let c = TestClient {
        id: str_of(&created, "client_id").to_owned(),
        secret: Some(str_of(&created, "client_secret").to_owned()),
    };
    let key = new_key(SigningAlg::ES256);
    // Token endpoint: no proof, refused; with one, a bound token.
    let cc = [("grant_type", "client_credentials")];
    let (status, body) = token_with(&s, &c, &cc, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let (status, body) = token_with(&s, &c, &cc, Some(proof(&s, &key))).await;
    assert_eq!((status, body["token_type"].as_str()), (200, Some("DPoP")));
    let at = str_of(&body, "access_token").to_owned();
    let form = [("token", at.as_str())];
    // Introspection.
    assert!(refused(
        &post(&s, &c, "/oauth/introspect", &form, &[]).await
    ));
    let p = proof_for(&s, &key, "POST", "/oauth/introspect");
    let (status, body, _) = post(&s, &c, "/oauth/introspect", &form, &[&p]).await;
    assert_eq!(
        (status, body["active"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    // PAR.
    let (_, challenge) = pkce();
    let push = [
        ("response_type", "code"),
        ("client_id", c.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    assert!(refused(&post(&s, &c, "/oauth/par", &push, &[]).await));
    let p = proof_for(&s, &key, "POST", "/oauth/par");
    let (status, body, _) = post(&s, &c, "/oauth/par", &push, &[&p]).await;
    assert_eq!(status, 201, "{body}");
    // Revocation: refused without a proof (nothing revoked), done with one.
    assert!(refused(&post(&s, &c, "/oauth/revoke", &form, &[]).await));
    let p = proof_for(&s, &key, "POST", "/oauth/introspect");
    let (_, body, _) = post(&s, &c, "/oauth/introspect", &form, &[&p]).await;
    assert_eq!(body["active"], true);
    let p = proof_for(&s, &key, "POST", "/oauth/revoke");
    assert_eq!(post(&s, &c, "/oauth/revoke", &form, &[&p]).await.0, 200);
    let p = proof_for(&s, &key, "POST", "/oauth/introspect");
    let (_, body, _) = post(&s, &c, "/oauth/introspect", &form, &[&p]).await;
    assert_eq!(body["active"], false);
    // Other clients are not affected.
    let free = service(&s).await;
    let at = bearer_token(&s, &free).await;
    assert_eq!(introspect_token(&s, &free, &at).await["active"], true);
    assert_eq!(revoke_token(&s, &free, &at, None).await, 200);
}

#[tokio::test]
async fn a_public_client_revokes_its_bound_tokens_with_a_proof_of_their_key_rfc9449_5() {
    let s = TestServer::start().await;
    let c = s
        .client(|r| {
            r.auth_method = Some("none".into());
            r.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
        })
        .await;
    s.user("pam").await;
    let key = new_key(SigningAlg::ES256);
    let other = new_key(SigningAlg::ES256);
    let revoke = "/oauth/revoke";
    let (code, verifier) = code_with(&s, &c, "pam", "openid offline_access", &[]).await;
    let (status, body) =
        token_with(&s, &c, &code_form(&code, &verifier), Some(proof(&s, &key))).await;
    assert_eq!((status, body["token_type"].as_str()), (200, Some("DPoP")));
    let rt = str_of(&body, "refresh_token").to_owned();
    let at = str_of(&body, "access_token").to_owned();
    // The bound refresh token: without a proof, or with another key, refused.
    let form = [("token", rt.as_str())];
    assert!(refused(&post(&s, &c, revoke, &form, &[]).await));
    let wrong = proof_for(&s, &other, "POST", revoke);
    assert!(refused(&post(&s, &c, revoke, &form, &[&wrong]).await));
    // ... and nothing was revoked: the holder of the key still refreshes.
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
    ];
    let (status, body) = token_with(&s, &c, &refresh, Some(proof(&s, &key))).await;
    assert_eq!(status, 200, "{body}");
    let rt = str_of(&body, "refresh_token").to_owned();
    // With a proof of the key: the grant is revoked.
    let p = proof_for(&s, &key, "POST", revoke);
    let form = [("token", rt.as_str())];
    assert_eq!(post(&s, &c, revoke, &form, &[&p]).await.0, 200);
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
    ];
    let (status, body) = token_with(&s, &c, &refresh, Some(proof(&s, &key))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The bound access token (cnf.jkt) likewise: refused without the key, revoked with it.
    let (code, verifier) = code_with(&s, &c, "pam", "openid", &[]).await;
    let (_, body) = token_with(&s, &c, &code_form(&code, &verifier), Some(proof(&s, &key))).await;
    let at2 = str_of(&body, "access_token").to_owned();
    let form = [("token", at2.as_str())];
    assert!(refused(&post(&s, &c, revoke, &form, &[]).await));
    let p = proof_for(&s, &key, "POST", revoke);
    assert_eq!(post(&s, &c, revoke, &form, &[&p]).await.0, 200);
    let rs = service(&s).await;
    assert_eq!(introspect_token(&s, &rs, &at2).await["active"], false);
    // The first access token belonged to the revoked grant.
    assert_eq!(introspect_token(&s, &rs, &at).await["active"], false);
}

#[tokio::test]
async fn the_server_nonce_applies_at_introspection_and_revocation_rfc9449_8() {
    let s = TestServer::start_with(|st| st.dpop.require_nonce = true).await;
    let c = service(&s).await;
    let key = new_key(SigningAlg::ES256);
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let at = bearer_token(&s, &c).await;
        let form = [("token", at.as_str())];
        let (status, body, nonce) =
            post(&s, &c, path, &form, &[&proof_for(&s, &key, "POST", path)]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("use_dpop_nonce")),
            "{path}"
        );
        let nonce = nonce.expect("a DPoP-Nonce header");
        let mut cl = claims(&s, "POST", path);
        cl["nonce"] = json!(nonce);
        let p = key.sign_with_header(&header(&key), &cl).unwrap();
        let (status, body, fresh) = post(&s, &c, path, &form, &[&p]).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            fresh.is_some(),
            "{path}: a fresh nonce comes with the answer"
        );
        // A made-up nonce is refused.
        let mut cl = claims(&s, "POST", path);
        cl["nonce"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        let p = key.sign_with_header(&header(&key), &cl).unwrap();
        let (_, body, _) = post(&s, &c, path, &form, &[&p]).await;
        assert_eq!(body["error"], "use_dpop_nonce", "{path}");
    }
    // Requests without a proof need no nonce.
    let at = bearer_token(&s, &c).await;
    assert_eq!(introspect_token(&s, &c, &at).await["active"], true);
}

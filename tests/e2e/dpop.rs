//! DPoP (RFC 9449) at the token endpoint: proofs built here with keys generated in the test,
//! access tokens bound by `cnf.jkt` with `token_type: DPoP` (§5, §6.1), the proof rules of
//! §4.3 (replay, `htu`, `htm`, `iat`, `alg`, public `jwk`, one header), clients registered
//! with `--dpop-required`, server nonces (§8) and discovery (§5.1).

use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_core::SigningAlg;
use gatehouse_jose::{SigningKey, jwk_thumbprint};
use serde_json::{Value, json};

use crate::private_key_jwt::new_key;
use crate::support::*;

static JTI: AtomicUsize = AtomicUsize::new(0);

/// The public JWK of `key` as a client puts it in a proof header.
pub(crate) fn public_jwk(key: &SigningKey) -> Value {
    key.public_jwk().clone()
}

pub(crate) fn claims(s: &TestServer, htm: &str, path: &str) -> Value {
    json!({
        "jti": format!("dpop-{}", JTI.fetch_add(1, Ordering::SeqCst)),
        "htm": htm,
        "htu": s.url(path),
        "iat": s.clock_now().timestamp(),
    })
}

pub(crate) fn header(key: &SigningKey) -> Value {
    json!({"typ": "dpop+jwt", "alg": key.alg().as_str(), "jwk": public_jwk(key)})
}

/// A valid proof for `POST /oauth/token` signed with `key`.
pub(crate) fn proof(s: &TestServer, key: &SigningKey) -> String {
    key.sign_with_header(&header(key), &claims(s, "POST", "/oauth/token"))
        .unwrap()
}

pub(crate) fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

pub(crate) async fn service(s: &TestServer) -> TestClient {
    s.client(|r| {
        r.grant_types = vec!["client_credentials".into()];
        r.scope = Some("api:read".into());
    })
    .await
}

/// A client_credentials request with these `DPoP` header values.
async fn cc(s: &TestServer, c: &TestClient, proofs: &[&str]) -> (u16, Value, Option<String>) {
    let mut req = http()
        .post(s.url("/oauth/token"))
        .form(&[("grant_type", "client_credentials")])
        .basic_auth(&c.id, c.secret.as_ref());
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    let resp = req.send().await.unwrap();
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

#[tokio::test]
async fn a_proof_binds_the_access_token_to_the_key_rfc9449_5_and_6_1() {
    let s = TestServer::start().await;
    let c = service(&s).await;
    for alg in [SigningAlg::ES256, SigningAlg::RS256] {
        let key = new_key(alg);
        let (status, body, _) = cc(&s, &c, &[&proof(&s, &key)]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "DPoP");
        let at = claims_of(body["access_token"].as_str().unwrap());
        let jkt = jwk_thumbprint(&public_jwk(&key)).unwrap();
        assert_eq!(at["cnf"]["jkt"], jkt.as_str());
    }
    // Without a proof: a plain Bearer token, no cnf.
    let (status, body, _) = cc(&s, &c, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert!(claims_of(body["access_token"].as_str().unwrap())["cnf"].is_null());
}

#[tokio::test]
async fn a_replayed_proof_is_refused_rfc9449_11_1() {
    let s = TestServer::start().await;
    let c = service(&s).await;
    let key = new_key(SigningAlg::ES256);
    let p = proof(&s, &key);
    assert_eq!(cc(&s, &c, &[&p]).await.0, 200);
    assert!(refused(&cc(&s, &c, &[&p]).await));
}

#[tokio::test]
async fn proofs_breaking_the_rules_of_4_3_are_invalid_dpop_proof() {
    let s = TestServer::start().await;
    let c = service(&s).await;
    let key = new_key(SigningAlg::ES256);
    let sign = |h: &Value, cl: &Value| key.sign_with_header(h, cl).unwrap();
    let h = header(&key);
    // Wrong htu (another endpoint; another host), wrong htm.
    let wrong_htu = sign(&h, &claims(&s, "POST", "/oauth/par"));
    assert!(refused(&cc(&s, &c, &[&wrong_htu]).await));
    let mut other_host = claims(&s, "POST", "/oauth/token");
    other_host["htu"] = json!("https://attacker.example/oauth/token");
    assert!(refused(&cc(&s, &c, &[&sign(&h, &other_host)]).await));
    let wrong_htm = sign(&h, &claims(&s, "GET", "/oauth/token"));
    assert!(refused(&cc(&s, &c, &[&wrong_htm]).await));
    // iat too old, or too far ahead.
    for shift in [-301, 120] {
        let mut cl = claims(&s, "POST", "/oauth/token");
        cl["iat"] = json!(s.clock_now().timestamp() + shift);
        assert!(refused(&cc(&s, &c, &[&sign(&h, &cl)]).await), "{shift}");
    }
    // alg none (unsigned).
    let cl = claims(&s, "POST", "/oauth/token");
    let none = format!(
        "{}.{}.",
        B64.encode(json!({"typ": "dpop+jwt", "alg": "none", "jwk": public_jwk(&key)}).to_string()),
        B64.encode(cl.to_string())
    );
    assert!(refused(&cc(&s, &c, &[&none]).await));
    // Wrong typ.
    let mut jwt_typ = h.clone();
    jwt_typ["typ"] = json!("JWT");
    assert!(refused(
        &cc(
            &s,
            &c,
            &[&sign(&jwt_typ, &claims(&s, "POST", "/oauth/token"))]
        )
        .await
    ));
    // A private key in the jwk.
    let mut private = h.clone();
    private["jwk"]["d"] = json!("c2VjcmV0");
    assert!(refused(
        &cc(
            &s,
            &c,
            &[&sign(&private, &claims(&s, "POST", "/oauth/token"))]
        )
        .await
    ));
    // Signed by another key than the one in the header.
    let other = new_key(SigningAlg::ES256);
    let forged = other
        .sign_with_header(&h, &claims(&s, "POST", "/oauth/token"))
        .unwrap();
    assert!(refused(&cc(&s, &c, &[&forged]).await));
    // Two DPoP headers, each valid alone.
    let (a, b) = (proof(&s, &key), proof(&s, &key));
    assert!(refused(&cc(&s, &c, &[&a, &b]).await));
    // Oversized.
    assert!(refused(&cc(&s, &c, &[&"a".repeat(9000)]).await));
}

#[tokio::test]
async fn a_client_registered_with_dpop_required_must_send_a_proof() {
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
            "--scope",
            "api:read",
            "--dpop-required",
            "--json",
        ],
        None,
    ));
    let c = TestClient {
        id: str_of(&created, "client_id").to_owned(),
        secret: Some(str_of(&created, "client_secret").to_owned()),
    };
    assert!(refused(&cc(&s, &c, &[]).await));
    let key = new_key(SigningAlg::ES256);
    let (status, body, _) = cc(&s, &c, &[&proof(&s, &key)]).await;
    assert_eq!((status, body["token_type"].as_str()), (200, Some("DPoP")));
    // Other clients are not affected.
    let free = service(&s).await;
    assert_eq!(cc(&s, &free, &[]).await.0, 200);
}

#[tokio::test]
async fn the_server_may_require_a_nonce_rfc9449_8() {
    let s = TestServer::start_with(|st| st.dpop.require_nonce = true).await;
    let c = service(&s).await;
    let key = new_key(SigningAlg::ES256);
    let (status, body, nonce) = cc(&s, &c, &[&proof(&s, &key)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("use_dpop_nonce"))
    );
    let nonce = nonce.expect("a DPoP-Nonce header");
    let with_nonce = |n: &str| {
        let mut cl = claims(&s, "POST", "/oauth/token");
        cl["nonce"] = json!(n);
        key.sign_with_header(&header(&key), &cl).unwrap()
    };
    let (status, body, fresh) = cc(&s, &c, &[&with_nonce(&nonce)]).await;
    assert_eq!(
        (status, body["token_type"].as_str()),
        (200, Some("DPoP")),
        "{body}"
    );
    assert!(fresh.is_some(), "a fresh nonce comes with every answer");
    // A made-up nonce, or one from long ago, is refused.
    let (_, body, _) = cc(&s, &c, &[&with_nonce("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]).await;
    assert_eq!(body["error"], "use_dpop_nonce");
    s.clock.advance(900);
    let (_, body, _) = cc(&s, &c, &[&with_nonce(&nonce)]).await;
    assert_eq!(body["error"], "use_dpop_nonce");
}

#[tokio::test]
async fn discovery_advertises_the_dpop_algorithms_rfc9449_5_1() {
    let s = TestServer::start().await;
    let meta = openid_configuration(&s).await;
    assert_eq!(
        meta["dpop_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256", "EdDSA"])
    );
}

/// A proof for `GET /userinfo` carrying `ath` of `token`, signed with `key`.
fn userinfo_proof(s: &TestServer, key: &SigningKey, token: &str) -> String {
    let mut cl = claims(s, "GET", "/userinfo");
    cl["ath"] = json!(gatehouse_core::dpop::access_token_hash(token));
    key.sign_with_header(&header(key), &cl).unwrap()
}

/// GET /userinfo with `Authorization: <scheme> <token>` and an optional proof:
/// (status, WWW-Authenticate, body).
async fn userinfo_with(
    s: &TestServer,
    scheme: &str,
    token: &str,
    proof: Option<String>,
) -> (u16, String, Value) {
    let mut req = http()
        .get(s.url("/userinfo"))
        .header("Authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, challenge, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_bound_token_is_used_with_the_dpop_scheme_not_as_bearer_rfc9449_7_1() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let id = s.user("dora").await;
    let (code, verifier) = get_code(&s, &c, "dora", "openid").await;
    let key = new_key(SigningAlg::ES256);
    let (status, body) =
        token_with(&s, &c, &code_form(&code, &verifier), Some(proof(&s, &key))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let at = body["access_token"].as_str().unwrap().to_owned();
    let jkt = jwk_thumbprint(&public_jwk(&key)).unwrap();
    assert_eq!(claims_of(&at)["cnf"]["jkt"], jkt.as_str());
    // With the DPoP scheme and a proof of the key (with ath): the user's claims.
    let (status, _, body) =
        userinfo_with(&s, "DPoP", &at, Some(userinfo_proof(&s, &key, &at))).await;
    assert_eq!(
        (status, body["sub"].as_str()),
        (200, Some(id.as_str())),
        "{body}"
    );
    // Presented as a bearer token: refused.
    let (status, challenge, _) = userinfo_with(&s, "Bearer", &at, None).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    // DPoP scheme without a proof, with a proof for another token (ath), or of another key.
    let (status, challenge, _) = userinfo_with(&s, "DPoP", &at, None).await;
    assert_eq!(status, 401);
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(
        challenge.contains("error=\"invalid_dpop_proof\""),
        "{challenge}"
    );
    let wrong_ath = userinfo_proof(&s, &key, "another-token");
    let (status, challenge, _) = userinfo_with(&s, "DPoP", &at, Some(wrong_ath)).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    let other = new_key(SigningAlg::ES256);
    let (status, challenge, _) =
        userinfo_with(&s, "DPoP", &at, Some(userinfo_proof(&s, &other, &at))).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    // A replayed userinfo proof is refused too.
    let p = userinfo_proof(&s, &key, &at);
    assert_eq!(userinfo_with(&s, "DPoP", &at, Some(p.clone())).await.0, 200);
    assert_eq!(userinfo_with(&s, "DPoP", &at, Some(p)).await.0, 401);
    // An unbound token is not accepted with the DPoP scheme.
    let (code, verifier) = get_code(&s, &c, "dora", "openid").await;
    let (_, plain) = token_with(&s, &c, &code_form(&code, &verifier), None).await;
    let plain = plain["access_token"].as_str().unwrap().to_owned();
    let (status, _, body) =
        userinfo_with(&s, "DPoP", &plain, Some(userinfo_proof(&s, &key, &plain))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    // Introspection shows the binding (RFC 9449 §6.2).
    let meta = introspect_token(&s, &c, &at).await;
    assert_eq!(meta["active"], true);
    assert_eq!(meta["token_type"], "DPoP");
    assert_eq!(meta["cnf"]["jkt"], jkt.as_str());
    let meta = introspect_token(&s, &c, &plain).await;
    assert_eq!(meta["token_type"], "Bearer");
    assert!(meta["cnf"].is_null());
}

/// POSTs `form` to the token endpoint as `client` (Basic, or `client_id` for public clients),
/// with a DPoP proof when given.
pub(crate) async fn token_with(
    s: &TestServer,
    c: &TestClient,
    form: &[(&str, &str)],
    proof: Option<String>,
) -> (u16, Value) {
    let mut form: Vec<(&str, &str)> = form.to_vec();
    let mut req = http().post(s.url("/oauth/token"));
    match &c.secret {
        Some(secret) => req = req.basic_auth(&c.id, Some(secret)),
        None => form.push(("client_id", &c.id)),
    }
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    let resp = req.form(&form).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Runs the code flow for `user` with extra authorization parameters; (code, verifier).
pub(crate) async fn code_with(
    s: &TestServer,
    c: &TestClient,
    user: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (url, verifier) = authorize_url(s, c, scope, extra);
    match run_flow(&browser(), s, &url, user, PASSWORD, "allow").await {
        Outcome::Redirect(loc) => (query_param(&loc, "code").expect("code"), verifier),
        Outcome::Page(st, body) => panic!("expected a redirect, got {st}: {body}"),
    }
}

pub(crate) fn code_form<'a>(code: &'a str, verifier: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ]
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_to_the_key_rfc9449_5() {
    let s = TestServer::start().await;
    let c = s
        .client(|r| {
            r.auth_method = Some("none".into());
            r.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
        })
        .await;
    s.user("pia").await;
    let key = new_key(SigningAlg::ES256);
    let (code, verifier) = code_with(&s, &c, "pia", "openid offline_access", &[]).await;
    let (status, body) =
        token_with(&s, &c, &code_form(&code, &verifier), Some(proof(&s, &key))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
    ];
    // Without a proof, or with another key: refused, and the token is not consumed.
    let (status, body) = token_with(&s, &c, &form, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let other = new_key(SigningAlg::ES256);
    let (status, body) = token_with(&s, &c, &form, Some(proof(&s, &other))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    // With the key: a new bound access token, and the successor is bound too.
    let (status, body) = token_with(&s, &c, &form, Some(proof(&s, &key))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let jkt = jwk_thumbprint(&public_jwk(&key)).unwrap();
    assert_eq!(
        claims_of(body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        jkt.as_str()
    );
    let next = body["refresh_token"].as_str().unwrap().to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", next.as_str()),
    ];
    let (status, _) = token_with(&s, &c, &form, Some(proof(&s, &other))).await;
    assert_eq!(status, 400);
    assert_eq!(
        token_with(&s, &c, &form, Some(proof(&s, &key))).await.0,
        200
    );
}

#[tokio::test]
async fn a_confidential_clients_refresh_token_is_not_bound() {
    let s = TestServer::start().await;
    let c = s
        .client(|r| r.grant_types = vec!["authorization_code".into(), "refresh_token".into()])
        .await;
    s.user("cyd").await;
    let key = new_key(SigningAlg::ES256);
    let (code, verifier) = code_with(&s, &c, "cyd", "openid offline_access", &[]).await;
    let (status, body) =
        token_with(&s, &c, &code_form(&code, &verifier), Some(proof(&s, &key))).await;
    assert_eq!((status, body["token_type"].as_str()), (200, Some("DPoP")));
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
    ];
    let (status, body) = token_with(&s, &c, &form, None).await;
    assert_eq!(
        (status, body["token_type"].as_str()),
        (200, Some("Bearer")),
        "{body}"
    );
}

#[tokio::test]
async fn dpop_jkt_binds_the_code_to_the_key_rfc9449_10() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("jo").await;
    let key = new_key(SigningAlg::ES256);
    let jkt = jwk_thumbprint(&public_jwk(&key)).unwrap();
    let extra = [("dpop_jkt", jkt.as_str())];
    // Redeemed with another key, or without a proof: refused.
    let other = new_key(SigningAlg::ES256);
    let (code, verifier) = code_with(&s, &c, "jo", "openid", &extra).await;
    let (status, body) = token_with(
        &s,
        &c,
        &code_form(&code, &verifier),
        Some(proof(&s, &other)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let (code, verifier) = code_with(&s, &c, "jo", "openid", &extra).await;
    let (status, body) = token_with(&s, &c, &code_form(&code, &verifier), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    // With the key: tokens bound to it.
    let (code, verifier) = code_with(&s, &c, "jo", "openid", &extra).await;
    let (status, body) =
        token_with(&s, &c, &code_form(&code, &verifier), Some(proof(&s, &key))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims_of(body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        jkt.as_str()
    );
    // A malformed dpop_jkt is invalid_request, sent back to the client.
    let (url, _) = authorize_url(&s, &c, "openid", &[("dpop_jkt", "short")]);
    let resp = browser().get(&url).send().await.unwrap();
    assert_eq!(
        query_param(&location(&resp), "error").as_deref(),
        Some("invalid_request")
    );
}

/// Pushes an authorization request of `c` (RFC 9126) with an optional DPoP proof and extra
/// parameters; returns (status, body, PKCE verifier).
async fn push_with(
    s: &TestServer,
    c: &TestClient,
    proof: Option<String>,
    extra: &[(&str, &str)],
) -> (u16, Value, String) {
    let (verifier, challenge) = pkce();
    let mut form = vec![
        ("response_type", "code"),
        ("client_id", c.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    form.extend_from_slice(extra);
    let mut req = http()
        .post(s.url("/oauth/par"))
        .basic_auth(&c.id, c.secret.as_ref())
        .form(&form);
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null), verifier)
}

#[tokio::test]
async fn a_proof_at_the_par_endpoint_binds_the_code_rfc9449_10_1() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("pat").await;
    let key = new_key(SigningAlg::ES256);
    let par_proof = |k: &SigningKey| {
        k.sign_with_header(&header(k), &claims(&s, "POST", "/oauth/par"))
            .unwrap()
    };
    let (status, body, verifier) = push_with(&s, &c, Some(par_proof(&key)), &[]).await;
    assert_eq!(status, 201, "{body}");
    let mut u = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", &c.id)
        .append_pair("request_uri", str_of(&body, "request_uri"));
    let code = match run_flow(&browser(), &s, u.as_str(), "pat", PASSWORD, "allow").await {
        Outcome::Redirect(loc) => query_param(&loc, "code").expect("code"),
        Outcome::Page(st, b) => panic!("{st}: {b}"),
    };
    let other = new_key(SigningAlg::ES256);
    let (status, body) = token_with(
        &s,
        &c,
        &code_form(&code, &verifier),
        Some(proof(&s, &other)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    // A proof for the token endpoint's URL, or a dpop_jkt naming another key, is refused.
    let wrong = proof(&s, &key);
    let (status, body, _) = push_with(&s, &c, Some(wrong), &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let other_jkt = jwk_thumbprint(&public_jwk(&other)).unwrap();
    let extra = [("dpop_jkt", other_jkt.as_str())];
    let (status, body, _) = push_with(&s, &c, Some(par_proof(&key)), &extra).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
}

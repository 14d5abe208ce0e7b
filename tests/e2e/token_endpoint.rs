//! The token endpoint: client authentication (RFC 6749 §2.3), the code grant's single use and
//! bindings (§4.1.3, RFC 7636 §4.6), client credentials (§4.4), errors (§5.2).

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};

use crate::support::*;

async fn cc_client(s: &TestServer) -> TestClient {
    s.client(|r| {
        r.grant_types = vec!["client_credentials".into()];
        r.redirect_uris.clear();
        r.scope = Some("api:read api:write".into());
    })
    .await
}

#[tokio::test]
async fn client_credentials_issues_an_rfc9068_jwt_verifiable_with_the_jwks() {
    let s = TestServer::start().await;
    let c = cc_client(&s).await;
    let (status, body) = token_request(
        &s,
        &c,
        &[("grant_type", "client_credentials"), ("scope", "api:read")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "api:read");
    assert_eq!(body["expires_in"], 3600);
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token for client_credentials"
    );
    let at = body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(at).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::RS256);
    let jwks: JwkSet = http()
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
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[&s.base]);
    v.set_audience(&[&s.base]);
    let claims =
        jsonwebtoken::decode::<serde_json::Value>(at, &DecodingKey::from_jwk(jwk).unwrap(), &v)
            .unwrap()
            .claims;
    assert_eq!(claims["sub"], c.id.as_str());
    assert_eq!(claims["client_id"], c.id.as_str());
    assert_eq!(claims["scope"], "api:read");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 20));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    // No scope asked: all the client's scopes.
    let (_, body) = token_request(&s, &c, &[("grant_type", "client_credentials")]).await;
    assert_eq!(body["scope"], "api:read api:write");
}

#[tokio::test]
async fn client_credentials_refuses_scopes_beyond_the_client() {
    let s = TestServer::start().await;
    let c = cc_client(&s).await;
    let (status, body) = token_request(
        &s,
        &c,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "api:read admin"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_scope");
}

#[tokio::test]
async fn a_client_may_only_use_its_registered_grants() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await; // code flow only
    let (status, body) = token_request(&s, &c, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unauthorized_client");
    let (status, body) =
        token_request(&s, &c, &[("grant_type", "password"), ("username", "x")]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn wrong_or_missing_client_credentials_are_invalid_client_401() {
    let s = TestServer::start().await;
    let c = cc_client(&s).await;
    let wrong = TestClient {
        id: c.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    let resp = http()
        .post(s.url("/oauth/token"))
        .basic_auth(&wrong.id, wrong.secret.as_ref())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    // Unknown client.
    let (status, body) = token_request(
        &s,
        &TestClient {
            id: "nobody".into(),
            secret: Some("x".into()),
        },
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // No authentication at all.
    let resp = http()
        .post(s.url("/oauth/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // A confidential client cannot pretend to be public.
    let resp = http()
        .post(s.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", c.id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn basic_credentials_are_form_urldecoded_rfc6749_2_3_1() {
    let s = TestServer::start().await;
    let c = cc_client(&s).await;
    // Percent-encode every character of the id and secret: the server must decode them.
    let enc = |v: &str| v.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let raw = format!("{}:{}", enc(&c.id), enc(c.secret.as_ref().unwrap()));
    let resp = http()
        .post(s.url("/oauth/token"))
        .header(
            "authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            ),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn client_secret_post_works_and_two_methods_at_once_are_refused() {
    let s = TestServer::start().await;
    let c = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris.clear();
            r.auth_method = Some("client_secret_post".into());
            r.scope = Some("api:read".into());
        })
        .await;
    let secret = c.secret.clone().unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", c.id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let resp = http()
        .post(s.url("/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Basic for a client registered for client_secret_post is refused.
    let (status, _) = token_request(&s, &c, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 401);
    let resp = http()
        .post(s.url("/oauth/token"))
        .basic_auth(&c.id, Some(&secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn malformed_requests_never_yield_a_5xx() {
    let s = TestServer::start().await;
    let c = cc_client(&s).await;
    let h = http();
    let cases: Vec<reqwest::RequestBuilder> = vec![
        h.post(s.url("/oauth/token"))
            .body("grant_type=client_credentials"), // no content type
        h.post(s.url("/oauth/token"))
            .header("content-type", "application/json")
            .body("{}"),
        h.post(s.url("/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("%%%&&&==="),
        h.post(s.url("/oauth/token"))
            .header("authorization", "Basic !!!notbase64")
            .form(&[("grant_type", "client_credentials")]),
        h.post(s.url("/oauth/token"))
            .header("authorization", "Bearer abc")
            .form(&[("grant_type", "client_credentials")]),
        h.post(s.url("/oauth/token"))
            .basic_auth(&c.id, c.secret.as_ref())
            .form(&[
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ]),
        h.post(s.url("/oauth/token"))
            .basic_auth(&c.id, c.secret.as_ref())
            .form(&[("grant_type", "authorization_code")]),
        h.post(s.url("/oauth/token"))
            .basic_auth(&c.id, c.secret.as_ref())
            .form(&[("scope", "x")]),
        h.post(s.url("/oauth/token"))
            .basic_auth(&c.id, c.secret.as_ref())
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "bad\"scope"),
            ]),
        h.post(s.url("/oauth/token"))
            .basic_auth("\u{0}\u{1}", Some("\u{7f}"))
            .form(&[("grant_type", "client_credentials")]),
        h.post(s.url("/oauth/token"))
            .basic_auth(&c.id, c.secret.as_ref())
            .form(&[("grant_type", "x".repeat(60_000))]),
        h.post(s.url("/oauth/token"))
            .basic_auth(&c.id, c.secret.as_ref())
            .body(vec![b'a'; 200_000]),
        h.get(s.url("/oauth/authorize?client_id=%FF%FE&redirect_uri=%00")),
        h.get(s.url("/oauth/authorize?client_id=a&client_id=b")),
        h.get(s.url("/userinfo"))
            .header("authorization", "Bearer not.a.jwt"),
        h.get(s.url("/userinfo")).header(
            "authorization",
            "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        ),
    ];
    for (i, req) in cases.into_iter().enumerate() {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        assert!((400..500).contains(&status), "case {i}: status {status}");
        if resp.url().path() == "/oauth/token" && status != 413 {
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            assert!(
                body["error"].is_string(),
                "case {i}: JSON error body expected, got {body}"
            );
        }
    }
}

#[tokio::test]
async fn a_code_is_single_use_and_replay_revokes_its_tokens() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("ivy").await;
    let (code, verifier) = get_code(&s, &c, "ivy", "openid offline_access").await;
    let (status, first) = redeem(&s, &c, &code, &verifier).await;
    assert_eq!(status, 200, "{first}");
    let at = first["access_token"].as_str().unwrap().to_owned();
    let rt = first["refresh_token"]
        .as_str()
        .expect("offline_access gives a refresh token")
        .to_owned();
    assert_eq!(
        http()
            .get(s.url("/userinfo"))
            .bearer_auth(&at)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, second) = redeem(&s, &c, &code, &verifier).await;
    assert_eq!(
        (status, second["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Everything issued from the first redemption is dead.
    let (status, body) = token_request(
        &s,
        &c,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let resp = http()
        .get(s.url("/userinfo"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn concurrent_redemptions_of_one_code_exactly_one_succeeds() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    s.user("jack").await;
    let (code, verifier) = get_code(&s, &c, "jack", "openid").await;
    let attempts = (0..8).map(|_| redeem(&s, &c, &code, &verifier));
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|(st, _)| *st == 200).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|(st, _)| *st != 200)
            .all(|(st, b)| *st == 400 && b["error"] == "invalid_grant")
    );
}

#[tokio::test]
async fn code_is_bound_to_verifier_redirect_uri_client_and_lifetime() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let other = s.client(|_| {}).await;
    s.user("kim").await;

    let (code, _) = get_code(&s, &c, "kim", "openid").await;
    let (st, b) = redeem(&s, &c, &code, &"x".repeat(43)).await;
    assert_eq!(
        (st, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "wrong verifier"
    );

    let (code, _) = get_code(&s, &c, "kim", "openid").await;
    let (st, b) = token_request(
        &s,
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(
        (st, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "missing verifier"
    );

    let (code, verifier) = get_code(&s, &c, "kim", "openid").await;
    let (st, b) = token_request(
        &s,
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(
        (st, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "other redirect_uri"
    );

    let (code, verifier) = get_code(&s, &c, "kim", "openid").await;
    let (st, b) = redeem(&s, &other, &code, &verifier).await;
    assert_eq!(
        (st, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "other client"
    );

    let (code, verifier) = get_code(&s, &c, "kim", "openid").await;
    s.clock.advance(61);
    let (st, b) = redeem(&s, &c, &code, &verifier).await;
    assert_eq!(
        (st, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "expired after 60 s"
    );
}

#[tokio::test]
async fn token_responses_are_not_cached() {
    let s = TestServer::start().await;
    let c = cc_client(&s).await;
    let resp = http()
        .post(s.url("/oauth/token"))
        .basic_auth(&c.id, c.secret.as_ref())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

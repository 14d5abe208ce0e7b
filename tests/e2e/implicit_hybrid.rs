//! The implicit and hybrid flows (OIDC Core §3.2, §3.3), opt-in per client with the grant type
//! `implicit` and off by default (RFC 9700 §2.1.2): `response_type` `id_token`,
//! `id_token token`, `code id_token`, `code id_token token`; tokens in the fragment, the nonce
//! required, `at_hash` / `c_hash` binding the ID token to what comes with it.

use std::collections::HashMap;

use base64::Engine;
use serde_json::Value;
use sha2::Digest;

use crate::conformance_support::jwt_claims;
use crate::support::*;

/// A client registered with `grants` (e.g. `authorization_code` and `implicit`).
async fn client_with(s: &TestServer, grants: &[&str], alg: Option<&str>) -> TestClient {
    s.client(|r| {
        r.grant_types = grants.iter().map(|g| (*g).to_owned()).collect();
        r.id_token_alg = alg.map(str::to_owned);
    })
    .await
}

/// An authorization URL for `response_type` with state, nonce and PKCE, plus `extra`, without
/// the parameters named in `omit`; returns (url, verifier).
fn front_url(
    s: &TestServer,
    c: &TestClient,
    response_type: &str,
    scope: &str,
    extra: &[(&str, &str)],
    omit: &[&str],
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut u = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
    let pairs = [
        ("response_type", response_type),
        ("client_id", c.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    u.query_pairs_mut().extend_pairs(
        pairs
            .iter()
            .filter(|(k, _)| !omit.contains(k))
            .chain(extra.iter()),
    );
    (u.to_string(), verifier)
}

/// The parameters of a redirect's fragment; asserts that the query carries none of them.
fn fragment(loc: &str) -> HashMap<String, String> {
    let u = url::Url::parse(loc).unwrap();
    assert!(
        u.query().is_none(),
        "nothing may travel in the query: {loc}"
    );
    url::form_urlencoded::parse(u.fragment().expect("a fragment").as_bytes())
        .into_owned()
        .collect()
}

/// Runs the flow as `alice` (signing in and consenting) and returns the redirect.
async fn redirect_of(s: &TestServer, url: &str) -> String {
    match run_flow(&browser(), s, url, "alice", PASSWORD, "allow").await {
        Outcome::Redirect(loc) => loc,
        Outcome::Page(status, body) => panic!("expected a redirect, got {status}: {body}"),
    }
}

/// The refusal sent straight back (before any login): its fragment.
async fn refusal(url: &str) -> HashMap<String, String> {
    let resp = browser().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let loc = location(&resp);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    fragment(&loc)
}

/// The claims of `id_token` after checking its signature against the JWKS, `iss` and `aud`.
async fn verified(s: &TestServer, c: &TestClient, id_token: &str) -> Value {
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet = http()
        .get(s.url("/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("kid");
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[&c.id]);
    v.set_issuer(&[&s.base]);
    jsonwebtoken::decode::<Value>(
        id_token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &v,
    )
    .expect("a valid ID token")
    .claims
}

/// BASE64URL of the left half of SHA-256 (`at_hash`, `c_hash` for RS256 and ES256).
fn half_hash(value: &str) -> String {
    let digest = sha2::Sha256::digest(value.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[tokio::test]
async fn without_the_implicit_opt_in_tokens_are_unsupported_response_type_rfc9700_2_1_2() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    for rt in ["id_token", "id_token token", "code id_token", "code token"] {
        let (url, _) = front_url(&s, &c, rt, "openid", &[], &[]);
        let f = refusal(&url).await;
        assert_eq!(f["error"], "unsupported_response_type", "{rt}");
        assert_eq!(f["state"], "st-123");
        assert_eq!(f["iss"], s.base);
    }
    // A bare `token` (OAuth 2.0 implicit grant) is not offered even with the opt-in.
    let c = client_with(&s, &["implicit"], None).await;
    let (url, _) = front_url(&s, &c, "token", "openid", &[], &[]);
    assert_eq!(refusal(&url).await["error"], "unsupported_response_type");
}

#[tokio::test]
async fn id_token_flow_returns_a_signed_id_token_with_the_nonce_in_the_fragment_oidc_core_3_2_2_5()
{
    let s = TestServer::start().await;
    let sub = s.user("alice").await;
    let c = client_with(&s, &["implicit"], None).await;
    let (url, _) = front_url(&s, &c, "id_token", "openid email", &[], &[]);
    let loc = redirect_of(&s, &url).await;
    assert!(loc.starts_with(&format!("{REDIRECT}#")), "{loc}");
    let f = fragment(&loc);
    assert_eq!(f["state"], "st-123");
    assert_eq!(f["iss"], s.base);
    assert!(!f.contains_key("access_token") && !f.contains_key("code"));
    let claims = verified(&s, &c, &f["id_token"]).await;
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["nonce"], "n-456");
    assert!(claims["at_hash"].is_null() && claims["c_hash"].is_null());
    // No access token to reach userinfo with: the scope's claims are in the ID token (§5.4).
    assert_eq!(claims["email"], "alice@example.com");
}

#[tokio::test]
async fn id_token_token_binds_the_access_token_by_at_hash_and_it_works_at_userinfo_oidc_core_3_2_2_10()
 {
    let s = TestServer::start().await;
    let sub = s.user("alice").await;
    let c = client_with(&s, &["implicit", "refresh_token"], None).await;
    let (url, _) = front_url(&s, &c, "token id_token", "openid offline_access", &[], &[]);
    let f = fragment(&redirect_of(&s, &url).await);
    let at = &f["access_token"];
    assert_eq!(f["token_type"], "Bearer");
    assert!(f["expires_in"].parse::<i64>().unwrap() > 0);
    assert_eq!(f["scope"], "offline_access openid");
    // Never a refresh token from the authorization endpoint.
    assert!(!f.contains_key("refresh_token"));
    let claims = verified(&s, &c, &f["id_token"]).await;
    assert_eq!(claims["at_hash"], half_hash(at));
    assert_eq!(claims["nonce"], "n-456");
    let info: Value = http()
        .get(s.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], sub.as_str());
    // Audited like the code flow's issuance: ids only, never the token.
    let jti = jwt_claims(at)["jti"].as_str().unwrap().to_owned();
    let mut found = None;
    for _ in 0..40 {
        let all = s.store.audit().list_after(0, 1000, None).await.unwrap();
        found = all.into_iter().find(|e| {
            e.event.action == "token.issue" && e.event.details["grant_type"] == "implicit"
        });
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let e = found.expect("a token.issue event").event;
    assert_eq!(e.details["jti"], jti.as_str());
    assert_eq!(e.details["response_type"], "id_token token");
    assert_eq!(e.actor.as_deref(), Some(c.id.as_str()));
    assert!(
        !serde_json::to_string(&e.details)
            .unwrap()
            .contains(at.as_str())
    );
}

#[tokio::test]
async fn code_id_token_binds_the_code_by_c_hash_and_the_code_redeems_with_pkce_oidc_core_3_3_2_11()
{
    let s = TestServer::start().await;
    let sub = s.user("alice").await;
    for alg in ["RS256", "ES256"] {
        let c = client_with(&s, &["authorization_code", "implicit"], Some(alg)).await;
        let (url, verifier) = front_url(&s, &c, "code id_token", "openid", &[], &[]);
        let f = fragment(&redirect_of(&s, &url).await);
        assert!(!f.contains_key("access_token"));
        let code = &f["code"];
        let header = jsonwebtoken::decode_header(&f["id_token"]).unwrap();
        assert_eq!(format!("{:?}", header.alg), alg);
        let claims = verified(&s, &c, &f["id_token"]).await;
        assert_eq!(claims["c_hash"], half_hash(code), "{alg}");
        assert!(claims["at_hash"].is_null());
        assert_eq!(claims["nonce"], "n-456");
        // The code without its verifier is refused (and burnt): PKCE holds for hybrid codes.
        let (url, _) = front_url(&s, &c, "code id_token", "openid", &[], &[]);
        let f2 = fragment(&redirect_of(&s, &url).await);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", f2["code"].as_str()),
            ("redirect_uri", REDIRECT),
        ];
        let (status, body) = token_request(&s, &c, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        // With it, the code gives tokens; the ID token is the same user's, with the nonce.
        let (status, t) = redeem(&s, &c, code, &verifier).await;
        assert_eq!(status, 200, "{t}");
        let back = verified(&s, &c, t["id_token"].as_str().unwrap()).await;
        assert_eq!(back["sub"], sub.as_str());
        assert_eq!(back["nonce"], "n-456");
    }
    // `code id_token token`: both hashes.
    let c = client_with(&s, &["authorization_code", "implicit"], None).await;
    let (url, _) = front_url(&s, &c, "code id_token token", "openid", &[], &[]);
    let f = fragment(&redirect_of(&s, &url).await);
    let claims = verified(&s, &c, &f["id_token"]).await;
    assert_eq!(claims["c_hash"], half_hash(&f["code"]));
    assert_eq!(claims["at_hash"], half_hash(&f["access_token"]));
}

#[tokio::test]
async fn a_missing_nonce_the_query_mode_and_an_inexact_redirect_uri_are_refused_oidc_core_3_2_2_1()
{
    let s = TestServer::start().await;
    let c = client_with(&s, &["authorization_code", "implicit"], None).await;
    for rt in ["id_token", "id_token token", "code id_token"] {
        let (url, _) = front_url(&s, &c, rt, "openid", &[], &["nonce"]);
        let f = refusal(&url).await;
        assert_eq!(f["error"], "invalid_request", "{rt}");
        assert!(f["error_description"].contains("nonce"), "{f:?}");
        assert_eq!(f["state"], "st-123");
        // response_mode=query is refused — and the refusal itself goes in the fragment.
        let (url, _) = front_url(&s, &c, rt, "openid", &[("response_mode", "query")], &[]);
        let f = refusal(&url).await;
        assert_eq!(f["error"], "invalid_request", "{rt}");
    }
    // The loopback port exception of the code flow (RFC 8252 §7.3) does not apply to tokens.
    let loopback = s
        .client(|r| {
            r.grant_types = vec!["authorization_code".into(), "implicit".into()];
            r.redirect_uris = vec!["http://127.0.0.1/cb".into()];
        })
        .await;
    let (url, _) = front_url(&s, &loopback, "id_token", "openid", &[], &[]);
    let url = url.replace(
        &url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
        &url::form_urlencoded::byte_serialize(b"http://127.0.0.1:53111/cb").collect::<String>(),
    );
    let resp = browser().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let loc = location(&resp);
    assert!(loc.starts_with("http://127.0.0.1:53111/cb#"), "{loc}");
    assert_eq!(fragment(&loc)["error"], "invalid_request");
}

#[tokio::test]
async fn form_post_delivers_the_tokens_in_a_form_oidc_form_post_2() {
    let s = TestServer::start().await;
    s.user("alice").await;
    let c = client_with(&s, &["implicit"], None).await;
    let (url, _) = front_url(
        &s,
        &c,
        "id_token token",
        "openid",
        &[("response_mode", "form_post")],
        &[],
    );
    let Outcome::Page(200, body) = run_flow(&browser(), &s, &url, "alice", PASSWORD, "allow").await
    else {
        panic!("expected the form_post page")
    };
    let id_token = hidden(&body, "id_token").expect("id_token field");
    let at = hidden(&body, "access_token").expect("access_token field");
    assert_eq!(verified(&s, &c, &id_token).await["at_hash"], half_hash(&at));
    assert_eq!(hidden(&body, "state").as_deref(), Some("st-123"));
}

#[tokio::test]
async fn discovery_lists_exactly_the_response_types_and_modes_built() {
    let s = TestServer::start().await;
    let m = openid_configuration(&s).await;
    assert_eq!(
        m["response_types_supported"],
        serde_json::json!([
            "code",
            "id_token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token"
        ])
    );
    assert_eq!(
        m["response_modes_supported"],
        serde_json::json!(["query", "fragment", "form_post"])
    );
    assert!(lists(&m, "grant_types_supported", "implicit"));
}

//! OpenID Foundation conformance, Basic OP plan: the code flow (`oidcc-server`), scopes and
//! claims (`oidcc-scope-*`, `oidcc-claims-essential`, OIDC Core §5.4–§5.5), UserInfo
//! (`oidcc-userinfo-*`, §5.3), request parameters that must not break the flow
//! (`oidcc-ui-locales`, `oidcc-display-*`, `oidcc-ensure-other-scope-order-succeeds`),
//! unsupported request objects (`oidcc-ensure-request-object-with-redirect-uri`, §6) and the
//! form post response mode (run by the suite as the separate Form Post OP plan).

use serde_json::Value;

use crate::conformance_support::*;
use crate::support::*;

/// oidcc-server: the ID token is signed by a key from `jwks_uri` and carries `iss`, `sub`,
/// `aud`, `azp`, `nonce`, `at_hash`, `iat`, `exp` and `auth_time` (Core §2, §3.1.3.7).
#[tokio::test]
async fn oidcc_server_id_token_is_valid() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    let sub = s.user("alice").await;
    let t = tokens(&s, &browser(), &client, "openid", &[]).await;
    let id_token = t["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    // oidcc-idtoken-signature: with no algorithm registered, RS256 and a `kid`.
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert!(header.kid.is_some());
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
    v.set_audience(&[&client.id]);
    v.set_issuer(&[&s.base]);
    let claims = jsonwebtoken::decode::<Value>(
        id_token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &v,
    )
    .expect("valid signature")
    .claims;
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["azp"], client.id.as_str());
    assert_eq!(claims["nonce"], "n-456");
    assert!(claims["at_hash"].is_string());
    let (iat, exp, auth_time) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
        claims["auth_time"].as_i64().unwrap(),
    );
    assert!(exp > iat && auth_time <= iat);
}

/// oidcc-scope-profile / -email / -address / -phone / -all: each scope releases its claims
/// at UserInfo and nothing else (Core §5.4).
#[tokio::test]
async fn oidcc_scopes_release_their_claims() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    user_with_profile(&s).await;
    let b = browser();
    let cases: [(&str, &[&str], &[&str]); 5] = [
        (
            "openid profile",
            &["name", "given_name", "family_name", "preferred_username"],
            &["email", "address", "phone_number"],
        ),
        (
            "openid email",
            &["email", "email_verified"],
            &["name", "address", "phone_number"],
        ),
        (
            "openid address",
            &["address"],
            &["name", "email", "phone_number"],
        ),
        (
            "openid phone",
            &["phone_number", "phone_number_verified"],
            &["name", "email", "address"],
        ),
        (
            "openid profile email address phone",
            &["name", "email", "address", "phone_number"],
            &[],
        ),
    ];
    for (scope, present, absent) in cases {
        let t = tokens(&s, &b, &client, scope, &[]).await;
        let info = userinfo(&s, t["access_token"].as_str().unwrap()).await;
        for c in present {
            assert!(info.get(*c).is_some(), "{scope}: {c} missing from {info}");
        }
        for c in absent {
            assert!(info.get(*c).is_none(), "{scope}: {c} released in {info}");
        }
    }
    let t = tokens(&s, &b, &client, "openid profile address phone", &[]).await;
    let info = userinfo(&s, t["access_token"].as_str().unwrap()).await;
    assert_eq!(info["name"], "Alice Liddell");
    assert_eq!(info["family_name"], "Liddell");
    assert_eq!(info["phone_number"], "+44 1865 270000");
    assert_eq!(
        info["address"]["formatted"],
        "Christ Church, Oxford OX1 1DP, UK"
    );
}

/// oidcc-claims-essential: a claim asked for by name in the `claims` parameter is released
/// even without its scope, at UserInfo or in the ID token as requested (Core §5.5).
#[tokio::test]
async fn oidcc_claims_essential_releases_requested_claims() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    user_with_profile(&s).await;
    let claims = r#"{"userinfo":{"name":{"essential":true}},"id_token":{"email":{"essential":true},"phone_number":null}}"#;
    let b = browser();
    let t = tokens(
        &s,
        &b,
        &client,
        "openid offline_access",
        &[("claims", claims)],
    )
    .await;
    let info = userinfo(&s, t["access_token"].as_str().unwrap()).await;
    assert_eq!(info["name"], "Alice Liddell");
    assert!(info.get("email").is_none(), "not asked for at userinfo");
    let id = jwt_claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["phone_number"], "+44 1865 270000");
    assert!(id.get("name").is_none(), "not asked for in the ID token");

    // The request belongs to the grant: a refreshed ID token still carries the claims.
    let (status, r) = token_request(
        &s,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        jwt_claims(r["id_token"].as_str().unwrap())["email"],
        "alice@example.com"
    );
    let info = userinfo(&s, r["access_token"].as_str().unwrap()).await;
    assert_eq!(info["name"], "Alice Liddell");

    // A grant without the parameter is unaffected.
    let t = tokens(&s, &b, &client, "openid", &[]).await;
    let info = userinfo(&s, t["access_token"].as_str().unwrap()).await;
    assert!(info.get("name").is_none());
}

/// A malformed `claims` parameter is an `invalid_request` sent back to the client.
#[tokio::test]
async fn malformed_claims_parameter_is_invalid_request() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let (o, _) = authorize(
        &s,
        &browser(),
        &client,
        "openid",
        &[("claims", "{not json")],
    )
    .await;
    let loc = expect_redirect(o);
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-123"));
}

/// oidcc-userinfo-get, -post-header, -post-body: the three ways to present the token
/// (RFC 6750 §2.1, §2.2) give the same claims.
#[tokio::test]
async fn oidcc_userinfo_get_post_header_and_post_body() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let t = tokens(&s, &browser(), &client, "openid email", &[]).await;
    let at = t["access_token"].as_str().unwrap();
    let get = userinfo(&s, at).await;
    let header: Value = http()
        .post(s.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body: Value = http()
        .post(s.url("/userinfo"))
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(get["email"], "alice@example.com");
    assert_eq!(get, header);
    assert_eq!(get, body);
}

/// oidcc-ui-locales, oidcc-claims-locales, oidcc-display-page, oidcc-display-popup, acr_values
/// and oidcc-ensure-other-scope-order-succeeds: extra parameters do not break the flow.
#[tokio::test]
async fn optional_request_parameters_do_not_break_the_flow() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    for extra in [
        ("ui_locales", "se"),
        ("claims_locales", "de fr"),
        ("display", "page"),
        ("display", "popup"),
        ("acr_values", "urn:mace:incommon:iap:silver 1"),
    ] {
        let t = tokens(&s, &b, &client, "email openid", &[extra]).await;
        assert!(t["id_token"].is_string(), "{extra:?}");
    }
}

/// oidcc-ensure-request-without-nonce-succeeds-for-code-flow,
/// oidcc-ensure-request-with-unknown-parameter-succeeds (RFC 6749 §3.1: unknown parameters are
/// ignored), oidcc-ensure-request-with-valid-pkce-succeeds (every flow here uses S256) and
/// oidcc-ensure-post-request-succeeds (Core §3.1.2.1: the request may be a form POST).
#[tokio::test]
async fn requests_the_basic_plan_expects_to_succeed() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();

    // No nonce: the code flow does not need one; the ID token then carries none.
    let (url, verifier) = authorize_url(&s, &client, "openid", &[]);
    let mut u = url::Url::parse(&url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != "nonce")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs.clone());
    let loc = expect_redirect(run_flow(&b, &s, u.as_str(), "alice", PASSWORD, "allow").await);
    let code = query_param(&loc, "code").expect("a code without nonce");
    let (status, t) = redeem(&s, &client, &code, &verifier).await;
    assert_eq!(status, 200, "{t}");
    assert!(jwt_claims(t["id_token"].as_str().unwrap())["nonce"].is_null());

    // An unknown parameter is ignored.
    let t = tokens(&s, &b, &client, "openid", &[("extra", "foobar")]).await;
    assert!(t["id_token"].is_string());

    // The same request as a form POST to the authorization endpoint.
    let (url, verifier) = authorize_url(&s, &client, "openid", &[]);
    let form: Vec<(String, String)> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let resp = b
        .post(s.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    // The browser already has a session and consent from above: straight back to the client.
    assert_eq!(resp.status(), 303);
    let loc = location(&resp);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    let code = query_param(&loc, "code").unwrap();
    assert_eq!(redeem(&s, &client, &code, &verifier).await.0, 200);
}

/// oidcc-login-hint: the login page is pre-filled with `login_hint`.
#[tokio::test]
async fn login_hint_prefills_the_username() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    let (url, _) = authorize_url(&s, &client, "openid", &[("login_hint", "alice")]);
    let body = get(&browser(), &url).await.text().await.unwrap();
    assert_eq!(hidden(&body, "username").as_deref(), Some("alice"));
}

/// oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported /
/// oidcc-request-uri-*: an unsigned request object is refused with `invalid_request_object`
/// (RFC 9101 §6.1: signatures are required; this client has no keys either) and a
/// `request_uri` that is not a pushed request with `request_uri_not_supported` (Core §6.2:
/// nothing is fetched), sent to the (registered) redirect URI with `state`.
#[tokio::test]
async fn request_objects_are_refused_after_the_redirect_uri_is_checked() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    let b = browser();
    for (param, value, code) in [
        (
            "request",
            "eyJhbGciOiJub25lIn0.e30.",
            "invalid_request_object",
        ),
        (
            "request_uri",
            "https://rp.example/request.jwt",
            "request_uri_not_supported",
        ),
    ] {
        let (url, _) = authorize_url(&s, &client, "openid", &[(param, value)]);
        let resp = get(&b, &url).await;
        assert_eq!(resp.status(), 303);
        let loc = location(&resp);
        assert!(loc.starts_with(REDIRECT), "{loc}");
        assert_eq!(query_param(&loc, "error").as_deref(), Some(code));
        assert_eq!(query_param(&loc, "state").as_deref(), Some("st-123"));

        // With an unregistered redirect_uri the user sees an error page instead: never a
        // redirect to an unchecked URI.
        let mut u = url::Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "redirect_uri" {
                    "https://evil.example/cb".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        let resp = get(&b, u.as_str()).await;
        assert_eq!(resp.status(), 400);
        assert!(resp.headers().get("location").is_none());
        assert!(resp.text().await.unwrap().contains("invalid_request"));
    }
}

/// oidcc-response-mode-form-post: the code, `state` and `iss` are POSTed by an auto-submitting
/// form whose CSP allows exactly that form and script (Form Post Response Mode §2).
#[tokio::test]
async fn oidcc_response_mode_form_post() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    s.user("alice").await;
    let b = browser();
    let (o, verifier) =
        authorize(&s, &b, &client, "openid", &[("response_mode", "form_post")]).await;
    let (status, body) = expect_page(o);
    assert_eq!(status, 200);
    assert!(body.contains("method=\"post\" action=\"http://127.0.0.1:9/callback\""));
    assert!(
        body.contains("<button type=\"submit\">"),
        "visible button for no-JS"
    );
    assert_eq!(hidden(&body, "state").as_deref(), Some("st-123"));
    assert_eq!(hidden(&body, "iss").as_deref(), Some(s.base.as_str()));
    let code = hidden(&body, "code").expect("code field");
    let (st, t) = redeem(&s, &client, &code, &verifier).await;
    assert_eq!(st, 200, "{t}");

    // The headers, from a second (silent) request in the same session.
    let (url, _) = authorize_url(
        &s,
        &client,
        "openid",
        &[("response_mode", "form_post"), ("prompt", "none")],
    );
    let resp = get(&b, &url).await;
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body = resp.text().await.unwrap();
    assert!(csp.contains("form-action http://127.0.0.1:9;"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("script nonce");
    assert!(body.contains(&format!("<script nonce=\"{nonce}\">")));
    assert!(hidden(&body, "code").is_some());
}

/// Errors of a form_post request are form-posted too; an unknown response_mode is refused in
/// the query (RFC 6749 §4.1.2.1).
#[tokio::test]
async fn form_post_errors_and_unknown_response_modes() {
    let s = TestServer::start().await;
    let client = oidc_client(&s).await;
    let (url, _) = authorize_url(
        &s,
        &client,
        "openid",
        &[("response_mode", "form_post"), ("prompt", "none")],
    );
    let resp = get(&browser(), &url).await;
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert_eq!(hidden(&body, "error").as_deref(), Some("login_required"));
    assert_eq!(hidden(&body, "state").as_deref(), Some("st-123"));

    let (url, _) = authorize_url(&s, &client, "openid", &[("response_mode", "fragment")]);
    let resp = get(&browser(), &url).await;
    assert_eq!(resp.status(), 303);
    let loc = location(&resp);
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
}

//! Resource indicators (RFC 8707): resources registered with `gatehouse resource create`,
//! `resource` at the authorization and token endpoints, `aud` = the resource, its scopes,
//! lifetime and algorithm, downscoping on refresh, per-client restrictions, `invalid_target`.

use base64::Engine;
use gatehouse_core::client::ClientRegistration;
use serde_json::Value;

use crate::conformance_support::jwt_claims;
use crate::support::*;

const API: &str = "https://api.example.com/";
const FILES: &str = "https://files.example.com/v1";

fn jwt_header(token: &str) -> Value {
    let h = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Registers a resource in the default tenant through the CLI; returns its JSON.
fn resource(s: &TestServer, identifier: &str, scope: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "resource",
        "create",
        "--identifier",
        identifier,
        "--scope",
        scope,
        "--json",
    ];
    args.extend_from_slice(extra);
    cli_json(&run_cli(&s.db_url, &args, None))
}

fn with_grants(reg: &mut ClientRegistration) {
    reg.grant_types = vec![
        "authorization_code".into(),
        "refresh_token".into(),
        "client_credentials".into(),
    ];
}

/// Runs the code flow with `extra` authorization parameters; returns the redirect location.
async fn authorize_with(
    s: &TestServer,
    c: &TestClient,
    scope: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (url, verifier) = authorize_url(s, c, scope, extra);
    match run_flow(&browser(), s, &url, "alice", PASSWORD, "allow").await {
        Outcome::Redirect(loc) => (loc, verifier),
        Outcome::Page(st, body) => panic!("expected a redirect, got {st}: {body}"),
    }
}

#[tokio::test]
async fn the_access_token_is_for_the_requested_resource_rfc8707_2() {
    let s = TestServer::start().await;
    let created = resource(
        &s,
        API,
        "api:read api:write",
        &["--access-token-ttl", "120", "--alg", "ES256"],
    );
    assert_eq!(created["identifier"], API);
    s.user("alice").await;
    let c = s.client(with_grants).await;
    let scope = "openid offline_access api:read";
    let (loc, verifier) = authorize_with(&s, &c, scope, &[("resource", API)]).await;
    let code = query_param(&loc, "code").expect("a code");
    let (status, body) = redeem(&s, &c, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    let at = str_of(&body, "access_token");
    let claims = jwt_claims(at);
    assert_eq!(claims["aud"], API);
    // Only the resource's scopes reach its token; the ID token is still issued.
    assert_eq!(claims["scope"], "api:read");
    assert_eq!(body["scope"], "api:read");
    assert_eq!(body["expires_in"], 120);
    assert_eq!(jwt_header(at)["alg"], "ES256");
    assert!(body["id_token"].is_string());
    // The server still answers for it (RFC 7662), but userinfo is not its audience.
    let info = introspect_token(&s, &c, at).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["aud"], API);
    assert_eq!(userinfo_status(&s, at).await, 401);
    // A refresh for a resource outside the grant is refused and does not burn the token.
    let rt = str_of(&body, "refresh_token").to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
        ("resource", FILES),
    ];
    let (status, err) = token_request(&s, &c, &form).await;
    assert_eq!((status, str_of(&err, "error")), (400, "invalid_target"));
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
        ("resource", API),
    ];
    let (status, body) = token_request(&s, &c, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(jwt_claims(str_of(&body, "access_token"))["aud"], API);
}

#[tokio::test]
async fn a_grant_for_two_resources_downscopes_per_token_rfc8707_2_2() {
    let s = TestServer::start().await;
    resource(&s, API, "api:read", &[]);
    resource(&s, FILES, "files:read", &[]);
    s.user("alice").await;
    let c = s
        .client(|r| {
            with_grants(r);
            r.scope = Some("openid offline_access api:read files:read".into());
        })
        .await;
    let scope = "openid offline_access api:read files:read";
    let extra = [("resource", API), ("resource", FILES)];
    let (loc, verifier) = authorize_with(&s, &c, scope, &extra).await;
    let code = query_param(&loc, "code").expect("a code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
        ("resource", FILES),
    ];
    let (status, body) = token_request(&s, &c, &form).await;
    assert_eq!(status, 200, "{body}");
    let claims = jwt_claims(str_of(&body, "access_token"));
    assert_eq!(
        (claims["aud"].as_str(), claims["scope"].as_str()),
        (Some(FILES), Some("files:read"))
    );
    // Each refresh names the resource it wants; without one the choice is ambiguous.
    let rt = str_of(&body, "refresh_token").to_owned();
    let (status, err) = refresh_with(&s, &c, &rt).await;
    assert_eq!((status, str_of(&err, "error")), (400, "invalid_target"));
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
        ("resource", API),
    ];
    let (status, body) = token_request(&s, &c, &form).await;
    assert_eq!(status, 200, "{body}");
    let claims = jwt_claims(str_of(&body, "access_token"));
    assert_eq!(
        (claims["aud"].as_str(), claims["scope"].as_str()),
        (Some(API), Some("api:read"))
    );
    // Two resources in one token request: one audience per token.
    let rt = str_of(&body, "refresh_token").to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
        ("resource", API),
        ("resource", FILES),
    ];
    let (status, err) = token_request(&s, &c, &form).await;
    assert_eq!((status, str_of(&err, "error")), (400, "invalid_target"));
}

#[tokio::test]
async fn unknown_or_malformed_resources_are_invalid_target_at_authorization_rfc8707_2() {
    let s = TestServer::start().await;
    resource(&s, API, "api:read", &[]);
    s.user("alice").await;
    let c = s.client(with_grants).await;
    for bad in [
        "https://unregistered.example/",
        "https://api.example.com/#frag",
        "not a uri",
    ] {
        let (url, _) = authorize_url(&s, &c, "openid api:read", &[("resource", bad)]);
        let resp = browser().get(&url).send().await.unwrap();
        assert!(resp.status().is_redirection(), "{bad}");
        let loc = location(&resp);
        assert!(loc.starts_with(REDIRECT), "{loc}");
        assert_eq!(
            query_param(&loc, "error").as_deref(),
            Some("invalid_target"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_client_restricted_to_resources_reaches_only_those() {
    let s = TestServer::start().await;
    resource(&s, API, "api:read", &[]);
    resource(&s, FILES, "files:read", &[]);
    // Another tenant's resource of the same name is not this tenant's.
    let other = cli_json(&run_cli(
        &s.db_url,
        &["tenant", "create", "--name", "other", "--json"],
        None,
    ));
    let other_id = str_of(&other, "id").to_owned();
    let shadow = "https://shadow.example/";
    let out = run_cli(
        &s.db_url,
        &[
            "resource",
            "create",
            "--identifier",
            shadow,
            "--scope",
            "x",
            "--tenant",
            &other_id,
            "--json",
        ],
        None,
    );
    cli_json(&out);
    let created = cli_json(&run_cli(
        &s.db_url,
        &[
            "client",
            "create",
            "--name",
            "svc",
            "--grant-type",
            "client_credentials",
            "--scope",
            "api:read files:read",
            "--resource",
            API,
            "--json",
        ],
        None,
    ));
    let c = TestClient {
        id: str_of(&created, "client_id").to_owned(),
        secret: Some(str_of(&created, "client_secret").to_owned()),
    };
    let cc = |r: &'static str| vec![("grant_type", "client_credentials"), ("resource", r)];
    let (status, body) = token_request(&s, &c, &cc(API)).await;
    assert_eq!(status, 200, "{body}");
    let claims = jwt_claims(str_of(&body, "access_token"));
    assert_eq!(
        (claims["aud"].as_str(), claims["scope"].as_str()),
        (Some(API), Some("api:read"))
    );
    for refused in [FILES, "https://shadow.example/"] {
        let (status, err) = token_request(&s, &c, &cc(refused)).await;
        assert_eq!(
            (status, str_of(&err, "error")),
            (400, "invalid_target"),
            "{refused}"
        );
    }
    // Without a resource the token is the server's usual one.
    let (status, body) = token_request(&s, &c, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(jwt_claims(str_of(&body, "access_token"))["aud"], API);
    // A client cannot be restricted to a resource its tenant has not registered.
    let out = run_cli(
        &s.db_url,
        &[
            "client",
            "create",
            "--name",
            "x",
            "--grant-type",
            "client_credentials",
            "--scope",
            "x",
            "--resource",
            shadow,
            "--json",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resource"));
}

#[tokio::test]
async fn resource_list_and_delete_through_the_cli() {
    let s = TestServer::start().await;
    resource(&s, API, "api:read", &[]);
    let dup = run_cli(
        &s.db_url,
        &[
            "resource",
            "create",
            "--identifier",
            API,
            "--scope",
            "a",
            "--json",
        ],
        None,
    );
    assert!(!dup.status.success(), "a duplicate identifier is refused");
    let bad = run_cli(
        &s.db_url,
        &[
            "resource",
            "create",
            "--identifier",
            "/x",
            "--scope",
            "a",
            "--json",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--identifier"));
    let list = cli_json(&run_cli(&s.db_url, &["resource", "list", "--json"], None));
    assert_eq!(list["resources"][0]["identifier"], API);
    let gone = cli_json(&run_cli(
        &s.db_url,
        &["resource", "delete", API, "--json"],
        None,
    ));
    assert_eq!(gone["identifier"], API);
    let list = cli_json(&run_cli(&s.db_url, &["resource", "list", "--json"], None));
    assert_eq!(list["resources"].as_array().map(Vec::len), Some(0));
    let again = run_cli(&s.db_url, &["resource", "delete", API, "--json"], None);
    assert!(!again.status.success());
}

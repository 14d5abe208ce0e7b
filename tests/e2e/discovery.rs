//! OpenID Connect Discovery 1.0 §3–4, RFC 8414 §3, RFC 7517 (JWKS).

use openidconnect::IssuerUrl;
use openidconnect::core::CoreProviderMetadata;

use crate::support::{TestServer, http, openid_configuration};

#[tokio::test]
async fn openidconnect_rp_discovers_the_provider() {
    let s = TestServer::start().await;
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(s.base.clone()).unwrap(), &http())
            .await
            .expect("discovery");
    assert_eq!(meta.issuer().as_str(), s.base);
    assert_eq!(
        meta.token_endpoint().unwrap().as_str(),
        s.url("/oauth/token")
    );
    assert_eq!(
        meta.jwks().keys().len(),
        2,
        "one RS256 and one ES256 key on first start"
    );
}

#[tokio::test]
async fn rfc8414_metadata_advertises_every_endpoint_and_capability() {
    let s = TestServer::start().await;
    let oidc = openid_configuration(&s).await;
    let oauth: serde_json::Value = http()
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(oidc, oauth);
    assert_eq!(oidc["issuer"], s.base);
    for ep in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ] {
        let url = oidc[ep].as_str().unwrap_or_else(|| panic!("{ep} missing"));
        assert!(url.starts_with(&s.base), "{ep} = {url}");
    }
    // The implicit and hybrid types are listed: built, but opt-in per client (implicit_hybrid).
    assert_eq!(oidc["response_types_supported"][0], "code");
    assert_eq!(
        oidc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "ES256"])
    );
    assert_eq!(
        oidc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);
    let grants = oidc["grant_types_supported"].as_array().unwrap();
    for g in ["authorization_code", "client_credentials", "refresh_token"] {
        assert!(grants.iter().any(|x| x == g), "{g}");
    }
    let auth = oidc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(auth.iter().any(|x| x == "client_secret_basic") && auth.iter().any(|x| x == "none"));
    assert!(
        oidc["scopes_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "openid")
    );
    assert!(
        oidc["claims_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "sub")
    );
}

#[tokio::test]
async fn jwks_has_only_public_keys_with_thumbprint_kids() {
    let s = TestServer::start().await;
    let resp = http().get(s.url("/jwks.json")).send().await.unwrap();
    assert!(
        resp.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let jwks: serde_json::Value = resp.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert!(algs.contains(&"RS256") && algs.contains(&"ES256"));
    for k in keys {
        assert_eq!(k["use"], "sig");
        assert!(k["kid"].as_str().unwrap().len() >= 43);
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                k.get(private).is_none(),
                "private member {private} published"
            );
        }
    }
}

//! OpenID Foundation conformance, Config OP plan (`oidcc-discovery-*`, `oidcc-server`'s
//! discovery checks): OpenID Connect Discovery 1.0 §3–§4 and the JWKS (RFC 7517).

use serde_json::Value;

use crate::support::*;

async fn metadata(s: &TestServer) -> Value {
    let resp = http()
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    resp.json().await.unwrap()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

/// Discovery §3 required members, and the issuer equal to the URL it was fetched from (§4.3).
#[tokio::test]
async fn discovery_has_the_required_members_and_our_issuer() {
    let s = TestServer::start().await;
    let m = metadata(&s).await;
    assert_eq!(m["issuer"], s.base.as_str());
    for k in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ] {
        let url = m[k].as_str().unwrap_or_else(|| panic!("{k} missing"));
        assert!(
            url.starts_with(&s.base),
            "{k} = {url} is not under the issuer"
        );
    }
    assert!(strings(&m["response_types_supported"]).contains(&"code"));
    assert!(strings(&m["subject_types_supported"]).contains(&"public"));
    // oidcc-discovery: RS256 must be supported for ID tokens.
    assert!(strings(&m["id_token_signing_alg_values_supported"]).contains(&"RS256"));
}

/// `scopes_supported` lists openid and the standard scopes (oidcc-discovery-scopes); every
/// claim a standard scope releases is in `claims_supported` (Core §5.4).
#[tokio::test]
async fn discovery_lists_scopes_and_claims() {
    let s = TestServer::start().await;
    let m = metadata(&s).await;
    let scopes = strings(&m["scopes_supported"]);
    for sc in [
        "openid",
        "profile",
        "email",
        "address",
        "phone",
        "offline_access",
    ] {
        assert!(scopes.contains(&sc), "scopes_supported lacks {sc}");
    }
    let claims = strings(&m["claims_supported"]);
    for c in [
        "sub",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "email",
        "email_verified",
        "address",
        "phone_number",
        "phone_number_verified",
        "auth_time",
    ] {
        assert!(claims.contains(&c), "claims_supported lacks {c}");
    }
    assert_eq!(m["claims_parameter_supported"], true);
    // Signed request objects by value (RFC 9101); request_uri only from PAR, nothing fetched.
    assert_eq!(m["request_parameter_supported"], true);
    assert_eq!(m["request_uri_parameter_supported"], false);
    let modes = strings(&m["response_modes_supported"]);
    assert!(modes.contains(&"query") && modes.contains(&"form_post"));
}

/// The RFC 8414 document is the same, so OAuth clients find the same endpoints.
#[tokio::test]
async fn oauth_metadata_matches_openid_configuration() {
    let s = TestServer::start().await;
    let a = metadata(&s).await;
    let b: Value = http()
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a, b);
}

/// oidcc-discovery-jwks: the JWKS at `jwks_uri` holds public keys only, each with a unique
/// `kid`, and a key for each advertised signing algorithm.
#[tokio::test]
async fn jwks_has_public_keys_with_unique_kids() {
    let s = TestServer::start().await;
    let m = metadata(&s).await;
    let jwks: Value = http()
        .get(m["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let mut kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    kids.sort();
    kids.dedup();
    assert_eq!(kids.len(), keys.len(), "duplicate kid");
    for k in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                k.get(private).is_none(),
                "private member {private} published"
            );
        }
    }
    for alg in strings(&m["id_token_signing_alg_values_supported"]) {
        assert!(
            keys.iter().any(|k| k["alg"] == alg),
            "no published key for {alg}"
        );
    }
}

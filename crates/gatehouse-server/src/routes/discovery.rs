//! Discovery: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2 metadata, and the JWKS
//! (RFC 7517 §5) with public keys only.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use gatehouse_core::authorize;

use crate::state::AppState;

/// The metadata document, the same at both well-known paths.
pub fn metadata(state: &AppState) -> Value {
    let iss = &state.policy.issuer;
    let scopes: Vec<&String> = state.settings.scopes.keys().collect();
    // client_secret_jwt works only where secrets can be kept sealed, i.e. with a master key.
    let secret_jwt = state.settings.master_key.is_some();
    let mut auth_methods = vec![
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ];
    let mut assertion_algs = vec!["RS256", "PS256", "ES256", "EdDSA"];
    if secret_jwt {
        auth_methods.push("client_secret_jwt");
        assertion_algs.push("HS256");
    }
    let with_none = |m: &[&'static str]| {
        let mut v = m.to_vec();
        v.push("none");
        v
    };
    let mut doc = json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "pushed_authorization_request_endpoint": format!("{iss}/oauth/par"),
        "device_authorization_endpoint": format!("{iss}/oauth/device_authorization"),
        "registration_endpoint": super::register::endpoint(iss),
        "require_pushed_authorization_requests":
            state.settings.par.require_pushed_authorization_requests,
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "end_session_endpoint": format!("{iss}/oauth/logout"),
        "revocation_endpoint": format!("{iss}/oauth/revoke"),
        "revocation_endpoint_auth_methods_supported": with_none(&auth_methods),
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint": format!("{iss}/oauth/introspect"),
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "jwks_uri": format!("{iss}/jwks.json"),
        "response_types_supported": authorize::response_type::SUPPORTED_RESPONSE_TYPES,
        "response_modes_supported": authorize::response_type::SUPPORTED_RESPONSE_MODES,
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token",
                                  "implicit",
                                  gatehouse_core::jwt_bearer::GRANT_TYPE_JWT_BEARER,
                                  gatehouse_core::token_exchange::GRANT_TYPE_TOKEN_EXCHANGE,
                                  gatehouse_core::device::GRANT_TYPE_DEVICE_CODE],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": with_none(&auth_methods),
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "userinfo_signing_alg_values_supported": ["none"],
        "scopes_supported": scopes,
        "claims_supported": claims_supported(),
        "subject_types_supported": ["public"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": true,
        "display_values_supported": ["page", "popup", "touch", "wap"],
        // Request objects by value (RFC 9101, OIDC Core §6.1), signed with the client's keys;
        // request_uri only as the result of a push (RFC 9126): nothing is fetched.
        "request_parameter_supported": true,
        "request_uri_parameter_supported": false,
        "request_object_signing_alg_values_supported":
            gatehouse_core::request_object::SIGNING_ALGS,
        "authorization_response_iss_parameter_supported": true,
        // DPoP proofs at the token endpoint (RFC 9449 §5.1).
        "dpop_signing_alg_values_supported": gatehouse_core::dpop::SIGNING_ALGS,
    });
    // Client ID Metadata Documents: advertised only when an operator turned them on.
    if state.clients.metadata.enabled() {
        doc["client_id_metadata_document_supported"] = json!(true);
    }
    doc
}

/// The token claims plus every user claim (OIDC Core §2, §5.1).
fn claims_supported() -> Vec<&'static str> {
    let mut c = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "azp",
    ];
    c.extend(gatehouse_core::user::supported_claims());
    c
}

pub async fn openid_configuration(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(metadata(&state))
}

pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    // Short enough that a rotated key is seen well before it signs anything a client checks.
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .content_type("application/jwk-set+json")
        .body(state.keys.current().jwks().to_string())
}

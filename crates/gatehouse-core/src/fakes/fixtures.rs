//! Test values: clients, codes, refresh records, tokens, tenants and assertions as the
//! fakes store and read them.

use super::*;

/// A confidential client with the code and refresh grants.
pub fn client(id: &str) -> Client {
    Client {
        id: ClientId::parse(id).unwrap(),
        tenant_id: TenantId::parse("default").unwrap(),
        name: id.into(),
        secret_hash: Some(Secret::generate().hash()),
        auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        allowed_scopes: ScopeSet::parse("openid offline_access").unwrap(),
        id_token_alg: SigningAlg::RS256,
        access_token_alg: None,
        access_token_ttl: None,
        require_pkce: true,
        refresh_grace_seconds: 0,
        refresh_idle_ttl: None,
        refresh_absolute_ttl: None,
        may_act: None,
        created_at: Utc::now(),
    }
}

/// A fresh refresh-token record of `client` in grant `grant`, issued at `now` for a day.
pub fn refresh_record(client: &str, grant: &str, now: DateTime<Utc>) -> RefreshRecord {
    let scope = ScopeSet::parse("openid offline_access").unwrap();
    RefreshRecord {
        token_hash: Secret::generate().hash(),
        grant_id: GrantId::parse(grant).unwrap(),
        client_id: ClientId::parse(client).unwrap(),
        user_id: UserId::parse("u1").unwrap(),
        scope: scope.clone(),
        granted_scope: scope,
        auth_time: now,
        issued_at: now,
        expires_at: now + Duration::days(1),
        used_at: None,
        revoked: false,
        family_expires_at: Some(now + Duration::days(30)),
        replaced_by: None,
        rotation_salt: None,
        dpop_jkt: None,
    }
}

/// A PKCE verifier of 43 characters and its S256 challenge (RFC 7636 §4.1–4.2).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// A fresh code (its value, and its record) of `client` for user `u1` in grant `grant`, sent
/// to `https://app.example/cb`, with an S256 challenge of [`VERIFIER`] unless `pkce` is false.
pub fn code(
    client: &Client,
    grant: &str,
    scope: &str,
    pkce: bool,
    now: DateTime<Utc>,
) -> (String, CodeRecord) {
    use base64::Engine;
    use sha2::Digest;
    let code = Secret::generate();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    let record = CodeRecord {
        code_hash: code.hash(),
        client_id: client.id.clone(),
        user_id: UserId::parse("u1").unwrap(),
        redirect_uri: crate::RedirectUri::parse("https://app.example/cb").unwrap(),
        redirect_uri_in_request: true,
        scope: ScopeSet::parse(scope).unwrap(),
        nonce: Some("n-1".into()),
        code_challenge: pkce
            .then(|| crate::values::PkceChallenge::parse(&challenge, Some("S256")).unwrap()),
        auth_time: now,
        grant_id: GrantId::parse(grant).unwrap(),
        expires_at: now + Duration::seconds(60),
        dpop_jkt: None,
    };
    (code.expose().to_owned(), record)
}

/// A fake access token of `client`, issued at `iat` for an hour.
pub fn access_token(client: &str, grant: Option<&str>, iat: DateTime<Utc>) -> String {
    let claims = AccessTokenClaims {
        iss: "https://issuer.example".into(),
        sub: "u1".into(),
        aud: "https://issuer.example".into(),
        client_id: client.into(),
        scope: "openid".into(),
        jti: crate::grant::mint::new_jti(),
        iat: iat.timestamp(),
        exp: iat.timestamp() + 3600,
        auth_time: None,
        gid: grant.map(str::to_owned),
        tenant: Some("default".into()),
        api_key: None,
        api_key_name: None,
        cnf: None,
        act: None,
        may_act: None,
    };
    FakeSigner
        .sign(SigningAlg::RS256, ACCESS_TOKEN_TYP, &claims)
        .unwrap()
}

/// An enabled tenant with API access.
pub fn enabled_tenant(id: &TenantId) -> crate::tenant::Tenant {
    crate::tenant::Tenant {
        id: id.clone(),
        name: id.to_string(),
        created_at: Utc::now(),
        disabled: false,
        api_access_enabled: true,
        max_api_keys: crate::tenant::DEFAULT_MAX_API_KEYS,
        allowed_scopes: None,
    }
}

/// An unsigned compact JWS with these claims (for [`TrustingVerifier`]).
pub fn assertion(iss: &str, sub: &str, jti: &str) -> String {
    use base64::Engine;
    let b = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.c2ln",
        b(serde_json::json!({"alg": "ES256"})),
        b(serde_json::json!({"iss": iss, "sub": sub, "jti": jti}))
    )
}

/// The claims of a token minted by [`FakeSigner`].
pub fn claims_of(token: &str) -> serde_json::Value {
    let json = token.split_once('.').map(|(_, j)| j).unwrap_or_default();
    serde_json::from_str(json).unwrap()
}

//! Registered clients (RFC 6749 §2) and the rules of client registration.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::secret::{Secret, SecretHash};
use crate::values::{ClientId, RedirectUri, ScopeSet, SigningAlg, TenantId};

/// Token endpoint authentication methods (RFC 7591 §2, OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// An HS256 assertion keyed with the client secret (OIDC Core §9); opt-in, needs the
    /// master key, which keeps the secret sealed at rest.
    ClientSecretJwt,
    PrivateKeyJwt,
    /// A public client (RFC 6749 §2.1): no secret, PKCE is mandatory.
    None,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::None => "none",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            "client_secret_post" => Ok(Self::ClientSecretPost),
            "client_secret_jwt" => Ok(Self::ClientSecretJwt),
            "private_key_jwt" => Ok(Self::PrivateKeyJwt),
            "none" => Ok(Self::None),
            o => Err(format!(
                "unknown auth method {o:?} (client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none)"
            )),
        }
    }
}

/// `grant_type` of the JWT bearer grant (RFC 7523 §2.1). Defined with [`GrantType`] (whose
/// wire names are here) rather than in the grant's module, so registration does not depend on
/// the token endpoint.
pub const GRANT_TYPE_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Grant types (RFC 6749 §4, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    /// RFC 7523 §2.1: a JWT from a registered trust is exchanged for an access token.
    JwtBearer,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::JwtBearer => GRANT_TYPE_JWT_BEARER,
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "authorization_code" => Ok(Self::AuthorizationCode),
            "client_credentials" => Ok(Self::ClientCredentials),
            "refresh_token" => Ok(Self::RefreshToken),
            GRANT_TYPE_JWT_BEARER => Ok(Self::JwtBearer),
            o => Err(format!(
                "unknown grant type {o:?} (authorization_code, client_credentials, refresh_token, {})",
                GRANT_TYPE_JWT_BEARER
            )),
        }
    }
}

/// A registered client as the protocol sees it.
#[derive(Clone)]
pub struct Client {
    pub id: ClientId,
    pub tenant_id: TenantId,
    pub name: String,
    /// SHA-256 of the secret; `None` for public clients.
    pub secret_hash: Option<SecretHash>,
    pub auth_method: AuthMethod,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    /// The scopes this client may ever obtain.
    pub allowed_scopes: ScopeSet,
    pub id_token_alg: SigningAlg,
    pub access_token_alg: SigningAlg,
    /// Access-token lifetime override, in seconds.
    pub access_token_ttl: Option<i64>,
    /// PKCE is required for every authorization request of this client (always for public ones).
    pub require_pkce: bool,
    /// Refresh-token rotation grace period in seconds; 0 (the default) is strict rotation.
    /// See [`crate::rotation`].
    pub refresh_grace_seconds: i64,
    /// Refresh-token idle lifetime override, in seconds.
    pub refresh_idle_ttl: Option<i64>,
    /// Refresh-token absolute (family) lifetime override, in seconds.
    pub refresh_absolute_ttl: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("auth_method", &self.auth_method)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }
    pub fn allows_grant(&self, g: GrantType) -> bool {
        self.grant_types.contains(&g)
    }
    /// Finds the registered redirect URI matching a requested one (exact match, RFC 9700 §4.1.3).
    pub fn match_redirect_uri(&self, requested: &RedirectUri) -> Option<&RedirectUri> {
        self.redirect_uris.iter().find(|r| r.matches(requested))
    }
}

/// What an operator asks for when registering a client; checked by [`NewClient::validate`].
pub struct ClientRegistration {
    pub name: String,
    pub tenant_id: TenantId,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scope: Option<String>,
    pub auth_method: Option<String>,
    pub id_token_alg: Option<String>,
    pub access_token_ttl: Option<i64>,
    pub pkce_optional: bool,
    /// `--refresh-grace-seconds` (0..=300; default 0, strict rotation).
    pub refresh_grace_seconds: Option<i64>,
    /// `--refresh-idle-ttl` in seconds (default: the server's `tokens.refresh_token_idle_ttl`).
    pub refresh_idle_ttl: Option<i64>,
    /// `--refresh-absolute-ttl` in seconds (default: `tokens.refresh_token_absolute_ttl`).
    pub refresh_absolute_ttl: Option<i64>,
}

impl ClientRegistration {
    /// A registration named `name` in `tenant` with every other field left to its default.
    pub fn named(name: &str, tenant: TenantId) -> Self {
        Self {
            name: name.to_owned(),
            tenant_id: tenant,
            grant_types: Vec::new(),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            scope: None,
            auth_method: None,
            id_token_alg: None,
            access_token_ttl: None,
            pkce_optional: false,
            refresh_grace_seconds: None,
            refresh_idle_ttl: None,
            refresh_absolute_ttl: None,
        }
    }
}

/// The longest refresh-rotation grace period a client may have: a retry after a lost response
/// comes within seconds, and every second of grace is a second a stolen token may be replayed.
pub const MAX_REFRESH_GRACE_SECONDS: i64 = 300;
/// Bounds of the per-client refresh-token lifetimes (one minute to one year).
pub const REFRESH_TTL_RANGE: std::ops::RangeInclusive<i64> = 60..=31_536_000;

/// A validated registration with its freshly generated secret.
pub struct NewClient {
    pub client: Client,
    /// The plaintext secret, to show exactly once; `None` for public clients.
    pub secret: Option<Secret>,
}

/// The scopes a client gets when `--scope` is not given.
pub const DEFAULT_CLIENT_SCOPES: &str = "openid profile email offline_access";

impl NewClient {
    /// Checks a registration; each error names the offending field (as the CLI flag).
    pub fn validate(
        reg: ClientRegistration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, String> {
        let name = reg.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 256 {
            return Err("--name must be 1 to 256 characters".into());
        }
        let auth_method = match reg.auth_method.as_deref() {
            None => AuthMethod::ClientSecretBasic,
            Some(s) => AuthMethod::parse(s).map_err(|e| format!("--auth-method: {e}"))?,
        };
        let redirect_uris = reg
            .redirect_uris
            .iter()
            .map(|u| {
                RedirectUri::parse_for_registration(u).map_err(|e| format!("--redirect-uri: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let post_logout_redirect_uris = reg
            .post_logout_redirect_uris
            .iter()
            .map(|u| {
                RedirectUri::parse_for_registration(u)
                    .map_err(|e| format!("--post-logout-redirect-uri: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut grant_types = reg
            .grant_types
            .iter()
            .map(|g| GrantType::parse(g).map_err(|e| format!("--grant-type: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        grant_types.dedup();
        if grant_types.is_empty() {
            grant_types = if redirect_uris.is_empty() {
                vec![GrantType::ClientCredentials]
            } else {
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
            };
        }
        if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
            return Err(
                "--redirect-uri: the authorization_code grant needs at least one redirect URI"
                    .into(),
            );
        }
        if grant_types.contains(&GrantType::JwtBearer) && auth_method == AuthMethod::None {
            return Err(
                "--grant-type: the JWT bearer grant needs a confidential client (--auth-method none is public)".into(),
            );
        }
        if grant_types.contains(&GrantType::ClientCredentials) && auth_method == AuthMethod::None {
            return Err(
                "--grant-type: client_credentials needs a confidential client (--auth-method none is public)".into(),
            );
        }
        let allowed_scopes = ScopeSet::parse(reg.scope.as_deref().unwrap_or(DEFAULT_CLIENT_SCOPES))
            .map_err(|e| format!("--scope: {e}"))?;
        let id_token_alg = match reg.id_token_alg.as_deref() {
            None => SigningAlg::RS256,
            Some(a) => SigningAlg::parse(a).map_err(|e| format!("--id-token-alg: {e}"))?,
        };
        if reg
            .access_token_ttl
            .is_some_and(|ttl| !(60..=86_400).contains(&ttl))
        {
            return Err("--access-token-ttl must be between 60 and 86400 seconds".into());
        }
        let refresh_grace_seconds = reg.refresh_grace_seconds.unwrap_or(0);
        if !(0..=MAX_REFRESH_GRACE_SECONDS).contains(&refresh_grace_seconds) {
            return Err(format!(
                "--refresh-grace-seconds must be between 0 and {MAX_REFRESH_GRACE_SECONDS}"
            ));
        }
        for (flag, v) in [
            ("--refresh-idle-ttl", reg.refresh_idle_ttl),
            ("--refresh-absolute-ttl", reg.refresh_absolute_ttl),
        ] {
            if v.is_some_and(|t| !REFRESH_TTL_RANGE.contains(&t)) {
                return Err(format!(
                    "{flag} must be between {} and {} seconds",
                    REFRESH_TTL_RANGE.start(),
                    REFRESH_TTL_RANGE.end()
                ));
            }
        }
        if let (Some(idle), Some(abs)) = (reg.refresh_idle_ttl, reg.refresh_absolute_ttl)
            && idle > abs
        {
            return Err("--refresh-idle-ttl must not exceed --refresh-absolute-ttl".into());
        }
        if reg.pkce_optional && auth_method == AuthMethod::None {
            return Err("--pkce-optional: public clients must always use PKCE".into());
        }
        // A private_key_jwt client authenticates with its keys only: no secret exists to leak.
        let secret = matches!(
            auth_method,
            AuthMethod::ClientSecretBasic
                | AuthMethod::ClientSecretPost
                | AuthMethod::ClientSecretJwt
        )
        .then(Secret::generate);
        let client = Client {
            id: ClientId::generate(),
            tenant_id: reg.tenant_id,
            name,
            secret_hash: secret.as_ref().map(Secret::hash),
            auth_method,
            redirect_uris,
            post_logout_redirect_uris,
            grant_types,
            allowed_scopes,
            id_token_alg,
            access_token_alg: SigningAlg::RS256,
            access_token_ttl: reg.access_token_ttl,
            require_pkce: !reg.pkce_optional,
            refresh_grace_seconds,
            refresh_idle_ttl: reg.refresh_idle_ttl,
            refresh_absolute_ttl: reg.refresh_absolute_ttl,
            created_at: now,
        };
        Ok(Self { client, secret })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> ClientRegistration {
        ClientRegistration {
            name: "App".into(),
            tenant_id: TenantId::parse("default").unwrap(),
            grant_types: vec![],
            redirect_uris: vec!["https://app.example/cb".into()],
            post_logout_redirect_uris: vec![],
            scope: None,
            auth_method: None,
            id_token_alg: None,
            access_token_ttl: None,
            pkce_optional: false,
            refresh_grace_seconds: None,
            refresh_idle_ttl: None,
            refresh_absolute_ttl: None,
        }
    }

    #[test]
    fn defaults_are_code_flow_with_secret_and_pkce() {
        let c = NewClient::validate(reg(), chrono::Utc::now()).unwrap();
        assert!(c.secret.is_some());
        assert!(c.client.require_pkce);
        assert_eq!(
            c.client.grant_types,
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        assert!(c.client.allowed_scopes.contains("openid"));
    }

    #[test]
    fn errors_name_the_flag() {
        let mut r = reg();
        r.redirect_uris = vec!["http://evil.example/cb".into()];
        assert!(
            NewClient::validate(r, chrono::Utc::now())
                .err()
                .unwrap()
                .starts_with("--redirect-uri")
        );
        let mut r = reg();
        r.auth_method = Some("none".into());
        r.grant_types = vec!["client_credentials".into()];
        assert!(
            NewClient::validate(r, chrono::Utc::now())
                .err()
                .unwrap()
                .starts_with("--grant-type")
        );
        let mut r = reg();
        r.redirect_uris.clear();
        r.grant_types = vec!["authorization_code".into()];
        assert!(
            NewClient::validate(r, chrono::Utc::now())
                .err()
                .unwrap()
                .starts_with("--redirect-uri")
        );
        let mut r = reg();
        r.id_token_alg = Some("HS256".into());
        assert!(
            NewClient::validate(r, chrono::Utc::now())
                .err()
                .unwrap()
                .starts_with("--id-token-alg")
        );
    }

    #[test]
    fn refresh_policy_flags_are_checked() {
        let c = NewClient::validate(reg(), chrono::Utc::now()).unwrap();
        assert_eq!(c.client.refresh_grace_seconds, 0);
        for (grace, idle, abs, flag) in [
            (Some(-1), None, None, "--refresh-grace-seconds"),
            (Some(301), None, None, "--refresh-grace-seconds"),
            (None, Some(10), None, "--refresh-idle-ttl"),
            (None, None, Some(40_000_000), "--refresh-absolute-ttl"),
            (None, Some(7200), Some(3600), "--refresh-idle-ttl"),
        ] {
            let mut r = reg();
            r.refresh_grace_seconds = grace;
            r.refresh_idle_ttl = idle;
            r.refresh_absolute_ttl = abs;
            let err = NewClient::validate(r, chrono::Utc::now()).err().unwrap();
            assert!(err.starts_with(flag), "{err}");
        }
        let mut r = reg();
        r.refresh_grace_seconds = Some(30);
        r.refresh_idle_ttl = Some(3600);
        r.refresh_absolute_ttl = Some(86_400);
        let c = NewClient::validate(r, chrono::Utc::now()).unwrap().client;
        assert_eq!(
            (
                c.refresh_grace_seconds,
                c.refresh_idle_ttl,
                c.refresh_absolute_ttl
            ),
            (30, Some(3600), Some(86_400))
        );
    }

    #[test]
    fn public_clients_have_no_secret() {
        let mut r = reg();
        r.auth_method = Some("none".into());
        let c = NewClient::validate(r, chrono::Utc::now()).unwrap();
        assert!(c.secret.is_none());
        assert!(c.client.is_public());
    }
}

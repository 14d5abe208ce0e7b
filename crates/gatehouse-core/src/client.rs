//! Registered clients (RFC 6749 §2) and the rules of client registration.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::field::{Field, FieldError};
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
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            "client_secret_post" => Ok(Self::ClientSecretPost),
            "client_secret_jwt" => Ok(Self::ClientSecretJwt),
            "private_key_jwt" => Ok(Self::PrivateKeyJwt),
            "none" => Ok(Self::None),
            o => Err(FieldError::new(
                Field::AuthMethod,
                format!(
                    "unknown auth method {o:?} (client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none)"
                ),
            )),
        }
    }
}

/// `grant_type` of the JWT bearer grant (RFC 7523 §2.1). Defined with [`GrantType`] (whose
/// wire names are here) rather than in the grant's module, so registration does not depend on
/// the token endpoint.
pub const GRANT_TYPE_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// `grant_type` of the device authorization grant (RFC 8628 §3.4), defined here for the same
/// reason.
pub const GRANT_TYPE_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// `grant_type` of OAuth 2.0 Token Exchange (RFC 8693 §2.1), defined here for the same reason.
pub const GRANT_TYPE_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// Grant types (RFC 6749 §4, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    /// RFC 7523 §2.1: a JWT from a registered trust is exchanged for an access token.
    JwtBearer,
    /// RFC 8628: a device polls with a device code while its user approves elsewhere.
    DeviceCode,
    /// RFC 8693: the client exchanges a user's access or ID token for a token of its own that
    /// acts for the user (delegation, with an `act` claim naming the client). Exchanging an API
    /// key needs no registration (see [`crate::grant::token_exchange`]).
    TokenExchange,
    /// The opt-in to tokens from the authorization endpoint: the implicit flow
    /// (`response_type` `id_token`, `id_token token`, OIDC Core §3.2) and, with
    /// `authorization_code`, the hybrid flow (`code id_token`, `code token`,
    /// `code id_token token`, §3.3). Off unless registered: RFC 9700 §2.1.2 advises against
    /// tokens in the front channel (see docs/security.md). Never used at the token endpoint.
    Implicit,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::JwtBearer => GRANT_TYPE_JWT_BEARER,
            GrantType::DeviceCode => GRANT_TYPE_DEVICE_CODE,
            GrantType::TokenExchange => GRANT_TYPE_TOKEN_EXCHANGE,
            GrantType::Implicit => "implicit",
        }
    }
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "authorization_code" => Ok(Self::AuthorizationCode),
            "client_credentials" => Ok(Self::ClientCredentials),
            "refresh_token" => Ok(Self::RefreshToken),
            GRANT_TYPE_JWT_BEARER => Ok(Self::JwtBearer),
            GRANT_TYPE_DEVICE_CODE => Ok(Self::DeviceCode),
            GRANT_TYPE_TOKEN_EXCHANGE => Ok(Self::TokenExchange),
            "implicit" => Ok(Self::Implicit),
            o => Err(FieldError::new(
                Field::GrantTypes,
                format!(
                    "unknown grant type {o:?} (authorization_code, client_credentials, refresh_token, implicit, {GRANT_TYPE_JWT_BEARER}, {GRANT_TYPE_DEVICE_CODE}, {GRANT_TYPE_TOKEN_EXCHANGE})"
                ),
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
    /// The algorithm of this client's access tokens; `None` follows the server's default
    /// ([`crate::policy::Policy::access_token_alg`]).
    pub access_token_alg: Option<SigningAlg>,
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
    /// The one other client that may act for this client's users (RFC 8693 §4.4): this
    /// client's tokens carry `may_act: {"sub": <that client>}`, and that client may exchange
    /// them for tokens of its own ([`crate::grant::delegation`]).
    pub may_act: Option<ClientId>,
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
    /// `RS256` or `ES256`; absent: the server's default.
    pub access_token_alg: Option<String>,
    pub access_token_ttl: Option<i64>,
    pub pkce_optional: bool,
    /// The refresh rotation grace period in seconds (0..=300; default 0, strict rotation).
    pub refresh_grace_seconds: Option<i64>,
    /// The refresh-token idle lifetime in seconds (default: the server's
    /// `tokens.refresh_token_idle_ttl`).
    pub refresh_idle_ttl: Option<i64>,
    /// The refresh-token family lifetime in seconds (default:
    /// `tokens.refresh_token_absolute_ttl`).
    pub refresh_absolute_ttl: Option<i64>,
    /// The client that may act for this client's users (RFC 8693 §4.4), by id.
    pub may_act: Option<String>,
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
            access_token_alg: None,
            access_token_ttl: None,
            pkce_optional: false,
            refresh_grace_seconds: None,
            refresh_idle_ttl: None,
            refresh_absolute_ttl: None,
            may_act: None,
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

/// The scopes a client gets when its registration names none.
pub const DEFAULT_CLIENT_SCOPES: &str = "openid profile email offline_access";

impl NewClient {
    /// Checks a registration; each error names the offending field.
    pub fn validate(
        reg: ClientRegistration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, FieldError> {
        let mut client = checked(reg, ClientId::generate(), now)?;
        // A private_key_jwt client authenticates with its keys only: no secret exists to leak.
        let secret = matches!(
            client.auth_method,
            AuthMethod::ClientSecretBasic
                | AuthMethod::ClientSecretPost
                | AuthMethod::ClientSecretJwt
        )
        .then(Secret::generate);
        client.secret_hash = secret.as_ref().map(Secret::hash);
        Ok(Self { client, secret })
    }
}

/// What an operator changes on a registered client; `None` leaves a field as it is. The
/// authentication method (and with it the secret or keys) is not changed here.
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub scope: Option<String>,
    pub id_token_alg: Option<String>,
    pub access_token_ttl: Option<i64>,
    pub pkce_optional: Option<bool>,
    pub refresh_grace_seconds: Option<i64>,
    pub refresh_idle_ttl: Option<i64>,
    pub refresh_absolute_ttl: Option<i64>,
    /// The client that may act for this client's users; an empty value removes it.
    pub may_act: Option<String>,
}

impl ClientChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.grant_types.is_none()
            && self.redirect_uris.is_none()
            && self.post_logout_redirect_uris.is_none()
            && self.scope.is_none()
            && self.id_token_alg.is_none()
            && self.access_token_ttl.is_none()
            && self.pkce_optional.is_none()
            && self.refresh_grace_seconds.is_none()
            && self.refresh_idle_ttl.is_none()
            && self.refresh_absolute_ttl.is_none()
            && self.may_act.is_none()
    }
}

impl Client {
    /// The registration this client would have been created from.
    pub fn registration(&self) -> ClientRegistration {
        let uris = |l: &[RedirectUri]| l.iter().map(|u| u.as_str().to_owned()).collect();
        ClientRegistration {
            name: self.name.clone(),
            tenant_id: self.tenant_id.clone(),
            grant_types: self
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            redirect_uris: uris(&self.redirect_uris),
            post_logout_redirect_uris: uris(&self.post_logout_redirect_uris),
            scope: Some(self.allowed_scopes.to_string()),
            auth_method: Some(self.auth_method.as_str().to_owned()),
            id_token_alg: Some(self.id_token_alg.as_str().to_owned()),
            access_token_alg: self.access_token_alg.map(|a| a.as_str().to_owned()),
            access_token_ttl: self.access_token_ttl,
            pkce_optional: !self.require_pkce,
            refresh_grace_seconds: Some(self.refresh_grace_seconds),
            refresh_idle_ttl: self.refresh_idle_ttl,
            refresh_absolute_ttl: self.refresh_absolute_ttl,
            may_act: self.may_act.as_ref().map(ToString::to_string),
        }
    }

    /// This client with `changes` applied, checked by the rules of a registration (so an
    /// update cannot reach a state a registration could not); id, tenant, authentication and
    /// secret stay as they are.
    pub fn updated(&self, changes: ClientChanges) -> Result<Client, FieldError> {
        let mut reg = self.registration();
        let c = changes;
        reg.name = c.name.unwrap_or(reg.name);
        reg.grant_types = c.grant_types.unwrap_or(reg.grant_types);
        reg.redirect_uris = c.redirect_uris.unwrap_or(reg.redirect_uris);
        reg.post_logout_redirect_uris = c
            .post_logout_redirect_uris
            .unwrap_or(reg.post_logout_redirect_uris);
        reg.scope = c.scope.or(reg.scope);
        reg.id_token_alg = c.id_token_alg.or(reg.id_token_alg);
        reg.access_token_ttl = c.access_token_ttl.or(reg.access_token_ttl);
        reg.pkce_optional = c.pkce_optional.unwrap_or(reg.pkce_optional);
        reg.refresh_grace_seconds = c.refresh_grace_seconds.or(reg.refresh_grace_seconds);
        reg.refresh_idle_ttl = c.refresh_idle_ttl.or(reg.refresh_idle_ttl);
        reg.refresh_absolute_ttl = c.refresh_absolute_ttl.or(reg.refresh_absolute_ttl);
        reg.may_act = match c.may_act {
            Some(id) if id.trim().is_empty() => None,
            Some(id) => Some(id),
            None => reg.may_act,
        };
        let checked = checked(reg, self.id.clone(), self.created_at)?;
        Ok(Client {
            secret_hash: self.secret_hash.clone(),
            access_token_alg: self.access_token_alg,
            ..checked
        })
    }
}

/// A registration checked field by field (each error names its field), as a client without
/// a secret.
fn checked(
    reg: ClientRegistration,
    id: ClientId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Client, FieldError> {
    let name = reg.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 256 {
        return Err(FieldError::new(Field::Name, "must be 1 to 256 characters"));
    }
    let auth_method = match reg.auth_method.as_deref() {
        None => AuthMethod::ClientSecretBasic,
        Some(s) => AuthMethod::parse(s)?,
    };
    let uris = |field: Field, list: &[String]| {
        list.iter()
            .map(|u| RedirectUri::parse_for_registration(u).map_err(|e| FieldError::new(field, e)))
            .collect::<Result<Vec<_>, _>>()
    };
    let redirect_uris = uris(Field::RedirectUris, &reg.redirect_uris)?;
    let post_logout_redirect_uris = uris(
        Field::PostLogoutRedirectUris,
        &reg.post_logout_redirect_uris,
    )?;
    let grant_types = parse_grant_types(&reg.grant_types, !redirect_uris.is_empty())?;
    check_grants(&grant_types, auth_method, &redirect_uris)?;
    let allowed_scopes = ScopeSet::parse(reg.scope.as_deref().unwrap_or(DEFAULT_CLIENT_SCOPES))
        .map_err(|e| FieldError::new(Field::Scope, e))?;
    let access_token_alg = reg
        .access_token_alg
        .as_deref()
        .map(|a| SigningAlg::parse(a).map_err(|e| FieldError::new(Field::AccessTokenAlg, e)))
        .transpose()?;
    let id_token_alg = match reg.id_token_alg.as_deref() {
        None => SigningAlg::RS256,
        Some(a) => SigningAlg::parse(a).map_err(|e| FieldError::new(Field::IdTokenAlg, e))?,
    };
    let refresh_grace_seconds = reg.refresh_grace_seconds.unwrap_or(0);
    check_lifetimes(&reg, refresh_grace_seconds)?;
    let may_act = reg
        .may_act
        .as_deref()
        .map(|a| {
            let a = ClientId::parse(a.trim())
                .map_err(|e| FieldError::new(Field::MayAct, e.to_string()))?;
            if a == id {
                return Err(FieldError::new(
                    Field::MayAct,
                    "a client always acts for its own users: name another client",
                ));
            }
            Ok(a)
        })
        .transpose()?;
    if reg.pkce_optional && auth_method == AuthMethod::None {
        return Err(FieldError::new(
            Field::PkceOptional,
            "public clients must always use PKCE",
        ));
    }
    Ok(Client {
        id,
        tenant_id: reg.tenant_id,
        name,
        secret_hash: None,
        auth_method,
        redirect_uris,
        post_logout_redirect_uris,
        grant_types,
        allowed_scopes,
        id_token_alg,
        access_token_alg,
        access_token_ttl: reg.access_token_ttl,
        require_pkce: !reg.pkce_optional,
        refresh_grace_seconds,
        refresh_idle_ttl: reg.refresh_idle_ttl,
        refresh_absolute_ttl: reg.refresh_absolute_ttl,
        may_act,
        created_at: now,
    })
}

/// The grants asked for; none asked means the code flow for a client with redirect URIs and
/// client credentials for one without.
fn parse_grant_types(asked: &[String], redirects: bool) -> Result<Vec<GrantType>, FieldError> {
    let mut grant_types = asked
        .iter()
        .map(|g| GrantType::parse(g))
        .collect::<Result<Vec<_>, _>>()?;
    grant_types.dedup();
    if grant_types.is_empty() {
        grant_types = if redirects {
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        } else {
            vec![GrantType::ClientCredentials]
        };
    }
    Ok(grant_types)
}

/// The grants a client may have given how it authenticates and where it may be redirected.
fn check_grants(
    grant_types: &[GrantType],
    auth_method: AuthMethod,
    redirect_uris: &[RedirectUri],
) -> Result<(), FieldError> {
    if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        return Err(FieldError::new(
            Field::RedirectUris,
            "the authorization_code grant needs at least one redirect URI",
        ));
    }
    // Tokens in the front channel go only to an exactly registered redirect URI.
    if grant_types.contains(&GrantType::Implicit) && redirect_uris.is_empty() {
        return Err(FieldError::new(
            Field::RedirectUris,
            "the implicit grant needs at least one redirect URI",
        ));
    }
    if grant_types.contains(&GrantType::JwtBearer) && auth_method == AuthMethod::None {
        return Err(FieldError::new(
            Field::GrantTypes,
            "the JWT bearer grant needs a confidential client (the auth method none is public)",
        ));
    }
    if grant_types.contains(&GrantType::TokenExchange) && auth_method == AuthMethod::None {
        return Err(FieldError::new(
            Field::GrantTypes,
            "token exchange needs a confidential client (the auth method none is public)",
        ));
    }
    if grant_types.contains(&GrantType::ClientCredentials) && auth_method == AuthMethod::None {
        return Err(FieldError::new(
            Field::GrantTypes,
            "client_credentials needs a confidential client (the auth method none is public)",
        ));
    }
    Ok(())
}

/// The per-client token lifetimes: the access-token lifetime, the refresh grace period and
/// lifetimes within their bounds, and a refresh idle lifetime no longer than the family's.
fn check_lifetimes(reg: &ClientRegistration, grace: i64) -> Result<(), FieldError> {
    if reg
        .access_token_ttl
        .is_some_and(|ttl| !(60..=86_400).contains(&ttl))
    {
        return Err(FieldError::new(
            Field::AccessTokenTtl,
            "must be between 60 and 86400 seconds",
        ));
    }
    if !(0..=MAX_REFRESH_GRACE_SECONDS).contains(&grace) {
        return Err(FieldError::new(
            Field::RefreshGraceSeconds,
            format!("must be between 0 and {MAX_REFRESH_GRACE_SECONDS}"),
        ));
    }
    for (field, v) in [
        (Field::RefreshIdleTtl, reg.refresh_idle_ttl),
        (Field::RefreshAbsoluteTtl, reg.refresh_absolute_ttl),
    ] {
        if v.is_some_and(|t| !REFRESH_TTL_RANGE.contains(&t)) {
            return Err(FieldError::new(
                field,
                format!(
                    "must be between {} and {} seconds",
                    REFRESH_TTL_RANGE.start(),
                    REFRESH_TTL_RANGE.end()
                ),
            ));
        }
    }
    if let (Some(idle), Some(abs)) = (reg.refresh_idle_ttl, reg.refresh_absolute_ttl)
        && idle > abs
    {
        return Err(FieldError::new(
            Field::RefreshIdleTtl,
            "must not exceed the refresh-token absolute lifetime",
        ));
    }
    Ok(())
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
            access_token_alg: None,
            access_token_ttl: None,
            pkce_optional: false,
            refresh_grace_seconds: None,
            refresh_idle_ttl: None,
            refresh_absolute_ttl: None,
            may_act: None,
        }
    }

    #[test]
    fn updates_keep_identity_and_secret_and_follow_the_registration_rules() {
        let now = chrono::Utc::now();
        let NewClient { client, .. } = NewClient::validate(reg(), now).unwrap();
        let changes = ClientChanges {
            name: Some(" Renamed ".into()),
            redirect_uris: Some(vec!["https://app.example/other".into()]),
            scope: Some("openid api:read".into()),
            ..ClientChanges::default()
        };
        let u = client.updated(changes).unwrap();
        assert_eq!(u.id, client.id);
        assert!(u.secret_hash == client.secret_hash && u.secret_hash.is_some());
        assert_eq!(u.name, "Renamed");
        assert_eq!(u.redirect_uris[0].as_str(), "https://app.example/other");
        assert_eq!(u.allowed_scopes.to_string(), "api:read openid");
        assert_eq!(u.grant_types, client.grant_types);
        // Nothing changed: the same client.
        let same = client.updated(ClientChanges::default()).unwrap();
        assert_eq!(same.registration().redirect_uris, reg().redirect_uris);
        // The code flow cannot lose its last redirect URI; bad values name their field.
        let cases = [
            (
                ClientChanges {
                    redirect_uris: Some(vec![]),
                    ..ClientChanges::default()
                },
                Field::RedirectUris,
            ),
            (
                ClientChanges {
                    redirect_uris: Some(vec!["http://evil.example/cb".into()]),
                    ..ClientChanges::default()
                },
                Field::RedirectUris,
            ),
            (
                ClientChanges {
                    name: Some("  ".into()),
                    ..ClientChanges::default()
                },
                Field::Name,
            ),
            (
                ClientChanges {
                    grant_types: Some(vec!["password".into()]),
                    ..ClientChanges::default()
                },
                Field::GrantTypes,
            ),
        ];
        for (c, field) in cases {
            assert_eq!(client.updated(c).err().map(|e| e.field), Some(field));
        }
    }

    #[test]
    fn a_device_client_needs_no_redirect_uri_and_may_be_public_rfc8628_3_1() {
        for auth in [None, Some("none".to_owned())] {
            let mut r = reg();
            r.redirect_uris.clear();
            r.auth_method = auth;
            r.grant_types = vec![GRANT_TYPE_DEVICE_CODE.into(), "refresh_token".into()];
            let c = NewClient::validate(r, chrono::Utc::now()).unwrap();
            assert_eq!(
                c.client.grant_types,
                vec![GrantType::DeviceCode, GrantType::RefreshToken]
            );
            assert_eq!(GrantType::DeviceCode.as_str(), GRANT_TYPE_DEVICE_CODE);
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
    fn implicit_is_an_opt_in_that_needs_a_redirect_uri() {
        let c = NewClient::validate(reg(), chrono::Utc::now()).unwrap();
        assert!(!c.client.allows_grant(GrantType::Implicit));
        let mut r = reg();
        r.grant_types = vec!["authorization_code".into(), "implicit".into()];
        let c = NewClient::validate(r, chrono::Utc::now()).unwrap();
        assert!(c.client.allows_grant(GrantType::Implicit));
        assert_eq!(GrantType::parse("implicit").unwrap().as_str(), "implicit");
        let mut r = reg();
        r.grant_types = vec!["implicit".into()];
        r.redirect_uris.clear();
        let e = NewClient::validate(r, chrono::Utc::now()).err().unwrap();
        assert_eq!(e.field, Field::RedirectUris);
    }

    #[test]
    fn errors_name_the_field() {
        let mut r = reg();
        r.redirect_uris = vec!["http://evil.example/cb".into()];
        assert!(
            NewClient::validate(r, chrono::Utc::now())
                .err()
                .unwrap()
                .field
                == Field::RedirectUris
        );
        let mut r = reg();
        r.auth_method = Some("none".into());
        r.grant_types = vec!["client_credentials".into()];
        assert!(
            NewClient::validate(r, chrono::Utc::now())
                .err()
                .unwrap()
                .field
                == Field::GrantTypes
        );
        let mut r = reg();
        r.redirect_uris.clear();
        r.grant_types = vec!["authorization_code".into()];
        assert!(
            NewClient::validate(r, chrono::Utc::now())
                .err()
                .unwrap()
                .field
                == Field::RedirectUris
        );
        let mut r = reg();
        r.id_token_alg = Some("HS256".into());
        assert!(
            NewClient::validate(r, chrono::Utc::now())
                .err()
                .unwrap()
                .field
                == Field::IdTokenAlg
        );
    }

    #[test]
    fn refresh_policy_fields_are_checked() {
        let c = NewClient::validate(reg(), chrono::Utc::now()).unwrap();
        assert_eq!(c.client.refresh_grace_seconds, 0);
        for (grace, idle, abs, field) in [
            (Some(-1), None, None, Field::RefreshGraceSeconds),
            (Some(301), None, None, Field::RefreshGraceSeconds),
            (None, Some(10), None, Field::RefreshIdleTtl),
            (None, None, Some(40_000_000), Field::RefreshAbsoluteTtl),
            (None, Some(7200), Some(3600), Field::RefreshIdleTtl),
        ] {
            let mut r = reg();
            r.refresh_grace_seconds = grace;
            r.refresh_idle_ttl = idle;
            r.refresh_absolute_ttl = abs;
            let err = NewClient::validate(r, chrono::Utc::now()).err().unwrap();
            assert_eq!(err.field, field, "{err}");
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

//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592).
//!
//! - [`ClientMetadata`]: the request body of RFC 7591 §2 (unknown members are ignored, §2).
//! - [`RegistrationPolicy`] and [`registration`]: the registration policy (allowed grant types,
//!   `https` or loopback `http` redirect URIs, scopes within the policy's and the tenant's,
//!   the authentication methods `client_secret_basic`, `client_secret_post`,
//!   `private_key_jwt` with `jwks` or `jwks_uri`, and `none` for public clients, which always
//!   use PKCE), turned into the one [`ClientRegistration`] that `client create` also goes
//!   through, so the rules of [`NewClient::validate`] apply unchanged.
//! - [`RegistrationError`]: the error codes of RFC 7591 §3.2.2.
//! - [`InitialAccessToken`] (RFC 7591 §3, "initial access token") and the registration access
//!   token of RFC 7592 §3: machine secrets, stored as their SHA-256 only, checked through the
//!   [`RegistrationStore`] port.
//! - [`client_metadata`]: the registered metadata as the responses of RFC 7591 §3.2.1 and
//!   RFC 7592 §3 show it.
//! - `dpop_bound_access_tokens` (RFC 9449 §5.2, a boolean, `false` when omitted): `true`
//!   registers the client as "DPoP required" — the stored option of `client create
//!   --dpop-required` ([`crate::dpop::check_required`]) — so a request without a proof is
//!   refused. It is echoed in every response and replaced by an RFC 7592 §2.2 update like the
//!   other members.
//!
//! Software statements (RFC 7591 §2.3) are not verified: a request carrying one is refused
//! with `invalid_software_statement` rather than silently trusted or ignored.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{AuthMethod, Client, ClientChanges, ClientRegistration, GrantType};
use crate::client_auth::KeySource;
use crate::field::{Field, FieldError};
use crate::secret::{Secret, SecretHash};
use crate::tenant::Tenant;
use crate::values::{ClientId, RedirectUri, ScopeSet, TenantId};
use crate::{StoreError, client};

/// The largest registration request body read, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// At most this many redirect URIs (and as many post-logout ones) per client.
pub const MAX_REDIRECT_URIS: usize = 20;
/// Bounds of an initial access token's lifetime: one minute to 90 days; one day by default.
pub const TOKEN_TTL_RANGE: std::ops::RangeInclusive<i64> = 60..=7_776_000;
pub const DEFAULT_TOKEN_TTL: i64 = 86_400;

/// The client metadata of a registration request (RFC 7591 §2). Members this server does not
/// understand are ignored, as §2 requires; members it understands but does not store
/// (`client_uri`, `logo_uri`, `contacts`, ...) are accepted and not returned.
#[derive(Debug, Default, Deserialize)]
pub struct ClientMetadata {
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub response_types: Option<Vec<String>>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub jwks: Option<Value>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
    #[serde(default)]
    pub software_statement: Option<Value>,
    /// RFC 9449 §5.2: the client always uses DPoP (a boolean; any other type is
    /// `invalid_client_metadata`, as every mistyped member).
    #[serde(default)]
    pub dpop_bound_access_tokens: Option<bool>,
    /// Only in an RFC 7592 §2.2 update: must be the client's own id.
    #[serde(default)]
    pub client_id: Option<String>,
}

impl ClientMetadata {
    /// Parses a request body; a body that is not a JSON object of the right member types is
    /// `invalid_client_metadata`.
    pub fn from_json(body: &[u8]) -> Result<Self, RegistrationError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(RegistrationError::metadata("the request body is too large"));
        }
        serde_json::from_slice(body).map_err(|e| {
            RegistrationError::metadata(format!("the body is not valid client metadata: {e}"))
        })
    }
}

/// What dynamic registration may ask for (the operator's `[registration]` settings).
#[derive(Debug, Clone)]
pub struct RegistrationPolicy {
    /// Grant types a registered client may have.
    pub grant_types: Vec<GrantType>,
    /// The most a registered client may request; also its scopes when it names none.
    pub scope: ScopeSet,
}

impl Default for RegistrationPolicy {
    fn default() -> Self {
        Self {
            grant_types: vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::ClientCredentials,
            ],
            scope: ScopeSet::parse(client::DEFAULT_CLIENT_SCOPES).unwrap_or_default(),
        }
    }
}

/// A refused registration (RFC 7591 §3.2.2), or an unusable token (RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// A redirect URI (or post-logout redirect URI) is not acceptable.
    #[error("{0}")]
    InvalidRedirectUri(String),
    /// A metadata value is invalid or not allowed by the registration policy.
    #[error("{0}")]
    InvalidClientMetadata(String),
    /// A software statement was presented; this server does not accept them.
    #[error("software statements are not accepted by this server")]
    InvalidSoftwareStatement,
    /// No, an unknown, an expired or an exhausted initial access token; or a registration
    /// access token that is not the client's (never saying whether the client exists).
    #[error("{0}")]
    InvalidToken(String),
    /// Storage failed while checking a token: a `server_error`, never a refusal.
    #[error("storage: {0}")]
    Unavailable(String),
}

impl RegistrationError {
    pub fn metadata(why: impl Into<String>) -> Self {
        Self::InvalidClientMetadata(why.into())
    }
    /// The `error` member of the response.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRedirectUri(_) => "invalid_redirect_uri",
            Self::InvalidClientMetadata(_) => "invalid_client_metadata",
            Self::InvalidSoftwareStatement => "invalid_software_statement",
            Self::InvalidToken(_) => "invalid_token",
            Self::Unavailable(_) => "server_error",
        }
    }
    /// A field error of the client rules, as RFC 7591 §3.2.2 names it.
    pub fn from_field(e: FieldError) -> Self {
        match e.field {
            Field::RedirectUris | Field::PostLogoutRedirectUris => {
                Self::InvalidRedirectUri(e.reason)
            }
            f => Self::InvalidClientMetadata(format!("{}: {}", metadata_name(f), e.reason)),
        }
    }
}

/// The RFC 7591 member carrying a field.
fn metadata_name(f: Field) -> &'static str {
    match f {
        Field::Name => "client_name",
        Field::AuthMethod => "token_endpoint_auth_method",
        Field::IdTokenAlg => "id_token_signed_response_alg",
        f => f.as_str(),
    }
}

/// What a registration request stands for: the registration `client create` also goes
/// through, the client's public keys, and its protocol options.
pub struct Registration {
    pub client: ClientRegistration,
    pub keys: Option<KeySource>,
    /// `dpop_bound_access_tokens` (RFC 9449 §5.2): the client is "DPoP required".
    pub dpop_bound: bool,
}

/// An RFC 7592 §2.2 update: the changes of the client, its public keys and its options.
#[derive(Debug)]
pub struct Update {
    pub changes: ClientChanges,
    pub keys: Option<KeySource>,
    /// `dpop_bound_access_tokens` (RFC 9449 §5.2), replaced like every member (omitted: false).
    pub dpop_bound: bool,
}

/// The registration (and public keys) a metadata request stands for in `tenant`, checked
/// against the registration policy. The client rules proper are applied afterwards by
/// [`crate::client::NewClient::validate`] (or [`Client::updated`]) on the result.
pub fn registration(
    meta: ClientMetadata,
    tenant: &Tenant,
    policy: &RegistrationPolicy,
) -> Result<Registration, RegistrationError> {
    if meta.software_statement.is_some() {
        return Err(RegistrationError::InvalidSoftwareStatement);
    }
    let redirect_uris = meta.redirect_uris.unwrap_or_default();
    let post_logout = meta.post_logout_redirect_uris.unwrap_or_default();
    for list in [&redirect_uris, &post_logout] {
        if list.len() > MAX_REDIRECT_URIS {
            return Err(RegistrationError::InvalidRedirectUri(format!(
                "at most {MAX_REDIRECT_URIS} redirect URIs"
            )));
        }
        for u in list {
            check_redirect_uri(u)?;
        }
    }
    let auth_method = meta
        .token_endpoint_auth_method
        .unwrap_or_else(|| AuthMethod::ClientSecretBasic.as_str().to_owned());
    let method = AuthMethod::parse(&auth_method).map_err(RegistrationError::from_field)?;
    if method == AuthMethod::ClientSecretJwt {
        return Err(RegistrationError::metadata(
            "token_endpoint_auth_method client_secret_jwt is not available to dynamic registration",
        ));
    }
    let keys = match (meta.jwks, meta.jwks_uri) {
        (Some(_), Some(_)) => {
            return Err(RegistrationError::metadata(
                "jwks and jwks_uri must not both be present (RFC 7591 §2)",
            ));
        }
        (Some(j), None) => Some(KeySource::Jwks(j)),
        (None, Some(u)) => Some(KeySource::Uri(u)),
        (None, None) => None,
    };
    let grant_types = meta.grant_types.unwrap_or_default();
    check_asked_grants(&grant_types, meta.response_types.as_deref(), policy)?;
    let scope = scope(meta.scope.as_deref(), tenant, policy)?;
    let mut reg = ClientRegistration::named(
        meta.client_name
            .as_deref()
            .unwrap_or("Dynamically registered client"),
        tenant.id.clone(),
    );
    reg.grant_types = grant_types;
    reg.redirect_uris = redirect_uris;
    reg.post_logout_redirect_uris = post_logout;
    reg.scope = Some(scope);
    reg.auth_method = Some(auth_method);
    reg.id_token_alg = meta.id_token_signed_response_alg;
    Ok(Registration {
        client: reg,
        keys,
        dpop_bound: meta.dpop_bound_access_tokens.unwrap_or(false),
    })
}

/// Grant types asked for must be known and allowed; response types only `code`.
fn check_asked_grants(
    grant_types: &[String],
    response_types: Option<&[String]>,
    policy: &RegistrationPolicy,
) -> Result<(), RegistrationError> {
    for g in grant_types {
        let parsed = GrantType::parse(g).map_err(|_| {
            RegistrationError::metadata(format!("grant type {g:?} is not supported"))
        })?;
        if !policy.grant_types.contains(&parsed) {
            return Err(RegistrationError::metadata(format!(
                "grant type {g:?} is not allowed by the registration policy"
            )));
        }
    }
    if response_types.is_some_and(|types| types.iter().any(|t| t != "code")) {
        return Err(RegistrationError::metadata(
            "only the response type \"code\" is supported",
        ));
    }
    Ok(())
}

/// The scopes of the client: those asked for, within the policy's and the tenant's scope
/// restriction; all of those when none are asked for.
fn scope(
    asked: Option<&str>,
    tenant: &Tenant,
    policy: &RegistrationPolicy,
) -> Result<String, RegistrationError> {
    let tenant_scope = |s: &ScopeSet| match &tenant.allowed_scopes {
        Some(allowed) => ScopeSet::parse(
            &s.iter()
                .filter(|x| allowed.contains(x))
                .collect::<Vec<_>>()
                .join(" "),
        )
        .unwrap_or_default(),
        None => s.clone(),
    };
    let within = tenant_scope(&policy.scope);
    Ok(match asked {
        None => within.to_string(),
        Some(s) => {
            let asked = ScopeSet::parse(s)
                .map_err(|e| RegistrationError::metadata(format!("scope: {e}")))?;
            let beyond = asked.difference(&within);
            if !beyond.is_empty() {
                return Err(RegistrationError::metadata(format!(
                    "scope: not allowed by the registration policy: {}",
                    beyond.join(" ")
                )));
            }
            asked.to_string()
        }
    })
}

/// After [`crate::client::NewClient::validate`]: the defaulted grant types must be allowed too.
pub fn check_grants(client: &Client, policy: &RegistrationPolicy) -> Result<(), RegistrationError> {
    match client
        .grant_types
        .iter()
        .find(|g| !policy.grant_types.contains(g))
    {
        Some(g) => Err(RegistrationError::metadata(format!(
            "grant type {:?} is not allowed by the registration policy",
            g.as_str()
        ))),
        None => Ok(()),
    }
}

/// Redirect URIs of dynamically registered clients: what `client create` accepts, and only
/// `https` or loopback `http` (no private-use schemes from unauthenticated parties); no
/// fragment (RFC 6749 §3.1.2).
fn check_redirect_uri(u: &str) -> Result<(), RegistrationError> {
    let bad = |why: String| RegistrationError::InvalidRedirectUri(format!("{u}: {why}"));
    RedirectUri::parse_for_registration(u).map_err(|e| bad(e.to_string()))?;
    let url = url::Url::parse(u).map_err(|e| bad(e.to_string()))?;
    if url.fragment().is_some() {
        return Err(bad("a redirect URI must not have a fragment".into()));
    }
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad("only https (or http on loopback) is accepted".into()));
    }
    Ok(())
}

/// An RFC 7592 §2.2 update as the changes of a registered client: full replacement of what
/// the client may change. The authentication method cannot change here (it decides whether a
/// secret exists); `client_id` in the body, when present, must be the client's.
pub fn changes(
    client: &Client,
    meta: ClientMetadata,
    policy: &RegistrationPolicy,
    tenant: &Tenant,
) -> Result<Update, RegistrationError> {
    if meta
        .client_id
        .as_deref()
        .is_some_and(|id| id != client.id.as_str())
    {
        return Err(RegistrationError::metadata(
            "client_id does not match the client being updated",
        ));
    }
    let Registration {
        client: reg,
        keys,
        dpop_bound,
    } = registration(meta, tenant, policy)?;
    if reg.auth_method.as_deref() != Some(client.auth_method.as_str()) {
        return Err(RegistrationError::metadata(
            "token_endpoint_auth_method cannot be changed; register a new client",
        ));
    }
    let changes = ClientChanges {
        name: Some(reg.name),
        grant_types: Some(reg.grant_types),
        redirect_uris: Some(reg.redirect_uris),
        post_logout_redirect_uris: Some(reg.post_logout_redirect_uris),
        scope: reg.scope,
        id_token_alg: Some(
            reg.id_token_alg
                .unwrap_or_else(|| crate::SigningAlg::RS256.as_str().to_owned()),
        ),
        ..ClientChanges::default()
    };
    Ok(Update {
        changes,
        keys,
        dpop_bound,
    })
}

/// The registered metadata of `client` (RFC 7591 §3.2.1, RFC 7592 §3), with its public keys
/// and whether it is DPoP-bound (`dpop_bound_access_tokens`, RFC 9449 §5.2).
pub fn client_metadata(client: &Client, keys: Option<&KeySource>, dpop_bound: bool) -> Value {
    let uris = |l: &[RedirectUri]| l.iter().map(|u| u.as_str().to_owned()).collect::<Vec<_>>();
    let mut doc = json!({
        "client_id": client.id.as_str(),
        "client_name": client.name,
        "redirect_uris": uris(&client.redirect_uris),
        "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "response_types":
            if client.allows_grant(GrantType::AuthorizationCode) { vec!["code"] } else { vec![] },
        "token_endpoint_auth_method": client.auth_method.as_str(),
        "scope": client.allowed_scopes.to_string(),
        "id_token_signed_response_alg": client.id_token_alg.as_str(),
        "client_id_issued_at": client.created_at.timestamp(),
        "dpop_bound_access_tokens": dpop_bound,
    });
    if !client.post_logout_redirect_uris.is_empty() {
        doc["post_logout_redirect_uris"] = json!(uris(&client.post_logout_redirect_uris));
    }
    match keys {
        Some(KeySource::Jwks(j)) => doc["jwks"] = j.clone(),
        Some(KeySource::Uri(u)) => doc["jwks_uri"] = json!(u),
        _ => {}
    }
    doc
}

/// An initial access token (RFC 7591 §3): lets its bearer register clients in its tenant
/// until it expires or has been used `max_uses` times. Only its hash is kept.
#[derive(Debug, Clone)]
pub struct InitialAccessToken {
    pub hash: SecretHash,
    pub tenant_id: TenantId,
    pub expires_at: DateTime<Utc>,
    /// `None`: any number of registrations until it expires.
    pub max_uses: Option<u32>,
    pub created_at: DateTime<Utc>,
}

impl InitialAccessToken {
    /// A new token for `tenant`, with its plaintext (to show once). `ttl` in seconds within
    /// [`TOKEN_TTL_RANGE`] (default [`DEFAULT_TOKEN_TTL`]); `max_uses` at least 1.
    pub fn generate(
        tenant: TenantId,
        ttl: Option<i64>,
        max_uses: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(Self, Secret), FieldError> {
        let ttl = ttl.unwrap_or(DEFAULT_TOKEN_TTL);
        if !TOKEN_TTL_RANGE.contains(&ttl) {
            return Err(FieldError::new(
                Field::Ttl,
                format!(
                    "must be between {} and {} seconds",
                    TOKEN_TTL_RANGE.start(),
                    TOKEN_TTL_RANGE.end()
                ),
            ));
        }
        if max_uses == Some(0) {
            return Err(FieldError::new(Field::MaxUses, "must be at least 1"));
        }
        let secret = Secret::generate();
        Ok((
            Self {
                hash: secret.hash(),
                tenant_id: tenant,
                expires_at: now + chrono::Duration::seconds(ttl),
                max_uses,
                created_at: now,
            },
            secret,
        ))
    }
}

/// The storage of initial access tokens and registration access tokens.
#[allow(async_fn_in_trait)]
pub trait RegistrationStore {
    /// The tenant of a usable initial access token (known, not expired, uses left).
    async fn initial_token_tenant(
        &self,
        hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Option<TenantId>, StoreError>;
    /// Counts one use of the token, atomically: `false` when it expired or has no use left
    /// (of concurrent uses, at most `max_uses` succeed).
    async fn use_initial_token(
        &self,
        hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// The hash of the registration access token of a dynamically registered client.
    async fn registration_token_hash(
        &self,
        client: &ClientId,
    ) -> Result<Option<SecretHash>, StoreError>;
}

/// The client an RFC 7592 request may manage: `presented` must be the registration access
/// token of `client_id`. An unknown client and a wrong token are the same `invalid_token`.
pub async fn management_client(
    store: &impl RegistrationStore,
    client_id: &str,
    presented: Option<&str>,
) -> Result<ClientId, RegistrationError> {
    let refused =
        || RegistrationError::InvalidToken("the registration access token is not valid".into());
    let presented = presented.ok_or_else(refused)?;
    let id = ClientId::parse(client_id).map_err(|_| refused())?;
    let stored = store
        .registration_token_hash(&id)
        .await
        .map_err(|e| RegistrationError::Unavailable(e.to_string()))?;
    match stored {
        Some(h) if h.verify(&Secret::from_presented(presented)) => Ok(id),
        _ => Err(refused()),
    }
}

/// The tenant a registration request registers in: its initial access token's (checked, not
/// yet used), else — with open registration — `open_tenant`.
pub async fn registering_tenant(
    store: &impl RegistrationStore,
    presented: Option<&str>,
    open_tenant: Option<&TenantId>,
    now: DateTime<Utc>,
) -> Result<(TenantId, Option<SecretHash>), RegistrationError> {
    let Some(token) = presented else {
        return match open_tenant {
            Some(t) => Ok((t.clone(), None)),
            None => Err(RegistrationError::InvalidToken(
                "an initial access token is required to register".into(),
            )),
        };
    };
    let hash = Secret::from_presented(token).hash();
    match store.initial_token_tenant(&hash, now).await {
        Ok(Some(t)) => Ok((t, Some(hash))),
        Ok(None) => Err(RegistrationError::InvalidToken(
            "the initial access token is unknown, expired or used up".into(),
        )),
        Err(e) => Err(RegistrationError::Unavailable(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::NewClient;

    fn tenant() -> Tenant {
        Tenant {
            id: TenantId::parse("default").unwrap(),
            name: "default".into(),
            created_at: Utc::now(),
            disabled: false,
            api_access_enabled: true,
            max_api_keys: 10,
            allowed_scopes: None,
        }
    }

    fn meta(v: Value) -> ClientMetadata {
        ClientMetadata::from_json(v.to_string().as_bytes()).unwrap()
    }

    fn register(v: Value) -> Result<Client, RegistrationError> {
        let policy = RegistrationPolicy::default();
        let reg = registration(meta(v), &tenant(), &policy)?.client;
        let c = NewClient::validate(reg, Utc::now())
            .map_err(RegistrationError::from_field)?
            .client;
        check_grants(&c, &policy)?;
        Ok(c)
    }

    #[test]
    fn rfc7591_s2_code_flow_client_with_defaults() {
        let c = register(json!({"redirect_uris": ["https://app.example/cb"], "client_name": "A"}))
            .unwrap();
        assert_eq!(c.auth_method, AuthMethod::ClientSecretBasic);
        assert!(c.allows_grant(GrantType::AuthorizationCode));
        assert!(c.require_pkce);
        assert_eq!(
            c.allowed_scopes.to_string(),
            "email offline_access openid profile"
        );
    }

    #[test]
    fn rfc7591_s3_2_2_redirect_uris_are_https_or_loopback_without_fragment() {
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#x",
            "com.example.app:/cb",
            "not a uri",
        ] {
            let e = register(json!({"redirect_uris": [bad]})).unwrap_err();
            assert_eq!(e.code(), "invalid_redirect_uri", "{bad}");
        }
        assert!(register(json!({"redirect_uris": ["http://127.0.0.1/cb"]})).is_ok());
    }

    #[test]
    fn rfc7591_s3_2_2_policy_refusals_are_invalid_client_metadata() {
        for body in [
            json!({"grant_types": ["implicit"]}),
            json!({"grant_types": [crate::client::GRANT_TYPE_JWT_BEARER]}),
            json!({"response_types": ["token"], "redirect_uris": ["https://a.example/cb"]}),
            json!({"scope": "admin:write"}),
            json!({"token_endpoint_auth_method": "client_secret_jwt"}),
            json!({"token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]}),
            json!({"jwks": {"keys": []}, "jwks_uri": "https://a.example/jwks"}),
        ] {
            let e = register(body.clone()).unwrap_err();
            assert_eq!(e.code(), "invalid_client_metadata", "{body}");
        }
        let e = register(json!({"software_statement": "x.y.z"})).unwrap_err();
        assert_eq!(e.code(), "invalid_software_statement");
        let e = ClientMetadata::from_json(b"{\"redirect_uris\": 3}").unwrap_err();
        assert_eq!(e.code(), "invalid_client_metadata");
    }

    #[test]
    fn tenant_scope_restriction_narrows_the_policy() {
        let mut t = tenant();
        t.allowed_scopes = Some(ScopeSet::parse("openid").unwrap());
        let policy = RegistrationPolicy::default();
        let reg = registration(meta(json!({})), &t, &policy).unwrap().client;
        assert_eq!(reg.scope.as_deref(), Some("openid"));
        let e = registration(meta(json!({"scope": "email"})), &t, &policy).err();
        assert_eq!(e.map(|e| e.code()), Some("invalid_client_metadata"));
    }

    #[test]
    fn rfc9449_s5_2_dpop_bound_access_tokens_is_a_boolean_echoed_and_replaced() {
        let policy = RegistrationPolicy::default();
        let bound = json!({"dpop_bound_access_tokens": true});
        let r = registration(meta(bound.clone()), &tenant(), &policy).unwrap();
        assert!(r.dpop_bound);
        let c = NewClient::validate(r.client, Utc::now()).unwrap().client;
        assert_eq!(
            client_metadata(&c, None, true)["dpop_bound_access_tokens"],
            true
        );
        assert_eq!(
            client_metadata(&c, None, false)["dpop_bound_access_tokens"],
            false
        );
        // Omitted (or null, as for every member) is false.
        for body in [json!({}), json!({"dpop_bound_access_tokens": null})] {
            assert!(
                !registration(meta(body), &tenant(), &policy)
                    .unwrap()
                    .dpop_bound
            );
        }
        // An update replaces it, like every member (RFC 7592 §2.2).
        assert!(
            changes(&c, meta(bound), &policy, &tenant())
                .unwrap()
                .dpop_bound
        );
        assert!(
            !changes(&c, meta(json!({})), &policy, &tenant())
                .unwrap()
                .dpop_bound
        );
        for bad in [json!("true"), json!(1), json!([true]), json!({})] {
            let body = json!({ "dpop_bound_access_tokens": bad }).to_string();
            let e = ClientMetadata::from_json(body.as_bytes()).unwrap_err();
            assert_eq!(e.code(), "invalid_client_metadata", "{bad}");
        }
    }

    #[test]
    fn initial_tokens_bounds() {
        let t = TenantId::parse("default").unwrap();
        let now = Utc::now();
        assert!(InitialAccessToken::generate(t.clone(), Some(10), None, now).is_err());
        assert!(InitialAccessToken::generate(t.clone(), None, Some(0), now).is_err());
        let (tok, secret) = InitialAccessToken::generate(t, None, Some(2), now).unwrap();
        assert!(tok.hash.verify(&secret));
        assert_eq!(
            tok.expires_at,
            now + chrono::Duration::seconds(DEFAULT_TOKEN_TTL)
        );
    }
}

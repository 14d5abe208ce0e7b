//! The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6; RFC 7636 §4.5–4.6; OIDC Core §3.1.3;
//! RFC 9700 §4.14 refresh-token rotation with reuse detection; the rotation policy — lifetimes
//! and grace period — is in [`crate::rotation`]).
//!
//! Shape: the server parses the wire request into a [`ClientCredentials`] and a
//! [`TokenRequest`]; [`authenticate_client`] turns the credentials into a [`Client`];
//! [`exchange`] runs the grant.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::audit::{ActorKind, AuditSink, NewAuditEvent, Outcome};
use crate::claims::{ACCESS_TOKEN_TYP, AccessTokenClaims, ID_TOKEN_TYP, IdTokenClaims};
use crate::claims_request::ClaimsRequestStore;
use crate::client::{AuthMethod, Client, GrantType};
use crate::client_auth::{
    AssertionContext, AssertionVerifier, CLIENT_ASSERTION_TYPE_JWT, ClientKeyStore, ReplayStore,
    authenticate_assertion, peek_claim,
};
use crate::error::{Error, OAuthError};
use crate::params::Params;
use crate::policy::Policy;
use crate::ports::{ClientStore, Redemption, RefreshRecord, Rotation, Storage, TokenSigner};
use crate::rotation::{
    RefreshLifetimes, RotationStore, UsedToken, classify_used, successor_jti, successor_token,
};
use crate::secret::{RotationSalt, Secret, left_half_hash, random_bytes};
use crate::tenant::{TenantStore, tenant_enabled};
use crate::user::User;
use crate::values::{ClientId, GrantId, PkceVerifier, RedirectUri, ScopeSet, TenantId, UserId};

/// How the client authenticated (RFC 6749 §2.3.1, OIDC Core §9). One method only: a request
/// that uses two (Basic header and `client_secret` in the body) is refused when parsed.
pub enum ClientCredentials {
    /// HTTP Basic, with id and secret already form-urldecoded.
    Basic { client_id: String, secret: Secret },
    /// `client_id` and `client_secret` in the form body.
    Post { client_id: String, secret: Secret },
    /// A public client: `client_id` only.
    None { client_id: String },
    /// A signed JWT (`private_key_jwt`, OIDC Core §9, RFC 7523 §2.2). `client_id` is the body's
    /// `client_id`, or else the assertion's unverified `sub` (verification checks both).
    Assertion {
        client_id: String,
        assertion: String,
    },
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Basic { .. } => "ClientCredentials::Basic(..)",
            Self::Post { .. } => "ClientCredentials::Post(..)",
            Self::None { .. } => "ClientCredentials::None(..)",
            Self::Assertion { .. } => "ClientCredentials::Assertion(..)",
        })
    }
}

impl ClientCredentials {
    /// Reads client credentials from a decoded Basic header (if any) and the body.
    pub fn parse(basic: Option<(String, String)>, body: &Params) -> Result<Self, OAuthError> {
        let body_id = body.get("client_id");
        let body_secret = body.get("client_secret");
        if body.get("client_assertion").is_some() || body.get("client_assertion_type").is_some() {
            return Self::parse_assertion(basic.is_some(), body);
        }
        match basic {
            Some((id, secret)) => {
                if body_secret.is_some() {
                    return Err(OAuthError::invalid_request(
                        "use one client authentication method, not two",
                    ));
                }
                if body_id.is_some_and(|b| b != id) {
                    return Err(OAuthError::invalid_request(
                        "client_id in the body differs from the Basic header",
                    ));
                }
                Ok(Self::Basic {
                    client_id: id,
                    secret: Secret::from_presented(&secret),
                })
            }
            None => match (body_id, body_secret) {
                (Some(id), Some(secret)) => Ok(Self::Post {
                    client_id: id.into(),
                    secret: Secret::from_presented(secret),
                }),
                (Some(id), None) => Ok(Self::None {
                    client_id: id.into(),
                }),
                (None, _) => Err(OAuthError::invalid_client(
                    "client authentication is required",
                )),
            },
        }
    }

    /// RFC 7523 §2.2: `client_assertion_type` must be the JWT bearer URN, and no other method
    /// may be used alongside.
    fn parse_assertion(basic: bool, body: &Params) -> Result<Self, OAuthError> {
        if basic || body.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        if body.get("client_assertion_type") != Some(CLIENT_ASSERTION_TYPE_JWT) {
            return Err(OAuthError::invalid_client(
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
        }
        let assertion = body
            .get("client_assertion")
            .ok_or_else(|| OAuthError::invalid_client("client_assertion is missing"))?;
        let client_id = match body.get("client_id") {
            Some(id) => id.to_owned(),
            None => peek_claim(assertion, "sub")
                .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?,
        };
        Ok(Self::Assertion {
            client_id,
            assertion: assertion.to_owned(),
        })
    }

    pub fn is_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }

    fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::None { client_id }
            | Self::Assertion { client_id, .. } => client_id,
        }
    }
}

/// Authenticates the client (RFC 6749 §2.3): the method used must be the one registered; a
/// secret must match its stored SHA-256 (constant-time); an assertion must verify with the
/// client's keys and be used once (OIDC Core §9, see [`crate::client_auth`]). A client of a
/// disabled tenant cannot authenticate (checked after its credentials, so the answer is the
/// same `invalid_client` as for a wrong secret).
pub async fn authenticate_client<S, V>(
    store: &S,
    creds: &ClientCredentials,
    ctx: &AssertionContext<'_, V>,
) -> Result<Client, Error>
where
    S: ClientStore + ClientKeyStore + ReplayStore + TenantStore,
    V: AssertionVerifier,
{
    let client = authenticate_credentials(store, creds, ctx).await?;
    if !tenant_enabled(store, &client.tenant_id).await? {
        return Err(OAuthError::invalid_client("client authentication failed").into());
    }
    Ok(client)
}

async fn authenticate_credentials<S, V>(
    store: &S,
    creds: &ClientCredentials,
    ctx: &AssertionContext<'_, V>,
) -> Result<Client, Error>
where
    S: ClientStore + ClientKeyStore + ReplayStore,
    V: AssertionVerifier,
{
    let bad = || Error::OAuth(OAuthError::invalid_client("client authentication failed"));
    let id = ClientId::parse(creds.client_id()).map_err(|_| bad())?;
    let client = store.find_client(&id).await?.ok_or_else(bad)?;
    if let ClientCredentials::Assertion { assertion, .. } = creds {
        authenticate_assertion(store, ctx, &client, assertion).await?;
        return Ok(client);
    }
    let ok = match (creds, client.auth_method, &client.secret_hash) {
        (ClientCredentials::Basic { secret, .. }, AuthMethod::ClientSecretBasic, Some(h))
        | (ClientCredentials::Post { secret, .. }, AuthMethod::ClientSecretPost, Some(h)) => {
            h.verify(secret)
        }
        (ClientCredentials::None { .. }, AuthMethod::None, _) => true,
        _ => false,
    };
    if ok { Ok(client) } else { Err(bad()) }
}

/// A token request, one variant per grant (RFC 6749 §4.1.3, §4.4.2, §6).
pub enum TokenRequest {
    AuthorizationCode {
        code: Secret,
        redirect_uri: Option<RedirectUri>,
        code_verifier: Option<PkceVerifier>,
    },
    ClientCredentials {
        scope: Option<ScopeSet>,
    },
    RefreshToken {
        refresh_token: Secret,
        scope: Option<ScopeSet>,
    },
}

impl TokenRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        let scope = || -> Result<Option<ScopeSet>, OAuthError> {
            p.get("scope")
                .map(ScopeSet::parse)
                .transpose()
                .map_err(OAuthError::invalid_scope)
        };
        match p.require("grant_type")? {
            "authorization_code" => Ok(Self::AuthorizationCode {
                code: Secret::from_presented(p.require("code")?),
                redirect_uri: p
                    .get("redirect_uri")
                    .map(RedirectUri::parse)
                    .transpose()
                    .map_err(OAuthError::invalid_request)?,
                code_verifier: p
                    .get("code_verifier")
                    .map(PkceVerifier::parse)
                    .transpose()
                    .map_err(OAuthError::invalid_grant)?,
            }),
            "client_credentials" => Ok(Self::ClientCredentials { scope: scope()? }),
            "refresh_token" => Ok(Self::RefreshToken {
                refresh_token: Secret::from_presented(p.require("refresh_token")?),
                scope: scope()?,
            }),
            other => Err(OAuthError::new(
                crate::ErrorCode::UnsupportedGrantType,
                format!(
                    "grant_type {:?} is not supported",
                    other.chars().take(64).collect::<String>()
                ),
            )),
        }
    }

    fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
        }
    }
}

/// A successful token response (RFC 6749 §5.1). Holds secrets: no `Debug`.
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// What was issued, for the audit trail (not sent).
    #[serde(skip)]
    pub issued: Issued,
}

/// The ids of an issued access token, for the audit trail: never a token value.
#[derive(Debug, Clone, Default)]
pub struct Issued {
    pub grant_type: &'static str,
    pub client_id: String,
    pub jti: String,
    pub sub: String,
    pub tenant: String,
    pub grant_id: Option<String>,
}

/// Runs a grant for an authenticated client. Refresh-token reuse and code replay are sent to
/// `audit`.
pub async fn exchange<S, K, A>(
    store: &S,
    signer: &K,
    policy: &Policy,
    client: &Client,
    req: TokenRequest,
    audit: &A,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Error>
where
    S: Storage + ClaimsRequestStore + RotationStore + TenantStore,
    K: TokenSigner,
    A: AuditSink,
{
    if !client.allows_grant(req.grant_type()) {
        return Err(OAuthError::unauthorized_client(format!(
            "this client may not use the {} grant",
            req.grant_type().as_str()
        ))
        .into());
    }
    match req {
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            exchange_code(
                store,
                signer,
                policy,
                client,
                code,
                redirect_uri,
                code_verifier,
                audit,
                now,
            )
            .await
        }
        TokenRequest::ClientCredentials { scope } => {
            client_credentials(signer, policy, client, scope, now)
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => {
            refresh(
                store,
                signer,
                policy,
                client,
                refresh_token,
                scope,
                audit,
                now,
            )
            .await
        }
    }
}

/// A protocol event about a grant of `client` (reuse, replay), for the audit trail.
fn grant_event(
    client: &Client,
    action: &str,
    grant: &GrantId,
    user: &UserId,
    now: DateTime<Utc>,
) -> NewAuditEvent {
    NewAuditEvent::protocol(
        now,
        Some(client.tenant_id.to_string()),
        ActorKind::Client,
        Some(client.id.to_string()),
        action,
        Some(grant.to_string()),
        Outcome::Denied,
        serde_json::json!({ "user_id": user.as_str(), "grant_revoked": true }),
    )
}

/// The user of a grant, if they still exist and their tenant is enabled.
async fn live_user<S: Storage + TenantStore>(
    store: &S,
    id: &UserId,
) -> Result<Option<User>, Error> {
    let Some(user) = store.find_user(id).await? else {
        return Ok(None);
    };
    if !tenant_enabled(store, &user.tenant_id).await? {
        return Ok(None);
    }
    Ok(Some(user))
}

#[allow(clippy::too_many_arguments)]
async fn exchange_code<S, K, A>(
    store: &S,
    signer: &K,
    policy: &Policy,
    client: &Client,
    code: Secret,
    redirect_uri: Option<RedirectUri>,
    code_verifier: Option<PkceVerifier>,
    audit: &A,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Error>
where
    S: Storage + ClaimsRequestStore + RotationStore + TenantStore,
    K: TokenSigner,
    A: AuditSink,
{
    let invalid = |d: &'static str| Error::OAuth(OAuthError::invalid_grant(d));
    // Redeem first, atomically: of two concurrent redemptions exactly one gets here with
    // `Redeemed`, and a failed check below still burns the code (RFC 6749 §4.1.2: single use).
    let record = match store.redeem_code(&code.hash(), now).await? {
        Redemption::Redeemed(r) => r,
        Redemption::AlreadyRedeemed(r) => {
            // RFC 6749 §4.1.2: a replayed code revokes the tokens issued from it.
            store.revoke_grant(&r.grant_id, now).await?;
            audit
                .record(grant_event(
                    client,
                    "token.code_replay",
                    &r.grant_id,
                    &r.user_id,
                    now,
                ))
                .await;
            return Err(invalid("the authorization code has already been used"));
        }
        Redemption::NotFound => return Err(invalid("the authorization code is invalid")),
    };
    if record.expires_at <= now {
        return Err(invalid("the authorization code has expired"));
    }
    if record.client_id != client.id {
        return Err(invalid(
            "the authorization code was issued to another client",
        ));
    }
    match (&redirect_uri, record.redirect_uri_in_request) {
        (Some(r), _) if r.as_str() != record.redirect_uri.as_str() => {
            return Err(invalid(
                "redirect_uri does not match the authorization request",
            ));
        }
        (None, true) => {
            return Err(invalid(
                "redirect_uri is required: it was in the authorization request",
            ));
        }
        _ => {}
    }
    match (&record.code_challenge, &code_verifier) {
        (Some(ch), Some(v)) if ch.verify(v) => {}
        (Some(_), Some(_)) => {
            return Err(invalid("code_verifier does not match the code_challenge"));
        }
        (Some(_), None) => return Err(invalid("code_verifier is required")),
        // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
        (None, Some(_)) => {
            return Err(invalid("code_verifier sent but no code_challenge was used"));
        }
        (None, None) => {}
    }
    let user = live_user(store, &record.user_id)
        .await?
        .ok_or_else(|| invalid("the user no longer exists or is disabled"))?;
    let (access_token, jti) = mint_access_token(
        signer,
        policy,
        client,
        user.id.as_str(),
        &user.tenant_id,
        &record.scope,
        Some(record.auth_time),
        Some(&record.grant_id),
        new_jti(),
        now,
    )?;
    let id_token = if record.scope.contains("openid") {
        let requested = store.find_claims_request(&record.grant_id).await?;
        Some(mint_id_token(
            signer,
            policy,
            client,
            &user,
            &record.scope,
            requested.as_ref().map(|r| &r.id_token),
            record.nonce.clone(),
            record.auth_time,
            &access_token,
            now,
        )?)
    } else {
        None
    };
    let refresh_token = if wants_refresh(client, &record.scope) {
        let life = RefreshLifetimes::for_client(policy, client);
        let token = Secret::generate();
        store
            .insert_refresh(&new_refresh(
                &token,
                &life,
                client,
                &user.id,
                &record.grant_id,
                &record.scope,
                &record.scope,
                record.auth_time,
                life.family_deadline(None, now),
                now,
            ))
            .await?;
        Some(token.expose().to_owned())
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: access_ttl(policy, client),
        scope: record.scope.to_string(),
        refresh_token,
        id_token,
        issued: Issued {
            grant_type: GrantType::AuthorizationCode.as_str(),
            client_id: client.id.to_string(),
            jti,
            sub: user.id.to_string(),
            tenant: user.tenant_id.to_string(),
            grant_id: Some(record.grant_id.to_string()),
        },
    })
}

/// Refresh tokens go to clients allowed the grant that asked for `offline_access`.
fn wants_refresh(client: &Client, scope: &ScopeSet) -> bool {
    client.allows_grant(GrantType::RefreshToken) && scope.contains("offline_access")
}

fn client_credentials<K: TokenSigner>(
    signer: &K,
    policy: &Policy,
    client: &Client,
    scope: Option<ScopeSet>,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Error> {
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client_credentials",
        )
        .into());
    }
    // OIDC scopes describe a user; a client acting for itself has none.
    let allowed = client
        .allowed_scopes
        .without(&["openid", "offline_access", "profile", "email"]);
    let scope = match scope {
        Some(s) if !s.is_subset(&allowed) => {
            let extra = s.difference(&allowed).join(" ");
            return Err(OAuthError::invalid_scope(format!(
                "scope not allowed for this client: {extra}"
            ))
            .into());
        }
        Some(s) => s,
        None => allowed,
    };
    let (access_token, jti) = mint_access_token(
        signer,
        policy,
        client,
        client.id.as_str(),
        &client.tenant_id,
        &scope,
        None,
        None,
        new_jti(),
        now,
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: access_ttl(policy, client),
        scope: scope.to_string(),
        refresh_token: None,
        id_token: None,
        issued: Issued {
            grant_type: GrantType::ClientCredentials.as_str(),
            client_id: client.id.to_string(),
            jti,
            sub: client.id.to_string(),
            tenant: client.tenant_id.to_string(),
            grant_id: None,
        },
    })
}

#[allow(clippy::too_many_arguments)]
async fn refresh<S, K, A>(
    store: &S,
    signer: &K,
    policy: &Policy,
    client: &Client,
    token: Secret,
    scope: Option<ScopeSet>,
    audit: &A,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Error>
where
    S: Storage + ClaimsRequestStore + RotationStore + TenantStore,
    K: TokenSigner,
    A: AuditSink,
{
    let invalid = |d: &'static str| Error::OAuth(OAuthError::invalid_grant(d));
    let hash = token.hash();
    let record = store
        .find_refresh(&hash)
        .await?
        .ok_or_else(|| invalid("the refresh token is invalid"))?;
    // Check the client before touching the token, so another client cannot burn it.
    if record.client_id != client.id {
        return Err(invalid("the refresh token was issued to another client"));
    }
    let reused = || {
        Error::OAuth(OAuthError::invalid_grant(
            "the refresh token has already been used; the grant is revoked",
        ))
    };
    if !record.revoked && store.is_grant_revoked(&record.grant_id).await? {
        // A successor inserted while its grant was being revoked: the grant list is the truth.
        return Err(invalid("the refresh token has been revoked"));
    }
    if record.revoked {
        // Revoked with its grant, or superseded by a grace-period retry: a copy of it is in
        // use somewhere, so make sure the whole grant is dead (idempotent).
        store.revoke_grant(&record.grant_id, now).await?;
        return Err(invalid("the refresh token has been revoked"));
    }
    let life = RefreshLifetimes::for_client(policy, client);
    let retry_of = match record.used_at {
        None => None,
        Some(used_at) => match classify_used(&record, &life, now) {
            UsedToken::GraceRetry { current } => Some((used_at, current)),
            UsedToken::Replay => {
                // RFC 9700 §4.14.2: a rotated token came back, so one of two parties holds a
                // stolen copy. Revoke the whole family.
                store.revoke_grant(&record.grant_id, now).await?;
                audit
                    .record(grant_event(
                        client,
                        "token.refresh_reuse",
                        &record.grant_id,
                        &record.user_id,
                        now,
                    ))
                    .await;
                return Err(reused());
            }
        },
    };
    if record.expires_at <= now {
        return Err(invalid("the refresh token has expired"));
    }
    let user = live_user(store, &record.user_id)
        .await?
        .ok_or_else(|| invalid("the user no longer exists or is disabled"))?;
    let reuse_detected = || async {
        store.revoke_grant(&record.grant_id, now).await?;
        audit
            .record(grant_event(
                client,
                "token.refresh_reuse",
                &record.grant_id,
                &record.user_id,
                now,
            ))
            .await;
        Err::<TokenResponse, Error>(reused())
    };
    let (successor, rotated_at) = match retry_of {
        Some((used_at, current)) => {
            // A grace-period retry: hand out the same pair again, if its refresh token is
            // still the unused successor. Anything else means a second party holds this token.
            let derived = record
                .rotation_salt
                .as_ref()
                .map(|salt| (successor_token(&token, salt), successor_jti(&token, salt)));
            let live = match &derived {
                Some((s, _)) if s.hash() == current => store
                    .find_refresh(&current)
                    .await?
                    .filter(|r| r.used_at.is_none() && !r.revoked),
                _ => None,
            };
            let (Some((token, jti)), Some(record)) = (derived, live) else {
                return reuse_detected().await;
            };
            (Successor { record, token, jti }, used_at)
        }
        None => {
            let scope = match scope {
                Some(s) if !s.is_subset(&record.granted_scope) => {
                    return Err(OAuthError::invalid_scope(
                        "a refresh cannot widen the granted scope",
                    )
                    .into());
                }
                Some(s) if s.is_empty() => record.scope.clone(),
                Some(s) => s,
                None => record.scope.clone(),
            };
            // With a rotation salt the successor and its access token's `jti` are derived (so
            // a grace-period retry gets the same pair); without one they are random.
            let (successor, jti) = match &record.rotation_salt {
                Some(salt) => (successor_token(&token, salt), successor_jti(&token, salt)),
                None => (Secret::generate(), new_jti()),
            };
            // The successor is stored before the old token is marked, so that its hash can be
            // linked in the same atomic step; if that step loses, revoking the grant kills the
            // successor too.
            let successor_record = new_refresh(
                &successor,
                &life,
                client,
                &user.id,
                &record.grant_id,
                &scope,
                &record.granted_scope,
                record.auth_time,
                life.family_deadline(Some(&record), now),
                now,
            );
            store.insert_refresh(&successor_record).await?;
            let won = matches!(
                store.rotate_refresh(&hash, &successor.hash(), now).await?,
                Rotation::Rotated
            );
            if !won {
                // Lost a race with another use of the same token: reuse.
                return reuse_detected().await;
            }
            let rotated = Successor {
                record: successor_record,
                token: successor,
                jti,
            };
            (rotated, now)
        }
    };
    respond_to_refresh(
        store, signer, policy, client, &user, successor, rotated_at, now,
    )
    .await
}

/// The refresh token a rotation issued, with the `jti` of its access token.
struct Successor {
    record: RefreshRecord,
    token: Secret,
    jti: String,
}

/// The token response of a rotation that happened at `rotated_at`: the access token (and ID
/// token) are issued at that instant with the given `jti`, so a grace-period retry answered
/// later carries the same claims; `expires_in` counts from `now`.
#[allow(clippy::too_many_arguments)]
async fn respond_to_refresh<S: Storage + ClaimsRequestStore, K: TokenSigner>(
    store: &S,
    signer: &K,
    policy: &Policy,
    client: &Client,
    user: &User,
    Successor {
        record: successor,
        token: successor_token,
        jti,
    }: Successor,
    rotated_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Error> {
    let scope = &successor.scope;
    let (access_token, jti) = mint_access_token(
        signer,
        policy,
        client,
        user.id.as_str(),
        &user.tenant_id,
        scope,
        Some(successor.auth_time),
        Some(&successor.grant_id),
        jti,
        rotated_at,
    )?;
    let id_token = if scope.contains("openid") {
        let requested = store.find_claims_request(&successor.grant_id).await?;
        Some(mint_id_token(
            signer,
            policy,
            client,
            user,
            scope,
            requested.as_ref().map(|r| &r.id_token),
            None,
            successor.auth_time,
            &access_token,
            rotated_at,
        )?)
    } else {
        None
    };
    let ttl = access_ttl(policy, client);
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: (ttl - (now - rotated_at).num_seconds()).max(0),
        scope: scope.to_string(),
        refresh_token: Some(successor_token.expose().to_owned()),
        id_token,
        issued: Issued {
            grant_type: GrantType::RefreshToken.as_str(),
            client_id: client.id.to_string(),
            jti,
            sub: user.id.to_string(),
            tenant: user.tenant_id.to_string(),
            grant_id: Some(successor.grant_id.to_string()),
        },
    })
}

/// The record of a new refresh token of a family whose deadline is `family_expires_at`.
#[allow(clippy::too_many_arguments)]
fn new_refresh(
    token: &Secret,
    life: &RefreshLifetimes,
    client: &Client,
    user_id: &UserId,
    grant_id: &GrantId,
    scope: &ScopeSet,
    granted_scope: &ScopeSet,
    auth_time: DateTime<Utc>,
    family_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> RefreshRecord {
    RefreshRecord {
        token_hash: token.hash(),
        grant_id: grant_id.clone(),
        client_id: client.id.clone(),
        user_id: user_id.clone(),
        scope: scope.clone(),
        granted_scope: granted_scope.clone(),
        auth_time,
        issued_at: now,
        expires_at: life.token_expiry(now, family_expires_at),
        used_at: None,
        revoked: false,
        family_expires_at: Some(family_expires_at),
        replaced_by: None,
        rotation_salt: (life.grace > 0).then(RotationSalt::generate),
    }
}

pub(crate) fn access_ttl(policy: &Policy, client: &Client) -> i64 {
    client.access_token_ttl.unwrap_or(policy.access_token_ttl)
}

/// A new random `jti`: 128 bits, BASE64URL.
pub fn new_jti() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

/// Signs an access token; returns it and its `jti`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn mint_access_token<K: TokenSigner>(
    signer: &K,
    policy: &Policy,
    client: &Client,
    sub: &str,
    tenant: &TenantId,
    scope: &ScopeSet,
    auth_time: Option<DateTime<Utc>>,
    grant_id: Option<&GrantId>,
    jti: String,
    now: DateTime<Utc>,
) -> Result<(String, String), Error> {
    let claims = AccessTokenClaims {
        iss: policy.issuer.clone(),
        sub: sub.to_owned(),
        aud: policy.access_token_audience.clone(),
        client_id: client.id.to_string(),
        scope: scope.to_string(),
        jti: jti.clone(),
        iat: now.timestamp(),
        exp: now.timestamp() + access_ttl(policy, client),
        auth_time: auth_time.map(|t| t.timestamp()),
        gid: grant_id.map(|g| g.to_string()),
        tenant: Some(tenant.to_string()),
        api_key: None,
        api_key_name: None,
    };
    let token = signer
        .sign(client.access_token_alg, ACCESS_TOKEN_TYP, &claims)
        .map_err(Error::Signing)?;
    Ok((token, jti))
}

#[allow(clippy::too_many_arguments)]
fn mint_id_token<K: TokenSigner>(
    signer: &K,
    policy: &Policy,
    client: &Client,
    user: &User,
    scope: &ScopeSet,
    requested: Option<&std::collections::BTreeSet<String>>,
    nonce: Option<String>,
    auth_time: DateTime<Utc>,
    access_token: &str,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    let claims = IdTokenClaims {
        iss: policy.issuer.clone(),
        sub: user.id.to_string(),
        aud: client.id.to_string(),
        azp: client.id.to_string(),
        iat: now.timestamp(),
        exp: now.timestamp() + policy.id_token_ttl,
        auth_time: auth_time.timestamp(),
        nonce,
        at_hash: left_half_hash(access_token),
        // Scope claims, plus the claims asked for by name (OIDC Core §5.5).
        user_claims: user
            .claims_for_request(scope, requested.into_iter().flatten().map(String::as_str)),
    };
    signer
        .sign(client.id_token_alg, ID_TOKEN_TYP, &claims)
        .map_err(Error::Signing)
}

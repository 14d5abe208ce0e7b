//! `POST /oauth/register` (RFC 7591 §3) and the client configuration endpoint
//! `GET|PUT|DELETE /oauth/register/{client_id}` (RFC 7592 §2): translation only. The bearer
//! token is read with the one header parser; core `registration` decides the tenant (the
//! initial access token's, or `[registration] tenant` with open registration), turns the
//! metadata into the registration that `client create` also goes through, and checks the
//! registration access token; the body is capped at
//! [`gatehouse_core::registration::MAX_BODY_BYTES`] by the route's payload limit.
//! `dpop_bound_access_tokens` (RFC 9449 §5.2) is kept as the client's "DPoP required" option
//! (the `client_options` row `client create --dpop-required` writes) and read back from it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_admin::clients::{check_key_presence, check_keys};
use gatehouse_core::audit::{ActorKind, NewAuditEvent, Outcome};
use gatehouse_core::client::{AuthMethod, Client, NewClient};
use gatehouse_core::client_auth::{ClientKeyStore, KeySource};
use gatehouse_core::dpop::DpopClientStore;
use gatehouse_core::registration::{
    self, ClientMetadata, Registration, RegistrationError, RegistrationPolicy, RegistrationStore,
    Update,
};
use gatehouse_core::secret::Secret;
use gatehouse_core::tenant::{Tenant, TenantStore};
use gatehouse_core::{ClientId, Error, StoreError, TenantId};
use serde_json::{Value, json};

use crate::error::{RegistrationFailure, registration_reply};
use crate::extract::bearer_header;
use crate::request_meta::RequestMeta;
use crate::routes::write_audit;
use crate::state::AppState;

type Answer = Result<(StatusCode, Option<Value>), RegistrationFailure>;

/// The bearer token presented; a malformed `Authorization` header is an unusable token.
fn presented(req: &HttpRequest) -> Result<Option<String>, RegistrationError> {
    bearer_header(req).map_err(|e| RegistrationError::InvalidToken(e.description.into_owned()))
}

fn policy(state: &AppState) -> Result<RegistrationPolicy, RegistrationFailure> {
    // Checked when the settings were loaded; a failure here is the server's.
    state.settings.registration.policy().map_err(|e| {
        RegistrationFailure::Internal(Error::Store(StoreError::corrupt("[registration]", e)))
    })
}

fn client_uri(state: &AppState, id: &ClientId) -> String {
    format!("{}/oauth/register/{}", state.policy.issuer, id.as_str())
}

/// The tenant of a registration: enabled, or the token is as good as unknown.
async fn enabled_tenant(state: &AppState, id: &TenantId) -> Result<Tenant, RegistrationFailure> {
    match state.store.find_tenant(id).await? {
        Some(t) if !t.disabled => Ok(t),
        _ => Err(RegistrationError::InvalidToken("the tenant is not available".into()).into()),
    }
}

fn event(
    at: chrono::DateTime<chrono::Utc>,
    c: &Client,
    action: &str,
    details: Value,
) -> NewAuditEvent {
    NewAuditEvent::protocol(
        at,
        Some(c.tenant_id.as_str().to_owned()),
        ActorKind::Anonymous,
        None,
        action,
        Some(c.id.as_str().to_owned()),
        Outcome::Success,
        details,
    )
}

#[tracing::instrument(skip_all)]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    registration_reply(create(&state, &req, &meta, &body).await)
}

async fn create(state: &AppState, req: &HttpRequest, meta: &RequestMeta, body: &[u8]) -> Answer {
    let now = state.now();
    let token = presented(req)?;
    let open_tenant = if state.settings.registration.open {
        state
            .store
            .tenant_by_id_or_name(&state.settings.registration.tenant)
            .await?
    } else {
        None
    };
    let (tenant_id, token_hash) =
        registration::registering_tenant(&state.store, token.as_deref(), open_tenant.as_ref(), now)
            .await?;
    let tenant = enabled_tenant(state, &tenant_id).await?;
    let policy = policy(state)?;
    let metadata = ClientMetadata::from_json(body)?;
    let Registration {
        client: reg,
        keys,
        dpop_bound,
    } = registration::registration(metadata, &tenant, &policy)?;
    check_keys(keys.as_ref()).map_err(RegistrationError::from_field)?;
    let NewClient { client, secret } =
        NewClient::validate(reg, now).map_err(RegistrationError::from_field)?;
    check_key_presence(&client, keys.as_ref()).map_err(RegistrationError::from_field)?;
    registration::check_grants(&client, &policy)?;
    // The use is counted only now, when the registration is known to be acceptable, by one
    // conditional update: concurrent registrations cannot exceed max_uses.
    if let Some(h) = &token_hash
        && !state.store.use_initial_token(h, now).await?
    {
        return Err(RegistrationError::InvalidToken(
            "the initial access token is unknown, expired or used up".into(),
        )
        .into());
    }
    let access_token = Secret::generate();
    state
        .store
        .insert_registered_client(&client, keys.as_ref(), &access_token.hash(), dpop_bound)
        .await?;
    let details = json!({
        "name": client.name,
        "auth_method": client.auth_method.as_str(),
        "initial_access_token": token_hash.is_some(),
        "dpop_bound_access_tokens": dpop_bound,
    });
    write_audit(
        state,
        meta,
        vec![event(now, &client, "client.register", details)],
    )
    .await;
    let mut out = registration::client_metadata(&client, keys.as_ref(), dpop_bound);
    if let Some(s) = &secret {
        out["client_secret"] = json!(s.expose());
        out["client_secret_expires_at"] = json!(0);
    }
    out["registration_access_token"] = json!(access_token.expose());
    out["registration_client_uri"] = json!(client_uri(state, &client.id));
    Ok((StatusCode::CREATED, Some(out)))
}

/// The client a management request may act on, or `invalid_token` (also for a client that
/// does not exist: RFC 7592 §2).
async fn managed(
    state: &AppState,
    req: &HttpRequest,
    client_id: &str,
) -> Result<(Client, Tenant), RegistrationFailure> {
    let token = presented(req)?;
    let id = registration::management_client(&state.store, client_id, token.as_deref()).await?;
    let Some(c) = state.store.get_client_by_id(id.as_str()).await? else {
        return Err(RegistrationError::InvalidToken(
            "the registration access token is not valid".into(),
        )
        .into());
    };
    // A disabled tenant's clients are managed by its operators only.
    let tenant = enabled_tenant(state, &c.tenant_id).await?;
    Ok((c, tenant))
}

async fn public_keys(state: &AppState, c: &Client) -> Result<Option<KeySource>, StoreError> {
    if c.auth_method != AuthMethod::PrivateKeyJwt {
        return Ok(None);
    }
    state.store.client_key_source(&c.id).await
}

fn configuration(
    state: &AppState,
    c: &Client,
    keys: Option<&KeySource>,
    dpop_bound: bool,
) -> Value {
    let mut out = registration::client_metadata(c, keys, dpop_bound);
    out["registration_client_uri"] = json!(client_uri(state, &c.id));
    out
}

#[tracing::instrument(skip_all)]
pub async fn read(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let answer: Answer = async {
        let (c, _) = managed(&state, &req, &path).await?;
        let keys = public_keys(&state, &c).await?;
        let dpop_bound = state.store.dpop_required(&c.id).await?;
        Ok((
            StatusCode::OK,
            Some(configuration(&state, &c, keys.as_ref(), dpop_bound)),
        ))
    }
    .await;
    registration_reply(answer)
}

#[tracing::instrument(skip_all)]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let answer: Answer = async {
        let (c, tenant) = managed(&state, &req, &path).await?;
        let policy = policy(&state)?;
        let metadata = ClientMetadata::from_json(&body)?;
        let Update {
            changes,
            keys,
            dpop_bound,
        } = registration::changes(&c, metadata, &policy, &tenant)?;
        check_keys(keys.as_ref()).map_err(RegistrationError::from_field)?;
        let updated = c.updated(changes).map_err(RegistrationError::from_field)?;
        check_key_presence(&updated, keys.as_ref()).map_err(RegistrationError::from_field)?;
        registration::check_grants(&updated, &policy)?;
        state.store.update_client(&updated).await?;
        state
            .store
            .set_dpop_required(&updated.id, dpop_bound)
            .await?;
        if updated.auth_method == AuthMethod::PrivateKeyJwt {
            state
                .store
                .set_client_public_keys(&updated.id, keys.as_ref())
                .await?;
        }
        let now = state.now();
        let details = json!({ "name": updated.name, "dpop_bound_access_tokens": dpop_bound });
        write_audit(
            &state,
            &meta,
            vec![event(now, &updated, "client.register_update", details)],
        )
        .await;
        Ok((
            StatusCode::OK,
            Some(configuration(&state, &updated, keys.as_ref(), dpop_bound)),
        ))
    }
    .await;
    registration_reply(answer)
}

#[tracing::instrument(skip_all)]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
    path: web::Path<String>,
) -> HttpResponse {
    let answer: Answer = async {
        let (c, _) = managed(&state, &req, &path).await?;
        state.store.delete_client(c.id.as_str()).await?;
        let now = state.now();
        write_audit(
            &state,
            &meta,
            vec![event(now, &c, "client.register_delete", json!({}))],
        )
        .await;
        Ok((StatusCode::NO_CONTENT, None))
    }
    .await;
    registration_reply(answer)
}

/// The `registration_endpoint` of the metadata (RFC 8414 §2).
pub fn endpoint(issuer: &str) -> String {
    format!("{issuer}/oauth/register")
}

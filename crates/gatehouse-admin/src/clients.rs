//! OAuth clients (RFC 6749 §2): register (with `private_key_jwt` keys, RFC 7523, or a
//! `client_secret_jwt` secret sealed under the master key), list, read, update (checked by the
//! rules of a registration), delete, rotate the secret. A secret is shown only in the answer that creates it. A client's allowed scopes
//! reach its `client_credentials` tokens, so admin scopes among them are handed on only by
//! callers who hold them.

use gatehouse_core::TenantId;
use gatehouse_core::admin::{Access, Grantee, Operation, Resource};
use gatehouse_core::client::{AuthMethod, Client, ClientChanges, ClientRegistration, NewClient};
use gatehouse_core::client_auth::{KeySource, SealedSecret};
use gatehouse_core::field::{Field, FieldError};
use gatehouse_core::resource::ResourceStore;
use gatehouse_core::secret::Secret;
use gatehouse_core::{ScopeSet, client};
use gatehouse_jose::MasterKey;
use gatehouse_jose::client_assertion::{hmac_secret_label, parse_public_jwks};
use gatehouse_jose::jwks_uri::check_jwks_uri;
use gatehouse_store::resources::ClientOptions;
use serde_json::json;

use crate::actor::{Context, Precondition};
use crate::error::{Object, OpError};
use crate::signing_keys::{MASTER_KEY_ENV, check_master_key};
use crate::views::{ClientView, CreatedClient, RotatedClientSecret, ShownOnce};

/// A client to register in `registration.tenant_id`, with the public keys of a
/// `private_key_jwt` client (exactly one source for those; none for the others).
pub struct NewClientRequest {
    pub registration: ClientRegistration,
    pub keys: Option<KeySource>,
}

/// Checks the supplied keys: a parseable public JWKS, or an acceptable `jwks_uri`.
pub fn check_keys(keys: Option<&KeySource>) -> Result<(), FieldError> {
    match keys {
        Some(KeySource::Jwks(v)) => {
            parse_public_jwks(v).map_err(|e| FieldError::new(Field::Jwks, e))?;
        }
        Some(KeySource::Uri(u)) => {
            check_jwks_uri(u).map_err(|e| FieldError::new(Field::JwksUri, e.to_string()))?;
        }
        Some(KeySource::SealedSecret(_)) => {
            return Err(FieldError::new(
                Field::Jwks,
                "a sealed secret is generated, not supplied",
            ));
        }
        None => {}
    }
    Ok(())
}

/// A `private_key_jwt` client needs its public keys; other clients take none.
pub fn check_key_presence(client: &Client, keys: Option<&KeySource>) -> Result<(), FieldError> {
    match (
        client.auth_method == AuthMethod::PrivateKeyJwt,
        keys.is_some(),
    ) {
        (true, false) => Err(FieldError::new(
            Field::Jwks,
            "the private_key_jwt auth method needs the client's public keys (a JWKS document or a jwks_uri)",
        )),
        (false, true) => Err(FieldError::new(
            Field::Jwks,
            "public keys are used only by the private_key_jwt auth method",
        )),
        _ => Ok(()),
    }
}

/// The scopes the registration asks for, as they will be granted, for the policy's
/// "grant only what you hold" (a syntax error is left to the validation, which names it).
fn asked_scopes(reg: &ClientRegistration) -> ScopeSet {
    ScopeSet::parse(
        reg.scope
            .as_deref()
            .unwrap_or(client::DEFAULT_CLIENT_SCOPES),
    )
    .unwrap_or_default()
}

/// Registers a client; the answer holds its secret, shown this once.
pub async fn create(
    ctx: &Context<'_>,
    req: NewClientRequest,
    master: Option<&MasterKey>,
) -> Result<CreatedClient, OpError> {
    create_with_options(ctx, req, master, NewClientOptions::default()).await
}

/// Protocol options of a new client: the resources it is restricted to (RFC 8707; none: any
/// of its tenant's) and whether it must push authorization requests (RFC 9126 §6).
#[derive(Debug, Clone, Default)]
pub struct NewClientOptions {
    pub resources: Vec<String>,
    pub require_par: bool,
    /// Requests the client authenticates (token, PAR, introspection, revocation) must carry a
    /// DPoP proof (RFC 9449).
    pub dpop_required: bool,
}

/// Each resource must be registered in `tenant` already.
async fn check_options(
    ctx: &Context<'_>,
    tenant: &TenantId,
    new: NewClientOptions,
) -> Result<ClientOptions, OpError> {
    let mut resources = Vec::new();
    for raw in &new.resources {
        let r = crate::resources::parse_identifier(Field::Resources, raw)?;
        let found = ctx.store.find_resource(tenant, &r).await;
        if found
            .map_err(|e| OpError::Storage(e.to_string()))?
            .is_none()
        {
            let why = format!("{r} is not a registered resource of tenant {tenant}");
            return Err(FieldError::new(Field::Resources, why).into());
        }
        if !resources.contains(&r) {
            resources.push(r);
        }
    }
    Ok(ClientOptions {
        resources,
        require_par: new.require_par,
        dpop_required: new.dpop_required,
    })
}

/// [`create`] with protocol options, written in the same transaction as the client.
pub async fn create_with_options(
    ctx: &Context<'_>,
    req: NewClientRequest,
    master: Option<&MasterKey>,
    options: NewClientOptions,
) -> Result<CreatedClient, OpError> {
    let NewClientRequest {
        registration: reg,
        keys,
    } = req;
    let tenant = reg.tenant_id.clone();
    ctx.require(Resource::Clients, Access::Write)?;
    ctx.authorize_in(Operation::Write(Resource::Clients, &tenant), &tenant)?;
    ctx.authorize_global(Operation::Grant(Grantee::Client, &asked_scopes(&reg)))?;
    check_keys(keys.as_ref())?;
    // HS256 needs the secret itself, so a client_secret_jwt secret is kept sealed under the
    // master key; without one it could only be stored in plaintext, which we refuse.
    let secret_jwt = reg.auth_method.as_deref() == Some(AuthMethod::ClientSecretJwt.as_str());
    let master = match (secret_jwt, master) {
        (true, None) => {
            return Err(FieldError::new(
                Field::AuthMethod,
                format!(
                    "client_secret_jwt needs a master key ({MASTER_KEY_ENV} or keys.master_key_file) to keep the secret sealed; or use private_key_jwt"
                ),
            )
            .into());
        }
        (true, Some(m)) => {
            check_master_key(ctx.store, Some(m))
                .await
                .map_err(|e| OpError::Refused(e.to_string()))?;
            Some(m)
        }
        (false, _) => None,
    };
    ctx.existing_tenant(&tenant).await?;
    let options = check_options(ctx, &tenant, options).await?;
    let NewClient { client, secret } = NewClient::validate(reg, ctx.now)?;
    check_may_act(ctx, &client).await?;
    check_key_presence(&client, keys.as_ref())?;
    let keys = match (master, &secret) {
        (Some(m), Some(plain)) => Some(KeySource::SealedSecret(SealedSecret {
            client_id: client.id.clone(),
            envelope: m
                .seal(
                    &hmac_secret_label(client.id.as_str()),
                    plain.expose().as_bytes(),
                )
                .map_err(|e| OpError::Storage(format!("sealing the client secret: {e}")))?,
        })),
        _ => keys,
    };
    ctx.store
        .insert_client_with_options(&client, keys.as_ref(), &options)
        .await?;
    let jwks_uri = match keys {
        Some(KeySource::Uri(u)) => Some(u),
        _ => None,
    };
    ctx.audit(
        Some(client.tenant_id.as_str()),
        "client.create",
        client.id.as_str(),
        json!({ "name": client.name }),
    )
    .await?;
    Ok(CreatedClient {
        client: ClientView::from(&client),
        jwks_uri,
        client_secret: secret.as_ref().map(|s| ShownOnce::new(s.expose())),
    })
}

/// The client a client names in `may_act` (RFC 8693 §4.4) must be a client of its tenant: a
/// client of another tenant could never exchange its tokens anyway, and naming it would leak
/// nothing but mislead.
async fn check_may_act(ctx: &Context<'_>, client: &Client) -> Result<(), OpError> {
    let Some(actor) = &client.may_act else {
        return Ok(());
    };
    let found = ctx.store.get_client_by_id(actor.as_str()).await?;
    if found.is_none_or(|a| a.tenant_id != client.tenant_id) {
        let why = format!("no client {actor} in tenant {}", client.tenant_id);
        return Err(FieldError::new(Field::MayAct, why).into());
    }
    Ok(())
}

/// Up to `limit` clients of `tenant` with an id greater than `after`, by id.
pub async fn page(
    ctx: &Context<'_>,
    tenant: &TenantId,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<ClientView>, OpError> {
    ctx.require(Resource::Clients, Access::Read)?;
    ctx.authorize_in(Operation::Read(Resource::Clients, tenant), tenant)?;
    let clients = ctx.store.list_clients_page(tenant, after, limit).await?;
    Ok(clients.iter().map(ClientView::from).collect())
}

/// Every client of `tenant`, by name.
pub async fn list_by_name(
    ctx: &Context<'_>,
    tenant: &TenantId,
) -> Result<Vec<ClientView>, OpError> {
    ctx.require(Resource::Clients, Access::Read)?;
    ctx.authorize_in(Operation::Read(Resource::Clients, tenant), tenant)?;
    let clients = ctx.store.console_clients(tenant).await?;
    Ok(clients.iter().map(ClientView::from).collect())
}

/// The client `id`, after the policy allowed `access` to clients of its tenant.
async fn visible(ctx: &Context<'_>, id: &str, access: Access) -> Result<Client, OpError> {
    ctx.require(Resource::Clients, access)?;
    let c = ctx
        .store
        .get_client_by_id(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let op = match access {
        Access::Read => Operation::Read(Resource::Clients, &c.tenant_id),
        Access::Write => Operation::Write(Resource::Clients, &c.tenant_id),
    };
    ctx.authorize(op, Object::Client, id)?;
    Ok(c)
}

fn not_found(id: &str) -> OpError {
    OpError::NotFound {
        what: Object::Client,
        id: id.to_owned(),
    }
}

/// One client (never its secret).
pub async fn get(ctx: &Context<'_>, id: &str) -> Result<ClientView, OpError> {
    visible(ctx, id, Access::Read)
        .await
        .map(|c| ClientView::from(&c))
}

/// Changes a client's registration; every change is checked as a registration would be, and
/// scopes handed to the client are granted only by callers who hold them. Takes effect at
/// once (clients are not cached).
pub async fn update(
    ctx: &Context<'_>,
    id: &str,
    changes: ClientChanges,
    precondition: Precondition<'_, ClientView>,
) -> Result<ClientView, OpError> {
    let c = visible(ctx, id, Access::Write).await?;
    if let Some(scope) = changes.scope.as_deref() {
        let asked = ScopeSet::parse(scope).unwrap_or_default();
        ctx.authorize_global(Operation::Grant(Grantee::Client, &asked))?;
    }
    if precondition.is_some_and(|p| !p(&ClientView::from(&c))) {
        return Err(OpError::Stale);
    }
    if changes.is_empty() {
        // Nothing to write, nothing to audit.
        return Ok(ClientView::from(&c));
    }
    let changed = changed_fields(&changes);
    let updated = c.updated(changes)?;
    check_may_act(ctx, &updated).await?;
    if !ctx.store.update_client(&updated).await? {
        return Err(not_found(id));
    }
    ctx.audit(
        Some(c.tenant_id.as_str()),
        "client.update",
        c.id.as_str(),
        json!({ "name": updated.name, "changed": changed }),
    )
    .await?;
    Ok(ClientView::from(&updated))
}

/// The names of the fields a change sets, for the audit trail.
fn changed_fields(c: &ClientChanges) -> Vec<&'static str> {
    [
        ("name", c.name.is_some()),
        ("grant_types", c.grant_types.is_some()),
        ("redirect_uris", c.redirect_uris.is_some()),
        (
            "post_logout_redirect_uris",
            c.post_logout_redirect_uris.is_some(),
        ),
        ("scope", c.scope.is_some()),
        ("id_token_alg", c.id_token_alg.is_some()),
        ("access_token_ttl", c.access_token_ttl.is_some()),
        ("pkce_optional", c.pkce_optional.is_some()),
        ("refresh_grace_seconds", c.refresh_grace_seconds.is_some()),
        ("refresh_idle_ttl", c.refresh_idle_ttl.is_some()),
        ("refresh_absolute_ttl", c.refresh_absolute_ttl.is_some()),
        ("may_act", c.may_act.is_some()),
    ]
    .into_iter()
    .filter_map(|(n, set)| set.then_some(n))
    .collect()
}

/// Deletes a client with its grants.
pub async fn delete(
    ctx: &Context<'_>,
    id: &str,
    precondition: Precondition<'_, ClientView>,
) -> Result<(), OpError> {
    let c = visible(ctx, id, Access::Write).await?;
    if precondition.is_some_and(|p| !p(&ClientView::from(&c))) {
        return Err(OpError::Stale);
    }
    if !ctx.store.delete_client(id).await? {
        return Err(not_found(id));
    }
    ctx.audit(
        Some(c.tenant_id.as_str()),
        "client.delete",
        c.id.as_str(),
        json!({ "name": c.name }),
    )
    .await
}

/// Replaces a confidential client's secret; the old one stops working at once. The answer
/// holds the new secret, shown this once.
///
/// A `client_secret_jwt` client's secret is also the HS256 key of its assertions: the new one
/// is sealed under `master` and stored with the new hash in one write, so the new secret signs
/// from now on and the old one no longer does.
pub async fn rotate_secret(
    ctx: &Context<'_>,
    id: &str,
    precondition: Precondition<'_, ClientView>,
    master: Option<&MasterKey>,
) -> Result<RotatedClientSecret, OpError> {
    let c = visible(ctx, id, Access::Write).await?;
    if precondition.is_some_and(|p| !p(&ClientView::from(&c))) {
        return Err(OpError::Stale);
    }
    if c.secret_hash.is_none() {
        return Err(OpError::Conflict(
            "this client has no secret (public or private_key_jwt client)".into(),
        ));
    }
    let secret = Secret::generate();
    let sealed = if c.auth_method == AuthMethod::ClientSecretJwt {
        let Some(m) = master else {
            return Err(OpError::Refused(format!(
                "rotating a client_secret_jwt secret needs the master key ({MASTER_KEY_ENV} or keys.master_key_file)"
            )));
        };
        check_master_key(ctx.store, Some(m))
            .await
            .map_err(|e| OpError::Refused(e.to_string()))?;
        let envelope = m
            .seal(
                &hmac_secret_label(c.id.as_str()),
                secret.expose().as_bytes(),
            )
            .map_err(|e| OpError::Storage(format!("sealing the client secret: {e}")))?;
        Some(envelope)
    } else {
        None
    };
    if !ctx
        .store
        .set_client_secret(id, &secret.hash(), sealed.as_deref())
        .await?
    {
        return Err(not_found(id));
    }
    ctx.audit(
        Some(c.tenant_id.as_str()),
        "client.secret_rotate",
        c.id.as_str(),
        json!({}),
    )
    .await?;
    let c = visible(ctx, id, Access::Read).await?;
    Ok(RotatedClientSecret {
        client: ClientView::from(&c),
        client_secret: ShownOnce::new(secret.expose()),
    })
}

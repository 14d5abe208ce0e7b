//! Operator actions on tenants, API keys and the audit trail (issue 4), shared by the CLI and,
//! later, the admin API. Each validates before it writes, and records an audit event after a
//! successful change. Secrets appear only in the creation result, never in the audit trail.

use chrono::{DateTime, Utc};
use gatehouse_core::TenantId;
use gatehouse_core::apikey::{ApiKey, ApiKeyRequest, CreateRefused};
use gatehouse_core::audit::{ActorKind, NewAuditEvent};
use gatehouse_core::tenant::{Tenant, TenantRegistration, validate_tenant_name};
use gatehouse_store::{CreateApiKeyError, Store};
use serde_json::{Value, json};

use crate::admin::AdminError;
use crate::settings::ApiKeySettings;

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Who performs an admin action, as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    /// A user or client id, the API key's name, or the operator's login name.
    pub name: Option<String>,
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    /// The operator at the CLI, named by their login name.
    pub fn operator() -> Self {
        let name = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "cli".to_owned());
        Self {
            kind: ActorKind::Operator,
            name: Some(name),
            source_ip: None,
            request_id: None,
        }
    }
}

/// Appends a successful admin action by `actor` to the audit trail.
pub async fn audit_action(
    store: &Store,
    actor: &Actor,
    now: DateTime<Utc>,
    tenant: Option<&str>,
    action: &str,
    target: &str,
    details: Value,
) -> Result<(), AdminError> {
    let mut e = NewAuditEvent::operator(now, tenant, action, target, details);
    e.actor_kind = actor.kind;
    e.actor = actor.name.clone();
    e.source_ip = actor.source_ip.clone();
    e.request_id = actor.request_id.clone();
    store.audit().append(&e).await?;
    Ok(())
}

/// A tenant as the CLI and the admin API show it.
pub fn tenant_json(t: &Tenant) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "created_at": time(t.created_at),
        "disabled": t.disabled,
        "api_access": if t.api_access_enabled { "enabled" } else { "disabled" },
        "api_access_enabled": t.api_access_enabled,
        "max_api_keys": t.max_api_keys,
        "allowed_scopes": t.allowed_scopes.as_ref().map(ToString::to_string),
    })
}

fn parse_tenant_id(id: &str, flag: &str) -> Result<TenantId, AdminError> {
    TenantId::parse(id).map_err(|e| AdminError::Invalid(format!("{flag}: {e}")))
}

/// `tenant create`.
pub async fn create_tenant(
    store: &Store,
    actor: &Actor,
    reg: TenantRegistration,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    let t = reg.validate(now).map_err(AdminError::Invalid)?;
    store.insert_tenant(&t).await?;
    let out = tenant_json(&t);
    audit_action(
        store,
        actor,
        now,
        Some(t.id.as_str()),
        "tenant.create",
        t.id.as_str(),
        out.clone(),
    )
    .await?;
    Ok(out)
}

/// `tenant list`.
pub async fn list_tenants(store: &Store) -> Result<Value, AdminError> {
    let ts = store.list_tenants().await?;
    Ok(json!({ "tenants": ts.iter().map(tenant_json).collect::<Vec<_>>() }))
}

fn not_found(e: gatehouse_store::Error, id: &str) -> AdminError {
    match e {
        gatehouse_store::Error::NotFound(_) => {
            AdminError::Invalid(format!("ID: no tenant with id {id:?}"))
        }
        e => e.into(),
    }
}

/// `tenant rename ID --name N`.
pub async fn rename_tenant(
    store: &Store,
    actor: &Actor,
    id: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    let tid = parse_tenant_id(id, "ID")?;
    validate_tenant_name(name).map_err(AdminError::Invalid)?;
    let t = store
        .rename_tenant(&tid, name)
        .await
        .map_err(|e| not_found(e, id))?;
    audit_action(
        store,
        actor,
        now,
        Some(id),
        "tenant.rename",
        id,
        json!({ "name": name }),
    )
    .await?;
    Ok(tenant_json(&t))
}

/// `tenant disable ID` / `tenant enable ID`.
pub async fn set_tenant_disabled(
    store: &Store,
    actor: &Actor,
    id: &str,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    let tid = parse_tenant_id(id, "ID")?;
    let t = store
        .set_tenant_disabled(&tid, disabled)
        .await
        .map_err(|e| not_found(e, id))?;
    let action = if disabled {
        "tenant.disable"
    } else {
        "tenant.enable"
    };
    audit_action(store, actor, now, Some(id), action, id, json!({})).await?;
    Ok(tenant_json(&t))
}

/// `tenant api-access ID enabled|disabled`.
pub async fn set_tenant_api_access(
    store: &Store,
    actor: &Actor,
    id: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    let tid = parse_tenant_id(id, "ID")?;
    let enabled = gatehouse_core::tenant::parse_api_access(value)
        .map_err(|e| AdminError::Invalid(e.replace("--api-access", "API_ACCESS")))?;
    let t = store
        .set_tenant_api_access(&tid, enabled)
        .await
        .map_err(|e| not_found(e, id))?;
    audit_action(
        store,
        actor,
        now,
        Some(id),
        "tenant.api_access",
        id,
        json!({ "api_access_enabled": enabled }),
    )
    .await?;
    Ok(tenant_json(&t))
}

/// A key as listed: never the secret, nor its hash.
pub fn api_key_json(k: &ApiKey, now: DateTime<Utc>, warning_days: i64) -> Value {
    json!({
        "id": k.id,
        "tenant": k.tenant_id,
        "name": k.name,
        "prefix": k.prefix,
        "masked": k.masked(),
        "scopes": k.scopes.iter().collect::<Vec<_>>(),
        "environment": k.environment.as_str(),
        "allowed_ips": k.allowed_ips.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "rate_limit_class": k.rate_limit_class,
        "created_at": time(k.created_at),
        "expires_at": time(k.expires_at),
        "expires": k.expiry_text(now),
        "days_left": k.days_left(now),
        "expired": k.is_expired(now),
        "expiry_warning": k.expiry_warning(now, warning_days),
        "last_used_at": k.last_used_at.map(time),
        "last_used_ip": k.last_used_ip,
        "revoked": k.is_revoked(),
        "revoked_at": k.revoked_at.map(time),
    })
}

/// `apikey create`: the JSON holds the secret, shown this once.
pub async fn create_api_key(
    store: &Store,
    actor: &Actor,
    settings: &ApiKeySettings,
    tenant: &str,
    req: ApiKeyRequest,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    let prefixes = settings.prefixes().map_err(AdminError::Invalid)?;
    let tid = parse_tenant_id(tenant, "--tenant")?;
    if let Some(class) = &req.rate_limit_class
        && !settings.rate_limit_classes.contains_key(class)
    {
        let known: Vec<&str> = settings
            .rate_limit_classes
            .keys()
            .map(String::as_str)
            .collect();
        return Err(AdminError::Invalid(format!(
            "--rate-limit-class: no class {class:?} is configured (configured: {})",
            known.join(", ")
        )));
    }
    let new = store
        .create_api_key(&tid, req, &prefixes, now)
        .await
        .map_err(|e| match e {
            CreateApiKeyError::Refused(r @ CreateRefused::LimitReached { .. }) => {
                AdminError::LimitReached(r.to_string())
            }
            CreateApiKeyError::Refused(r) => AdminError::Invalid(r.to_string()),
            CreateApiKeyError::Store(gatehouse_store::Error::NotFound(_)) => {
                AdminError::Invalid(format!("--tenant: no tenant with id {tenant:?}"))
            }
            CreateApiKeyError::Store(e) => e.into(),
        })?;
    let k = &new.key;
    let mut out = api_key_json(k, now, settings.expiry_warning_days);
    audit_action(
        store,
        actor,
        now,
        Some(tenant),
        "api_key.create",
        &k.id,
        json!({
            "name": k.name,
            "prefix": k.prefix,
            "scopes": out["scopes"],
            "environment": k.environment.as_str(),
            "expires_at": out["expires_at"],
        }),
    )
    .await?;
    out["secret"] = Value::from(new.secret.expose());
    Ok(out)
}

/// `apikey list --tenant ID`.
pub async fn list_api_keys(
    store: &Store,
    settings: &ApiKeySettings,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    let tid = parse_tenant_id(tenant, "--tenant")?;
    let Some(t) = store.get_tenant(&tid).await? else {
        return Err(AdminError::Invalid(format!(
            "--tenant: no tenant with id {tenant:?}"
        )));
    };
    let keys = store.list_api_keys(&tid).await?;
    let active = keys.iter().filter(|k| k.is_active(now)).count();
    Ok(json!({
        "tenant": tid,
        "api_access_enabled": t.api_access_enabled,
        "max_api_keys": t.max_api_keys,
        "active_api_keys": active,
        "api_keys": keys
            .iter()
            .map(|k| api_key_json(k, now, settings.expiry_warning_days))
            .collect::<Vec<_>>(),
    }))
}

/// `apikey revoke ID`.
pub async fn revoke_api_key(
    store: &Store,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Value, AdminError> {
    let k = store.revoke_api_key(id, now).await.map_err(|e| match e {
        gatehouse_store::Error::NotFound(_) => {
            AdminError::Invalid(format!("ID: no API key with id {id:?}"))
        }
        e => e.into(),
    })?;
    audit_action(
        store,
        actor,
        now,
        Some(k.tenant_id.as_str()),
        "api_key.revoke",
        &k.id,
        json!({ "name": k.name, "prefix": k.prefix }),
    )
    .await?;
    Ok(json!({
        "id": k.id,
        "revoked": true,
        "revoked_at": k.revoked_at.map(time),
    }))
}

/// `audit list --after N --limit L`: `{"events": [...], "next_after": N}`, where `next_after`
/// is the cursor for the next call (the last id returned, or `after` when none).
pub async fn list_audit(store: &Store, after: i64, limit: u64) -> Result<Value, AdminError> {
    if after < 0 {
        return Err(AdminError::Invalid("--after: must be 0 or more".into()));
    }
    if !(1..=gatehouse_store::audit::MAX_AUDIT_PAGE).contains(&limit) {
        return Err(AdminError::Invalid(format!(
            "--limit: must be between 1 and {}",
            gatehouse_store::audit::MAX_AUDIT_PAGE
        )));
    }
    let events = store.audit().list_after(after, limit, None).await?;
    let next_after = events.last().map_or(after, |e| e.id);
    Ok(json!({ "events": events, "next_after": next_after }))
}

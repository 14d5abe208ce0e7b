//! Authenticating a presented API key (issue 4): format and checksum first (no lookup), then
//! the stored key by its SHA-256, its tenant's state, expiry and revocation at the injected
//! `now`, and the IP allowlist. Used by the admin API (`Authorization: Bearer`, RFC 6750 §2.1),
//! introspection (RFC 7662) and token exchange (RFC 8693). Denials are written to the audit
//! trail; a success records `last_used_at` / `last_used_ip`.

#![allow(async_fn_in_trait)]

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::apikey::{ApiKey, Environment, parse_api_key};
use crate::audit::{ActorKind, NewAuditEvent, Outcome};
use crate::error::StoreError;
use crate::secret::SecretHash;
use crate::tenant::Tenant;
use crate::values::{ScopeSet, TenantId};

/// What authentication needs from storage.
pub trait ApiKeyAuthStore {
    /// The key with this secret hash and its tenant.
    async fn find_api_key_by_hash(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<(ApiKey, Tenant)>, StoreError>;
    /// Records a successful use. Implementations may skip the write when the stored
    /// `last_used_at` is recent (cheap updates under load).
    async fn record_api_key_use(
        &self,
        key_id: &str,
        now: DateTime<Utc>,
        ip: Option<IpAddr>,
    ) -> Result<(), StoreError>;
    /// Appends an audit event.
    async fn append_audit(&self, event: NewAuditEvent) -> Result<i64, StoreError>;
}

/// An authenticated API key: who is calling, with what rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyPrincipal {
    pub key_id: String,
    pub name: String,
    pub tenant_id: TenantId,
    pub scopes: ScopeSet,
    pub environment: Environment,
    pub expires_at: DateTime<Utc>,
    pub rate_limit_class: Option<String>,
}

/// Why a presented key was refused. Callers answer all of them alike on the wire
/// (`invalid_token`, or `active: false` at introspection) and must not tell them apart to the
/// presenter; the reason is for the audit trail and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyDenied {
    #[error("malformed API key")]
    Malformed,
    #[error("unknown API key")]
    Unknown,
    #[error("API key expired")]
    Expired,
    #[error("API key revoked")]
    Revoked,
    #[error("client IP not allowed for this API key")]
    IpNotAllowed,
    #[error("tenant disabled")]
    TenantDisabled,
    #[error("API access disabled for the tenant")]
    ApiAccessDisabled,
    /// Storage failed: answer as a server error, not as a bad key.
    #[error("storage error")]
    Store,
}

impl ApiKeyDenied {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::TenantDisabled => "tenant_disabled",
            Self::ApiAccessDisabled => "api_access_disabled",
            Self::Store => "store_error",
        }
    }
}

/// Reading a key by its id (to check that a token exchanged from it is still backed by a
/// live key, RFC 8693 tokens at introspection).
pub trait ApiKeyLookup {
    async fn find_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError>;
}

/// How the IP allowlist is checked for one use of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpCheck {
    /// The key holder's address is known (the request's source, after trusted proxies):
    /// check it. `None` (no address known) passes only keys without an allowlist.
    Address(Option<IpAddr>),
    /// The caller is a resource server asking on the holder's behalf without naming the
    /// holder's address (introspection without `client_ip`): the allowlist is left to the
    /// resource server, which receives it in the answer.
    Deferred,
}

/// The circumstances of one use of a key.
#[derive(Debug, Clone, Copy)]
pub struct KeyUse<'a> {
    pub ip: IpCheck,
    /// Only keys of this tenant are accepted (a client of another tenant sees no key).
    pub tenant: Option<&'a TenantId>,
    /// The request id, for the audit trail.
    pub request_id: Option<&'a str>,
    /// Where the key was used (`admin_api`, `introspection`, `token_exchange`), audited.
    pub via: &'a str,
}

/// Authenticates `presented` from `client_ip` at `now`. Malformed keys are refused before any
/// lookup and are not audited (they cost nothing and name nobody); every other denial is
/// audited with the key's name as actor.
pub async fn authenticate_api_key<S: ApiKeyAuthStore>(
    store: &S,
    presented: &str,
    client_ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<ApiKeyPrincipal, ApiKeyDenied> {
    let using = KeyUse {
        ip: IpCheck::Address(client_ip),
        tenant: None,
        request_id: None,
        via: "admin_api",
    };
    let (key, _) = authenticate_api_key_for(store, presented, &using, now).await?;
    Ok(ApiKeyPrincipal {
        key_id: key.id,
        name: key.name,
        tenant_id: key.tenant_id,
        scopes: key.scopes,
        environment: key.environment,
        expires_at: key.expires_at,
        rate_limit_class: key.rate_limit_class,
    })
}

/// [`authenticate_api_key`] with the full circumstances of the use; returns the stored key and
/// its tenant. A key of another tenant than `using.tenant` is answered as
/// [`ApiKeyDenied::Unknown`] (audited as `other_tenant`, without recording a use).
pub async fn authenticate_api_key_for<S: ApiKeyAuthStore>(
    store: &S,
    presented: &str,
    using: &KeyUse<'_>,
    now: DateTime<Utc>,
) -> Result<(ApiKey, Tenant), ApiKeyDenied> {
    let client_ip = match using.ip {
        IpCheck::Address(ip) => ip,
        IpCheck::Deferred => None,
    };
    let parsed = parse_api_key(presented).map_err(|_| ApiKeyDenied::Malformed)?;
    let Some((key, tenant)) = store
        .find_api_key_by_hash(&parsed.hash())
        .await
        .map_err(|_| ApiKeyDenied::Store)?
    else {
        audit_denial(
            store,
            None,
            parsed.prefix(),
            using,
            now,
            ApiKeyDenied::Unknown.as_str(),
        )
        .await;
        return Err(ApiKeyDenied::Unknown);
    };
    if using.tenant.is_some_and(|t| *t != key.tenant_id) {
        audit_denial(store, Some(&key), &key.prefix, using, now, "other_tenant").await;
        return Err(ApiKeyDenied::Unknown);
    }
    let ip_ok = match using.ip {
        IpCheck::Address(ip) => key.ip_allowed(ip),
        IpCheck::Deferred => true,
    };
    let denial = if key.is_revoked() {
        Some(ApiKeyDenied::Revoked)
    } else if key.is_expired(now) {
        Some(ApiKeyDenied::Expired)
    } else if tenant.disabled {
        Some(ApiKeyDenied::TenantDisabled)
    } else if !tenant.api_access_enabled {
        Some(ApiKeyDenied::ApiAccessDisabled)
    } else if !ip_ok {
        Some(ApiKeyDenied::IpNotAllowed)
    } else {
        None
    };
    if let Some(reason) = denial {
        audit_denial(store, Some(&key), &key.prefix, using, now, reason.as_str()).await;
        return Err(reason);
    }
    store
        .record_api_key_use(&key.id, now, client_ip)
        .await
        .map_err(|_| ApiKeyDenied::Store)?;
    Ok((key, tenant))
}

/// Whether a token exchanged from the key `key_id` of `tenant` is still backed: the key
/// exists, belongs to the tenant, is neither revoked nor expired, and API access is on.
pub async fn exchanged_key_live<S: ApiKeyLookup>(
    store: &S,
    key_id: &str,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if !tenant.api_access_enabled || tenant.disabled {
        return Ok(false);
    }
    Ok(store
        .find_api_key(key_id)
        .await?
        .is_some_and(|k| k.tenant_id == tenant.id && k.is_active(now)))
}

async fn audit_denial<S: ApiKeyAuthStore>(
    store: &S,
    key: Option<&ApiKey>,
    shown: &str,
    using: &KeyUse<'_>,
    now: DateTime<Utc>,
    reason: &str,
) {
    let ip = match using.ip {
        IpCheck::Address(ip) => ip,
        IpCheck::Deferred => None,
    };
    let event = NewAuditEvent {
        at: now,
        tenant_id: key.map(|k| k.tenant_id.to_string()),
        actor_kind: if key.is_some() {
            ActorKind::ApiKey
        } else {
            ActorKind::Anonymous
        },
        actor: key.map(|k| k.name.clone()),
        action: "api_key.use".into(),
        target: key.map(|k| k.id.clone()),
        source_ip: ip.map(|i| i.to_string()),
        request_id: using.request_id.map(str::to_owned),
        outcome: Outcome::Denied,
        details: serde_json::json!({ "reason": reason, "prefix": shown, "via": using.via }),
    };
    // Failing to audit must not turn a denial into an acceptance; the store logs the failure.
    let _ = store.append_audit(event).await;
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::TimeDelta;

    use super::*;
    use crate::apikey::{ApiKeyPrefixes, ApiKeyRequest, NewApiKey};
    use crate::tenant::TenantRegistration;

    #[derive(Default)]
    struct Fake {
        keys: Mutex<Vec<(ApiKey, Tenant)>>,
        audit: Mutex<Vec<NewAuditEvent>>,
    }

    impl ApiKeyAuthStore for Fake {
        async fn find_api_key_by_hash(
            &self,
            hash: &SecretHash,
        ) -> Result<Option<(ApiKey, Tenant)>, StoreError> {
            Ok(self
                .keys
                .lock()
                .unwrap()
                .iter()
                .find(|(k, _)| &k.secret_hash == hash)
                .cloned())
        }
        async fn record_api_key_use(
            &self,
            key_id: &str,
            now: DateTime<Utc>,
            ip: Option<IpAddr>,
        ) -> Result<(), StoreError> {
            for (k, _) in self.keys.lock().unwrap().iter_mut() {
                if k.id == key_id {
                    k.last_used_at = Some(now);
                    k.last_used_ip = ip.map(|i| i.to_string());
                }
            }
            Ok(())
        }
        async fn append_audit(&self, event: NewAuditEvent) -> Result<i64, StoreError> {
            let mut a = self.audit.lock().unwrap();
            a.push(event);
            Ok(a.len() as i64)
        }
    }

    fn setup(allow: &[&str]) -> (Fake, String, DateTime<Utc>) {
        let now = Utc::now();
        let tenant = TenantRegistration {
            name: "Acme".into(),
            ..Default::default()
        }
        .validate(now)
        .unwrap();
        let NewApiKey { key, secret } = ApiKeyRequest {
            name: "billing sync".into(),
            scope: Some("files:read".into()),
            allow_ips: allow.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
        .validate(&tenant, 0, &ApiKeyPrefixes::default(), now)
        .unwrap();
        let fake = Fake::default();
        fake.keys.lock().unwrap().push((key, tenant));
        (fake, secret.expose().to_owned(), now)
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[tokio::test]
    async fn a_valid_key_authenticates_and_records_its_use() {
        let (store, secret, now) = setup(&[]);
        let p = authenticate_api_key(&store, &secret, ip("192.0.2.7"), now)
            .await
            .unwrap();
        assert_eq!(p.name, "billing sync");
        assert!(p.scopes.contains("files:read"));
        let keys = store.keys.lock().unwrap();
        assert_eq!(keys[0].0.last_used_ip.as_deref(), Some("192.0.2.7"));
        assert!(store.audit.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn expiry_is_checked_against_the_injected_clock_and_audited() {
        let (store, secret, now) = setup(&[]);
        let later = now + TimeDelta::days(90);
        assert_eq!(
            authenticate_api_key(&store, &secret, None, later).await,
            Err(ApiKeyDenied::Expired)
        );
        let audit = store.audit.lock().unwrap();
        assert_eq!(audit[0].actor.as_deref(), Some("billing sync"));
        assert_eq!(audit[0].details["reason"], "expired");
        assert!(!audit[0].details.to_string().contains(&secret));
    }

    #[tokio::test]
    async fn every_denial_reason() {
        let (store, secret, now) = setup(&["10.0.0.0/8"]);
        let mut bad = secret.clone();
        bad.pop();
        assert_eq!(
            authenticate_api_key(&store, &bad, None, now).await,
            Err(ApiKeyDenied::Malformed)
        );
        let other = other_key();
        assert_eq!(
            authenticate_api_key(&store, &other, None, now).await,
            Err(ApiKeyDenied::Unknown)
        );
        assert_eq!(
            authenticate_api_key(&store, &secret, ip("192.0.2.1"), now).await,
            Err(ApiKeyDenied::IpNotAllowed)
        );
        assert!(
            authenticate_api_key(&store, &secret, ip("10.9.9.9"), now)
                .await
                .is_ok()
        );
        store.keys.lock().unwrap()[0].1.api_access_enabled = false;
        assert_eq!(
            authenticate_api_key(&store, &secret, ip("10.9.9.9"), now).await,
            Err(ApiKeyDenied::ApiAccessDisabled)
        );
        store.keys.lock().unwrap()[0].1.disabled = true;
        assert_eq!(
            authenticate_api_key(&store, &secret, ip("10.9.9.9"), now).await,
            Err(ApiKeyDenied::TenantDisabled)
        );
        store.keys.lock().unwrap()[0].0.revoked_at = Some(now);
        assert_eq!(
            authenticate_api_key(&store, &secret, ip("10.9.9.9"), now).await,
            Err(ApiKeyDenied::Revoked)
        );
        let reasons: Vec<String> = store
            .audit
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.details["reason"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            reasons,
            [
                "unknown",
                "ip_not_allowed",
                "api_access_disabled",
                "tenant_disabled",
                "revoked"
            ]
        );
    }

    #[tokio::test]
    async fn other_tenants_see_no_key_and_a_deferred_allowlist_passes() {
        let (store, secret, now) = setup(&["10.0.0.0/8"]);
        let other = TenantId::parse("other").unwrap();
        let using = KeyUse {
            ip: IpCheck::Deferred,
            tenant: Some(&other),
            request_id: Some("req-1"),
            via: "introspection",
        };
        assert_eq!(
            authenticate_api_key_for(&store, &secret, &using, now)
                .await
                .map(|_| ()),
            Err(ApiKeyDenied::Unknown)
        );
        assert!(store.keys.lock().unwrap()[0].0.last_used_at.is_none());
        {
            let audit = store.audit.lock().unwrap();
            assert_eq!(audit[0].details["reason"], "other_tenant");
            assert_eq!(audit[0].request_id.as_deref(), Some("req-1"));
        }
        let own = store.keys.lock().unwrap()[0].0.tenant_id.clone();
        let using = KeyUse {
            tenant: Some(&own),
            ..using
        };
        let (key, _) = authenticate_api_key_for(&store, &secret, &using, now)
            .await
            .unwrap();
        assert_eq!(key.name, "billing sync");
    }

    fn other_key() -> String {
        crate::apikey::GeneratedKey::generate(&ApiKeyPrefixes::default(), Environment::Live)
            .expose()
            .to_owned()
    }
}

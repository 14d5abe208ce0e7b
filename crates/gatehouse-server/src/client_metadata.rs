//! Client ID Metadata Documents: fetching and caching the documents that URL `client_id`s
//! name, and [`MetadataClients`], the client directory that serves them next to the
//! registered clients. The rules are core's `cimd`; this module does the I/O.
//!
//! Fetching is as defensive as the `jwks_uri` fetcher's (`crate::client_keys`), whose SSRF
//! rule and resolver it reuses: the URL must pass `gatehouse_jose::jwks_uri` (no internal
//! address literal) and core's URL rule (https; loopback only with
//! `client_metadata.allow_loopback`), names are resolved without internal addresses, no
//! redirects, 5 s timeout, at most [`MAX_DOCUMENT_BYTES`] read. Documents are cached for their
//! `Cache-Control: max-age` (300 s without one), never longer than
//! `client_metadata.max_cache_seconds`; `no-store` / `no-cache` mean every use refetches. A
//! failed fetch is remembered for [`FAILURE_TTL`], so an unknown URL cannot cause a fetch storm;
//! at most [`MAX_CONCURRENT_FETCHES`] fetches run at once; the cache holds at most
//! [`MAX_CACHED`] documents.
//!
//! A valid document's client is written to the `clients` table (upsert), so codes, consents
//! and refresh tokens refer to it like to any client; the document stays the truth.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gatehouse_core::cimd::{self, MAX_DOCUMENT_BYTES, MetadataPolicy};
use gatehouse_core::client::Client;
use gatehouse_core::client_auth::{ClientKeyStore, KeySource};
use gatehouse_core::ports::{ClientStore, Clock};
use gatehouse_core::tenant::{Tenant, TenantStore};
use gatehouse_core::{ClientId, ScopeSet, StoreError, TenantId};
use gatehouse_jose::jwks_uri::check_jwks_uri_with;
use gatehouse_store::Store;

use crate::client_keys::{FETCH_TIMEOUT, OutwardResolver};
use crate::settings::ClientMetadataSettings;

/// How long a failed fetch is remembered.
pub const FAILURE_TTL: Duration = Duration::from_secs(10);
/// Cache lifetime of a document without `max-age`.
const DEFAULT_TTL: u64 = 300;
/// Most documents kept (beyond it, the cache is cleared).
const MAX_CACHED: usize = 1024;
/// Most fetches in flight on this node; beyond it a URL `client_id` is answered as unknown
/// (not cached), so a flood of distinct URLs cannot make the server fetch without bound.
const MAX_CONCURRENT_FETCHES: usize = 8;

type Described = (Client, Option<KeySource>);

struct Cached {
    found: Option<Described>,
    until: Instant,
}

/// Fetches and caches metadata documents (per node).
pub struct ClientMetadata {
    http: reqwest::Client,
    /// `None` when the feature is off.
    policy: Option<MetadataPolicy>,
    max_cache: u64,
    cache: Mutex<HashMap<String, Cached>>,
    fetches: tokio::sync::Semaphore,
}

impl ClientMetadata {
    /// From `[client_metadata]`; fails only when the HTTP client cannot be built.
    pub fn from_settings(s: &ClientMetadataSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(OutwardResolver))
            .build()
            .map_err(|e| format!("the client metadata HTTP client cannot be built: {e}"))?;
        let policy = s.enabled.then(|| MetadataPolicy {
            allowed_hosts: s.allowed_hosts.clone(),
            denied_hosts: s.denied_hosts.clone(),
            allow_loopback: s.allow_loopback,
            tenant: TenantId::parse(&s.tenant).unwrap_or_else(|_| TenantId::default_tenant()),
            scope: ScopeSet::parse(&s.scope).unwrap_or_default(),
        });
        Ok(Self {
            http,
            policy,
            max_cache: s.max_cache_seconds,
            cache: Mutex::new(HashMap::new()),
            fetches: tokio::sync::Semaphore::new(MAX_CONCURRENT_FETCHES),
        })
    }

    pub fn enabled(&self) -> bool {
        self.policy.is_some()
    }

    fn cached(&self, url: &str) -> Option<Option<Described>> {
        let cache = self.cache.lock().ok()?;
        let e = cache.get(url)?;
        (e.until > Instant::now()).then(|| e.found.clone())
    }

    fn remember(&self, url: &str, found: Option<Described>, ttl: Duration) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED && !cache.contains_key(url) {
                cache.clear();
            }
            let until = Instant::now() + ttl;
            cache.insert(url.to_owned(), Cached { found, until });
        }
    }

    /// The client `id` describes, if it is a metadata URL with a valid document; its row is
    /// kept in step in `store`.
    pub async fn client(
        &self,
        store: &Store,
        id: &ClientId,
        now: DateTime<Utc>,
    ) -> Result<Option<Described>, StoreError> {
        let Some(policy) = &self.policy else {
            return Ok(None);
        };
        if let Some(hit) = self.cached(id.as_str()) {
            return Ok(hit);
        }
        let Ok(_permit) = self.fetches.try_acquire() else {
            tracing::warn!(client_id = %id, "client metadata fetches at their limit");
            return Ok(None);
        };
        let (found, ttl) = match self.fetch(policy, id.as_str(), now).await {
            Ok((described, ttl)) => (Some(described), ttl),
            Err(e) => {
                tracing::warn!(client_id = %id, error = %e, "client metadata document refused");
                (None, FAILURE_TTL)
            }
        };
        if let Some((client, keys)) = &found {
            store
                .upsert_metadata_client(client, keys.as_ref())
                .await
                .map_err(StoreError::backend)?;
        }
        self.remember(id.as_str(), found.clone(), ttl);
        Ok(found)
    }

    async fn fetch(
        &self,
        policy: &MetadataPolicy,
        raw: &str,
        now: DateTime<Utc>,
    ) -> Result<(Described, Duration), String> {
        let url = cimd::check_url(raw, policy).map_err(|e| e.to_string())?;
        check_jwks_uri_with(raw, false).map_err(|e| e.to_string())?;
        let mut resp = self
            .http
            .get(url.as_str())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("status {}", resp.status()));
        }
        let ttl = self.ttl_of(resp.headers());
        if resp
            .content_length()
            .is_some_and(|l| l > MAX_DOCUMENT_BYTES as u64)
        {
            return Err("document too large".into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("read: {e}"))? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err("document too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        let described =
            cimd::client_from_document(&url, &body, policy, now).map_err(|e| e.to_string())?;
        Ok((described, ttl))
    }

    /// The cache lifetime `Cache-Control` allows, bounded by `max_cache_seconds`.
    fn ttl_of(&self, headers: &reqwest::header::HeaderMap) -> Duration {
        let cc = headers
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut secs = DEFAULT_TTL;
        for d in cc.split(',').map(str::trim) {
            if d == "no-store" || d == "no-cache" {
                return Duration::ZERO;
            }
            if let Some(v) = d.strip_prefix("max-age=") {
                secs = v.trim_matches('"').parse().unwrap_or(0);
            }
        }
        Duration::from_secs(secs.min(self.max_cache))
    }
}

/// The client directory of the protocol endpoints: registered clients from the store, and
/// metadata-document clients through [`ClientMetadata`].
/// A URL `client_id` is a metadata-document client only while the feature is on; otherwise
/// it is unknown (even if a row remains from when it was on).
pub struct MetadataClients {
    pub store: Store,
    pub metadata: ClientMetadata,
    pub clock: Arc<dyn Clock>,
}

impl MetadataClients {
    async fn described(&self, id: &ClientId) -> Result<Option<Described>, StoreError> {
        self.metadata
            .client(&self.store, id, self.clock.now())
            .await
    }
}

impl ClientStore for MetadataClients {
    async fn find_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        if cimd::is_metadata_url(id.as_str()) {
            return Ok(self.described(id).await?.map(|(c, _)| c));
        }
        self.store.find_client(id).await
    }
}

impl TenantStore for MetadataClients {
    async fn find_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.store.find_tenant(id).await
    }
}

impl ClientKeyStore for MetadataClients {
    async fn client_key_source(&self, id: &ClientId) -> Result<Option<KeySource>, StoreError> {
        if cimd::is_metadata_url(id.as_str()) {
            return Ok(self.described(id).await?.and_then(|(_, k)| k));
        }
        self.store.client_key_source(id).await
    }
}

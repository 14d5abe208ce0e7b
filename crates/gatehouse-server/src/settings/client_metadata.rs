//! `[client_metadata]`: Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-
//! document), the registration the MCP authorization specification recommends. Off by default.

use serde::{Deserialize, Serialize};

/// `[client_metadata]`: whether an `https` URL may be used as `client_id`, and the limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientMetadataSettings {
    /// Accept metadata-document clients (and advertise
    /// `client_id_metadata_document_supported`).
    pub enabled: bool,
    /// Hosts whose documents are accepted; empty: any host not denied.
    pub allowed_hosts: Vec<String>,
    /// Hosts whose documents are refused.
    pub denied_hosts: Vec<String>,
    /// Accept `http` documents on loopback hosts. For local tests only: off by default.
    pub allow_loopback: bool,
    /// The tenant (name or id) such clients belong to.
    pub tenant: String,
    /// The most such a client may request, space separated.
    pub scope: String,
    /// Longest time a fetched document is used, in seconds (its `Cache-Control: max-age` is
    /// honoured up to this; without one, 300 s or this if lower).
    pub max_cache_seconds: u64,
}

impl Default for ClientMetadataSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            allowed_hosts: Vec::new(),
            denied_hosts: Vec::new(),
            allow_loopback: false,
            tenant: gatehouse_core::TenantId::DEFAULT.to_owned(),
            scope: "openid profile email offline_access".to_owned(),
            max_cache_seconds: 3600,
        }
    }
}

impl ClientMetadataSettings {
    /// Checks the scope and tenant syntax.
    pub fn check(&self) -> Result<(), String> {
        gatehouse_core::ScopeSet::parse(&self.scope)
            .map_err(|e| format!("client_metadata.scope: {e}"))?;
        gatehouse_core::TenantId::parse(&self.tenant)
            .map_err(|e| format!("client_metadata.tenant: {e}"))?;
        Ok(())
    }
}

//! `[network]`: where requests come from (trusted reverse proxies).

use serde::{Deserialize, Serialize};

/// `[network]`: the client address seen by IP allowlists and the audit trail.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSettings {
    /// IP addresses or CIDR blocks of reverse proxies in front of Gatehouse. Only when the
    /// connection comes from one of them is `X-Forwarded-For` read (the right-most address not
    /// itself a trusted proxy is the client). Empty (default): the peer address is the client.
    pub trusted_proxies: Vec<String>,
}

impl NetworkSettings {
    /// The parsed proxy blocks (checked by [`Settings::validated`]).
    pub fn proxies(&self) -> Result<Vec<gatehouse_core::apikey::IpNet>, String> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                gatehouse_core::apikey::IpNet::parse(p).map_err(|_| {
                    format!("network.trusted_proxies: {p:?} is not an IP address or CIDR block")
                })
            })
            .collect()
    }
}

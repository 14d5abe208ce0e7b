//! `[metrics]`: the Prometheus endpoint `/metrics`.

use serde::{Deserialize, Serialize};

/// `[metrics]`: where `/metrics` is served.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Whether metrics are collected and served at all.
    pub enabled: bool,
    /// A separate address (`host:port`) serving only `/metrics`; then the main listener does
    /// not serve it. Empty (default): `/metrics` is on the main listener.
    pub listen: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: String::new(),
        }
    }
}

impl MetricsSettings {
    /// Whether the main listener serves `/metrics`.
    pub fn on_main_listener(&self) -> bool {
        self.enabled && self.listen.is_empty()
    }

    /// Checks the separate address.
    pub fn check(&self) -> Result<(), String> {
        if !self.listen.is_empty() && self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "metrics.listen: {:?} is not an address and port such as 127.0.0.1:9090",
                self.listen
            ));
        }
        Ok(())
    }
}

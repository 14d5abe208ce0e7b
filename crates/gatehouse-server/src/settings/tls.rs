//! `[tls]`: direct HTTPS, for deployments without a TLS-terminating proxy. Behind a proxy,
//! leave it off and set `[network] trusted_proxies`.

use serde::{Deserialize, Serialize};

/// `[tls]`: both files set, or neither (plain HTTP).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file with the certificate chain, leaf first.
    pub cert_file: String,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: String,
}

impl TlsSettings {
    /// Whether the listener speaks HTTPS.
    pub fn enabled(&self) -> bool {
        !self.cert_file.is_empty()
    }

    /// Checks that both files are named, or neither.
    pub fn check(&self) -> Result<(), String> {
        match (self.cert_file.is_empty(), self.key_file.is_empty()) {
            (true, false) => Err("tls.cert_file must be set when tls.key_file is".into()),
            (false, true) => Err("tls.key_file must be set when tls.cert_file is".into()),
            _ => Ok(()),
        }
    }
}

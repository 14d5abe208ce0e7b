//! Direct HTTPS (`[tls]`), for deployments without a TLS-terminating proxy: rustls on the
//! aws-lc-rs provider (no OpenSSL), TLS 1.2 and 1.3 with rustls' safe defaults, HTTP/1.1 only.
//!
//! The certificate is chosen per handshake by [`Certificates`], whose key pair can be swapped:
//! on SIGHUP the files are read again ([`Certificates::reload`]) and new handshakes use the new
//! certificate while open connections carry on. A reload that fails (missing file, a key that
//! does not match the certificate) keeps the previous certificate and logs why.

use std::fmt;
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::settings::TlsSettings;

/// The server certificate in use, reloadable.
pub struct Certificates {
    cert_file: String,
    key_file: String,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificates")
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .finish_non_exhaustive()
    }
}

impl Certificates {
    /// Reads the configured files; errors name the setting and the file.
    pub fn load(s: &TlsSettings) -> Result<Arc<Self>, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = read_pair(&s.cert_file, &s.key_file, &provider)?;
        Ok(Arc::new(Self {
            cert_file: s.cert_file.clone(),
            key_file: s.key_file.clone(),
            provider,
            current: RwLock::new(Arc::new(key)),
        }))
    }

    /// Reads the files again and, if they make a valid pair, serves them to new handshakes.
    pub fn reload(&self) -> Result<(), String> {
        let key = read_pair(&self.cert_file, &self.key_file, &self.provider)?;
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(key),
            Err(p) => *p.into_inner() = Arc::new(key),
        }
        Ok(())
    }

    /// The rustls configuration of the listener.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, String> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("tls: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        // HTTP/2 is not built in (see docs/configuration.md); actix adds http/1.1 itself.
        config.alpn_protocols.clear();
        Ok(config)
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        })
    }
}

/// Reads a certificate chain and its private key, and checks that they belong together.
fn read_pair(
    cert_file: &str,
    key_file: &str,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| format!("tls.cert_file: cannot read {cert_file}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tls.cert_file: {cert_file} is not a PEM certificate chain: {e}"))?;
    if chain.is_empty() {
        return Err(format!(
            "tls.cert_file: {cert_file} holds no CERTIFICATE block"
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("tls.key_file: cannot read a private key from {key_file}: {e}"))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        format!("tls.key_file: {key_file} does not fit the certificate in {cert_file}: {e}")
    })
}

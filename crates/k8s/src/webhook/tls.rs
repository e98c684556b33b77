//! The webhook's certificate: read from PEM files and read again when they
//! change, so that a certificate cert-manager rotates is served without a
//! restart. A change that cannot be read keeps the certificate in use (and
//! says so): the API server keeps reaching the webhook.

use rustls::crypto::ring::sign::any_supported_type;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {message}")]
    Read { path: PathBuf, message: String },
}

/// The certificate and key files, and what was last loaded from them.
#[derive(Debug)]
pub struct ReloadingCertificate {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<(Arc<CertifiedKey>, Vec<u8>)>,
}

impl ReloadingCertificate {
    /// Loads the files; the webhook does not start without a certificate.
    pub fn load(cert_path: PathBuf, key_path: PathBuf) -> Result<ReloadingCertificate, TlsError> {
        let (key, bytes) = read(&cert_path, &key_path)?;
        Ok(ReloadingCertificate { cert_path, key_path, current: RwLock::new((key, bytes)) })
    }

    /// Reads the files again; `true` when a new certificate is in use.
    pub fn reload(&self) -> Result<bool, TlsError> {
        let (key, bytes) = read(&self.cert_path, &self.key_path)?;
        let mut current = self.current.write().expect("certificate lock");
        if current.1 == bytes {
            return Ok(false);
        }
        *current = (key, bytes);
        Ok(true)
    }

    /// Looks at the files every `every`, forever.
    pub async fn watch(self: Arc<Self>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            let this = self.clone();
            match tokio::task::spawn_blocking(move || this.reload()).await {
                Ok(Ok(true)) => tracing::info!(path = %self.cert_path.display(), "serving the new certificate"),
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "certificate not reloaded; serving the previous one"),
                Err(e) => tracing::warn!(error = %e, "certificate reload failed"),
            }
        }
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().expect("certificate lock").0.clone())
    }
}

/// The certified key in the files, and their bytes (to see changes).
fn read(cert_path: &PathBuf, key_path: &PathBuf) -> Result<(Arc<CertifiedKey>, Vec<u8>), TlsError> {
    let error = |path: &PathBuf, message: String| TlsError::Read { path: path.clone(), message };
    let cert_pem = std::fs::read(cert_path).map_err(|e| error(cert_path, e.to_string()))?;
    let key_pem = std::fs::read(key_path).map_err(|e| error(key_path, e.to_string()))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| error(cert_path, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(error(cert_path, "holds no certificate".into()));
    }
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| error(key_path, format!("not a PEM private key: {e}")))?;
    let signer = any_supported_type(&key).map_err(|e| error(key_path, format!("unusable private key: {e}")))?;
    let certified = CertifiedKey::new(chain, signer);
    certified.keys_match().map_err(|e| error(key_path, format!("does not match the certificate: {e}")))?;
    Ok((Arc::new(certified), [cert_pem, key_pem].concat()))
}

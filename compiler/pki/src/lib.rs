//! Deterministic PKI: the secrets file (`secrets`) and every certificate, key and kubeconfig
//! of pki.md (`issue`), derived from the root secret so that a build reads no clock and no
//! random source.

use hac_core::Diagnostic;
use hac_model::{Cluster, IssuedPki, RenderSecrets};

/// A parsed secrets file.
pub struct Secrets {
    _private: (),
}

impl Secrets {
    /// Parses the text of a secrets file. Errors never quote secret material.
    pub fn parse(text: &str) -> Result<Secrets, Diagnostic> {
        let _ = text;
        Err(Diagnostic::error("secrets file not yet supported"))
    }
    /// A new secrets file's text, from the OS's secure random source (`hac secrets init`).
    pub fn generate() -> Result<String, Diagnostic> {
        Err(Diagnostic::error("secrets init not yet supported"))
    }
    /// Adopts an existing cluster CA: returns the new file text.
    pub fn import_ca(text: &str, cert_pem: &str, key_pem: &str) -> Result<String, Diagnostic> {
        let _ = (text, cert_pem, key_pem);
        Err(Diagnostic::error("import-ca not yet supported"))
    }
    /// The values rendered files embed (bootstrap token, VRRP password).
    pub fn render_secrets(&self) -> RenderSecrets {
        unimplemented!()
    }
}

/// Issues every certificate, key and kubeconfig, placed per node.
pub fn issue(cluster: &Cluster, secrets: &Secrets) -> Result<IssuedPki, Diagnostic> {
    let _ = (cluster, secrets);
    Err(Diagnostic::error("pki not yet written"))
}

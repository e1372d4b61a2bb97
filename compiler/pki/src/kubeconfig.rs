//! Kubeconfig files as kubeadm writes them (`admin.conf`, `super-admin.conf`,
//! `controller-manager.conf`, `scheduler.conf`): one cluster, one user, one context named
//! `<user>@<cluster>`, the CA and the client certificate and key embedded as base64.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

/// What one kubeconfig holds.
pub(crate) struct Kubeconfig<'a> {
    pub cluster_name: &'a str,
    /// `https://host:port`
    pub server: &'a str,
    pub user: &'a str,
    pub ca_cert_pem: &'a str,
    pub client_cert_pem: &'a str,
    pub client_key_pem: &'a str,
}

impl Kubeconfig<'_> {
    /// The file's text, laid out as client-go's `clientcmd.Write` lays it out for kubeadm.
    pub(crate) fn to_yaml(&self) -> Zeroizing<String> {
        let context = format!("{}@{}", self.user, self.cluster_name);
        let mut s = Zeroizing::new(String::new());
        s.push_str("apiVersion: v1\nclusters:\n- cluster:\n");
        s.push_str(&format!(
            "    certificate-authority-data: {}\n",
            STANDARD.encode(self.ca_cert_pem)
        ));
        s.push_str(&format!("    server: {}\n", self.server));
        s.push_str(&format!("  name: {}\n", self.cluster_name));
        s.push_str("contexts:\n- context:\n");
        s.push_str(&format!("    cluster: {}\n", self.cluster_name));
        s.push_str(&format!("    user: {}\n", self.user));
        s.push_str(&format!("  name: {context}\n"));
        s.push_str(&format!("current-context: {context}\n"));
        s.push_str("kind: Config\npreferences: {}\nusers:\n");
        s.push_str(&format!("- name: {}\n  user:\n", self.user));
        s.push_str(&format!(
            "    client-certificate-data: {}\n",
            STANDARD.encode(self.client_cert_pem)
        ));
        let key_b64 = Zeroizing::new(STANDARD.encode(self.client_key_pem));
        s.push_str(&format!("    client-key-data: {}\n", *key_b64));
        s
    }
}

//! Renders every node's files (configs, units, scripts, kubeadm config, manifest), the
//! cloud-init user-data and the Ansible inventory and play: a pure function of the checked
//! model, the issued PKI and the secrets it embeds.

use hac_core::Diagnostic;
use hac_model::{Bundle, Cluster, IssuedPki, RenderSecrets};

pub fn render(
    cluster: &Cluster,
    pki: &IssuedPki,
    secrets: &RenderSecrets,
    report: &str,
) -> Result<Bundle, Vec<Diagnostic>> {
    let _ = (cluster, pki, secrets, report);
    Err(vec![Diagnostic::error("render not yet written")])
}

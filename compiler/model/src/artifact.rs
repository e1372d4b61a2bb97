//! The plain types that flow from PKI to render to bundle.

use hac_core::Diagnostic;
use std::collections::BTreeMap;

/// One file: its path (relative, no leading `/`), mode and bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// Relative to the node's `/` for host files (`etc/kubernetes/pki/ca.crt`), or to the
    /// output folder for bundle-level files (`cloud-init/master-0.yaml`).
    pub path: String,
    pub mode: u32,
    pub contents: Vec<u8>,
}

impl Artifact {
    pub fn new(path: impl Into<String>, mode: u32, contents: impl Into<Vec<u8>>) -> Artifact {
        Artifact {
            path: path.into(),
            mode,
            contents: contents.into(),
        }
    }
}

/// What `hac_pki::issue` returns: every certificate, key and kubeconfig, already placed per
/// node according to its roles (the least-privilege table of bundle.md).
#[derive(Clone, Debug, Default)]
pub struct IssuedPki {
    /// node name → its PKI files (certificates, keys, kubeconfigs), sorted by path.
    pub files: BTreeMap<String, Vec<Artifact>>,
    /// `sha256:<hex>` of the cluster CA's DER SubjectPublicKeyInfo (kubeadm `caCertHashes`).
    pub ca_cert_hash: String,
    /// The cluster CA certificate (PEM), e.g. for a dedicated load balancer's health check.
    pub ca_cert_pem: String,
}

/// The secret values that rendered files must embed. Nothing else of the secrets file
/// reaches the render stage.
#[derive(Clone, Debug)]
pub struct RenderSecrets {
    /// `[a-z0-9]{6}.[a-z0-9]{16}`
    pub bootstrap_token: String,
    /// 1..8 characters (keepalived PASS).
    pub vrrp_password: String,
}

/// Everything `hac build` writes, before it is written.
#[derive(Clone, Debug, Default)]
pub struct Bundle {
    /// node name → every file of its archive (paths relative to the node's `/`), sorted.
    pub hosts: BTreeMap<String, Vec<Artifact>>,
    /// Files beside the archives, relative to the output folder: `cloud-init/<host>.yaml`,
    /// `ansible/inventory.yml`, `ansible/site.yml`, `report.txt`, `topology.svg`.
    pub files: Vec<Artifact>,
    /// Warnings raised while rendering (e.g. user-data over 16 KiB).
    pub warnings: Vec<Diagnostic>,
}

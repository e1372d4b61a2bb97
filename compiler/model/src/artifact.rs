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
/// reaches the render stage. Both are typed: a value of these types has passed its rule
/// (checked once, when the secrets file is read), so the renderer never checks them again.
#[derive(Clone, Debug)]
pub struct RenderSecrets {
    pub bootstrap_token: BootstrapToken,
    pub vrrp_password: VrrpPassword,
}

/// The maximum length of a VRRP PASS password: keepalived silently truncates longer ones.
pub const VRRP_PASSWORD_MAX: usize = 8;

/// A keepalived VRRP PASS password that keepalived.conf reads back unchanged: 1 to 8
/// printable ASCII characters, none of them a blank, a quote, `\` or a comment mark (`!`, `#`).
/// Only [`VrrpPassword::parse`] makes one. Wiped from memory when dropped; `{:?}` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct VrrpPassword(zeroize::Zeroizing<String>);

impl VrrpPassword {
    /// The password, if `s` follows the rule.
    pub fn parse(s: &str) -> Option<VrrpPassword> {
        let ok = (1..=VRRP_PASSWORD_MAX).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\' | b'!' | b'#'));
        ok.then(|| VrrpPassword(zeroize::Zeroizing::new(s.to_string())))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`. Only [`BootstrapToken::parse`]
/// makes one. Wiped from memory when dropped; `{:?}` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct BootstrapToken(zeroize::Zeroizing<String>);

impl BootstrapToken {
    /// The token, if `s` has kubeadm's form.
    pub fn parse(s: &str) -> Option<BootstrapToken> {
        let part = |p: &str, n: usize| {
            p.len() == n
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        let ok = s
            .split_once('.')
            .is_some_and(|(id, secret)| part(id, 6) && part(secret, 16));
        ok.then(|| BootstrapToken(zeroize::Zeroizing::new(s.to_string())))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! secret_text {
    ($t:ty) => {
        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("[redacted]")
            }
        }
    };
}
secret_text!(VrrpPassword);
secret_text!(BootstrapToken);

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

//! The Kubernetes components' own settings a cluster file may give (issue 11): extra flags and
//! volumes of the control-plane components and etcd, the image repository, feature gates, the
//! kube-proxy mode and a typed subset of the kubelet's configuration. Empty by default: then
//! hac renders exactly what kubeadm would choose.

use crate::archive::{AUDIT_POLICY_PATH, ENCRYPTION_CONFIG_PATH, OIDC_CA_PATH};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Components {
    /// Where every image comes from instead of `registry.k8s.io` (kubeadm `imageRepository`).
    pub image_repository: Option<String>,
    /// Feature gates of every component (apiserver, controller-manager, scheduler, kubelet,
    /// kube-proxy): `--feature-gates` and the configuration files' `featureGates`.
    pub feature_gates: BTreeMap<String, bool>,
    pub api_server: ApiServerSettings,
    /// `--flag=value` pairs (flag names without the leading `--`).
    pub controller_manager_args: BTreeMap<String, String>,
    pub scheduler_args: BTreeMap<String, String>,
    pub etcd_args: BTreeMap<String, String>,
    pub kube_proxy_mode: Option<ProxyMode>,
    pub kubelet: KubeletSettings,
    /// `controlPlane.kubeVip`: the kube-vip image (repository and tag); `None` keeps
    /// `DEFAULT_KUBE_VIP_REPOSITORY:DEFAULT_KUBE_VIP_VERSION` (or `<imageRepository>/kube-vip` when that is set).
    pub kube_vip_image: Option<String>,
}

/// The kube-vip release hac pins.
pub const DEFAULT_KUBE_VIP_REPOSITORY: &str = "ghcr.io/kube-vip/kube-vip";
pub const DEFAULT_KUBE_VIP_VERSION: &str = "v0.8.9";

impl Components {
    /// Whether a KubeletConfiguration document must be written.
    pub fn has_kubelet_configuration(&self) -> bool {
        self.kubelet != KubeletSettings::default() || !self.feature_gates.is_empty()
    }
    /// Whether a KubeProxyConfiguration document must be written.
    pub fn has_kube_proxy_configuration(&self) -> bool {
        self.kube_proxy_mode.is_some() || !self.feature_gates.is_empty()
    }
    /// `A=true,B=false`, sorted by name (the flag form of the feature gates).
    pub fn feature_gates_flag(&self) -> Option<String> {
        (!self.feature_gates.is_empty()).then(|| {
            self.feature_gates
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// The kube-vip image reference: `controlPlane.kubeVip`, else the mirror under
    /// `imageRepository` (an air-gapped registry holds every image), else ghcr.io.
    pub fn kube_vip_image(&self) -> String {
        if let Some(image) = &self.kube_vip_image {
            return image.clone();
        }
        match &self.image_repository {
            Some(repo) => format!("{repo}/kube-vip:{DEFAULT_KUBE_VIP_VERSION}"),
            None => format!("{DEFAULT_KUBE_VIP_REPOSITORY}:{DEFAULT_KUBE_VIP_VERSION}"),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiServerSettings {
    pub extra_args: BTreeMap<String, String>,
    pub extra_volumes: Vec<HostPathMount>,
    /// Encryption at rest of the named resources (`controlPlane.apiServer.encryption`).
    pub encryption: Option<Encryption>,
    /// The audit policy and log (`controlPlane.apiServer.audit`).
    pub audit: Option<Audit>,
    /// OpenID Connect authentication (`controlPlane.apiServer.oidc`).
    pub oidc: Option<Oidc>,
}

/// The apiserver volumes hac adds for the audit policy and the audit log folder.
pub const AUDIT_POLICY_VOLUME: &str = "audit-policy";
pub const AUDIT_LOG_VOLUME: &str = "audit-log";
pub const DEFAULT_AUDIT_LOG_PATH: &str = "/var/log/kubernetes/audit/audit.log";
/// The audit log's retention when the cluster file does not say: days, files, MiB.
pub const DEFAULT_AUDIT_MAX_AGE: u32 = 30;
pub const DEFAULT_AUDIT_MAX_BACKUP: u32 = 10;
pub const DEFAULT_AUDIT_MAX_SIZE: u32 = 100;

#[derive(Clone, Debug, PartialEq)]
pub struct Encryption {
    /// Resource names (`secrets`, `configmaps`, `widgets.example.com`), in the file's order.
    pub resources: Vec<String>,
    pub provider: EncryptionProvider,
    /// Bumped to rotate the key: the new key encrypts, the previous one still decrypts.
    pub rotation: u64,
}

crate::spelled_enum! {
    pub enum EncryptionProvider ("encryption provider") default Aescbc {
        Aescbc = "aescbc",
        Aesgcm = "aesgcm",
        Secretbox = "secretbox",
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Audit {
    pub policy: AuditPolicy,
    /// Absolute path of the log file on the host (and in the container: the same path).
    pub log_path: String,
    pub max_age: u32,
    pub max_backup: u32,
    pub max_size: u32,
}

impl Audit {
    /// The folder of the log file (mounted read-write).
    pub fn log_folder(&self) -> &str {
        match self.log_path.rfind('/') {
            Some(0) | None => "/",
            Some(i) => &self.log_path[..i],
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum AuditPolicy {
    /// hac's policy: every request at this level, minus the noisy read-only system traffic;
    /// secrets, configmaps and token reviews never above `Metadata` (their bodies are secret).
    Level(AuditLevel),
    /// A policy document given as YAML text, written as is.
    Text(String),
}

crate::spelled_enum! {
    pub enum AuditLevel ("audit level") default Metadata {
        Metadata = "metadata",
        Request = "request",
        RequestResponse = "requestResponse",
    }
}

impl AuditLevel {
    /// The level as the audit API spells it.
    pub fn api_name(self) -> &'static str {
        match self {
            AuditLevel::Metadata => "Metadata",
            AuditLevel::Request => "Request",
            AuditLevel::RequestResponse => "RequestResponse",
        }
    }
}

/// `controlPlane.apiServer.oidc.usernameClaim` when unset (kube-apiserver's own default).
pub const DEFAULT_OIDC_USERNAME_CLAIM: &str = "sub";

#[derive(Clone, Debug, PartialEq)]
pub struct Oidc {
    /// `https://…`
    pub issuer_url: String,
    pub client_id: String,
    pub username_claim: String,
    pub groups_claim: Option<String>,
    pub username_prefix: Option<String>,
    pub groups_prefix: Option<String>,
    /// PEM text of the CA that signed the issuer's certificate.
    pub ca: Option<String>,
}

/// The audit flags, reserved (E0108) when `controlPlane.apiServer.audit` is set.
pub const AUDIT_FLAGS: &[&str] = &[
    "audit-policy-file",
    "audit-log-path",
    "audit-log-maxage",
    "audit-log-maxbackup",
    "audit-log-maxsize",
];
/// The OIDC flags, reserved (E0108) when `controlPlane.apiServer.oidc` is set.
pub const OIDC_FLAGS: &[&str] = &[
    "oidc-issuer-url",
    "oidc-client-id",
    "oidc-username-claim",
    "oidc-groups-claim",
    "oidc-username-prefix",
    "oidc-groups-prefix",
    "oidc-ca-file",
];

impl ApiServerSettings {
    /// The flags the security settings put on kube-apiserver (merged into `extraArgs`).
    pub fn security_flags(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut set = |k: &str, v: String| {
            out.insert(k.to_string(), v);
        };
        if self.encryption.is_some() {
            set(
                "encryption-provider-config",
                format!("/{ENCRYPTION_CONFIG_PATH}"),
            );
        }
        if let Some(a) = &self.audit {
            set("audit-policy-file", format!("/{AUDIT_POLICY_PATH}"));
            set("audit-log-path", a.log_path.clone());
            set("audit-log-maxage", a.max_age.to_string());
            set("audit-log-maxbackup", a.max_backup.to_string());
            set("audit-log-maxsize", a.max_size.to_string());
        }
        if let Some(o) = &self.oidc {
            set("oidc-issuer-url", o.issuer_url.clone());
            set("oidc-client-id", o.client_id.clone());
            set("oidc-username-claim", o.username_claim.clone());
            if let Some(g) = &o.groups_claim {
                set("oidc-groups-claim", g.clone());
            }
            if let Some(p) = &o.username_prefix {
                set("oidc-username-prefix", p.clone());
            }
            if let Some(p) = &o.groups_prefix {
                set("oidc-groups-prefix", p.clone());
            }
            if o.ca.is_some() {
                set("oidc-ca-file", format!("/{OIDC_CA_PATH}"));
            }
        }
        out
    }

    /// The volumes the security settings add: the audit policy (read-only) and the audit log
    /// folder (read-write, created when missing).
    pub fn security_volumes(&self) -> Vec<HostPathMount> {
        let Some(a) = &self.audit else {
            return Vec::new();
        };
        vec![
            HostPathMount {
                name: AUDIT_POLICY_VOLUME.to_string(),
                host_path: format!("/{AUDIT_POLICY_PATH}"),
                mount_path: format!("/{AUDIT_POLICY_PATH}"),
                read_only: true,
                path_type: "File".to_string(),
            },
            HostPathMount {
                name: AUDIT_LOG_VOLUME.to_string(),
                host_path: a.log_folder().to_string(),
                mount_path: a.log_folder().to_string(),
                read_only: false,
                path_type: "DirectoryOrCreate".to_string(),
            },
        ]
    }

    /// What controls `flag` when a security setting sets it (E0108), beyond
    /// [`RESERVED_FLAGS`].
    pub fn reserved_by_settings(audit: bool, oidc: bool, flag: &str) -> Option<&'static str> {
        if audit && AUDIT_FLAGS.contains(&flag) {
            return Some("`controlPlane.apiServer.audit`");
        }
        if oidc && OIDC_FLAGS.contains(&flag) {
            return Some("`controlPlane.apiServer.oidc`");
        }
        None
    }
}

/// A host folder or file mounted into a static pod (kubeadm `HostPathMount`).
#[derive(Clone, Debug, PartialEq)]
pub struct HostPathMount {
    pub name: String,
    pub host_path: String,
    pub mount_path: String,
    pub read_only: bool,
    /// Kubernetes `HostPathType`; empty: no check.
    pub path_type: String,
}

/// The host-path types Kubernetes knows (`""` = no check).
pub const HOST_PATH_TYPES: &[&str] = &[
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
];

crate::spelled_enum! {
    pub enum ProxyMode ("kube-proxy mode") {
        Iptables = "iptables",
        Ipvs = "ipvs",
        Nftables = "nftables",
    }
}

/// The KubeletConfiguration fields operators set; `None`/empty keeps kubeadm's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KubeletSettings {
    pub max_pods: Option<u32>,
    /// `systemd` (kubeadm's default since 1.22) or `cgroupfs`.
    pub cgroup_driver: Option<String>,
    /// Resource name (`cpu`, `memory`, `ephemeral-storage`, `pid`) → quantity.
    pub system_reserved: BTreeMap<String, String>,
    pub kube_reserved: BTreeMap<String, String>,
    /// Eviction signal (`memory.available`, `nodefs.available`, …) → threshold.
    pub eviction_hard: BTreeMap<String, String>,
    /// The kubelet asks the cluster for its serving certificate (`serverTLSBootstrap`).
    pub server_tls_bootstrap: Option<bool>,
}

/// Flags hac sets itself on each component, with the attribute that controls each: an
/// `extraArgs` entry naming one of these is refused (E0108), so hac's wiring is never
/// overridden silently.
pub const RESERVED_FLAGS: &[(Component, &str, &str)] = &[
    (
        Component::ApiServer,
        "advertise-address",
        "the node's `address`",
    ),
    (
        Component::ApiServer,
        "secure-port",
        "`controlPlane.apiServerPort`",
    ),
    (
        Component::ApiServer,
        "service-cluster-ip-range",
        "`network.services`",
    ),
    (
        Component::ApiServer,
        "etcd-servers",
        "`etcd.topology` and the etcd nodes",
    ),
    (Component::ApiServer, "etcd-cafile", "hac's PKI (pki.md)"),
    (Component::ApiServer, "etcd-certfile", "hac's PKI (pki.md)"),
    (Component::ApiServer, "etcd-keyfile", "hac's PKI (pki.md)"),
    (Component::ApiServer, "client-ca-file", "hac's PKI (pki.md)"),
    (Component::ApiServer, "tls-cert-file", "hac's PKI (pki.md)"),
    (
        Component::ApiServer,
        "tls-private-key-file",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ApiServer,
        "kubelet-client-certificate",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ApiServer,
        "kubelet-client-key",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ApiServer,
        "proxy-client-cert-file",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ApiServer,
        "proxy-client-key-file",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ApiServer,
        "requestheader-client-ca-file",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ApiServer,
        "service-account-key-file",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ApiServer,
        "service-account-signing-key-file",
        "hac's PKI (pki.md)",
    ),
    (Component::ApiServer, "feature-gates", "`featureGates`"),
    (
        Component::ApiServer,
        "encryption-provider-config",
        "`controlPlane.apiServer.encryption` (its key comes from the secrets file)",
    ),
    (
        Component::ControllerManager,
        "cluster-cidr",
        "`network.pods`",
    ),
    (
        Component::ControllerManager,
        "service-cluster-ip-range",
        "`network.services`",
    ),
    (
        Component::ControllerManager,
        "node-cidr-mask-size",
        "`network.nodeMaskSize`",
    ),
    (Component::ControllerManager, "cluster-name", "`name`"),
    (
        Component::ControllerManager,
        "kubeconfig",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ControllerManager,
        "root-ca-file",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ControllerManager,
        "service-account-private-key-file",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ControllerManager,
        "cluster-signing-cert-file",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ControllerManager,
        "cluster-signing-key-file",
        "hac's PKI (pki.md)",
    ),
    (
        Component::ControllerManager,
        "feature-gates",
        "`featureGates`",
    ),
    (Component::Scheduler, "kubeconfig", "hac's PKI (pki.md)"),
    (
        Component::Scheduler,
        "authentication-kubeconfig",
        "hac's PKI (pki.md)",
    ),
    (
        Component::Scheduler,
        "authorization-kubeconfig",
        "hac's PKI (pki.md)",
    ),
    (Component::Scheduler, "feature-gates", "`featureGates`"),
    (Component::Etcd, "name", "the node's name"),
    (Component::Etcd, "data-dir", "hac's layout (/var/lib/etcd)"),
    (
        Component::Etcd,
        "listen-client-urls",
        "the node's `address`",
    ),
    (
        Component::Etcd,
        "advertise-client-urls",
        "the node's `address`",
    ),
    (Component::Etcd, "listen-peer-urls", "the node's `address`"),
    (
        Component::Etcd,
        "initial-advertise-peer-urls",
        "the node's `address`",
    ),
    (Component::Etcd, "initial-cluster", "the etcd nodes"),
    (
        Component::Etcd,
        "initial-cluster-state",
        "the cluster's lifecycle (the members of a new cluster start as `new`)",
    ),
    (Component::Etcd, "initial-cluster-token", "`name`"),
    (Component::Etcd, "cert-file", "hac's PKI (pki.md)"),
    (Component::Etcd, "key-file", "hac's PKI (pki.md)"),
    (Component::Etcd, "trusted-ca-file", "hac's PKI (pki.md)"),
    (Component::Etcd, "client-cert-auth", "hac's PKI (pki.md)"),
    (Component::Etcd, "peer-cert-file", "hac's PKI (pki.md)"),
    (Component::Etcd, "peer-key-file", "hac's PKI (pki.md)"),
    (
        Component::Etcd,
        "peer-trusted-ca-file",
        "hac's PKI (pki.md)",
    ),
    (
        Component::Etcd,
        "peer-client-cert-auth",
        "hac's PKI (pki.md)",
    ),
    (
        Component::Etcd,
        "feature-gates",
        "hac's etcd hardening (InitialCorruptCheck on etcd 3.6)",
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    ApiServer,
    ControllerManager,
    Scheduler,
    Etcd,
}

impl Component {
    /// The attribute path of the component's `extraArgs`.
    pub fn extra_args_path(self) -> &'static str {
        match self {
            Component::ApiServer => "controlPlane.apiServer.extraArgs",
            Component::ControllerManager => "controlPlane.controllerManager.extraArgs",
            Component::Scheduler => "controlPlane.scheduler.extraArgs",
            Component::Etcd => "etcd.extraArgs",
        }
    }
    /// What controls `flag` when hac sets it on this component.
    pub fn reserved(self, flag: &str) -> Option<&'static str> {
        RESERVED_FLAGS
            .iter()
            .find(|(c, f, _)| *c == self && *f == flag)
            .map(|(_, _, by)| *by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_vip_follows_the_mirror_unless_given() {
        let mut c = Components::default();
        assert_eq!(c.kube_vip_image(), "ghcr.io/kube-vip/kube-vip:v0.8.9");
        c.image_repository = Some("registry.internal/k8s".into());
        assert_eq!(c.kube_vip_image(), "registry.internal/k8s/kube-vip:v0.8.9");
        c.kube_vip_image = Some("example.org/vip:v1".into());
        assert_eq!(c.kube_vip_image(), "example.org/vip:v1");
    }

    #[test]
    fn security_settings_own_their_flags_and_volumes_only_when_set() {
        let mut api = ApiServerSettings::default();
        assert!(api.security_flags().is_empty() && api.security_volumes().is_empty());
        assert_eq!(
            ApiServerSettings::reserved_by_settings(false, false, "audit-log-maxage"),
            None
        );
        assert!(ApiServerSettings::reserved_by_settings(true, false, "audit-log-maxage").is_some());
        assert!(ApiServerSettings::reserved_by_settings(false, true, "oidc-ca-file").is_some());
        assert_eq!(
            Component::ApiServer.reserved("encryption-provider-config"),
            Some("`controlPlane.apiServer.encryption` (its key comes from the secrets file)")
        );
        api.audit = Some(Audit {
            policy: AuditPolicy::Level(AuditLevel::Metadata),
            log_path: "/var/log/kube-audit/audit.log".into(),
            max_age: 1,
            max_backup: 2,
            max_size: 3,
        });
        api.oidc = Some(Oidc {
            issuer_url: "https://id.example".into(),
            client_id: "k".into(),
            username_claim: "sub".into(),
            groups_claim: None,
            username_prefix: None,
            groups_prefix: None,
            ca: None,
        });
        let flags = api.security_flags();
        assert_eq!(flags["audit-log-path"], "/var/log/kube-audit/audit.log");
        assert_eq!(flags["audit-log-maxsize"], "3");
        assert_eq!(flags["oidc-issuer-url"], "https://id.example");
        assert!(!flags.contains_key("oidc-ca-file") && !flags.contains_key("oidc-groups-claim"));
        assert!(!flags.contains_key("encryption-provider-config"));
        let volumes = api.security_volumes();
        assert_eq!(volumes.len(), 2);
        assert!(volumes[0].read_only && volumes[0].path_type == "File");
        assert_eq!(volumes[1].host_path, "/var/log/kube-audit");
        assert!(!volumes[1].read_only && volumes[1].path_type == "DirectoryOrCreate");
    }
}

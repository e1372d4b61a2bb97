//! The Kubernetes components' own settings a cluster file may give (issue 11): extra flags and
//! volumes of the control-plane components and etcd, the image repository, feature gates, the
//! kube-proxy mode and a typed subset of the kubelet's configuration. Empty by default: then
//! hac renders exactly what kubeadm would choose.

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
}

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
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiServerSettings {
    pub extra_args: BTreeMap<String, String>,
    pub extra_volumes: Vec<HostPathMount>,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProxyMode {
    Iptables,
    Ipvs,
    Nftables,
}

impl ProxyMode {
    pub const ALL: [(&'static str, ProxyMode); 3] = [
        ("iptables", ProxyMode::Iptables),
        ("ipvs", ProxyMode::Ipvs),
        ("nftables", ProxyMode::Nftables),
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyMode::Iptables => "iptables",
            ProxyMode::Ipvs => "ipvs",
            ProxyMode::Nftables => "nftables",
        }
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

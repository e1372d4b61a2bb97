//! The attribute schema of a cluster file: every attribute of cluster.md with its type,
//! default, allowed values, the diagnostic codes that check it, a sentence of meaning and a
//! `.ha` example. `hac_check::convert` takes its known and required attribute names, its
//! number ranges and its defaults from here (its readers look up the row), and
//! `hac reference` prints it (as docs/reference.md), so the converter and the documentation
//! cannot drift apart.

use crate::cluster::{
    CloudInitKeys, EtcdTopology, KeyAlgorithm, LoadBalancerKind, Placement, Role,
};
use crate::components::{
    AuditLevel, EncryptionProvider, ProxyMode, DEFAULT_AUDIT_LOG_PATH, DEFAULT_AUDIT_MAX_AGE,
    DEFAULT_AUDIT_MAX_BACKUP, DEFAULT_AUDIT_MAX_SIZE, DEFAULT_KUBE_VIP_VERSION,
    DEFAULT_OIDC_USERNAME_CLAIM, HOST_PATH_TYPES,
};
use crate::derived::{KUBERNETES_MAX, KUBERNETES_MIN};
use crate::hosts::{HostOs, PackageSource, DEFAULT_SSH_PORT};
use std::sync::OnceLock;

/// The etcd minor releases the external units support (their flag spellings are known).
pub const ETCD_MIN: (u32, u32) = (3, 4);
pub const ETCD_MAX: (u32, u32) = (3, 6);

/// `controlPlane.port` when a TCP proxy (haproxy, nginx) shares the control-plane nodes.
pub const DEFAULT_PROXY_PORT: u16 = 8443;
/// `controlPlane.port` otherwise.
pub const DEFAULT_PORT: u16 = 6443;
pub const DEFAULT_ROUTER_ID: i64 = 51;
pub const DEFAULT_SERVICES: &str = "10.96.0.0/12";
/// `pki.expiryWarningDays`: warn this many days before a certificate expires.
pub const DEFAULT_EXPIRY_WARNING_DAYS: u32 = 30;
/// `pki.bootstrapTokenTtlHours`: kubeadm's own default ttl (24h).
pub const DEFAULT_BOOTSTRAP_TOKEN_TTL_HOURS: u32 = 24;

/// Integer ranges the converter enforces (E0106), inclusive.
pub const PORT_RANGE: (i64, i64) = (1, 65535);
pub const VALIDITY_DAYS_RANGE: (i64, i64) = (1, 36500);
pub const ROTATION_RANGE: (i64, i64) = (0, i64::MAX);
/// Ranges the rules enforce (E0402, E0403).
pub const ROUTER_ID_RANGE: (i64, i64) = (1, 255);
pub const PRIORITY_RANGE: (i64, i64) = (1, 254);

/// `controlPlane.apiServer.audit.maxAge`, `maxBackup`, `maxSize` (E0106).
pub const AUDIT_LIMIT_RANGE: (i64, i64) = (0, 100_000);

/// `kubelet.cgroupDriver`.
pub const CGROUP_DRIVERS: [&str; 2] = ["systemd", "cgroupfs"];

/// The effects a taint may have.
pub const TAINT_EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// One attribute set of the cluster file whose attribute names are fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Root,
    ControlPlane,
    ApiServer,
    Volume,
    Encryption,
    Audit,
    Oidc,
    ControllerManager,
    Scheduler,
    LoadBalancer,
    Keepalived,
    KubeVip,
    Etcd,
    Network,
    Cni,
    Pki,
    Kubelet,
    KubeProxy,
    Node,
    Taint,
    Outputs,
    Hosts,
}

impl Section {
    /// In the order of the reference.
    /// (The discriminants follow this order: `keys` and `required` index by them.)
    pub const ALL: [Section; 22] = [
        Section::Root,
        Section::ControlPlane,
        Section::ApiServer,
        Section::Volume,
        Section::Encryption,
        Section::Audit,
        Section::Oidc,
        Section::ControllerManager,
        Section::Scheduler,
        Section::LoadBalancer,
        Section::Keepalived,
        Section::KubeVip,
        Section::Etcd,
        Section::Network,
        Section::Cni,
        Section::Pki,
        Section::Kubelet,
        Section::KubeProxy,
        Section::Node,
        Section::Taint,
        Section::Outputs,
        Section::Hosts,
    ];

    /// The attribute path of the set (`<name>` stands for any node name, `[]` for any list
    /// element); empty for the root.
    pub fn path(self) -> &'static str {
        match self {
            Section::Root => "",
            Section::ControlPlane => "controlPlane",
            Section::LoadBalancer => "controlPlane.loadBalancer",
            Section::Keepalived => "controlPlane.keepalived",
            Section::Etcd => "etcd",
            Section::Network => "network",
            Section::Cni => "network.cni",
            Section::Pki => "pki",
            Section::Node => "nodes.<name>",
            Section::Taint => "nodes.<name>.taints[]",
            Section::Outputs => "outputs",
            Section::ApiServer => "controlPlane.apiServer",
            Section::Volume => "controlPlane.apiServer.extraVolumes[]",
            Section::ControllerManager => "controlPlane.controllerManager",
            Section::Scheduler => "controlPlane.scheduler",
            Section::Kubelet => "kubelet",
            Section::KubeProxy => "kubeProxy",
            Section::Encryption => "controlPlane.apiServer.encryption",
            Section::Audit => "controlPlane.apiServer.audit",
            Section::Oidc => "controlPlane.apiServer.oidc",
            Section::KubeVip => "controlPlane.kubeVip",
            Section::Hosts => "hosts",
        }
    }

    /// What the set is for (Markdown).
    pub fn doc(self) -> &'static str {
        match self {
            Section::Root => "A cluster file evaluates to one attribute set (a function `{ lib, ... }:` is first called with the library). An unknown attribute anywhere is an error (E0103) with a \"did you mean\" hint; a value of the wrong type is E0101; `null` means \"use the default\" for every optional attribute.",
            Section::ControlPlane => "How clients reach the kube-apiservers: the virtual IP, the endpoint, the ports and the certificate's extra names.",
            Section::LoadBalancer => "What holds the VIP and spreads connections over the kube-apiservers.",
            Section::Keepalived => "VRRP settings of keepalived, which moves the VIP (kinds \"haproxy\", \"nginx\" and \"keepalived\"). The VRRP password comes from the secrets file, never from the `.ha` file (E0605: 1 to 8 characters).",
            Section::Etcd => "Where etcd runs. The members are the control-plane nodes when stacked, the nodes with role \"etcd\" when external; their count must be odd and at least 3 (E0201, E0202, E0203; W0201 above 7).",
            Section::Network => "The cluster's address ranges. Node addresses, the pod CIDR and the service CIDR must not overlap (E0307).",
            Section::Cni => "The pod network (CNI) the cluster starts with. Without it, `kubeadm init` leaves every node NotReady (and CoreDNS Pending) until an operator applies one. The manifest is read at build time, like an import (relative to the cluster file, inside the sandbox that `--allow-path` widens, never a secrets file), and carried in the first control plane's archive at `/etc/kubernetes/hac/cni.yaml` (0644); `bootstrap.sh` applies it once after `kubeadm init` (`kubectl apply --server-side`, bounded retries, the marker `/etc/kubernetes/hac/cni.applied`). Nothing is downloaded at boot: images the manifest names are pulled by the kubelet as usual (mirror them for air-gapped clusters).",
            Section::Pki => "How the certificates are issued. Every key is derived from the secrets file's root secret, so the same inputs give the same certificates.",
            Section::Node => "Each attribute of `nodes` is one node. Its name is the hostname, the etcd member name and the certificates' name: a DNS-1123 label (E0303), unique (E0302). `lib.nodes` generates numbered nodes.",
            Section::Taint => "One element of a node's `taints` list.",
            Section::Outputs => "Which provisioning files the bundle holds besides the per-host archives.",
            Section::ApiServer => "Extra flags and host folders of every kube-apiserver (kubeadm's `apiServer`). A flag hac sets itself (certificates, etcd servers, advertise address, service range, feature gates) is refused (E0108) with the attribute that controls it; flags that weaken the cluster warn (W0801).",
            Section::Volume => "One host path mounted into every kube-apiserver's static pod (kubeadm's `HostPathMount`).",
            Section::ControllerManager => "Extra flags of every kube-controller-manager. hac's own flags (pod and service ranges, node mask, cluster name, signing keys, feature gates) are refused (E0108).",
            Section::Scheduler => "Extra flags of every kube-scheduler. hac's own flags (kubeconfigs, feature gates) are refused (E0108).",
            Section::Kubelet => "The kubelet's configuration (a `KubeletConfiguration` document beside `kubeadm init`'s, which kubeadm hands every node at join). Unset fields keep kubeadm's defaults; the feature gates come from `featureGates`.",
            Section::KubeProxy => "kube-proxy's configuration (a `KubeProxyConfiguration` document uploaded by `kubeadm init`).",
            Section::Encryption => "Encryption at rest: kube-apiserver encrypts the listed resources before they reach etcd. hac writes an `EncryptionConfiguration` (mode 0600) to every control plane, and to no other host, at `/etc/kubernetes/pki/encryption-config.yaml` (kubeadm already mounts that folder read-only into kube-apiserver), with a 32-byte key derived from the secrets file's root secret. `--encryption-provider-config` is then hac's (E0108). To rotate: bump `rotation` and apply on every control plane (the new key encrypts, the previous one still decrypts, `identity` last reads data written before encryption was on), then rewrite every object once: `kubectl get secrets -A -o json | kubectl replace -f -`.",
            Section::Audit => "The kube-apiserver audit log: a policy file on every control plane (`/etc/kubernetes/audit-policy.yaml`, mounted read-only) and the log folder mounted read-write. When set, the `audit-*` flags it controls are hac's (E0108).",
            Section::Oidc => "OpenID Connect authentication of users by kube-apiserver (`--oidc-*` flags, hac's when set: E0108). Without `audit` it warns (W0802): logins from outside the cluster should leave a trace.",
            Section::Hosts => "How `hac` turns a blank Debian or Ubuntu host into a node (`/etc/hac/prepare.sh`, the `prepare` phase of `bootstrap.sh`): kubelet, kubeadm and kubectl pinned to `kubernetesVersion` and held, containerd with the systemd cgroup driver and kubeadm's pause image, crictl, and keepalived / haproxy / nginx where the node's roles need them (an external etcd member's binary is checked, and installed from the distribution when `etcd.binary` is `/usr/bin/etcd`); swap off for good; and, opt-in, an nftables firewall derived from the topology. A node's `hosts` overrides these attributes for that node.",
            Section::KubeVip => "The kube-vip image of load balancer kind \"kube-vip\". Without it hac pins `ghcr.io/kube-vip/kube-vip:v0.8.9`, or `<imageRepository>/kube-vip:v0.8.9` when `imageRepository` is set (an air-gapped cluster mirrors every image into one registry).",
        }
    }

    /// The attribute names of the set, in the order of the schema (the order hints list them in).
    pub fn keys(self) -> &'static [&'static str] {
        static KEYS: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
        let all = KEYS.get_or_init(|| {
            Section::ALL
                .iter()
                .map(|s| attributes_of(*s).map(|a| a.key).collect())
                .collect()
        });
        all.get(self as usize).map_or(&[], Vec::as_slice)
    }

    /// The attributes of the set that must be present (E0102).
    pub fn required(self) -> &'static [&'static str] {
        static REQUIRED: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
        let all = REQUIRED.get_or_init(|| {
            Section::ALL
                .iter()
                .map(|s| {
                    attributes_of(*s)
                        .filter(|a| a.default == DefaultValue::Required)
                        .map(|a| a.key)
                        .collect()
                })
                .collect()
        });
        all.get(self as usize).map_or(&[], Vec::as_slice)
    }
}

/// The value an absent (or `null`) attribute takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultValue {
    /// Absent or `null` is an error (E0102).
    Required,
    /// Required only in some configurations (the prose says when).
    RequiredWhen(&'static str),
    Int(i64),
    Bool(bool),
    Str(&'static str),
    EmptyList,
    EmptySet,
    /// An attribute set whose attributes take their own defaults.
    Defaults,
    /// Absent means "none"; the prose says what that does.
    Unset(&'static str),
    /// Computed from other attributes (the prose says how).
    Computed(&'static str),
}

/// The values an attribute accepts beyond its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowed {
    Any,
    /// One of these strings (for a list: each element one of them).
    OneOf(&'static [&'static str]),
    /// An integer in this inclusive range.
    IntRange(i64, i64),
    /// A `MAJOR.MINOR.PATCH` version whose minor release lies in this inclusive range.
    Versions((u32, u32), (u32, u32)),
    /// Prose.
    Text(&'static str),
}

/// One attribute of a cluster file.
#[derive(Clone, Copy, Debug)]
pub struct Attribute {
    pub section: Section,
    pub key: &'static str,
    /// The `.ha` type, in words.
    pub ty: &'static str,
    pub default: DefaultValue,
    pub allowed: Allowed,
    /// The diagnostic codes that check this attribute (conversion first, then rules).
    pub codes: &'static [&'static str],
    /// What it means (Markdown, one or two sentences).
    pub doc: &'static str,
    /// `.ha` bindings that set it, as written inside the cluster's attribute set (node
    /// attributes use the node `master-0`).
    pub example: &'static str,
}

impl Attribute {
    /// The full attribute path, e.g. `controlPlane.loadBalancer.kind`, `nodes.<name>.roles`.
    pub fn path(&self) -> String {
        match self.section.path() {
            "" => self.key.to_string(),
            p => format!("{p}.{}", self.key),
        }
    }
}

/// The attributes of one set, in schema order.
pub fn attributes_of(section: Section) -> impl Iterator<Item = &'static Attribute> {
    ATTRIBUTES.iter().filter(move |a| a.section == section)
}

/// The attribute at `section`.`key`, if the schema has it.
pub fn attribute(section: Section, key: &str) -> Option<&'static Attribute> {
    attributes_of(section).find(|a| a.key == key)
}

/// The largest CNI manifest read (`network.cni.manifest`): Calico's tigera-operator with its
/// CRDs is about 1.5 MiB.
pub const CNI_MANIFEST_LIMIT: u64 = 4 << 20;

const SET: &str = "attribute set";

/// Every attribute, grouped by section in reference order; within a section in the order
/// the converter lists them in hints.
pub const ATTRIBUTES: &[Attribute] = &[
    // -- the cluster ---------------------------------------------------------------------
    Attribute {
        section: Section::Root,
        key: "name",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("a DNS-1123 label: 1 to 63 of `a-z`, `0-9`, `-`, starting and ending with a letter or digit"),
        codes: &["E0102", "E0101", "E0303", "E0611"],
        doc: "The cluster's name: kubeadm's `clusterName`, the default output folder `out/<name>`, and the name `hac secrets init` records in the secrets file (a secrets file of another cluster is refused, E0611).",
        example: "name = \"prod\";",
    },
    Attribute {
        section: Section::Root,
        key: "kubernetesVersion",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Versions(KUBERNETES_MIN, KUBERNETES_MAX),
        codes: &["E0102", "E0101", "E0105", "E0501"],
        doc: "The Kubernetes release (a `v` prefix is accepted). It picks kubeadm's config API (v1beta3 for 1.22–1.30, v1beta4 from 1.31), the default `etcd.version` and the version-dependent details (the `O` of admin certificates, `super-admin.conf` from 1.29).",
        example: "kubernetesVersion = \"1.30.2\";",
    },
    Attribute {
        section: Section::Root,
        key: "epoch",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("an RFC 3339 timestamp with a zone (`Z` or `+hh:mm`), not before 1970"),
        codes: &["E0102", "E0101", "E0105", "W0501"],
        doc: "The notBefore of every certificate and the modification time of every archived file: the build reads no clock, so the same inputs give the same bytes. `hac build` warns when the certificates are not valid at build time (W0501).",
        example: "epoch = \"2026-01-01T00:00:00Z\";",
    },
    Attribute {
        section: Section::Root,
        key: "controlPlane",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "The control-plane endpoint, ports and load balancer (see `controlPlane.*`).",
        example: "controlPlane = { vip = \"10.0.2.100\"; port = 8443; };",
    },
    Attribute {
        section: Section::Root,
        key: "etcd",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "The etcd topology and release (see `etcd.*`).",
        example: "etcd = { topology = \"stacked\"; };",
    },
    Attribute {
        section: Section::Root,
        key: "network",
        ty: SET,
        default: DefaultValue::Required,
        allowed: Allowed::Any,
        codes: &["E0102", "E0101", "E0103"],
        doc: "The pod and service address ranges (see `network.*`); `network.pods` is required.",
        example: "network = { pods = \"10.244.0.0/16\"; services = \"10.96.0.0/12\"; };",
    },
    Attribute {
        section: Section::Root,
        key: "pki",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "The key algorithm and certificate lifetimes (see `pki.*`).",
        example: "pki = { algorithm = \"ecdsa-p384\"; };",
    },
    Attribute {
        section: Section::Root,
        key: "nodes",
        ty: "attribute set of nodes (hostname = { … })",
        default: DefaultValue::Required,
        allowed: Allowed::Any,
        codes: &["E0102", "E0101", "E0303", "E0302", "E0206"],
        doc: "Every machine of the cluster, by hostname (see `nodes.<name>.*`): each name is a DNS-1123 label.",
        example: "nodes = lib.nodes { prefix = \"master\"; count = 3; first = \"10.0.2.10/24\"; roles = [ \"control-plane\" ]; };",
    },
    Attribute {
        section: Section::Root,
        key: "outputs",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "Which provisioning files to emit (see `outputs.*`).",
        example: "outputs = { ansible = false; };",
    },
    Attribute {
        section: Section::Root,
        key: "imageRepository",
        ty: "string or null",
        default: DefaultValue::Unset("kubeadm's `registry.k8s.io`"),
        allowed: Allowed::Text("a registry host and path without scheme or trailing `/`"),
        codes: &["E0101", "E0107"],
        doc: "Where every control-plane, etcd and pause image is pulled from (kubeadm's `imageRepository`): for air-gapped clusters, a mirror of `registry.k8s.io`.",
        example: "imageRepository = \"registry.internal:5000/k8s\";",
    },
    Attribute {
        section: Section::Root,
        key: "featureGates",
        ty: "attribute set of booleans",
        default: DefaultValue::EmptySet,
        allowed: Allowed::Text("CamelCase feature names"),
        codes: &["E0101", "E0107"],
        doc: "Feature gates of every component: `--feature-gates` of the apiserver, controller-manager and scheduler, and `featureGates` of the kubelet's and kube-proxy's configuration.",
        example: "featureGates = { InPlacePodVerticalScaling = true; };",
    },
    Attribute {
        section: Section::Root,
        key: "kubelet",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "The kubelet's configuration (see `kubelet.*`).",
        example: "kubelet = { maxPods = 150; };",
    },
    Attribute {
        section: Section::Root,
        key: "kubeProxy",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "kube-proxy's configuration (see `kubeProxy.*`).",
        example: "kubeProxy = { mode = \"ipvs\"; };",
    },
    Attribute {
        section: Section::Root,
        key: "hosts",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "How blank hosts are prepared: packages, container runtime, swap, firewall (see `hosts.*`).",
        example: "hosts = { packages = \"mirror\"; mirror = \"https://apt.internal/k8s/v1.30/\"; };",
    },
    // -- controlPlane --------------------------------------------------------------------
    Attribute {
        section: Section::ControlPlane,
        key: "vip",
        ty: "string",
        default: DefaultValue::RequiredWhen("required unless `loadBalancer.kind` is \"external\", where it must be unset"),
        allowed: Allowed::Text("an IPv4 address: a free, usable host address in the subnet of every VIP holder, outside the pod and service CIDRs"),
        codes: &["E0101", "E0105", "E0410", "E0413", "E0304", "E0305", "E0306"],
        doc: "The virtual IP that keepalived (or kube-vip) moves to a healthy node; the default control-plane endpoint.",
        example: "controlPlane.vip = \"10.0.2.100\";",
    },
    Attribute {
        section: Section::ControlPlane,
        key: "endpoint",
        ty: "string or null",
        default: DefaultValue::Computed("the VIP (with kind \"external\": `loadBalancer.address`)"),
        allowed: Allowed::Text("a DNS name (lower case) or an IPv4 address, without a port"),
        codes: &["E0101", "E0311"],
        doc: "The host of kubeadm's `controlPlaneEndpoint` and of every kubeconfig's server. It is always among the apiserver certificate's SANs.",
        example: "controlPlane.endpoint = \"k8s.example.internal\";",
    },
    Attribute {
        section: Section::ControlPlane,
        key: "port",
        ty: "integer",
        default: DefaultValue::Computed("8443 when a \"haproxy\" or \"nginx\" load balancer has placement \"control-plane\", else 6443"),
        allowed: Allowed::IntRange(PORT_RANGE.0, PORT_RANGE.1),
        codes: &["E0101", "E0106", "E0408", "E0411"],
        doc: "The port clients dial at the endpoint. A load balancer on the control-plane nodes cannot share `apiServerPort` (E0408); kinds \"keepalived\" and \"kube-vip\" lead straight to kube-apiserver, so there it must equal `apiServerPort` (E0411).",
        example: "controlPlane.port = 8443;",
    },
    Attribute {
        section: Section::ControlPlane,
        key: "apiServerPort",
        ty: "integer",
        default: DefaultValue::Int(6443),
        allowed: Allowed::IntRange(PORT_RANGE.0, PORT_RANGE.1),
        codes: &["E0101", "E0106", "E0408", "E0411"],
        doc: "The port each kube-apiserver binds.",
        example: "controlPlane.apiServerPort = 6443;",
    },
    Attribute {
        section: Section::ControlPlane,
        key: "certSANs",
        ty: "list of strings",
        default: DefaultValue::EmptyList,
        allowed: Allowed::Text("IPv4 addresses and DNS names (a `*.` wildcard first label is allowed)"),
        codes: &["E0101", "E0310"],
        doc: "Extra names and addresses of the kube-apiserver certificate, after the endpoint, the VIP, every control plane's name and address, the first service IP and the `kubernetes.default…` names, which are always there.",
        example: "controlPlane.certSANs = [ \"k8s.example.com\" \"203.0.113.10\" ];",
    },
    Attribute {
        section: Section::ControlPlane,
        key: "loadBalancer",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "What holds the VIP (see `controlPlane.loadBalancer.*`).",
        example: "controlPlane.loadBalancer = { kind = \"haproxy\"; placement = \"control-plane\"; };",
    },
    Attribute {
        section: Section::ControlPlane,
        key: "keepalived",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "VRRP settings (see `controlPlane.keepalived.*`).",
        example: "controlPlane.keepalived = { routerId = 52; unicast = true; };",
    },
    Attribute {
        section: Section::ControlPlane,
        key: "apiServer",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "Extra flags and volumes of the kube-apiservers (see `controlPlane.apiServer.*`).",
        example: "controlPlane.apiServer = { extraArgs = { audit-log-maxage = 30; }; };",
    },
    Attribute {
        section: Section::ControlPlane,
        key: "controllerManager",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "Extra flags of the kube-controller-managers (see `controlPlane.controllerManager.*`).",
        example: "controlPlane.controllerManager = { extraArgs = { terminated-pod-gc-threshold = 500; }; };",
    },
    Attribute {
        section: Section::ControlPlane,
        key: "scheduler",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "Extra flags of the kube-schedulers (see `controlPlane.scheduler.*`).",
        example: "controlPlane.scheduler = { extraArgs = { v = 2; }; };",
    },
    Attribute {
        section: Section::ControlPlane,
        key: "kubeVip",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "The kube-vip image (see `controlPlane.kubeVip.*`).",
        example: "controlPlane.kubeVip = { image = \"registry.internal/kube-vip\"; version = \"v0.8.9\"; };",
    },
    // -- controlPlane.loadBalancer ---------------------------------------------------------
    Attribute {
        section: Section::LoadBalancer,
        key: "kind",
        ty: "string",
        default: DefaultValue::Str(LoadBalancerKind::DEFAULT_NAME),
        allowed: Allowed::OneOf(&LoadBalancerKind::NAMES),
        codes: &["E0101", "E0104", "E0409", "E0410", "E0411", "E0412", "E0413"],
        doc: "\"haproxy\" or \"nginx\": a TCP load balancer beside keepalived, which holds the VIP; \"keepalived\": the VIP alone, moving to a healthy master; \"kube-vip\": a kube-vip static pod on every master holds the VIP; \"external\": an existing load balancer at `address`, no VIP managed.",
        example: "controlPlane.loadBalancer.kind = \"nginx\";",
    },
    Attribute {
        section: Section::LoadBalancer,
        key: "placement",
        ty: "string",
        default: DefaultValue::Str(Placement::DEFAULT_NAME),
        allowed: Allowed::OneOf(&Placement::NAMES),
        codes: &["E0101", "E0104", "E0209", "E0401", "E0412", "W0401"],
        doc: "\"control-plane\": the load balancer runs on the masters; \"dedicated\": on the nodes with role \"load-balancer\" (kinds \"haproxy\" and \"nginx\" only; one such node is a single point of failure, W0401).",
        example: "controlPlane.loadBalancer.placement = \"control-plane\";",
    },
    Attribute {
        section: Section::LoadBalancer,
        key: "address",
        ty: "string or null",
        default: DefaultValue::Unset("none; required with kind \"external\" (E0409)"),
        allowed: Allowed::Text("a DNS name or an IPv4 address, without a port"),
        codes: &["E0101", "E0409", "E0311", "E0413"],
        doc: "With kind \"external\": the existing load balancer's address, the default endpoint and a SAN of the apiserver certificate.",
        example: "controlPlane.loadBalancer = { kind = \"external\"; address = \"lb.example.com\"; };",
    },
    // -- controlPlane.keepalived -----------------------------------------------------------
    Attribute {
        section: Section::Keepalived,
        key: "routerId",
        ty: "integer",
        default: DefaultValue::Int(DEFAULT_ROUTER_ID),
        allowed: Allowed::IntRange(ROUTER_ID_RANGE.0, ROUTER_ID_RANGE.1),
        codes: &["E0101", "E0402"],
        doc: "VRRP's `virtual_router_id`; it must differ from every other VRRP instance on the same network.",
        example: "controlPlane.keepalived.routerId = 52;",
    },
    Attribute {
        section: Section::Keepalived,
        key: "unicast",
        ty: "boolean",
        default: DefaultValue::Bool(false),
        allowed: Allowed::Any,
        codes: &["E0101"],
        doc: "`true`: VRRP by unicast to the listed peers (`unicast_src_ip`, `unicast_peer`), for networks without multicast, as most clouds.",
        example: "controlPlane.keepalived.unicast = true;",
    },
    // -- etcd ----------------------------------------------------------------------------
    Attribute {
        section: Section::Etcd,
        key: "topology",
        ty: "string",
        default: DefaultValue::Str(EtcdTopology::DEFAULT_NAME),
        allowed: Allowed::OneOf(&EtcdTopology::NAMES),
        codes: &["E0101", "E0104", "E0204", "E0205", "E0206", "E0207"],
        doc: "\"stacked\": kubeadm runs etcd as static pods on the control-plane nodes (at least 3); \"external\": etcd runs as a systemd unit on every node with role \"etcd\" (at least 3, with at least 2 control planes).",
        example: "etcd.topology = \"stacked\";",
    },
    Attribute {
        section: Section::Etcd,
        key: "version",
        ty: "string",
        default: DefaultValue::Computed("the etcd release kubeadm deploys for `kubernetesVersion` (3.5.16 for 1.30)"),
        allowed: Allowed::Versions(ETCD_MIN, ETCD_MAX),
        codes: &["E0101", "E0105", "E0503"],
        doc: "The etcd release the external units target: flag spellings differ between releases.",
        example: "etcd.version = \"3.5.17\";",
    },
    Attribute {
        section: Section::Etcd,
        key: "binary",
        ty: "string",
        default: DefaultValue::Str("/usr/local/bin/etcd"),
        allowed: Allowed::Text("an absolute path of plain characters (letters, digits, `_ . / - +`)"),
        codes: &["E0101", "E0107"],
        doc: "Where the external etcd units find etcd.",
        example: "etcd.binary = \"/opt/etcd/bin/etcd\";",
    },
    Attribute {
        section: Section::Etcd,
        key: "extraArgs",
        ty: "attribute set of strings, integers or booleans",
        default: DefaultValue::EmptySet,
        allowed: Allowed::Text("flag names without `--`; values without spaces, quotes, `\\`, `%`, `$` or `;` (they go into a systemd unit); not a flag hac sets (member names and URLs, the initial cluster, certificates, data dir, feature gates)"),
        codes: &["E0101", "E0107", "E0108", "W0801"],
        doc: "Extra flags of every etcd member: in kubeadm's `etcd.local.extraArgs` when stacked, on the `ExecStart` line of `etcd.service` when external.",
        example: "etcd.extraArgs = { quota-backend-bytes = 8589934592; };",
    },
    // -- network -------------------------------------------------------------------------
    Attribute {
        section: Section::Network,
        key: "pods",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("an IPv4 CIDR without host bits, holding one `nodeMaskSize` subnet per node"),
        codes: &["E0102", "E0101", "E0105", "E0307", "E0309", "E0306"],
        doc: "kubeadm's `podSubnet`.",
        example: "network.pods = \"10.244.0.0/16\";",
    },
    Attribute {
        section: Section::Network,
        key: "services",
        ty: "string",
        default: DefaultValue::Str(DEFAULT_SERVICES),
        allowed: Allowed::Text("an IPv4 CIDR without host bits, at most a /12"),
        codes: &["E0101", "E0105", "E0307", "E0308", "E0306"],
        doc: "kubeadm's `serviceSubnet`; its first address is a SAN of the apiserver certificate.",
        example: "network.services = \"10.96.0.0/12\";",
    },
    Attribute {
        section: Section::Network,
        key: "dnsDomain",
        ty: "string",
        default: DefaultValue::Str("cluster.local"),
        allowed: Allowed::Text("a DNS-1123 subdomain"),
        codes: &["E0101", "E0313"],
        doc: "The cluster's DNS domain (kubeadm's `dnsDomain`).",
        example: "network.dnsDomain = \"cluster.local\";",
    },
    Attribute {
        section: Section::Network,
        key: "nodeMaskSize",
        ty: "integer",
        default: DefaultValue::Int(24),
        allowed: Allowed::IntRange(1, 32),
        codes: &["E0101", "E0106", "E0309"],
        doc: "The prefix length of each node's pod subnet: at least the pod CIDR's, at most 16 bits longer.",
        example: "network.nodeMaskSize = 24;",
    },
    Attribute {
        section: Section::Network,
        key: "cni",
        ty: SET,
        default: DefaultValue::Unset("no CNI: the nodes stay NotReady until one is applied"),
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "The pod network manifest applied once after `kubeadm init` (see `network.cni.*`).",
        example: "network.cni = { manifest = \"calico.yaml\"; };",
    },
    // -- network.cni ---------------------------------------------------------------------
    Attribute {
        section: Section::Cni,
        key: "manifest",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("a path relative to the cluster file (or absolute under an `--allow-path` directory) of a UTF-8 Kubernetes manifest (YAML or JSON with `apiVersion` and `kind`) of at most 4 MiB; never a secrets file"),
        codes: &["E0102", "E0101", "E0109", "E0110", "E0111", "E0610"],
        doc: "The CNI's manifest (e.g. Calico's `calico.yaml` or `helm template cilium …` output), checked into git beside the cluster file. Its pod CIDR settings must agree with `network.pods`.",
        example: "network.cni.manifest = \"calico.yaml\";",
    },
    // -- pki -----------------------------------------------------------------------------
    Attribute {
        section: Section::Pki,
        key: "algorithm",
        ty: "string",
        default: DefaultValue::Str(KeyAlgorithm::DEFAULT_NAME),
        allowed: Allowed::OneOf(&KeyAlgorithm::NAMES),
        codes: &["E0101", "E0104"],
        doc: "The key type of every CA and leaf certificate.",
        example: "pki.algorithm = \"rsa-2048\";",
    },
    Attribute {
        section: Section::Pki,
        key: "caValidityDays",
        ty: "integer",
        default: DefaultValue::Int(3650),
        allowed: Allowed::IntRange(VALIDITY_DAYS_RANGE.0, VALIDITY_DAYS_RANGE.1),
        codes: &["E0101", "E0106", "E0502"],
        doc: "How long the CAs are valid, from `epoch`.",
        example: "pki.caValidityDays = 3650;",
    },
    Attribute {
        section: Section::Pki,
        key: "certValidityDays",
        ty: "integer",
        default: DefaultValue::Int(365),
        allowed: Allowed::IntRange(VALIDITY_DAYS_RANGE.0, VALIDITY_DAYS_RANGE.1),
        codes: &["E0101", "E0106", "E0502", "W0501"],
        doc: "How long the leaf certificates are valid, from `epoch`; no longer than `caValidityDays`.",
        example: "pki.certValidityDays = 365;",
    },
    Attribute {
        section: Section::Pki,
        key: "rotation",
        ty: "integer",
        default: DefaultValue::Int(0),
        allowed: Allowed::IntRange(ROTATION_RANGE.0, ROTATION_RANGE.1),
        codes: &["E0101", "E0106"],
        doc: "Bump it to issue new leaf keys and certificates under the same CAs.",
        example: "pki.rotation = 1;",
    },
    Attribute {
        section: Section::Pki,
        key: "caRotation",
        ty: "integer",
        default: DefaultValue::Int(0),
        allowed: Allowed::IntRange(ROTATION_RANGE.0, ROTATION_RANGE.1),
        codes: &["E0101", "E0106", "E0909"],
        doc: "Bump it to give the three CAs new keys (a CA rotation): build with `--from` the running bundle, whose trust files then hold the old CAs beside the new ones, and apply `hac plan`; then build again with `--from` the new bundle to drop the old CAs (docs/plan.md).",
        example: "pki.caRotation = 1;",
    },
    Attribute {
        section: Section::Pki,
        key: "leafEpoch",
        ty: "string",
        default: DefaultValue::Unset("`epoch`"),
        allowed: Allowed::Text("an RFC 3339 timestamp, not before `epoch`"),
        codes: &["E0101", "E0105", "E0502"],
        doc: "The notBefore of the leaf certificates when it is not `epoch`: moving it renews every leaf (new validity window, new serials) under the same CAs, which `hac plan` rolls out host by host. The leaves' window (`leafEpoch` + `certValidityDays`) must lie within the CAs' (`epoch` + `caValidityDays`).",
        example: "pki.leafEpoch = \"2026-12-01T00:00:00Z\";",
    },
    Attribute {
        section: Section::Pki,
        key: "expiryWarningDays",
        ty: "integer",
        default: DefaultValue::Int(DEFAULT_EXPIRY_WARNING_DAYS as i64),
        allowed: Allowed::IntRange(0, 36500),
        codes: &["E0101", "E0106", "W0502", "E0504"],
        doc: "`hac check` and `hac build` warn (W0502) when a certificate expires within this many days; an already expired one is refused (E0504) unless `--allow-expired`. 0 turns the early warning off.",
        example: "pki.expiryWarningDays = 60;",
    },
    Attribute {
        section: Section::Pki,
        key: "bootstrapTokenTtlHours",
        ty: "integer",
        default: DefaultValue::Int(DEFAULT_BOOTSTRAP_TOKEN_TTL_HOURS as i64),
        allowed: Allowed::IntRange(0, 8784), // up to a year (366 days)
        codes: &["E0101", "E0106"],
        doc: "The lifetime of the kubeadm bootstrap token (its `ttl` in the InitConfiguration), counted from `kubeadm init`; 0: it never expires. Joins after it expires need a fresh token (`kubeadm token create`, which `hac plan` orders). Recorded in `state.json`.",
        example: "pki.bootstrapTokenTtlHours = 2;",
    },
    // -- nodes.<name> --------------------------------------------------------------------
    Attribute {
        section: Section::Node,
        key: "roles",
        ty: "list of strings",
        default: DefaultValue::Required,
        allowed: Allowed::OneOf(&Role::NAMES),
        codes: &["E0102", "E0101", "E0104", "E0208", "E0207", "E0209", "E0201", "E0202", "E0203", "W0201"],
        doc: "What the node runs; at least one role. \"etcd\" only with the external topology; \"load-balancer\" only with placement \"dedicated\"; a control plane that is also a \"worker\" is left untainted.",
        example: "nodes.master-0.roles = [ \"control-plane\" \"worker\" ];",
    },
    Attribute {
        section: Section::Node,
        key: "address",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("an IPv4 address with its prefix length (the prefix places the VIP); a bare address is accepted where no VIP must fit its subnet"),
        codes: &["E0102", "E0101", "E0105", "E0301", "E0312", "E0304", "E0305", "E0307"],
        doc: "The node's address, unique among the nodes.",
        example: "nodes.master-0.address = \"10.0.2.10/24\";",
    },
    Attribute {
        section: Section::Node,
        key: "interface",
        ty: "string",
        default: DefaultValue::Unset("detected at boot: the interface that holds the node's address"),
        allowed: Allowed::Text("a Linux interface name: 1 to 15 of letters, digits, `_ . -`"),
        codes: &["E0101", "E0107"],
        doc: "The interface keepalived binds (and kube-vip announces the VIP on). Unset, `bootstrap.sh` finds at boot, before it starts keepalived, the interface that holds the node's address (`ip -o -4 addr show to ADDRESS`), writes it to `/etc/keepalived/hac-interface.conf` (which `keepalived.conf` includes) and logs it; it stops with exit code 1 when no interface holds the address. kube-vip without an interface picks the interface of the default route itself: name it on hosts with several interfaces.",
        example: "nodes.master-0.interface = \"ens3\";",
    },
    Attribute {
        section: Section::Node,
        key: "zone",
        ty: "string or null",
        default: DefaultValue::Unset("no zone"),
        allowed: Allowed::Text("a Kubernetes label value (it becomes the label `topology.kubernetes.io/zone`)"),
        codes: &["E0101", "E0107", "W0202"],
        doc: "The failure domain. Where nodes name zones, `hac check` reports whether losing each zone keeps etcd quorum, a kube-apiserver and a VIP holder (W0202 when it does not).",
        example: "nodes.master-0.zone = \"europe-west1-b\";",
    },
    Attribute {
        section: Section::Node,
        key: "priority",
        ty: "integer or null",
        default: DefaultValue::Computed("150, 140, 130, … over the VIP holders in name order (never below 1)"),
        allowed: Allowed::IntRange(PRIORITY_RANGE.0, PRIORITY_RANGE.1),
        codes: &["E0101", "E0403", "E0404", "E0405", "E0406"],
        doc: "keepalived's priority: unique, exactly one highest (the initial MASTER), and close enough that a failed health check (weight −20) drops the holder below the next one.",
        example: "nodes.master-0.priority = 150;",
    },
    Attribute {
        section: Section::Node,
        key: "labels",
        ty: "attribute set of strings",
        default: DefaultValue::EmptySet,
        allowed: Allowed::Text("names: Kubernetes qualified names the kubelet may set (not under `kubernetes.io` or `k8s.io` except its own); values: label values"),
        codes: &["E0101", "E0107", "E0314"],
        doc: "Node labels, passed to kubeadm's `nodeRegistration` (the kubelet's `--node-labels`).",
        example: "nodes.master-0.labels = { \"node.example.com/pool\" = \"system\"; };",
    },
    Attribute {
        section: Section::Node,
        key: "taints",
        ty: "list of taints, or null",
        default: DefaultValue::Unset("kubeadm's default (`node-role.kubernetes.io/control-plane:NoSchedule` on control-plane nodes)"),
        allowed: Allowed::Any,
        codes: &["E0101"],
        doc: "The node's taints (see `nodes.<name>.taints[].*`); `[ ]` removes every taint. A control-plane node that is also a worker is always left untainted, whatever this says.",
        example: "nodes.master-0.taints = [ { key = \"dedicated\"; value = \"infra\"; effect = \"NoSchedule\"; } ];",
    },
    Attribute {
        section: Section::Node,
        key: "kubelet",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Text("the attributes of `kubelet.*`"),
        codes: &["E0101", "E0103", "E0106", "E0107"],
        doc: "This node's overrides of the cluster's `kubelet` settings, written as a kubeadm patch on the node (`etc/kubernetes/patches/kubeletconfiguration+merge.yaml`, applied by `kubeadm init`/`join` on top of the cluster's KubeletConfiguration).",
        example: "nodes.master-0.kubelet = { maxPods = 250; systemReserved = { memory = \"2Gi\"; }; };",
    },
    Attribute {
        section: Section::Node,
        key: "hosts",
        ty: SET,
        default: DefaultValue::Defaults,
        allowed: Allowed::Text("the attributes of `hosts.*`"),
        codes: &["E0101", "E0103", "E0104", "E0106", "E0107"],
        doc: "This node's overrides of the cluster's `hosts` settings (e.g. an image with the packages preinstalled, or another SSH port).",
        example: "nodes.master-0.hosts = { packages = \"preinstalled\"; sshPort = 2222; };",
    },
    // -- taints ----------------------------------------------------------------------------
    Attribute {
        section: Section::Taint,
        key: "key",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("a Kubernetes qualified name"),
        codes: &["E0102", "E0101", "E0107"],
        doc: "The taint's key.",
        example: "nodes.master-0.taints = [ { key = \"dedicated\"; effect = \"NoSchedule\"; } ];",
    },
    Attribute {
        section: Section::Taint,
        key: "value",
        ty: "string or null",
        default: DefaultValue::Unset("no value"),
        allowed: Allowed::Text("a Kubernetes label value"),
        codes: &["E0101", "E0107"],
        doc: "The taint's value.",
        example: "nodes.master-0.taints = [ { key = \"dedicated\"; value = \"infra\"; effect = \"NoSchedule\"; } ];",
    },
    Attribute {
        section: Section::Taint,
        key: "effect",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::OneOf(&TAINT_EFFECTS),
        codes: &["E0102", "E0101", "E0104"],
        doc: "What the taint does to pods that do not tolerate it.",
        example: "nodes.master-0.taints = [ { key = \"gpu\"; effect = \"NoExecute\"; } ];",
    },
    // -- outputs -------------------------------------------------------------------------
    Attribute {
        section: Section::Outputs,
        key: "cloudInit",
        ty: "boolean",
        default: DefaultValue::Bool(true),
        allowed: Allowed::Any,
        codes: &["E0101", "W0701"],
        doc: "Emit cloud-init user-data per host (`cloud-init/<node>.yaml`).",
        example: "outputs.cloudInit = false;",
    },
    Attribute {
        section: Section::Outputs,
        key: "ansible",
        ty: "boolean",
        default: DefaultValue::Bool(true),
        allowed: Allowed::Any,
        codes: &["E0101"],
        doc: "Emit an Ansible inventory and playbook (`ansible/`).",
        example: "outputs.ansible = false;",
    },
    Attribute {
        section: Section::Outputs,
        key: "cloudInitKeys",
        ty: "string",
        default: DefaultValue::Str(CloudInitKeys::DEFAULT_NAME),
        allowed: Allowed::OneOf(&CloudInitKeys::NAMES),
        codes: &["E0101", "E0104", "W0706"],
        doc: "Where the user-data's private files (keys, kubeconfigs, the bootstrap token, `keepalived.conf`) go. Most clouds serve user-data to anything on the instance that reaches the metadata service. \"separate\" leaves them out: `cloud-init/<node>-keys.tar.gz` (0600) holds them, and the node's `bootstrap.sh` waits (bounded, logged) for it at `/root/hac-keys.tar.gz` (copy it with scp or a secrets manager), unpacks it and deletes it. \"inline\" writes them into the user-data (gz+b64) and warns (W0706).",
        example: "outputs.cloudInitKeys = \"inline\";",
    },
    // -- controlPlane.apiServer ------------------------------------------------------------
    Attribute {
        section: Section::ApiServer,
        key: "extraArgs",
        ty: "attribute set of strings, integers or booleans",
        default: DefaultValue::EmptySet,
        allowed: Allowed::Text("flag names without `--`; not a flag hac sets"),
        codes: &["E0101", "E0107", "E0108", "W0801"],
        doc: "Extra kube-apiserver flags, written as kubeadm's `apiServer.extraArgs` (a map in v1beta3, a name/value list in v1beta4).",
        example: "controlPlane.apiServer.extraArgs = { audit-log-maxage = 30; profiling = false; };",
    },
    Attribute {
        section: Section::ApiServer,
        key: "extraVolumes",
        ty: "list of volumes",
        default: DefaultValue::EmptyList,
        allowed: Allowed::Any,
        codes: &["E0101"],
        doc: "Host paths mounted into every kube-apiserver (see `controlPlane.apiServer.extraVolumes[].*`).",
        example: "controlPlane.apiServer.extraVolumes = [ { name = \"audit\"; hostPath = \"/var/log/kubernetes/audit\"; mountPath = \"/var/log/kubernetes/audit\"; readOnly = false; } ];",
    },
    Attribute {
        section: Section::Volume,
        key: "name",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("a DNS label, unique among the volumes"),
        codes: &["E0102", "E0101", "E0107"],
        doc: "The volume's name in the static pod.",
        example: "controlPlane.apiServer.extraVolumes = [ { name = \"audit\"; hostPath = \"/var/log/audit\"; mountPath = \"/var/log/audit\"; } ];",
    },
    Attribute {
        section: Section::Volume,
        key: "hostPath",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("an absolute path of plain characters"),
        codes: &["E0102", "E0101", "E0107"],
        doc: "The folder or file on the host.",
        example: "controlPlane.apiServer.extraVolumes = [ { name = \"oidc\"; hostPath = \"/etc/hac/oidc-ca.crt\"; mountPath = \"/etc/hac/oidc-ca.crt\"; pathType = \"File\"; } ];",
    },
    Attribute {
        section: Section::Volume,
        key: "mountPath",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("an absolute path of plain characters"),
        codes: &["E0102", "E0101", "E0107"],
        doc: "Where the container sees it.",
        example: "controlPlane.apiServer.extraVolumes = [ { name = \"audit\"; hostPath = \"/var/log/audit\"; mountPath = \"/var/log/kubernetes/audit\"; } ];",
    },
    Attribute {
        section: Section::Volume,
        key: "readOnly",
        ty: "boolean",
        default: DefaultValue::Bool(true),
        allowed: Allowed::Any,
        codes: &["E0101"],
        doc: "Mount read-only (an audit log folder needs `false`).",
        example: "controlPlane.apiServer.extraVolumes = [ { name = \"audit\"; hostPath = \"/var/log/audit\"; mountPath = \"/var/log/audit\"; readOnly = false; } ];",
    },
    Attribute {
        section: Section::Volume,
        key: "pathType",
        ty: "string",
        default: DefaultValue::Str(""),
        allowed: Allowed::OneOf(HOST_PATH_TYPES),
        codes: &["E0101", "E0104"],
        doc: "Kubernetes' host-path type check (`\"\"`: none).",
        example: "controlPlane.apiServer.extraVolumes = [ { name = \"audit\"; hostPath = \"/var/log/audit\"; mountPath = \"/var/log/audit\"; pathType = \"DirectoryOrCreate\"; } ];",
    },
    Attribute {
        section: Section::ApiServer,
        key: "encryption",
        ty: "attribute set or null",
        default: DefaultValue::Unset("off: resources are stored in etcd as plain protobuf"),
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "Encryption at rest (see `controlPlane.apiServer.encryption.*`).",
        example: "controlPlane.apiServer.encryption = { resources = [ \"secrets\" ]; provider = \"aescbc\"; };",
    },
    Attribute {
        section: Section::ApiServer,
        key: "audit",
        ty: "attribute set or null",
        default: DefaultValue::Unset("off: no audit log"),
        allowed: Allowed::Any,
        codes: &["E0101", "E0103"],
        doc: "The audit log (see `controlPlane.apiServer.audit.*`).",
        example: "controlPlane.apiServer.audit = { policy = \"metadata\"; };",
    },
    Attribute {
        section: Section::ApiServer,
        key: "oidc",
        ty: "attribute set or null",
        default: DefaultValue::Unset("off: no OpenID Connect users"),
        allowed: Allowed::Any,
        codes: &["E0101", "E0103", "W0802"],
        doc: "OpenID Connect authentication (see `controlPlane.apiServer.oidc.*`).",
        example: "controlPlane.apiServer.oidc = { issuerURL = \"https://login.example.com\"; clientID = \"kubernetes\"; };",
    },
    // -- controlPlane.controllerManager / scheduler ----------------------------------------
    Attribute {
        section: Section::ControllerManager,
        key: "extraArgs",
        ty: "attribute set of strings, integers or booleans",
        default: DefaultValue::EmptySet,
        allowed: Allowed::Text("flag names without `--`; not a flag hac sets"),
        codes: &["E0101", "E0107", "E0108", "W0801"],
        doc: "Extra kube-controller-manager flags (kubeadm's `controllerManager.extraArgs`).",
        example: "controlPlane.controllerManager.extraArgs = { terminated-pod-gc-threshold = 500; };",
    },
    Attribute {
        section: Section::Scheduler,
        key: "extraArgs",
        ty: "attribute set of strings, integers or booleans",
        default: DefaultValue::EmptySet,
        allowed: Allowed::Text("flag names without `--`; not a flag hac sets"),
        codes: &["E0101", "E0107", "E0108", "W0801"],
        doc: "Extra kube-scheduler flags (kubeadm's `scheduler.extraArgs`).",
        example: "controlPlane.scheduler.extraArgs = { profiling = false; };",
    },
    // -- kubelet ---------------------------------------------------------------------------
    Attribute {
        section: Section::Kubelet,
        key: "maxPods",
        ty: "integer or null",
        default: DefaultValue::Unset("the kubelet's 110"),
        allowed: Allowed::IntRange(1, 2500),
        codes: &["E0101", "E0106"],
        doc: "The most pods one node runs.",
        example: "kubelet.maxPods = 150;",
    },
    Attribute {
        section: Section::Kubelet,
        key: "cgroupDriver",
        ty: "string or null",
        default: DefaultValue::Unset("kubeadm's `systemd`"),
        allowed: Allowed::OneOf(&CGROUP_DRIVERS),
        codes: &["E0101", "E0104"],
        doc: "The cgroup driver; it must match the container runtime's.",
        example: "kubelet.cgroupDriver = \"systemd\";",
    },
    Attribute {
        section: Section::Kubelet,
        key: "systemReserved",
        ty: "attribute set of strings",
        default: DefaultValue::EmptySet,
        allowed: Allowed::Text("resource names (`cpu`, `memory`, `ephemeral-storage`, `pid`) to quantities"),
        codes: &["E0101", "E0107"],
        doc: "Resources kept for the operating system.",
        example: "kubelet.systemReserved = { cpu = \"500m\"; memory = \"1Gi\"; };",
    },
    Attribute {
        section: Section::Kubelet,
        key: "kubeReserved",
        ty: "attribute set of strings",
        default: DefaultValue::EmptySet,
        allowed: Allowed::Text("resource names to quantities"),
        codes: &["E0101", "E0107"],
        doc: "Resources kept for the kubelet and the container runtime.",
        example: "kubelet.kubeReserved = { cpu = \"250m\"; memory = \"512Mi\"; };",
    },
    Attribute {
        section: Section::Kubelet,
        key: "evictionHard",
        ty: "attribute set of strings",
        default: DefaultValue::EmptySet,
        allowed: Allowed::Text("eviction signals (`memory.available`, `nodefs.available`, …) to quantities or percentages"),
        codes: &["E0101", "E0107"],
        doc: "Hard eviction thresholds (replacing the kubelet's defaults).",
        example: "kubelet.evictionHard = { \"memory.available\" = \"500Mi\"; \"nodefs.available\" = \"10%\"; };",
    },
    Attribute {
        section: Section::Kubelet,
        key: "serverTLSBootstrap",
        ty: "boolean or null",
        default: DefaultValue::Unset("off: the kubelet serves with a self-signed certificate"),
        allowed: Allowed::Any,
        codes: &["E0101"],
        doc: "The kubelet asks the cluster for its serving certificate (approve the CSRs, e.g. with a CSR approver).",
        example: "kubelet.serverTLSBootstrap = true;",
    },
    // -- kubeProxy -------------------------------------------------------------------------
    Attribute {
        section: Section::KubeProxy,
        key: "mode",
        ty: "string or null",
        default: DefaultValue::Unset("kube-proxy's `iptables`"),
        allowed: Allowed::OneOf(&ProxyMode::NAMES),
        codes: &["E0101", "E0104"],
        doc: "How kube-proxy programs services.",
        example: "kubeProxy.mode = \"ipvs\";",
    },
    // -- controlPlane.apiServer.encryption -------------------------------------------------
    Attribute {
        section: Section::Encryption,
        key: "resources",
        ty: "list of strings",
        default: DefaultValue::Computed("`[ \"secrets\" ]`"),
        allowed: Allowed::Text("resource names (`secrets`, `configmaps`, `widgets.example.com`), lowercase, unique, not empty"),
        codes: &["E0101", "E0107"],
        doc: "The resources kube-apiserver encrypts before writing them to etcd.",
        example: "controlPlane.apiServer.encryption = { resources = [ \"secrets\" \"configmaps\" ]; };",
    },
    Attribute {
        section: Section::Encryption,
        key: "provider",
        ty: "string",
        default: DefaultValue::Str(EncryptionProvider::DEFAULT_NAME),
        allowed: Allowed::OneOf(&EncryptionProvider::NAMES),
        codes: &["E0101", "E0104"],
        doc: "The cipher: AES-CBC with PKCS#7 padding, AES-GCM (rotate the key before 200,000 writes), or XSalsa20-Poly1305. Data is stored as `k8s:enc:<provider>:v1:key-<rotation>:…`. Changing it makes data written with the previous provider unreadable: rewrite every object under the old provider first.",
        example: "controlPlane.apiServer.encryption = { provider = \"secretbox\"; };",
    },
    Attribute {
        section: Section::Encryption,
        key: "rotation",
        ty: "integer",
        default: DefaultValue::Int(0),
        allowed: Allowed::IntRange(ROTATION_RANGE.0, ROTATION_RANGE.1),
        codes: &["E0101", "E0106"],
        doc: "Bump to rotate the key: key `key-<rotation>` encrypts, `key-<rotation − 1>` still decrypts; then rewrite every object (`kubectl get secrets -A -o json | kubectl replace -f -`).",
        example: "controlPlane.apiServer.encryption = { rotation = 1; };",
    },
    // -- controlPlane.apiServer.audit ------------------------------------------------------
    Attribute {
        section: Section::Audit,
        key: "policy",
        ty: "string",
        default: DefaultValue::Str(AuditLevel::DEFAULT_NAME),
        allowed: Allowed::Text("\"metadata\", \"request\", \"requestResponse\", or the YAML text of an `audit.k8s.io/v1` `Policy` (an indented string `'' … ''`; `.ha` reads no files)"),
        codes: &["E0101", "E0107"],
        doc: "What is logged. A level gives hac's policy: every request at that level, except health checks, kube-proxy's watches and the nodes' and system components' reads; secrets, configmaps and token reviews never above `Metadata`, so no secret reaches the log.",
        example: "controlPlane.apiServer.audit = { policy = \"request\"; };",
    },
    Attribute {
        section: Section::Audit,
        key: "logPath",
        ty: "string",
        default: DefaultValue::Str(DEFAULT_AUDIT_LOG_PATH),
        allowed: Allowed::Text("an absolute path of plain characters, in a folder other than `/`"),
        codes: &["E0101", "E0107"],
        doc: "The log file (`--audit-log-path`); its folder is mounted read-write into kube-apiserver.",
        example: "controlPlane.apiServer.audit = { logPath = \"/var/log/kube-audit/audit.log\"; };",
    },
    Attribute {
        section: Section::Audit,
        key: "maxAge",
        ty: "integer",
        default: DefaultValue::Int(DEFAULT_AUDIT_MAX_AGE as i64),
        allowed: Allowed::IntRange(AUDIT_LIMIT_RANGE.0, AUDIT_LIMIT_RANGE.1),
        codes: &["E0101", "E0106"],
        doc: "Days to keep rotated log files (`--audit-log-maxage`).",
        example: "controlPlane.apiServer.audit = { maxAge = 90; };",
    },
    Attribute {
        section: Section::Audit,
        key: "maxBackup",
        ty: "integer",
        default: DefaultValue::Int(DEFAULT_AUDIT_MAX_BACKUP as i64),
        allowed: Allowed::IntRange(AUDIT_LIMIT_RANGE.0, AUDIT_LIMIT_RANGE.1),
        codes: &["E0101", "E0106"],
        doc: "Rotated log files to keep (`--audit-log-maxbackup`).",
        example: "controlPlane.apiServer.audit = { maxBackup = 20; };",
    },
    Attribute {
        section: Section::Audit,
        key: "maxSize",
        ty: "integer",
        default: DefaultValue::Int(DEFAULT_AUDIT_MAX_SIZE as i64),
        allowed: Allowed::IntRange(AUDIT_LIMIT_RANGE.0, AUDIT_LIMIT_RANGE.1),
        codes: &["E0101", "E0106"],
        doc: "Megabytes a log file grows to before it is rotated (`--audit-log-maxsize`).",
        example: "controlPlane.apiServer.audit = { maxSize = 200; };",
    },
    // -- controlPlane.apiServer.oidc -------------------------------------------------------
    Attribute {
        section: Section::Oidc,
        key: "issuerURL",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("an `https://` URL without query or fragment"),
        codes: &["E0102", "E0101", "E0107"],
        doc: "The issuer's URL (`--oidc-issuer-url`); it must match the tokens' `iss` claim.",
        example: "controlPlane.apiServer.oidc = { issuerURL = \"https://login.example.com/realms/k8s\"; clientID = \"kubernetes\"; };",
    },
    Attribute {
        section: Section::Oidc,
        key: "clientID",
        ty: "string",
        default: DefaultValue::Required,
        allowed: Allowed::Text("not empty"),
        codes: &["E0102", "E0101", "E0107"],
        doc: "The audience the tokens must be issued for (`--oidc-client-id`).",
        example: "controlPlane.apiServer.oidc = { issuerURL = \"https://login.example.com\"; clientID = \"kubernetes\"; };",
    },
    Attribute {
        section: Section::Oidc,
        key: "usernameClaim",
        ty: "string",
        default: DefaultValue::Str(DEFAULT_OIDC_USERNAME_CLAIM),
        allowed: Allowed::Text("a claim name"),
        codes: &["E0101", "E0107"],
        doc: "The claim that names the user (`--oidc-username-claim`).",
        example: "controlPlane.apiServer.oidc = { issuerURL = \"https://login.example.com\"; clientID = \"kubernetes\"; usernameClaim = \"email\"; };",
    },
    Attribute {
        section: Section::Oidc,
        key: "groupsClaim",
        ty: "string or null",
        default: DefaultValue::Unset("no groups from the token"),
        allowed: Allowed::Text("a claim name"),
        codes: &["E0101", "E0107"],
        doc: "The claim that lists the user's groups (`--oidc-groups-claim`).",
        example: "controlPlane.apiServer.oidc = { issuerURL = \"https://login.example.com\"; clientID = \"kubernetes\"; groupsClaim = \"groups\"; };",
    },
    Attribute {
        section: Section::Oidc,
        key: "usernamePrefix",
        ty: "string or null",
        default: DefaultValue::Unset("kube-apiserver's default (the issuer URL and `#`, unless the claim is `email`)"),
        allowed: Allowed::Any,
        codes: &["E0101", "E0107"],
        doc: "Prefixed to every user name, so OIDC users cannot pose as system users (`--oidc-username-prefix`; `\"-\"` for none).",
        example: "controlPlane.apiServer.oidc = { issuerURL = \"https://login.example.com\"; clientID = \"kubernetes\"; usernamePrefix = \"oidc:\"; };",
    },
    Attribute {
        section: Section::Oidc,
        key: "groupsPrefix",
        ty: "string or null",
        default: DefaultValue::Unset("none"),
        allowed: Allowed::Any,
        codes: &["E0101", "E0107"],
        doc: "Prefixed to every group name (`--oidc-groups-prefix`).",
        example: "controlPlane.apiServer.oidc = { issuerURL = \"https://login.example.com\"; clientID = \"kubernetes\"; groupsPrefix = \"oidc:\"; };",
    },
    Attribute {
        section: Section::Oidc,
        key: "ca",
        ty: "string or null",
        default: DefaultValue::Unset("the host's trusted CAs"),
        allowed: Allowed::Text("PEM text of one or more certificates"),
        codes: &["E0101", "E0107"],
        doc: "The CA of the issuer's TLS certificate (an indented string `'' … ''`), placed at `/etc/kubernetes/pki/oidc-ca.crt` on every control plane (`--oidc-ca-file`).",
        example: "controlPlane.apiServer.oidc = { issuerURL = \"https://login.example.com\"; clientID = \"kubernetes\"; ca = \"-----BEGIN CERTIFICATE-----\\nMIIBszCCAVmgAwIBAgIU…\\n-----END CERTIFICATE-----\\n\"; };",
    },
    // -- controlPlane.kubeVip --------------------------------------------------------------
    Attribute {
        section: Section::KubeVip,
        key: "image",
        ty: "string",
        default: DefaultValue::Computed("`<imageRepository>/kube-vip` when `imageRepository` is set, else `ghcr.io/kube-vip/kube-vip`"),
        allowed: Allowed::Text("an image repository without tag"),
        codes: &["E0101", "E0107"],
        doc: "Where the kube-vip image comes from.",
        example: "controlPlane.kubeVip = { image = \"registry.internal/kube-vip\"; };",
    },
    Attribute {
        section: Section::KubeVip,
        key: "version",
        ty: "string",
        default: DefaultValue::Str(DEFAULT_KUBE_VIP_VERSION),
        allowed: Allowed::Text("an image tag, e.g. `v0.8.9`"),
        codes: &["E0101", "E0107"],
        doc: "The kube-vip release (the image tag).",
        example: "controlPlane.kubeVip = { version = \"v0.8.10\"; };",
    },
    // -- hosts ---------------------------------------------------------------------------
    Attribute {
        section: Section::Hosts,
        key: "os",
        ty: "string",
        default: DefaultValue::Str(HostOs::DEFAULT_NAME),
        allowed: Allowed::OneOf(&HostOs::NAMES),
        codes: &["E0101", "E0104"],
        doc: "The operating-system family: \"debian\" is Debian and Ubuntu (apt, dpkg, systemd). RHEL-family hosts (dnf) are not supported yet.",
        example: "hosts.os = \"debian\";",
    },
    Attribute {
        section: Section::Hosts,
        key: "packages",
        ty: "string",
        default: DefaultValue::Computed("\"upstream\" (\"preinstalled\" before Kubernetes 1.24, which pkgs.k8s.io does not publish)"),
        allowed: Allowed::OneOf(&PackageSource::NAMES),
        codes: &["E0101", "E0104", "E0107"],
        doc: "Where kubelet, kubeadm and kubectl come from. \"upstream\" (the default, as in kubeadm's own install guide): the Kubernetes project's repository of the cluster's minor release, `https://pkgs.k8s.io/core:/stable:/v<MINOR>/deb/` (Kubernetes 1.24 and later), trusted through the signing key pinned in the bundle (fingerprint `DE15B14486CD377B9E876E1A234654DA9A296436`), never fetched. \"mirror\": the apt repository at `mirror`. \"preinstalled\" (air-gapped images): nothing is installed; the script verifies that kubeadm, kubelet and kubectl are at `kubernetesVersion` and that containerd is present, and stops naming any mismatch. containerd, haproxy, keepalived, nginx and nftables always come from the host's own apt sources.",
        example: "hosts.packages = \"preinstalled\";",
    },
    Attribute {
        section: Section::Hosts,
        key: "mirror",
        ty: "string or null",
        default: DefaultValue::RequiredWhen("required with `packages = \"mirror\"`, where alone it is used"),
        allowed: Allowed::Text("an `http://`, `https://` or `file://` URL of a flat apt repository (the folder holding `Release`/`InRelease`, as `https://pkgs.k8s.io/core:/stable:/v1.30/deb/`), without spaces or quotes"),
        codes: &["E0101", "E0107"],
        doc: "The internal mirror of pkgs.k8s.io's repository for the cluster's minor release, written `deb [signed-by=…] <mirror> /`. Its `InRelease` must be signed by `repositoryKey` (by default pkgs.k8s.io's key: a pass-through mirror).",
        example: "hosts = { packages = \"mirror\"; mirror = \"https://apt.internal/kubernetes/core:/stable:/v1.30/deb/\"; };",
    },
    Attribute {
        section: Section::Hosts,
        key: "repositoryKey",
        ty: "string or null",
        default: DefaultValue::Unset("the pkgs.k8s.io key hac pins (it expires 2026-12-29; upstream extends it under the same fingerprint)"),
        allowed: Allowed::Text("an ASCII-armored OpenPGP public key block (an indented string `'' … ''`)"),
        codes: &["E0101", "E0107"],
        doc: "The public key apt trusts for the Kubernetes repository (`/etc/apt/keyrings/hac-kubernetes.asc`, used by that source alone): a mirror's own key, or pkgs.k8s.io's renewed `Release.key`.",
        example: "hosts.repositoryKey = \"-----BEGIN PGP PUBLIC KEY BLOCK-----\\n\\nmQENBGMHoXcBCADukGOEQyleViOgtkMVa7hKifP6POCTh+98xNW4TfHK/nBJN2sm\\n-----END PGP PUBLIC KEY BLOCK-----\\n\";",
    },
    Attribute {
        section: Section::Hosts,
        key: "firewall",
        ty: "boolean",
        default: DefaultValue::Bool(false),
        allowed: Allowed::Any,
        codes: &["E0101"],
        doc: "Install hac's nftables ruleset (table `inet hac`, `/etc/hac/firewall.nft`, loaded at boot by `hac-firewall.service`): inbound traffic is dropped except SSH (`sshPort`, accepted first), established connections, loopback, ICMP, and the ports the node's roles serve, each only from the nodes that use it (see README, \"Host preparation\"). Off by default: hosts often have a firewall of their own.",
        example: "hosts.firewall = true;",
    },
    Attribute {
        section: Section::Hosts,
        key: "sshPort",
        ty: "integer",
        default: DefaultValue::Int(DEFAULT_SSH_PORT as i64),
        allowed: Allowed::IntRange(PORT_RANGE.0, PORT_RANGE.1),
        codes: &["E0101", "E0106"],
        doc: "The port of the operator's SSH daemon: the firewall accepts it from anywhere, before any other rule.",
        example: "hosts.sshPort = 2222;",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_has_attributes_and_keys_are_unique_within_it() {
        for s in Section::ALL {
            let keys = s.keys();
            assert!(!keys.is_empty(), "{s:?} has no attributes");
            let mut sorted = keys.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), keys.len(), "{s:?} repeats a key");
        }
        assert_eq!(Section::ALL.len(), 22);
        for (i, s) in Section::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i, "Section::ALL is in declaration order");
        }
    }

    #[test]
    fn enum_values_come_from_the_model() {
        let kind = attribute(Section::LoadBalancer, "kind").map(|a| a.allowed);
        assert_eq!(
            kind,
            Some(Allowed::OneOf(&[
                "haproxy",
                "nginx",
                "keepalived",
                "kube-vip",
                "external"
            ]))
        );
        assert_eq!(
            Section::Root.required(),
            ["name", "kubernetesVersion", "epoch", "network", "nodes"]
        );
        assert_eq!(Section::Taint.required(), ["key", "effect"]);
        assert!(attribute(Section::Node, "nope").is_none());
    }

    #[test]
    fn every_attribute_has_codes_a_doc_and_an_example_that_sets_it() {
        for a in ATTRIBUTES {
            assert!(!a.codes.is_empty() && !a.doc.is_empty(), "{}", a.path());
            assert!(
                a.codes.iter().all(|c| c.len() == 5
                    && (c.starts_with('E') || c.starts_with('W'))
                    && c[1..].bytes().all(|b| b.is_ascii_digit())),
                "{}: {:?}",
                a.path(),
                a.codes
            );
            assert!(
                a.example.contains(a.key) && a.example.trim_end().ends_with(';'),
                "{}: {}",
                a.path(),
                a.example
            );
        }
    }
}

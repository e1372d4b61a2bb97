//! The cluster description of cluster.md as Rust types, with defaults already applied.

use hac_core::Span;
use ipnet::Ipv4Net;
use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

#[derive(Clone, Debug)]
pub struct Cluster {
    /// DNS-1123 label; kubeadm `clusterName`.
    pub name: String,
    pub kubernetes_version: Version,
    /// notBefore of every certificate and mtime of every archived file.
    pub epoch: Epoch,
    pub control_plane: ControlPlane,
    pub etcd: Etcd,
    pub network: Network,
    pub pki: PkiOptions,
    /// Sorted by name.
    pub nodes: Vec<Node>,
    pub outputs: Outputs,
    /// The components' own settings (flags, images, kubelet, kube-proxy).
    pub components: crate::Components,
    /// How hosts are prepared (the cluster's `hosts`; each node carries its effective copy).
    pub hosts: crate::Hosts,
    /// Where each attribute came from, for diagnostics.
    pub origins: Origins,
}

/// A Kubernetes or etcd release: `1.30.2` (`v` prefix accepted on input).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }
    /// Parses `1.30.2` or `v1.30.2`.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let mut it = s.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
        })
    }
    /// `(1, 30)`: the minor release, for version-dependent behaviour.
    pub fn minor_release(&self) -> (u32, u32) {
        (self.major, self.minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// An RFC 3339 UTC timestamp (`2026-01-01T00:00:00Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Epoch {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
}

#[derive(Clone, Debug)]
pub struct ControlPlane {
    /// Required unless the load balancer is external.
    pub vip: Option<Ipv4Addr>,
    /// DNS name (or address) for controlPlaneEndpoint; `None`: the VIP (or external address).
    pub endpoint: Option<String>,
    /// Port clients dial at the endpoint (default 8443 when haproxy/nginx share the
    /// control-plane nodes, else 6443).
    pub port: u16,
    /// Port each kube-apiserver binds (default 6443).
    pub api_server_port: u16,
    pub cert_sans: Vec<String>,
    pub load_balancer: LoadBalancer,
    pub keepalived: Keepalived,
    /// The running cluster's VIP while it moves to `vip`: set from the previous build's state
    /// by `hac build --from` and `hac plan` (never by the cluster file). keepalived holds it
    /// beside the new one, in a VRRP instance of its own, and the apiserver certificates keep
    /// it as a name, until a later build drops it.
    pub previous_vip: Option<PreviousVip>,
    /// The running cluster's endpoint port while it moves to `port` (haproxy or nginx): set
    /// from the previous build's state by `hac build --from` and `hac plan`, never by the
    /// cluster file. The proxy listens on both until a later build drops it.
    pub previous_port: Option<u16>,
}

/// The VIP being moved away from and the VRRP router id that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreviousVip {
    pub address: Ipv4Addr,
    pub router_id: i64,
}

#[derive(Clone, Debug)]
pub struct LoadBalancer {
    pub kind: LoadBalancerKind,
    pub placement: Placement,
    /// With kind external: the existing load balancer's address (name or IP).
    pub address: Option<String>,
}

crate::spelled_enum! {
    pub enum LoadBalancerKind ("load balancer kind") default Haproxy {
        Haproxy = "haproxy",
        Nginx = "nginx",
        Keepalived = "keepalived",
        KubeVip = "kube-vip",
        External = "external",
    }
}

impl LoadBalancerKind {
    /// A TCP load balancer process (haproxy or nginx) runs beside keepalived.
    pub fn is_tcp_proxy(self) -> bool {
        matches!(self, LoadBalancerKind::Haproxy | LoadBalancerKind::Nginx)
    }
}

crate::spelled_enum! {
    pub enum Placement ("load balancer placement") default ControlPlane {
        ControlPlane = "control-plane",
        Dedicated = "dedicated",
    }
}

#[derive(Clone, Debug)]
pub struct Keepalived {
    /// VRRP virtual_router_id; the rules require 1..=255 (kept wide so they can say so).
    pub router_id: i64,
    /// VRRP by unicast to the listed peers instead of multicast.
    pub unicast: bool,
}

#[derive(Clone, Debug)]
pub struct Etcd {
    pub topology: EtcdTopology,
    /// The etcd release the external units target (default: kubeadm's etcd for the
    /// Kubernetes version).
    pub version: Version,
    /// Where the external units find etcd.
    pub binary: String,
    /// The members of the live cluster this build changes (from the previous build's
    /// `state.json`, `hac build --from`); `None` for a cluster built from nothing. A member
    /// not listed here joins a running cluster: its unit says `--initial-cluster-state=existing`
    /// and it must first be added with `etcdctl member add` (`hac plan` orders that).
    pub existing_members: Option<Vec<EtcdMember>>,
}

/// A member of a running etcd cluster, as the previous build's `state.json` recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtcdMember {
    pub name: String,
    /// `https://<address>:2380`
    pub peer_url: String,
    /// The `--initial-cluster` entries (`name=url`) its unit was rendered with; empty when
    /// not recorded (stacked etcd). A member that exists keeps them: etcd reads them only on
    /// its first start, and an unchanged unit needs no restart.
    pub initial_cluster: Vec<String>,
    /// Its `--initial-cluster-state` (`new` or `existing`); empty when not recorded.
    pub initial_state: String,
}

crate::spelled_enum! {
    pub enum EtcdTopology ("etcd topology") default Stacked {
        Stacked = "stacked",
        External = "external",
    }
}

#[derive(Clone, Debug)]
pub struct Network {
    pub pods: Ipv4Net,
    pub services: Ipv4Net,
    pub dns_domain: String,
    pub node_mask_size: u8,
    /// The CNI manifest applied once after `kubeadm init`; `None`: no CNI (nodes stay
    /// NotReady until the operator applies one).
    pub cni: Option<Cni>,
}

/// `network.cni`: a manifest file the bundle carries to the first control plane.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cni {
    /// The path as the cluster file writes it (relative to the cluster file's folder, or
    /// absolute under an `--allow-path` directory).
    pub manifest: String,
    /// The manifest's text. Conversion leaves it empty: the CLI reads the file (in the
    /// import sandbox) before rendering, so rendering reads no file.
    pub contents: String,
}

#[derive(Clone, Debug)]
pub struct PkiOptions {
    pub algorithm: KeyAlgorithm,
    pub ca_validity_days: u32,
    pub cert_validity_days: u32,
    /// Bump to issue new leaf keys and certificates under the same CAs.
    pub rotation: u64,
    /// Bump to give the three CAs new keys (`pki.caRotation`): a CA rotation, planned in two
    /// builds (docs/plan.md). 0 keeps the keys of the first build.
    pub ca_rotation: u64,
    /// The running cluster's CA certificates (PEM) whose key this build changes: set by
    /// `hac build --from` while a CA rotates, so that every trust file and kubeconfig holds
    /// the old CA beside the new one. Empty otherwise.
    pub previous_cas: std::collections::BTreeMap<crate::archive::CaName, String>,
    /// The leaves' notBefore when it differs from `epoch` (`pki.leafEpoch`): renews every
    /// leaf certificate with a new validity window under the same CAs.
    pub leaf_epoch: Option<Epoch>,
    /// `hac check`/`build` warn (W0502) this many days before a certificate expires.
    pub expiry_warning_days: u32,
    /// kubeadm's bootstrap token `ttl`, in hours from `kubeadm init`; 0: never expires.
    pub bootstrap_token_ttl_hours: u32,
}

crate::spelled_enum! {
    pub enum KeyAlgorithm ("key algorithm") default EcdsaP256 {
        EcdsaP256 = "ecdsa-p256",
        EcdsaP384 = "ecdsa-p384",
        Rsa2048 = "rsa-2048",
        Rsa3072 = "rsa-3072",
        Rsa4096 = "rsa-4096",
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    /// Hostname (DNS-1123 label): the attribute name in `nodes`.
    pub name: String,
    /// Sorted, without duplicates.
    pub roles: Vec<Role>,
    pub address: Ipv4Addr,
    /// The prefix length when the address was written as `a.b.c.d/len`.
    pub prefix_len: Option<u8>,
    /// The interface keepalived (or kube-vip) binds; `None`: found at boot, the interface
    /// that holds `address` (bootstrap.sh, see `keepalived.conf.j2`).
    pub interface: Option<crate::InterfaceName>,
    pub zone: Option<String>,
    /// keepalived priority; `None`: the default (see [`crate::keepalived_priority`]).
    pub priority: Option<i64>,
    pub labels: BTreeMap<String, String>,
    /// `None` keeps kubeadm's default.
    pub taints: Option<Vec<Taint>>,
    /// This node's overrides of the cluster's `kubelet` settings (a kubeadm patch on the
    /// node); empty: the cluster's.
    pub kubelet: crate::KubeletSettings,
    /// How this host is prepared: the cluster's `hosts` with the node's overrides applied.
    pub hosts: crate::Hosts,
}

impl Node {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
    /// The subnet of the address when a prefix was given.
    pub fn subnet(&self) -> Option<Ipv4Net> {
        self.prefix_len
            .and_then(|p| Ipv4Net::new(self.address, p).ok())
            .map(|n| n.trunc())
    }
}

crate::spelled_enum! {
    pub enum Role ("role") {
        ControlPlane = "control-plane",
        Etcd = "etcd",
        Worker = "worker",
        LoadBalancer = "load-balancer",
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
    /// `NoSchedule` | `PreferNoSchedule` | `NoExecute`
    pub effect: String,
}

#[derive(Clone, Debug)]
pub struct Outputs {
    pub cloud_init: bool,
    pub ansible: bool,
    /// Where the cloud-init user-data's private files (keys, kubeconfigs, tokens) go.
    pub cloud_init_keys: CloudInitKeys,
}

crate::spelled_enum! {
    /// `outputs.cloudInitKeys`: whether the user-data carries the node's private files.
    pub enum CloudInitKeys ("cloud-init key placement") default Separate {
        /// In the user-data (gz+b64): readable through the cloud's metadata service.
        Inline = "inline",
        /// Left out of the user-data: `cloud-init/<node>-keys.tar.gz` beside it, which the
        /// operator copies to the host, where bootstrap.sh waits for it.
        Separate = "separate",
    }
}

/// Attribute path (`controlPlane.keepalived.routerId`, `nodes.master-0.address`) → where
/// it was written. Paths use the `.ha` attribute names.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    pub spans: BTreeMap<String, Span>,
}

impl Origins {
    /// The span of `path`, else of its nearest recorded parent.
    pub fn get(&self, path: &str) -> Option<Span> {
        let mut p = path;
        loop {
            if let Some(s) = self.spans.get(p) {
                return Some(*s);
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

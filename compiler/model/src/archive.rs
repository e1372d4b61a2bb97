//! Which files a node's archive holds: bundle.md's least-privilege table as one function of
//! the node's roles and the cluster's settings, each file with its path, mode and kind.
//! hac-pki issues exactly the [`FileKind::Pki`] rows, hac-render writes exactly the
//! [`FileKind::Config`] rows, and the least-privilege tests compare archives with it; no
//! other code decides where a file goes.

use crate::{
    has_super_admin, Cluster, EtcdTopology, KubeletSettings, LoadBalancerKind, Node, Role,
};
use std::collections::BTreeMap;

/// Mode of certificates and of every configuration file nobody but root needs to hide.
pub const MODE_PUBLIC: u32 = 0o644;
/// Mode of private keys, `sa.pub`, kubeconfigs and files embedding a secret.
pub const MODE_SECRET: u32 = 0o600;
/// Mode of the scripts hac runs on the host.
pub const MODE_SCRIPT: u32 = 0o755;

pub const KUBEADM_CONFIG: &str = "etc/kubernetes/kubeadm-config.yaml";
/// A node's own KubeletConfiguration fields, as a kubeadm patch (the cluster's are in the
/// kubeadm configuration).
pub const KUBELET_PATCH: &str = "etc/kubernetes/patches/kubeletconfiguration+merge.yaml";
pub const SYSCTL_CONF: &str = "etc/sysctl.d/99-kubernetes.conf";
pub const MODULES_CONF: &str = "etc/modules-load.d/kubernetes.conf";
pub const CONTAINERD_CONFIG: &str = "etc/containerd/config.toml";
pub const CRICTL_CONFIG: &str = "etc/crictl.yaml";
pub const APT_SOURCE: &str = "etc/apt/sources.list.d/hac-kubernetes.list";
pub const APT_KEY: &str = "etc/apt/keyrings/hac-kubernetes.asc";
pub const FIREWALL_RULESET: &str = "etc/hac/firewall.nft";
pub const FIREWALL_UNIT: &str = "etc/systemd/system/hac-firewall.service";
pub const PREPARE: &str = "etc/hac/prepare.sh";
pub const BOOTSTRAP: &str = "etc/hac/bootstrap.sh";
pub const MANIFEST: &str = "etc/hac/manifest.json";
pub const KEEPALIVED_CONF: &str = "etc/keepalived/keepalived.conf";
pub const CHECK_APISERVER: &str = "etc/keepalived/check_apiserver.sh";
pub const HAPROXY_CFG: &str = "etc/haproxy/haproxy.cfg";
pub const NGINX_CONF: &str = "etc/nginx/nginx.conf";
pub const KUBE_VIP_MANIFEST: &str = "etc/kubernetes/manifests/kube-vip.yaml";
/// Where a joining control plane's kube-vip manifest waits: `kubeadm join`'s preflight
/// requires /etc/kubernetes/manifests to be empty, so bootstrap.sh moves it in after the join.
pub const KUBE_VIP_STAGED: &str = "etc/hac/kube-vip.yaml";
pub const ETCD_UNIT: &str = "etc/systemd/system/etcd.service";
/// The CNI manifest (`network.cni.manifest`), on the first control plane only.
pub const CNI_MANIFEST: &str = "etc/kubernetes/hac/cni.yaml";
pub const CA_CERT: &str = "etc/kubernetes/pki/ca.crt";
/// The cluster CA certificate of a node that joins as a worker: outside /etc/kubernetes/pki,
/// where `kubeadm join` refuses to find one (it writes kubeadm's copy from discovery). A load
/// balancer's health check verifies the apiservers with it; a CA renewed under the same key
/// reaches the worker's kubelet from it (`hac plan`).
pub const WORKER_CA: &str = "etc/hac/kubernetes-ca.crt";
/// The files the security settings need on every control plane. The encryption configuration
/// and the OIDC CA live under `etc/kubernetes/pki`, which kubeadm already mounts read-only
/// into kube-apiserver, so they need no extra volume.
pub const ENCRYPTION_CONFIG_PATH: &str = "etc/kubernetes/pki/encryption-config.yaml";
pub const OIDC_CA_PATH: &str = "etc/kubernetes/pki/oidc-ca.crt";
pub const AUDIT_POLICY_PATH: &str = "etc/kubernetes/audit-policy.yaml";

/// One of the three certificate authorities of pki.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CaName {
    Cluster,
    FrontProxy,
    Etcd,
}

/// A leaf certificate and its key (pki.md), written as `<name>.crt` and `<name>.key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Leaf {
    ApiServer,
    ApiServerKubeletClient,
    FrontProxyClient,
    ApiServerEtcdClient,
    EtcdServer,
    EtcdPeer,
    EtcdHealthcheckClient,
}

impl Leaf {
    /// The CA that signs it.
    pub fn ca(self) -> CaName {
        match self {
            Leaf::ApiServer | Leaf::ApiServerKubeletClient => CaName::Cluster,
            Leaf::FrontProxyClient => CaName::FrontProxy,
            Leaf::ApiServerEtcdClient
            | Leaf::EtcdServer
            | Leaf::EtcdPeer
            | Leaf::EtcdHealthcheckClient => CaName::Etcd,
        }
    }
    pub fn cert_path(self) -> &'static str {
        match self {
            Leaf::ApiServer => "etc/kubernetes/pki/apiserver.crt",
            Leaf::ApiServerKubeletClient => "etc/kubernetes/pki/apiserver-kubelet-client.crt",
            Leaf::FrontProxyClient => "etc/kubernetes/pki/front-proxy-client.crt",
            Leaf::ApiServerEtcdClient => "etc/kubernetes/pki/apiserver-etcd-client.crt",
            Leaf::EtcdServer => "etc/kubernetes/pki/etcd/server.crt",
            Leaf::EtcdPeer => "etc/kubernetes/pki/etcd/peer.crt",
            Leaf::EtcdHealthcheckClient => "etc/kubernetes/pki/etcd/healthcheck-client.crt",
        }
    }
    pub fn key_path(self) -> &'static str {
        match self {
            Leaf::ApiServer => "etc/kubernetes/pki/apiserver.key",
            Leaf::ApiServerKubeletClient => "etc/kubernetes/pki/apiserver-kubelet-client.key",
            Leaf::FrontProxyClient => "etc/kubernetes/pki/front-proxy-client.key",
            Leaf::ApiServerEtcdClient => "etc/kubernetes/pki/apiserver-etcd-client.key",
            Leaf::EtcdServer => "etc/kubernetes/pki/etcd/server.key",
            Leaf::EtcdPeer => "etc/kubernetes/pki/etcd/peer.key",
            Leaf::EtcdHealthcheckClient => "etc/kubernetes/pki/etcd/healthcheck-client.key",
        }
    }
}

/// A kubeconfig of a control plane (`etc/kubernetes/<name>.conf`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kubeconfig {
    Admin,
    ControllerManager,
    Scheduler,
    /// kubeadm's break-glass `system:masters` identity (1.29 and later), first control
    /// plane only.
    SuperAdmin,
}

impl Kubeconfig {
    /// The file's name without `.conf`.
    pub fn name(self) -> &'static str {
        match self {
            Kubeconfig::Admin => "admin",
            Kubeconfig::ControllerManager => "controller-manager",
            Kubeconfig::Scheduler => "scheduler",
            Kubeconfig::SuperAdmin => "super-admin",
        }
    }
    pub fn path(self) -> &'static str {
        match self {
            Kubeconfig::Admin => "etc/kubernetes/admin.conf",
            Kubeconfig::ControllerManager => "etc/kubernetes/controller-manager.conf",
            Kubeconfig::Scheduler => "etc/kubernetes/scheduler.conf",
            Kubeconfig::SuperAdmin => "etc/kubernetes/super-admin.conf",
        }
    }
}

/// A file hac-pki issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PkiFile {
    CaCert(CaName),
    /// The cluster CA's key (the front-proxy and etcd CA keys go nowhere).
    ClusterCaKey,
    ServiceAccountKey,
    ServiceAccountPub,
    /// The encryption-at-rest keys of the Secrets.
    EncryptionConfig,
    LeafCert(Leaf),
    LeafKey(Leaf),
    Kubeconfig(Kubeconfig),
}

/// A file hac-render writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigFile {
    KubeadmConfig,
    KubeletPatch,
    Sysctl,
    KernelModules,
    Containerd,
    Crictl,
    AptSource,
    AptKey,
    FirewallRuleset,
    FirewallUnit,
    Keepalived,
    KeepalivedCheck,
    Haproxy,
    Nginx,
    AuditPolicy,
    OidcCa,
    KubeVip,
    EtcdUnit,
    CniManifest,
    Prepare,
    /// Written last: it lists the node's private files and the digest of their archive.
    Bootstrap,
    /// Written after the archive is complete: the list of its other files.
    Manifest,
}

/// What a file of an archive is, and so which stage makes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    Pki(PkiFile),
    Config(ConfigFile),
}

/// One row of the table: a file of one node's archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveFile {
    /// Relative to the node's `/`.
    pub path: &'static str,
    pub mode: u32,
    pub kind: FileKind,
}

/// Whether `node` runs a kubelet (and so needs the kernel settings, a container runtime and
/// a kubeadm config).
pub fn runs_kubelet(node: &Node) -> bool {
    node.has(Role::ControlPlane) || node.has(Role::Worker)
}

/// Whether `node` runs etcd as a systemd unit (external topology).
pub fn runs_etcd_unit(cluster: &Cluster, node: &Node) -> bool {
    cluster.etcd.topology == EtcdTopology::External && cluster.runs_etcd(node)
}

/// Whether `node` runs a kube-vip static pod.
pub fn runs_kube_vip(cluster: &Cluster, node: &Node) -> bool {
    cluster.control_plane.load_balancer.kind == LoadBalancerKind::KubeVip
        && node.has(Role::ControlPlane)
}

/// Whether `node` is the control plane that runs `kubeadm init`.
pub fn is_first_control_plane(cluster: &Cluster, node: &Node) -> bool {
    cluster
        .first_control_plane()
        .is_some_and(|f| f.name == node.name)
}

/// Where `node`'s kube-vip manifest is shipped: in the static-pod folder on the first control
/// plane (`kubeadm init` starts it, and init's preflight checks only kubeadm's own manifests),
/// staged under /etc/hac on the others (placed by bootstrap.sh after `kubeadm join`).
pub fn kube_vip_manifest_path(cluster: &Cluster, node: &Node) -> &'static str {
    if is_first_control_plane(cluster, node) {
        KUBE_VIP_MANIFEST
    } else {
        KUBE_VIP_STAGED
    }
}

/// Where a load-balancer node keeps the cluster CA its health check verifies the apiservers'
/// `/healthz` with. A control plane has kubeadm's `etc/kubernetes/pki/ca.crt` anyway, and so
/// does a dedicated load balancer (bundle.md). A load balancer that also joins as a worker
/// must not: `kubeadm join` refuses a node whose `/etc/kubernetes/pki/ca.crt` exists
/// (preflight `FileAvailable--etc-kubernetes-pki-ca.crt`) and writes that file itself from
/// discovery, so there the CA lives beside hac's files.
pub fn load_balancer_ca_path(node: &Node) -> &'static str {
    if node.has(Role::Worker) && !node.has(Role::ControlPlane) {
        WORKER_CA
    } else {
        CA_CERT
    }
}

/// Every file of `node`'s archive, sorted by path.
pub fn archive_files(cluster: &Cluster, node: &Node) -> Vec<ArchiveFile> {
    let mut rows = Rows::default();
    pki_rows(&mut rows, cluster, node);
    config_rows(&mut rows, cluster, node);
    rows.0.into_values().collect()
}

/// The table being built, keyed by path (a file two roles call for is listed once).
#[derive(Default)]
struct Rows(BTreeMap<&'static str, ArchiveFile>);

impl Rows {
    fn pki(&mut self, path: &'static str, mode: u32, file: PkiFile) {
        self.put(path, mode, FileKind::Pki(file));
    }
    fn config(&mut self, path: &'static str, mode: u32, file: ConfigFile) {
        self.put(path, mode, FileKind::Config(file));
    }
    fn put(&mut self, path: &'static str, mode: u32, kind: FileKind) {
        self.0.insert(path, ArchiveFile { path, mode, kind });
    }
    fn leaf(&mut self, leaf: Leaf) {
        self.pki(leaf.cert_path(), MODE_PUBLIC, PkiFile::LeafCert(leaf));
        self.pki(leaf.key_path(), MODE_SECRET, PkiFile::LeafKey(leaf));
    }
}

/// The certificates, keys and kubeconfigs: the cluster CA's key and the kubeconfigs on
/// control planes only, etcd's leaves on its members, the CA certificate alone on a load
/// balancer, nothing on a worker.
fn pki_rows(rows: &mut Rows, cluster: &Cluster, node: &Node) {
    let etcd_ca = "etc/kubernetes/pki/etcd/ca.crt";
    if node.has(Role::ControlPlane) {
        rows.pki(CA_CERT, MODE_PUBLIC, PkiFile::CaCert(CaName::Cluster));
        rows.pki(
            "etc/kubernetes/pki/ca.key",
            MODE_SECRET,
            PkiFile::ClusterCaKey,
        );
        rows.pki(
            "etc/kubernetes/pki/front-proxy-ca.crt",
            MODE_PUBLIC,
            PkiFile::CaCert(CaName::FrontProxy),
        );
        rows.pki(etcd_ca, MODE_PUBLIC, PkiFile::CaCert(CaName::Etcd));
        rows.pki(
            "etc/kubernetes/pki/sa.key",
            MODE_SECRET,
            PkiFile::ServiceAccountKey,
        );
        rows.pki(
            "etc/kubernetes/pki/sa.pub",
            MODE_SECRET,
            PkiFile::ServiceAccountPub,
        );
        if cluster.components.api_server.encryption.is_some() {
            rows.pki(
                ENCRYPTION_CONFIG_PATH,
                MODE_SECRET,
                PkiFile::EncryptionConfig,
            );
        }
        for leaf in [
            Leaf::ApiServer,
            Leaf::ApiServerKubeletClient,
            Leaf::FrontProxyClient,
            Leaf::ApiServerEtcdClient,
        ] {
            rows.leaf(leaf);
        }
        let mut kubeconfigs = vec![
            Kubeconfig::Admin,
            Kubeconfig::ControllerManager,
            Kubeconfig::Scheduler,
        ];
        if has_super_admin(cluster.kubernetes_version) && is_first_control_plane(cluster, node) {
            kubeconfigs.push(Kubeconfig::SuperAdmin);
        }
        for k in kubeconfigs {
            rows.pki(k.path(), MODE_SECRET, PkiFile::Kubeconfig(k));
        }
    }
    if cluster.runs_etcd(node) {
        rows.pki(etcd_ca, MODE_PUBLIC, PkiFile::CaCert(CaName::Etcd));
        for leaf in [
            Leaf::EtcdServer,
            Leaf::EtcdPeer,
            Leaf::EtcdHealthcheckClient,
        ] {
            rows.leaf(leaf);
        }
    }
    if node.has(Role::Worker) && !node.has(Role::ControlPlane) {
        rows.pki(WORKER_CA, MODE_PUBLIC, PkiFile::CaCert(CaName::Cluster));
    }
    if node.has(Role::LoadBalancer) {
        rows.pki(
            load_balancer_ca_path(node),
            MODE_PUBLIC,
            PkiFile::CaCert(CaName::Cluster),
        );
    }
}

/// The configuration files, units and scripts each role calls for.
fn config_rows(rows: &mut Rows, cluster: &Cluster, node: &Node) {
    use ConfigFile as F;
    rows.config(PREPARE, MODE_SCRIPT, F::Prepare);
    rows.config(BOOTSTRAP, MODE_SCRIPT, F::Bootstrap);
    rows.config(MANIFEST, MODE_PUBLIC, F::Manifest);
    if runs_kubelet(node) {
        rows.config(KUBEADM_CONFIG, MODE_SECRET, F::KubeadmConfig);
        if node.kubelet != KubeletSettings::default() {
            rows.config(KUBELET_PATCH, MODE_PUBLIC, F::KubeletPatch);
        }
        rows.config(SYSCTL_CONF, MODE_PUBLIC, F::Sysctl);
        rows.config(MODULES_CONF, MODE_PUBLIC, F::KernelModules);
        rows.config(CONTAINERD_CONFIG, MODE_PUBLIC, F::Containerd);
        rows.config(CRICTL_CONFIG, MODE_PUBLIC, F::Crictl);
        let repository = node.hosts.repository_url(cluster.kubernetes_version);
        if repository.is_some() && node.hosts.signing_key().is_some() {
            rows.config(APT_SOURCE, MODE_PUBLIC, F::AptSource);
            rows.config(APT_KEY, MODE_PUBLIC, F::AptKey);
        }
    }
    if node.hosts.firewall {
        rows.config(FIREWALL_RULESET, MODE_PUBLIC, F::FirewallRuleset);
        rows.config(FIREWALL_UNIT, MODE_PUBLIC, F::FirewallUnit);
    }
    if cluster.holds_vip(node) {
        rows.config(KEEPALIVED_CONF, MODE_SECRET, F::Keepalived);
        rows.config(CHECK_APISERVER, MODE_SCRIPT, F::KeepalivedCheck);
    }
    if cluster.runs_tcp_proxy(node) {
        match cluster.control_plane.load_balancer.kind {
            LoadBalancerKind::Haproxy => rows.config(HAPROXY_CFG, MODE_PUBLIC, F::Haproxy),
            LoadBalancerKind::Nginx => rows.config(NGINX_CONF, MODE_PUBLIC, F::Nginx),
            // keepalived alone, kube-vip and an external load balancer run no proxy here.
            LoadBalancerKind::Keepalived
            | LoadBalancerKind::KubeVip
            | LoadBalancerKind::External => {}
        }
    }
    if node.has(Role::ControlPlane) {
        let api = &cluster.components.api_server;
        if api.audit.is_some() {
            rows.config(AUDIT_POLICY_PATH, MODE_PUBLIC, F::AuditPolicy);
        }
        if api.oidc.as_ref().is_some_and(|o| o.ca.is_some()) {
            rows.config(OIDC_CA_PATH, MODE_PUBLIC, F::OidcCa);
        }
    }
    if runs_kube_vip(cluster, node) {
        rows.config(
            kube_vip_manifest_path(cluster, node),
            MODE_SECRET,
            F::KubeVip,
        );
    }
    if runs_etcd_unit(cluster, node) {
        rows.config(ETCD_UNIT, MODE_PUBLIC, F::EtcdUnit);
    }
    if is_first_control_plane(cluster, node) && cluster.network.cni.is_some() {
        rows.config(CNI_MANIFEST, MODE_PUBLIC, F::CniManifest);
    }
}

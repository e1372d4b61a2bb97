//! Facts the renderer derives beyond hac-model's: the paths and modes of rendered files,
//! bootstrap-token constants, node labels, and the check of the interface names spliced into
//! keepalived.conf and kube-vip's manifest (everything else the checker guarantees).

use hac_core::Diagnostic;
use hac_model::{Cluster, LoadBalancerKind, Node, Role};
use std::collections::BTreeMap;

pub const KUBEADM_CONFIG: &str = "etc/kubernetes/kubeadm-config.yaml";
pub const SYSCTL_CONF: &str = "etc/sysctl.d/99-kubernetes.conf";
pub const MODULES_CONF: &str = "etc/modules-load.d/kubernetes.conf";
pub const BOOTSTRAP: &str = "etc/hac/bootstrap.sh";
pub const MANIFEST: &str = "etc/hac/manifest.json";
pub const KEEPALIVED_CONF: &str = "etc/keepalived/keepalived.conf";
pub const CHECK_APISERVER: &str = "etc/keepalived/check_apiserver.sh";
/// Written by bootstrap.sh (never in the archive) where no interface is named: the one line
/// `interface NAME` that keepalived.conf includes inside its `vrrp_instance`.
pub const KEEPALIVED_INTERFACE_CONF: &str = "etc/keepalived/hac-interface.conf";
pub const HAPROXY_CFG: &str = "etc/haproxy/haproxy.cfg";
pub const NGINX_CONF: &str = "etc/nginx/nginx.conf";
pub const KUBE_VIP_MANIFEST: &str = "etc/kubernetes/manifests/kube-vip.yaml";
/// Where a joining control plane's kube-vip manifest waits: `kubeadm join`'s preflight
/// requires /etc/kubernetes/manifests to be empty, so bootstrap.sh moves it in after the join.
pub const KUBE_VIP_STAGED: &str = "etc/hac/kube-vip.yaml";
pub const ETCD_UNIT: &str = "etc/systemd/system/etcd.service";
pub const CA_CERT: &str = "etc/kubernetes/pki/ca.crt";
/// The CNI manifest (`network.cni.manifest`), on the first control plane only.
pub const CNI_MANIFEST: &str = "etc/kubernetes/hac/cni.yaml";
/// Made by bootstrap.sh once the CNI manifest is applied (never in the archive).
pub const CNI_MARKER: &str = "etc/kubernetes/hac/cni.applied";

/// The bootstrap token's groups, usages and lifetime (kubeadm's defaults).
pub const TOKEN_GROUPS: &[&str] = &["system:bootstrappers:kubeadm:default-node-token"];
pub const TOKEN_USAGES: &[&str] = &["signing", "authentication"];

/// The label kubelet sets from a node's `zone`.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// Whether `node` runs a kubelet (and so needs the kernel settings and a kubeadm config).
pub fn runs_kubelet(node: &Node) -> bool {
    node.has(Role::ControlPlane) || node.has(Role::Worker)
}

/// Whether `node` runs etcd as a systemd unit (external topology).
pub fn runs_etcd_unit(cluster: &Cluster, node: &Node) -> bool {
    cluster.etcd.topology == hac_model::EtcdTopology::External && cluster.runs_etcd(node)
}

/// Whether `node` runs a kube-vip static pod.
pub fn runs_kube_vip(cluster: &Cluster, node: &Node) -> bool {
    cluster.control_plane.load_balancer.kind == LoadBalancerKind::KubeVip
        && node.has(Role::ControlPlane)
}

/// Whether `node` is the control plane that runs `kubeadm init`.
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

pub fn is_first_control_plane(cluster: &Cluster, node: &Node) -> bool {
    cluster
        .first_control_plane()
        .is_some_and(|f| f.name == node.name)
}

/// The node's labels for kubelet's `--node-labels`: its `labels`, plus its zone.
pub fn node_labels(node: &Node) -> BTreeMap<String, String> {
    let mut labels = node.labels.clone();
    if let Some(zone) = &node.zone {
        labels
            .entry(ZONE_LABEL.to_string())
            .or_insert_with(|| zone.clone());
    }
    labels
}

/// The port keepalived's check probes on localhost: the local load balancer's for
/// haproxy/nginx, the kube-apiserver's for kind keepalived.
pub fn checked_port(cluster: &Cluster) -> u16 {
    if cluster.control_plane.load_balancer.kind.is_tcp_proxy() {
        cluster.control_plane.port
    } else {
        cluster.control_plane.api_server_port
    }
}

/// The one fact the renderer checks itself: the PKI stage handed over the CA certificate's
/// hash kubeadm's join discovery pins. Everything the templates splice into config syntax is
/// validated by hac-check or typed ([`hac_model::InterfaceName`], [`hac_model::VrrpPassword`],
/// [`hac_model::BootstrapToken`]), so the renderer trusts it.
pub fn validate(ca_cert_hash: &str) -> Vec<Diagnostic> {
    if ca_cert_hash.starts_with("sha256:") {
        return Vec::new();
    }
    vec![
        Diagnostic::error("the issued PKI carries no `sha256:` CA certificate hash")
            .with_code(crate::codes::RenderCode::RenderBug)
            .with_hint("this is a bug in the PKI stage"),
    ]
}

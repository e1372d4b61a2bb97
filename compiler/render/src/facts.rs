//! Facts the renderer derives beyond hac-model's: bootstrap-token constants, node labels,
//! the port keepalived checks, and the one check of the PKI's hand-over (everything else
//! the checker guarantees). The archive's paths come from hac_model::archive.

use hac_core::Diagnostic;
use hac_model::{Cluster, Node};
use std::collections::BTreeMap;

/// The paths of the files of an archive and the role facts that place them are the archive
/// table's (hac_model::archive), re-exported here for the templates and tests.
pub use hac_model::archive::{
    is_first_control_plane, kube_vip_manifest_path, load_balancer_ca_path, runs_etcd_unit,
    runs_kube_vip, runs_kubelet, APT_KEY, APT_SOURCE, BOOTSTRAP, CA_CERT, CHECK_APISERVER,
    CNI_MANIFEST, CONTAINERD_CONFIG, CRICTL_CONFIG, ETCD_UNIT, FIREWALL_RULESET, FIREWALL_UNIT,
    HAPROXY_CFG, KEEPALIVED_CONF, KUBEADM_CONFIG, KUBELET_PATCH, KUBE_VIP_MANIFEST,
    KUBE_VIP_STAGED, MANIFEST, MODULES_CONF, NGINX_CONF, PREPARE, SYSCTL_CONF,
};

/// Written by bootstrap.sh (never in the archive) where no interface is named: the one line
/// `interface NAME` that keepalived.conf includes inside its `vrrp_instance`.
pub const KEEPALIVED_INTERFACE_CONF: &str = "etc/keepalived/hac-interface.conf";
/// Made by bootstrap.sh once the CNI manifest is applied (never in the archive).
pub const CNI_MARKER: &str = "etc/kubernetes/hac/cni.applied";

/// The bootstrap token's groups, usages and lifetime (kubeadm's defaults).
pub const TOKEN_GROUPS: &[&str] = &["system:bootstrappers:kubeadm:default-node-token"];
pub const TOKEN_USAGES: &[&str] = &["signing", "authentication"];

/// The label kubelet sets from a node's `zone`.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

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

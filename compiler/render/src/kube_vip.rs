//! The kube-vip static pod (`etc/kubernetes/manifests/kube-vip.yaml`) as a typed Pod: ARP
//! mode, leader election among the control planes, the VIP on the node's interface.

use hac_model::{has_super_admin, Cluster, Node};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: PodSpec,
}

#[derive(Clone, Debug, Serialize)]
pub struct Metadata {
    pub name: &'static str,
    pub namespace: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    pub containers: Vec<Container>,
    pub host_aliases: Vec<HostAlias>,
    pub host_network: bool,
    pub volumes: Vec<Volume>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: &'static str,
    /// `controlPlane.kubeVip`, else `<imageRepository>/kube-vip`, else ghcr.io (the model's
    /// `Components::kube_vip_image`).
    pub image: String,
    pub image_pull_policy: &'static str,
    pub args: Vec<&'static str>,
    pub env: Vec<EnvVar>,
    pub security_context: SecurityContext,
    pub volume_mounts: Vec<VolumeMount>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EnvVar {
    pub name: &'static str,
    pub value: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct SecurityContext {
    pub capabilities: Capabilities,
}

#[derive(Clone, Debug, Serialize)]
pub struct Capabilities {
    pub add: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub mount_path: &'static str,
    pub name: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct HostAlias {
    pub hostnames: Vec<&'static str>,
    pub ip: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub host_path: HostPath,
    pub name: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct HostPath {
    pub path: String,
}

/// Whether kube-vip on `node` starts with `super-admin.conf` (the first control plane from
/// Kubernetes 1.29); bootstrap.sh switches it to `admin.conf` once `kubeadm init` is done.
pub fn uses_super_admin(cluster: &Cluster, node: &Node) -> bool {
    crate::facts::runs_kube_vip(cluster, node)
        && cluster
            .first_control_plane()
            .is_some_and(|f| f.name == node.name)
        && has_super_admin(cluster.kubernetes_version)
}

/// The pod for control plane `node`. On the first control plane from Kubernetes 1.29,
/// kube-vip must use `super-admin.conf` during `kubeadm init` (admin.conf gets its rights
/// only once the cluster is up); everywhere else `admin.conf`.
pub fn pod(cluster: &Cluster, node: &Node) -> Pod {
    let first = cluster
        .first_control_plane()
        .is_some_and(|f| f.name == node.name);
    let kubeconfig = if first && has_super_admin(cluster.kubernetes_version) {
        "/etc/kubernetes/super-admin.conf"
    } else {
        "/etc/kubernetes/admin.conf"
    };
    let env = |name: &'static str, value: &str| EnvVar {
        name,
        value: value.to_string(),
    };
    let vip = cluster
        .control_plane
        .vip
        .map(|v| v.to_string())
        .unwrap_or_default();
    Pod {
        api_version: "v1",
        kind: "Pod",
        metadata: Metadata {
            name: "kube-vip",
            namespace: "kube-system",
        },
        spec: PodSpec {
            containers: vec![Container {
                name: "kube-vip",
                image: cluster.components.kube_vip_image(),
                image_pull_policy: "IfNotPresent",
                args: vec!["manager"],
                env: [
                    Some(env("vip_arp", "true")),
                    Some(env("port", &cluster.control_plane.port.to_string())),
                    // Unnamed: kube-vip takes the interface of the default route.
                    node.interface.as_deref().map(|i| env("vip_interface", i)),
                ]
                .into_iter()
                .flatten()
                .chain([
                    env("vip_cidr", "32"),
                    env("cp_enable", "true"),
                    env("cp_namespace", "kube-system"),
                    env("vip_leaderelection", "true"),
                    env("vip_leasename", "plndr-cp-lock"),
                    env("vip_leaseduration", "5"),
                    env("vip_renewdeadline", "3"),
                    env("vip_retryperiod", "1"),
                    env("address", &vip),
                ])
                .collect(),
                security_context: SecurityContext {
                    capabilities: Capabilities {
                        add: vec!["NET_ADMIN", "NET_RAW"],
                    },
                },
                volume_mounts: vec![VolumeMount {
                    mount_path: "/etc/kubernetes/admin.conf",
                    name: "kubeconfig",
                }],
            }],
            host_aliases: vec![HostAlias {
                hostnames: vec!["kubernetes"],
                ip: "127.0.0.1",
            }],
            host_network: true,
            volumes: vec![Volume {
                host_path: HostPath {
                    path: kubeconfig.to_string(),
                },
                name: "kubeconfig",
            }],
        },
    }
}

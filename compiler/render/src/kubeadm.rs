//! kubeadm's config API (v1beta3 below 1.31, v1beta4 from 1.31) as typed structs, and the
//! documents each node's `etc/kubernetes/kubeadm-config.yaml` holds: Init + Cluster on the
//! first control plane, a control-plane Join on the other masters, a Join on workers.

use crate::facts::{node_labels, TOKEN_GROUPS, TOKEN_USAGES};
use hac_model::{
    Cluster, EtcdTopology, KeyAlgorithm, KubeadmApi, KubeletSettings, Node, RenderSecrets, Role,
    Version,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where kubeadm finds the certificates hac placed.
pub const CERTIFICATES_DIR: &str = "/etc/kubernetes/pki";
/// Long enough for nodes booted together with the first master to wait for it.
const DISCOVERY_TIMEOUT: &str = "15m0s";

/// `extraArgs`: a map in v1beta3, a list of `{name, value}` in v1beta4.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub enum ExtraArgs {
    Map(BTreeMap<String, String>),
    List(Vec<Arg>),
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Arg {
    pub name: String,
    pub value: String,
}

impl ExtraArgs {
    fn new(api: KubeadmApi, args: BTreeMap<String, String>) -> Option<ExtraArgs> {
        if args.is_empty() {
            return None;
        }
        Some(match api {
            KubeadmApi::V1beta3 => ExtraArgs::Map(args),
            KubeadmApi::V1beta4 => ExtraArgs::List(
                args.into_iter()
                    .map(|(name, value)| Arg { name, value })
                    .collect(),
            ),
        })
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfiguration {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub cluster_name: String,
    pub kubernetes_version: String,
    pub control_plane_endpoint: String,
    pub certificates_dir: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_validity_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_certificate_validity_period: Option<String>,
    pub networking: Networking,
    pub etcd: EtcdConfig,
    pub api_server: ApiServer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_manager: Option<ControlPlaneComponent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<ControlPlaneComponent>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Networking {
    pub pod_subnet: String,
    pub service_subnet: String,
    pub dns_domain: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EtcdConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalEtcd>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalEtcd>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalEtcd {
    pub data_dir: &'static str,
    #[serde(rename = "serverCertSANs")]
    pub server_cert_sans: Vec<String>,
    #[serde(rename = "peerCertSANs")]
    pub peer_cert_sans: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_args: Option<ExtraArgs>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalEtcd {
    pub endpoints: Vec<String>,
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiServer {
    #[serde(rename = "certSANs")]
    pub cert_sans: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_args: Option<ExtraArgs>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_volumes: Vec<HostPathMount>,
}

/// kubeadm's `HostPathMount`: a host path mounted into the apiserver's static pod.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostPathMount {
    pub name: String,
    pub host_path: String,
    pub mount_path: String,
    pub read_only: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path_type: String,
}

/// The kubelet's configuration, uploaded by `kubeadm init` for every node (kubeadm writes
/// it to each node's `/var/lib/kubelet/config.yaml` at join).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeletConfiguration {
    pub api_version: &'static str,
    pub kind: &'static str,
    #[serde(flatten)]
    pub fields: KubeletFields,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub feature_gates: BTreeMap<String, bool>,
}

/// kube-proxy's configuration, uploaded by `kubeadm init` into its ConfigMap.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxyConfiguration {
    pub api_version: &'static str,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub feature_gates: BTreeMap<String, bool>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneComponent {
    pub extra_args: ExtraArgs,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitConfiguration {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub bootstrap_tokens: Vec<BootstrapToken>,
    #[serde(rename = "localAPIEndpoint")]
    pub local_api_endpoint: ApiEndpoint,
    pub node_registration: NodeRegistration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patches: Option<Patches>,
}

/// kubeadm's `patches`: the folder of per-node patches it applies (here only the kubelet's
/// configuration: [`KUBELET_PATCH`]).
#[derive(Clone, Debug, Serialize)]
pub struct Patches {
    pub directory: &'static str,
}

/// Where a node's kubelet overrides go: kubeadm reads `<target>[+<patchtype>].yaml` files
/// from [`Patches::directory`], target `kubeletconfiguration`, a JSON merge patch.
pub use hac_model::archive::KUBELET_PATCH;
const PATCHES_DIR: &str = "/etc/kubernetes/patches";

/// The `patches` of `node`'s Init/Join configuration: only where it overrides the kubelet.
fn patches(node: &Node) -> Option<Patches> {
    (node.kubelet != KubeletSettings::default()).then_some(Patches {
        directory: PATCHES_DIR,
    })
}

/// The node's kubelet overrides as a merge patch of the KubeletConfiguration (only the
/// fields it sets), or `None` when it has none.
pub fn kubelet_patch(node: &Node) -> Option<KubeletFields> {
    let k = &node.kubelet;
    (*k != KubeletSettings::default()).then(|| KubeletFields::of(k))
}

/// The KubeletConfiguration fields hac sets: the cluster's in [`KubeletConfiguration`], a
/// node's overrides alone in its patch.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeletFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup_driver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pods: Option<u32>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub system_reserved: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub kube_reserved: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub eviction_hard: BTreeMap<String, String>,
    #[serde(rename = "serverTLSBootstrap", skip_serializing_if = "Option::is_none")]
    pub server_tls_bootstrap: Option<bool>,
}

impl KubeletFields {
    fn of(k: &KubeletSettings) -> KubeletFields {
        KubeletFields {
            cgroup_driver: k.cgroup_driver.clone(),
            max_pods: k.max_pods,
            system_reserved: k.system_reserved.clone(),
            kube_reserved: k.kube_reserved.clone(),
            eviction_hard: k.eviction_hard.clone(),
            server_tls_bootstrap: k.server_tls_bootstrap,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapToken {
    pub token: String,
    pub description: String,
    pub ttl: String,
    pub usages: Vec<&'static str>,
    pub groups: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiEndpoint {
    pub advertise_address: String,
    pub bind_port: u16,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRegistration {
    pub name: String,
    /// `None` keeps kubeadm's default; `Some(vec![])` leaves the node untainted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taints: Option<Vec<Taint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubelet_extra_args: Option<ExtraArgs>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Taint {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub effect: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinConfiguration {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub discovery: Discovery,
    pub node_registration: NodeRegistration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<JoinControlPlane>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Timeouts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patches: Option<Patches>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Discovery {
    pub bootstrap_token: BootstrapTokenDiscovery,
    /// v1beta3 only (v1beta4 moved it to `timeouts.discovery`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapTokenDiscovery {
    pub api_server_endpoint: String,
    pub token: String,
    pub ca_cert_hashes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinControlPlane {
    #[serde(rename = "localAPIEndpoint")]
    pub local_api_endpoint: ApiEndpoint,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeouts {
    pub discovery: &'static str,
}

/// One document of the multi-document kubeadm config.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum KubeadmDocument {
    Init(InitConfiguration),
    Cluster(Box<ClusterConfiguration>),
    Join(JoinConfiguration),
    Kubelet(KubeletConfiguration),
    KubeProxy(KubeProxyConfiguration),
}

/// v1beta4's `encryptionAlgorithm`, where this kubeadm knows the value: kubeadm 1.31 and
/// 1.32 accept only ECDSA-P256 and RSA (1.32.9 rejects "ECDSA-P384"; it came with 1.33).
/// Without it kubeadm still uses the P-384 certificates hac ships; only what kubeadm itself
/// generates later (kubelet.conf, renewals) takes its default, as with v1beta3.
fn encryption_algorithm(alg: KeyAlgorithm, version: Version) -> Option<&'static str> {
    Some(match alg {
        KeyAlgorithm::EcdsaP256 => "ECDSA-P256",
        KeyAlgorithm::EcdsaP384 if version.minor_release() >= (1, 33) => "ECDSA-P384",
        KeyAlgorithm::EcdsaP384 => return None,
        KeyAlgorithm::Rsa2048 => "RSA-2048",
        KeyAlgorithm::Rsa3072 => "RSA-3072",
        KeyAlgorithm::Rsa4096 => "RSA-4096",
    })
}

fn hours(days: u32) -> String {
    format!("{}h0m0s", u64::from(days) * 24)
}

fn cluster_configuration(cluster: &Cluster) -> ClusterConfiguration {
    let api = cluster.kubeadm_api();
    let etcd = match cluster.etcd.topology {
        EtcdTopology::Stacked => {
            // Joining masters read this ClusterConfiguration back from the cluster and check
            // their own etcd certificates against it, so it may only name SANs every member's
            // certificate carries (pki.md); kubeadm adds each member's name and address itself.
            let sans: Vec<String> = hac_model::ETCD_MEMBER_COMMON_SANS
                .iter()
                .map(std::string::ToString::to_string)
                .collect();
            EtcdConfig {
                local: Some(LocalEtcd {
                    data_dir: "/var/lib/etcd",
                    server_cert_sans: sans.clone(),
                    peer_cert_sans: sans,
                    extra_args: ExtraArgs::new(api, cluster.components.etcd_args.clone()),
                }),
                external: None,
            }
        }
        EtcdTopology::External => EtcdConfig {
            local: None,
            external: Some(ExternalEtcd {
                endpoints: cluster
                    .etcd_members()
                    .map(|m| format!("https://{}:2379", m.address))
                    .collect(),
                ca_file: format!("{CERTIFICATES_DIR}/etcd/ca.crt"),
                cert_file: format!("{CERTIFICATES_DIR}/apiserver-etcd-client.crt"),
                key_file: format!("{CERTIFICATES_DIR}/apiserver-etcd-client.key"),
            }),
        },
    };
    let settings = &cluster.components;
    let gates = settings.feature_gates_flag();
    let with_gates = |mut args: BTreeMap<String, String>| {
        if let Some(g) = &gates {
            args.insert("feature-gates".to_string(), g.clone());
        }
        args
    };
    let mut cm_args = with_gates(settings.controller_manager_args.clone());
    if cluster.network.node_mask_size != 24 {
        cm_args.insert(
            "node-cidr-mask-size".to_string(),
            cluster.network.node_mask_size.to_string(),
        );
    }
    let v4 = api == KubeadmApi::V1beta4;
    ClusterConfiguration {
        api_version: api.api_version(),
        kind: "ClusterConfiguration",
        cluster_name: cluster.name.clone(),
        kubernetes_version: format!("v{}", cluster.kubernetes_version),
        control_plane_endpoint: cluster.control_plane_endpoint(),
        certificates_dir: CERTIFICATES_DIR,
        image_repository: settings.image_repository.clone(),
        encryption_algorithm: if v4 {
            encryption_algorithm(cluster.pki.algorithm, cluster.kubernetes_version)
        } else {
            None
        },
        certificate_validity_period: v4.then(|| hours(cluster.pki.cert_validity_days)),
        ca_certificate_validity_period: v4.then(|| hours(cluster.pki.ca_validity_days)),
        networking: Networking {
            pod_subnet: cluster.network.pods.to_string(),
            service_subnet: cluster.network.services.to_string(),
            dns_domain: cluster.network.dns_domain.clone(),
        },
        etcd,
        api_server: ApiServer {
            cert_sans: cluster.kubeadm_cert_sans(),
            extra_args: ExtraArgs::new(api, {
                let mut args = with_gates(settings.api_server.extra_args.clone());
                // Encryption, audit and OIDC: flags the converter reserved (E0108), so they
                // never collide with `extraArgs`.
                args.extend(settings.api_server.security_flags());
                args
            }),
            extra_volumes: settings
                .api_server
                .extra_volumes
                .iter()
                .chain(settings.api_server.security_volumes().iter())
                .map(|v| HostPathMount {
                    name: v.name.clone(),
                    host_path: v.host_path.clone(),
                    mount_path: v.mount_path.clone(),
                    read_only: v.read_only,
                    path_type: v.path_type.clone(),
                })
                .collect(),
        },
        controller_manager: ExtraArgs::new(api, cm_args)
            .map(|extra_args| ControlPlaneComponent { extra_args }),
        scheduler: ExtraArgs::new(api, with_gates(settings.scheduler_args.clone()))
            .map(|extra_args| ControlPlaneComponent { extra_args }),
    }
}

fn node_registration(cluster: &Cluster, node: &Node) -> NodeRegistration {
    let api = cluster.kubeadm_api();
    let taints = if node.has(Role::ControlPlane) && node.has(Role::Worker) {
        Some(Vec::new())
    } else {
        node.taints.as_ref().map(|ts| {
            ts.iter()
                .map(|t| Taint {
                    key: t.key.clone(),
                    value: t.value.clone(),
                    effect: t.effect.clone(),
                })
                .collect()
        })
    };
    let labels = node_labels(node);
    let mut args = BTreeMap::new();
    if !labels.is_empty() {
        let joined: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        args.insert("node-labels".to_string(), joined.join(","));
    }
    NodeRegistration {
        name: node.name.clone(),
        taints,
        kubelet_extra_args: ExtraArgs::new(api, args),
    }
}

fn api_endpoint(cluster: &Cluster, node: &Node) -> ApiEndpoint {
    ApiEndpoint {
        advertise_address: node.address.to_string(),
        bind_port: cluster.control_plane.api_server_port,
    }
}

/// The documents of `node`'s kubeadm config, or none when the node runs no kubelet.
pub fn documents(
    cluster: &Cluster,
    node: &Node,
    ca_cert_hash: &str,
    secrets: &RenderSecrets,
) -> Vec<KubeadmDocument> {
    let api = cluster.kubeadm_api();
    let is_master = node.has(Role::ControlPlane);
    if !is_master && !node.has(Role::Worker) {
        return Vec::new();
    }
    let first = cluster
        .first_control_plane()
        .is_some_and(|f| f.name == node.name);
    if first {
        let init = InitConfiguration {
            api_version: api.api_version(),
            kind: "InitConfiguration",
            bootstrap_tokens: vec![BootstrapToken {
                token: secrets.bootstrap_token.as_str().to_string(),
                description: format!("hac: joins the nodes of cluster {}", cluster.name),
                ttl: cluster.bootstrap_token_ttl(),
                usages: TOKEN_USAGES.to_vec(),
                groups: TOKEN_GROUPS.to_vec(),
            }],
            local_api_endpoint: api_endpoint(cluster, node),
            node_registration: node_registration(cluster, node),
            patches: patches(node),
        };
        let mut docs = vec![
            KubeadmDocument::Init(init),
            KubeadmDocument::Cluster(Box::new(cluster_configuration(cluster))),
        ];
        let settings = &cluster.components;
        if settings.has_kubelet_configuration() {
            let k = &settings.kubelet;
            docs.push(KubeadmDocument::Kubelet(KubeletConfiguration {
                api_version: "kubelet.config.k8s.io/v1beta1",
                kind: "KubeletConfiguration",
                fields: KubeletFields::of(k),
                feature_gates: settings.feature_gates.clone(),
            }));
        }
        if settings.has_kube_proxy_configuration() {
            docs.push(KubeadmDocument::KubeProxy(KubeProxyConfiguration {
                api_version: "kubeproxy.config.k8s.io/v1alpha1",
                kind: "KubeProxyConfiguration",
                mode: settings.kube_proxy_mode.map(hac_model::ProxyMode::as_str),
                feature_gates: settings.feature_gates.clone(),
            }));
        }
        return docs;
    }
    let v4 = api == KubeadmApi::V1beta4;
    let join = JoinConfiguration {
        api_version: api.api_version(),
        kind: "JoinConfiguration",
        discovery: Discovery {
            bootstrap_token: BootstrapTokenDiscovery {
                api_server_endpoint: cluster.control_plane_endpoint(),
                token: secrets.bootstrap_token.as_str().to_string(),
                ca_cert_hashes: vec![ca_cert_hash.to_string()],
            },
            timeout: (!v4).then_some(DISCOVERY_TIMEOUT),
        },
        node_registration: node_registration(cluster, node),
        control_plane: is_master.then(|| JoinControlPlane {
            local_api_endpoint: api_endpoint(cluster, node),
        }),
        timeouts: v4.then_some(Timeouts {
            discovery: DISCOVERY_TIMEOUT,
        }),
        patches: patches(node),
    };
    vec![KubeadmDocument::Join(join)]
}

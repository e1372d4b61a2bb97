//! The text templates of stdlib/templates/ (embedded in the binary), rendered with
//! minijinja under strict undefined: a variable a template names but the context lacks is
//! an error, never an empty string. Each `*_context` function builds one template's data.

use crate::facts::{self, checked_port};
use hac_core::Diagnostic;
use hac_model::{
    Cluster, EtcdTopology, LoadBalancerKind, Node, RenderSecrets, Role, Version,
    KEEPALIVED_CHECK_WEIGHT,
};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

/// (template name, source) of every embedded template.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "haproxy.cfg",
        include_str!("../../../stdlib/templates/haproxy.cfg.j2"),
    ),
    (
        "nginx.conf",
        include_str!("../../../stdlib/templates/nginx.conf.j2"),
    ),
    (
        "keepalived.conf",
        include_str!("../../../stdlib/templates/keepalived.conf.j2"),
    ),
    (
        "check_apiserver.sh",
        include_str!("../../../stdlib/templates/check_apiserver.sh.j2"),
    ),
    (
        "etcd.service",
        include_str!("../../../stdlib/templates/etcd.service.j2"),
    ),
    (
        "99-kubernetes.conf",
        include_str!("../../../stdlib/templates/99-kubernetes.conf.j2"),
    ),
    (
        "kubernetes.conf",
        include_str!("../../../stdlib/templates/kubernetes.conf.j2"),
    ),
    (
        "bootstrap.sh",
        include_str!("../../../stdlib/templates/bootstrap.sh.j2"),
    ),
    (
        "prepare.sh",
        include_str!("../../../stdlib/templates/prepare.sh.j2"),
    ),
    (
        "containerd.toml",
        include_str!("../../../stdlib/templates/containerd.toml.j2"),
    ),
    (
        "firewall.nft",
        include_str!("../../../stdlib/templates/firewall.nft.j2"),
    ),
    (
        "hac-firewall.service",
        include_str!("../../../stdlib/templates/hac-firewall.service.j2"),
    ),
];

/// keepalived's check timings (kubeadm's "HA considerations": interval 3 s, fall 10, rise 2).
pub const CHECK_INTERVAL_SECONDS: u32 = 3;
pub const CHECK_FALL: u32 = 10;
pub const CHECK_RISE: u32 = 2;
/// Where Debian's libnginx-mod-stream puts the stream module.
pub const NGINX_STREAM_MODULE: &str = "/usr/lib/nginx/modules/ngx_stream_module.so";

/// The template engine with every embedded template loaded.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Result<Templates, Diagnostic> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|e| template_error(name, &e))?;
        }
        Ok(Templates { env })
    }

    /// Renders template `name` with `context`.
    pub fn render<C: Serialize>(&self, name: &str, context: &C) -> Result<String, Diagnostic> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| template_error(name, &e))?;
        template
            .render(context)
            .map_err(|e| template_error(name, &e))
    }
}

fn template_error(name: &str, error: &minijinja::Error) -> Diagnostic {
    Diagnostic::error(format!("template `{name}` failed to render: {error}"))
        .with_code(crate::codes::RenderCode::RenderBug)
        .with_note("this is a bug in hac's embedded templates".to_string())
}

#[derive(Serialize)]
pub struct Backend {
    pub name: String,
    pub address: String,
    pub port: u16,
}

fn backends(cluster: &Cluster) -> Vec<Backend> {
    cluster
        .control_planes()
        .map(|n| Backend {
            name: n.name.clone(),
            address: n.address.to_string(),
            port: cluster.control_plane.api_server_port,
        })
        .collect()
}

#[derive(Serialize)]
pub struct HaproxyContext {
    pub cluster: String,
    pub node: String,
    pub port: u16,
    /// The running cluster's port while the endpoint moves to [`Self::port`].
    pub previous_port: Option<u16>,
    pub servers: Vec<Backend>,
    pub ca_file: String,
    pub check_interval_seconds: u32,
    pub check_fall: u32,
}

pub fn haproxy_context(cluster: &Cluster, node: &Node) -> HaproxyContext {
    HaproxyContext {
        cluster: cluster.name.clone(),
        node: node.name.clone(),
        port: cluster.control_plane.port,
        previous_port: cluster.control_plane.previous_port,
        servers: backends(cluster),
        ca_file: format!("/{}", facts::load_balancer_ca_path(node)),
        check_interval_seconds: 3,
        check_fall: 3,
    }
}

#[derive(Serialize)]
pub struct NginxContext {
    pub cluster: String,
    pub node: String,
    pub port: u16,
    /// The running cluster's port while the endpoint moves to [`Self::port`].
    pub previous_port: Option<u16>,
    pub servers: Vec<Backend>,
    pub max_fails: u32,
    pub fail_timeout: String,
    pub stream_module: &'static str,
}

pub fn nginx_context(cluster: &Cluster, node: &Node) -> NginxContext {
    NginxContext {
        cluster: cluster.name.clone(),
        node: node.name.clone(),
        port: cluster.control_plane.port,
        previous_port: cluster.control_plane.previous_port,
        servers: backends(cluster),
        max_fails: 3,
        fail_timeout: "10s".to_string(),
        stream_module: NGINX_STREAM_MODULE,
    }
}

#[derive(Serialize)]
pub struct KeepalivedContext {
    pub cluster: String,
    pub node: String,
    pub instance: String,
    pub state: &'static str,
    /// The named interface; `None`: keepalived.conf includes [`Self::interface_conf`], which
    /// bootstrap.sh writes at boot.
    pub interface: Option<String>,
    pub interface_conf: String,
    pub router_id: i64,
    pub priority: i64,
    pub best_peer_priority: i64,
    pub password: String,
    pub unicast: bool,
    pub address: String,
    pub peers: Vec<String>,
    pub vip: String,
    pub vip_prefix: u8,
    /// The running cluster's VIP while it moves to [`Self::vip`] (a second VRRP instance).
    pub previous: Option<PreviousVipContext>,
    pub check_script: String,
    pub script_user: &'static str,
    pub interval: u32,
    pub fall: u32,
    pub rise: u32,
    pub weight: i64,
}

#[derive(Serialize)]
pub struct PreviousVipContext {
    pub vip: String,
    pub router_id: i64,
}

pub fn keepalived_context(
    cluster: &Cluster,
    node: &Node,
    secrets: &RenderSecrets,
) -> KeepalivedContext {
    let priorities = cluster.keepalived_priorities();
    let priority = priorities
        .iter()
        .find(|(n, _)| n.name == node.name)
        .map_or(1, |(_, p)| *p);
    let best_peer_priority = priorities
        .iter()
        .filter(|(n, _)| n.name != node.name)
        .map(|(_, p)| *p)
        .max()
        .unwrap_or(0);
    let is_master = cluster
        .keepalived_master()
        .is_some_and(|m| m.name == node.name);
    KeepalivedContext {
        cluster: cluster.name.clone(),
        node: node.name.clone(),
        instance: "VI_K8S_API".to_string(),
        state: if is_master { "MASTER" } else { "BACKUP" },
        interface: node.interface.as_ref().map(|i| i.as_str().to_string()),
        interface_conf: format!("/{}", facts::KEEPALIVED_INTERFACE_CONF),
        router_id: cluster.control_plane.keepalived.router_id,
        priority,
        best_peer_priority,
        password: secrets.vrrp_password.as_str().to_string(),
        unicast: cluster.control_plane.keepalived.unicast,
        address: node.address.to_string(),
        peers: priorities
            .iter()
            .filter(|(n, _)| n.name != node.name)
            .map(|(n, _)| n.address.to_string())
            .collect(),
        vip: cluster
            .control_plane
            .vip
            .map(|v| v.to_string())
            .unwrap_or_default(),
        vip_prefix: node.prefix_len.unwrap_or(32),
        previous: cluster
            .control_plane
            .previous_vip
            .map(|p| PreviousVipContext {
                vip: p.address.to_string(),
                router_id: p.router_id,
            }),
        check_script: format!("/{}", facts::CHECK_APISERVER),
        script_user: "root",
        interval: CHECK_INTERVAL_SECONDS,
        fall: CHECK_FALL,
        rise: CHECK_RISE,
        weight: KEEPALIVED_CHECK_WEIGHT,
    }
}

#[derive(Serialize)]
pub struct CheckApiserverContext {
    pub cluster: String,
    pub node: String,
    pub port: u16,
    pub vip: String,
    pub through: &'static str,
}

pub fn check_apiserver_context(cluster: &Cluster, node: &Node) -> CheckApiserverContext {
    CheckApiserverContext {
        cluster: cluster.name.clone(),
        node: node.name.clone(),
        port: checked_port(cluster),
        vip: cluster
            .control_plane
            .vip
            .map(|v| v.to_string())
            .unwrap_or_default(),
        through: match cluster.control_plane.load_balancer.kind {
            LoadBalancerKind::Haproxy => "haproxy",
            LoadBalancerKind::Nginx => "nginx",
            LoadBalancerKind::Keepalived
            | LoadBalancerKind::KubeVip
            | LoadBalancerKind::External => "kube-apiserver",
        },
    }
}

#[derive(Serialize)]
pub struct EtcdUnitContext {
    pub cluster: String,
    pub name: String,
    pub etcd_version: String,
    pub binary: String,
    pub flags: Vec<String>,
    /// `etcdctl member add …` when this member joins a running cluster (`hac build --from`).
    pub member_add: Option<String>,
}

/// etcd's command-line flags for member `node`, in the spelling of `version`.
pub fn etcd_flags(cluster: &Cluster, node: &Node, version: Version) -> Vec<String> {
    let pki = "/etc/kubernetes/pki/etcd";
    let addr = node.address;
    // A member joining a running cluster lists the members it will find and starts as
    // `existing`; a running member keeps what it started with; a fresh cluster is `new`.
    let (initial_cluster, state) = cluster.etcd_bootstrap(node);
    let mut flags = vec![
        format!("--name={}", node.name),
        "--data-dir=/var/lib/etcd".to_string(),
        format!("--listen-client-urls=https://{addr}:2379,https://127.0.0.1:2379"),
        format!("--advertise-client-urls=https://{addr}:2379"),
        format!("--listen-peer-urls=https://{addr}:2380"),
        format!("--initial-advertise-peer-urls=https://{addr}:2380"),
        "--listen-metrics-urls=http://127.0.0.1:2381".to_string(),
        format!("--initial-cluster={}", initial_cluster.join(",")),
        format!("--initial-cluster-token={}", cluster.name),
        format!("--initial-cluster-state={state}"),
        format!("--cert-file={pki}/server.crt"),
        format!("--key-file={pki}/server.key"),
        format!("--trusted-ca-file={pki}/ca.crt"),
        "--client-cert-auth=true".to_string(),
        format!("--peer-cert-file={pki}/peer.crt"),
        format!("--peer-key-file={pki}/peer.key"),
        format!("--peer-trusted-ca-file={pki}/ca.crt"),
        "--peer-client-cert-auth=true".to_string(),
        "--snapshot-count=10000".to_string(),
    ];
    if version.minor_release() >= (3, 6) {
        flags.push("--feature-gates=InitialCorruptCheck=true".to_string());
        flags.push("--watch-progress-notify-interval=5s".to_string());
    } else {
        flags.push("--experimental-initial-corrupt-check=true".to_string());
        flags.push("--experimental-watch-progress-notify-interval=5s".to_string());
    }
    // The cluster file's own flags (never one of the above: the check refuses those, E0108).
    for (flag, value) in &cluster.components.etcd_args {
        flags.push(format!("--{flag}={value}"));
    }
    flags
}

pub fn etcd_unit_context(cluster: &Cluster, node: &Node) -> EtcdUnitContext {
    EtcdUnitContext {
        cluster: cluster.name.clone(),
        name: node.name.clone(),
        etcd_version: cluster.etcd.version.to_string(),
        binary: cluster.etcd.binary.clone(),
        flags: etcd_flags(cluster, node, cluster.etcd.version),
        member_add: cluster.etcd_join_members(node).map(|_| {
            format!(
                "etcdctl member add {} --learner --peer-urls={}",
                node.name,
                Cluster::etcd_peer_url(node)
            )
        }),
    }
}

#[derive(Serialize)]
pub struct ClusterOnlyContext {
    pub cluster: String,
}

pub fn cluster_only_context(cluster: &Cluster) -> ClusterOnlyContext {
    ClusterOnlyContext {
        cluster: cluster.name.clone(),
    }
}

#[derive(Serialize)]
pub struct BootstrapContext {
    pub cluster: String,
    pub node: String,
    pub roles: Vec<&'static str>,
    pub kernel: bool,
    pub etcd: bool,
    pub etcd_keys: Vec<String>,
    pub keepalived: bool,
    pub proxy: Option<&'static str>,
    pub kubeadm_command: Option<String>,
    pub kubeadm_summary: String,
    /// kube-vip starts with super-admin.conf on this node and switches after `kubeadm init`.
    pub kube_vip_super_admin: bool,
    pub kube_vip_manifest: &'static str,
    /// On a joining control plane with kube-vip: the staged manifest bootstrap.sh moves into
    /// the static-pod folder after `kubeadm join` (see facts::KUBE_VIP_STAGED).
    pub kube_vip_after_join: Option<&'static str>,
    /// The node's manifest.json (its files, for the services' change digest).
    pub manifest: &'static str,
    /// Health gates before kubeadm (bounded waits, see bootstrap.sh.j2).
    pub gates: Gates,
    /// The node's private files (absolute paths) when the user-data leaves them out
    /// (`outputs.cloudInitKeys = "separate"`): bootstrap.sh waits for their archive.
    pub keys: Vec<String>,
    pub keys_archive: &'static str,
    /// The SHA-256 of the node's key archive (set by the caller when `keys` is not empty).
    pub keys_sha256: String,
    /// The CNI manifest (absolute path) applied after `kubeadm init`, on the first control plane.
    pub cni: Option<String>,
    pub cni_marker: String,
    /// keepalived runs here and no interface is named: find the one holding `address`.
    pub detect_interface: bool,
    pub address: String,
    pub interface_conf: &'static str,
}

/// What a node waits for before its kubeadm step: a join waits until the endpoint's
/// `/readyz` answers; the first control plane waits for an external etcd's quorum and for a
/// haproxy/nginx load balancer to accept connections. (Where the endpoint leads straight to
/// an apiserver — keepalived alone, kube-vip — the first control plane cannot wait for it: it
/// is that apiserver. An external load balancer may refuse connections until a backend is
/// healthy, so it is not waited for either.)
#[derive(Serialize, Default)]
pub struct Gates {
    /// `host:port` whose `/readyz` must answer before `kubeadm join`.
    pub readyz: Option<String>,
    /// `host:port` that must accept TCP before `kubeadm init`.
    pub load_balancer: Option<String>,
    /// `https://address:2379` of every etcd member: one must report health (it then has a
    /// leader, so a quorum runs) before `kubeadm init`.
    pub etcd: Vec<String>,
}

pub fn bootstrap_context(
    cluster: &Cluster,
    node: &Node,
    etcd_keys: Vec<String>,
    private_files: Vec<String>,
) -> BootstrapContext {
    let config = format!("/{}", facts::KUBEADM_CONFIG);
    let (kubeadm_command, kubeadm_summary) = if facts::is_first_control_plane(cluster, node) {
        (
            Some(format!("kubeadm init --config {config}")),
            "kubeadm init (the first control plane)".to_string(),
        )
    } else if node.has(Role::ControlPlane) {
        (
            Some(format!("kubeadm join --config {config}")),
            "kubeadm join as a control plane".to_string(),
        )
    } else if node.has(Role::Worker) {
        (
            Some(format!("kubeadm join --config {config}")),
            "kubeadm join as a worker".to_string(),
        )
    } else {
        (None, "nothing (this node runs no kubelet)".to_string())
    };
    let runs_proxy = cluster.runs_tcp_proxy(node);
    BootstrapContext {
        cluster: cluster.name.clone(),
        node: node.name.clone(),
        roles: node.roles.iter().map(|r| r.as_str()).collect(),
        kernel: facts::runs_kubelet(node),
        etcd: facts::runs_etcd_unit(cluster, node),
        etcd_keys,
        keepalived: cluster.holds_vip(node),
        proxy: match cluster.control_plane.load_balancer.kind {
            LoadBalancerKind::Haproxy if runs_proxy => Some("haproxy"),
            LoadBalancerKind::Nginx if runs_proxy => Some("nginx"),
            LoadBalancerKind::Haproxy
            | LoadBalancerKind::Nginx
            | LoadBalancerKind::Keepalived
            | LoadBalancerKind::KubeVip
            | LoadBalancerKind::External => None,
        },
        kubeadm_command,
        kubeadm_summary,
        kube_vip_super_admin: crate::kube_vip::uses_super_admin(cluster, node),
        kube_vip_manifest: facts::KUBE_VIP_MANIFEST,
        kube_vip_after_join: (facts::runs_kube_vip(cluster, node)
            && !facts::is_first_control_plane(cluster, node))
        .then_some(facts::KUBE_VIP_STAGED),
        manifest: facts::MANIFEST,
        gates: gates(cluster, node),
        keys: if cluster.outputs.cloud_init
            && cluster.outputs.cloud_init_keys == hac_model::CloudInitKeys::Separate
        {
            private_files
        } else {
            Vec::new()
        },
        keys_archive: crate::cloud_init::KEYS_ARCHIVE,
        keys_sha256: String::new(),
        cni: (facts::is_first_control_plane(cluster, node) && cluster.network.cni.is_some())
            .then(|| format!("/{}", facts::CNI_MANIFEST)),
        cni_marker: format!("/{}", facts::CNI_MARKER),
        detect_interface: cluster.holds_vip(node) && node.interface.is_none(),
        address: node.address.to_string(),
        interface_conf: facts::KEEPALIVED_INTERFACE_CONF,
    }
}

fn gates(cluster: &Cluster, node: &Node) -> Gates {
    if !facts::runs_kubelet(node) {
        return Gates::default();
    }
    if !facts::is_first_control_plane(cluster, node) {
        return Gates {
            readyz: Some(cluster.control_plane_endpoint()),
            ..Gates::default()
        };
    }
    let lb = &cluster.control_plane.load_balancer;
    Gates {
        readyz: None,
        load_balancer: match lb.kind {
            LoadBalancerKind::Haproxy | LoadBalancerKind::Nginx => {
                Some(cluster.control_plane_endpoint())
            }
            LoadBalancerKind::Keepalived
            | LoadBalancerKind::KubeVip
            | LoadBalancerKind::External => None,
        },
        etcd: match cluster.etcd.topology {
            EtcdTopology::External => cluster
                .etcd_members()
                .map(|m| format!("https://{}:2379", m.address))
                .collect(),
            EtcdTopology::Stacked => Vec::new(),
        },
    }
}

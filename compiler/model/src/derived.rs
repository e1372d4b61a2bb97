//! Facts derived from the model that several stages need; computed in one place so that the
//! checker, the PKI and the renderer cannot disagree.

use crate::cluster::*;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

/// The weight of keepalived's `check_apiserver` track script: a holder whose check fails
/// drops by this much (the rules require that this makes it fall below the best peer).
pub const KEEPALIVED_CHECK_WEIGHT: i64 = -20;

/// The oldest and newest Kubernetes minor releases whose kubeadm config `hac` emits.
pub const KUBERNETES_MIN: (u32, u32) = (1, 22);
pub const KUBERNETES_MAX: (u32, u32) = (1, 35);

/// The kubeadm config API for a version: v1beta3 for 1.22–1.30, v1beta4 from 1.31.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KubeadmApi {
    V1beta3,
    V1beta4,
}

impl KubeadmApi {
    pub fn for_version(v: Version) -> KubeadmApi {
        if v.minor_release() >= (1, 31) {
            KubeadmApi::V1beta4
        } else {
            KubeadmApi::V1beta3
        }
    }
    pub fn api_version(self) -> &'static str {
        match self {
            KubeadmApi::V1beta3 => "kubeadm.k8s.io/v1beta3",
            KubeadmApi::V1beta4 => "kubeadm.k8s.io/v1beta4",
        }
    }
}

/// The etcd release kubeadm deploys for a Kubernetes minor release (kubeadm's
/// `SupportedEtcdVersion` table), the default of `etcd.version`.
pub fn default_etcd_version(k8s: Version) -> Version {
    match k8s.minor_release() {
        (1, m) if m <= 22 => Version::new(3, 5, 0),
        (1, 23) => Version::new(3, 5, 6),
        (1, 24) => Version::new(3, 5, 6),
        (1, 25) => Version::new(3, 5, 9),
        (1, 26) => Version::new(3, 5, 10),
        (1, 27) => Version::new(3, 5, 12),
        (1, 28) => Version::new(3, 5, 15),
        (1, 29) => Version::new(3, 5, 16),
        (1, 30) => Version::new(3, 5, 16),
        (1, 31) => Version::new(3, 5, 24),
        (1, 32) => Version::new(3, 5, 24),
        (1, 33) => Version::new(3, 5, 24),
        _ => Version::new(3, 6, 5),
    }
}

/// A DNS-1123 label (cluster and node names): 1..63 of `a-z0-9-`, starting and ending
/// with a letter or digit.
/// Orders names as people read them: runs of digits by value, so `w-2` comes before `w-10`.
/// Used for what people read (the report); the model itself keeps byte order.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let dx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let dy = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let nx = trim_zeros(&x[..dx]);
                let ny = trim_zeros(&y[..dy]);
                let o = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny));
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
                x = &x[dx..];
                y = &y[dy..];
            }
            (Some(p), Some(q)) => {
                if p != q {
                    return p.cmp(q);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let z = d.iter().take_while(|c| **c == b'0').count();
    &d[z.min(d.len().saturating_sub(1))..]
}

pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A Linux network interface name the kernel accepts and every config file can hold:
/// 1..15 of letters, digits, `_`, `.`, `-`, and not `.` or `..`. Only
/// [`InterfaceName::parse`] makes one (hac-check, when it reads `nodes.<name>.interface`), so
/// the renderer splices it into keepalived.conf and kube-vip's manifest without looking.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InterfaceName(String);

impl InterfaceName {
    /// The name, if `s` follows the rule.
    pub fn parse(s: &str) -> Option<InterfaceName> {
        let ok = !s.is_empty()
            && s.len() <= 15
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        ok.then(|| InterfaceName(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for InterfaceName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A non-empty Kubernetes label value (a zone becomes `topology.kubernetes.io/zone`): 1..63
/// of letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit.
pub fn is_label_value(s: &str) -> bool {
    let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && alnum(s.bytes().next())
        && alnum(s.bytes().last())
}

/// An absolute path of plain characters that a systemd unit line and a shell can hold
/// unquoted (letters, digits, `_ . / - +`).
pub fn is_plain_absolute_path(s: &str) -> bool {
    s.starts_with('/')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-' | b'+'))
}

/// From 1.29 admin certificates carry `O=kubeadm:cluster-admins` and a separate
/// `super-admin.conf` (O=system:masters) exists on the first control plane.
pub fn has_super_admin(k8s: Version) -> bool {
    k8s.minor_release() >= (1, 29)
}

/// The names every etcd member's server and peer certificate carries besides its own name and
/// address (pki.md); kubeadm's `serverCertSANs`/`peerCertSANs` list exactly these.
pub const ETCD_MEMBER_COMMON_SANS: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// A certificate's subject alternative names: DNS names and addresses, each in the order they
/// were given, without duplicates or empty entries. Built only from the model by
/// [`Cluster::apiserver_sans`] and [`Node::etcd_member_sans`], which the PKI issues, kubeadm's
/// config names and the checker reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectAltNames {
    pub dns_names: Vec<String>,
    pub ips: Vec<IpAddr>,
}

impl SubjectAltNames {
    /// Sorts `entries` into addresses (what parses as one) and DNS names, keeping the first
    /// of each duplicate.
    fn of(entries: impl IntoIterator<Item = String>) -> SubjectAltNames {
        let mut sans = SubjectAltNames::default();
        let mut seen = HashSet::new();
        for e in entries {
            if e.is_empty() || !seen.insert(e.clone()) {
                continue;
            }
            match e.parse::<IpAddr>() {
                Ok(ip) if !sans.ips.contains(&ip) => sans.ips.push(ip),
                Ok(_) => {}
                Err(_) => sans.dns_names.push(e),
            }
        }
        sans
    }
    /// Every name and address as text: DNS names first, then addresses.
    pub fn to_strings(&self) -> impl Iterator<Item = String> + '_ {
        self.dns_names
            .iter()
            .cloned()
            .chain(self.ips.iter().map(IpAddr::to_string))
    }
}

impl Node {
    /// The SANs of this etcd member's server and peer certificates: its name and address,
    /// then [`ETCD_MEMBER_COMMON_SANS`].
    pub fn etcd_member_sans(&self) -> SubjectAltNames {
        SubjectAltNames::of(
            [self.name.clone(), self.address.to_string()]
                .into_iter()
                .chain(
                    ETCD_MEMBER_COMMON_SANS
                        .iter()
                        .map(std::string::ToString::to_string),
                ),
        )
    }
}

impl Cluster {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }
    /// Nodes with role control-plane, in name order.
    pub fn control_planes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.has(Role::ControlPlane))
    }
    /// The control plane that runs `kubeadm init` (first in name order).
    pub fn first_control_plane(&self) -> Option<&Node> {
        self.control_planes().next()
    }
    /// The etcd members: control planes when stacked, nodes with role etcd when external.
    pub fn etcd_members(&self) -> impl Iterator<Item = &Node> {
        let topo = self.etcd.topology;
        self.nodes.iter().filter(move |n| match topo {
            EtcdTopology::Stacked => n.has(Role::ControlPlane),
            EtcdTopology::External => n.has(Role::Etcd),
        })
    }
    /// The peer URL of an etcd member on `node`.
    pub fn etcd_peer_url(node: &Node) -> String {
        format!("https://{}:2380", node.address)
    }
    /// When `node`'s etcd member joins a running cluster (`hac build --from` with a previous
    /// membership that lacks it): the members its `--initial-cluster` must list, which is
    /// what `etcdctl member add` reports at that moment. `hac plan` adds the new members one
    /// at a time in name order, before removing any, so a new member sees every previous
    /// member and the new ones before it. `None`: the member is part of the initial cluster
    /// (a fresh build, or a member that already exists).
    pub fn etcd_join_members(&self, node: &Node) -> Option<Vec<EtcdMember>> {
        let previous = self.etcd.existing_members.as_ref()?;
        if !self.runs_etcd(node) || previous.iter().any(|m| m.name == node.name) {
            return None;
        }
        let mut members = previous.clone();
        for m in self.etcd_members() {
            if previous.iter().any(|p| p.name == m.name) {
                continue;
            }
            members.push(EtcdMember {
                name: m.name.clone(),
                peer_url: Cluster::etcd_peer_url(m),
                initial_cluster: Vec::new(),
                initial_state: String::new(),
            });
            if m.name == node.name {
                break;
            }
        }
        Some(members)
    }
    /// The `--initial-cluster` entries (`name=url`) and `--initial-cluster-state` of the
    /// external etcd member on `node`: a fresh cluster bootstraps together (`new`, every
    /// member); a member joining a running one lists what it will find (`existing`, see
    /// [`Cluster::etcd_join_members`]); a member that already runs keeps what it was started
    /// with (recorded in the previous state), so its unit does not change.
    pub fn etcd_bootstrap(&self, node: &Node) -> (Vec<String>, String) {
        let entry = |name: &str, url: &str| format!("{name}={url}");
        if let Some(joining) = self.etcd_join_members(node) {
            let list = joining
                .iter()
                .map(|m| entry(&m.name, &m.peer_url))
                .collect();
            return (list, "existing".to_string());
        }
        if let Some(previous) = &self.etcd.existing_members {
            if let Some(me) = previous.iter().find(|m| m.name == node.name) {
                if !me.initial_cluster.is_empty() && !me.initial_state.is_empty() {
                    return (me.initial_cluster.clone(), me.initial_state.clone());
                }
                let list = previous
                    .iter()
                    .map(|m| entry(&m.name, &m.peer_url))
                    .collect();
                return (list, "new".to_string());
            }
        }
        let list = self
            .etcd_members()
            .map(|m| entry(&m.name, &Cluster::etcd_peer_url(m)))
            .collect();
        (list, "new".to_string())
    }
    /// Whether `node` runs an etcd member.
    pub fn runs_etcd(&self, node: &Node) -> bool {
        match self.etcd.topology {
            EtcdTopology::Stacked => node.has(Role::ControlPlane),
            EtcdTopology::External => node.has(Role::Etcd),
        }
    }
    /// Nodes that run keepalived (and, for haproxy/nginx, the TCP load balancer beside it):
    /// none for kube-vip and external; the control planes for kind keepalived or
    /// placement control-plane; the load-balancer nodes for placement dedicated.
    pub fn vip_holders(&self) -> Vec<&Node> {
        self.nodes.iter().filter(|n| self.holds_vip(n)).collect()
    }
    /// Whether `node` runs keepalived: decided from its roles alone (constant time; the
    /// renderer asks this for every node, and listing the holders each time made a build
    /// quadratic in the number of nodes).
    pub fn holds_vip(&self, node: &Node) -> bool {
        let lb = &self.control_plane.load_balancer;
        match lb.kind {
            LoadBalancerKind::External | LoadBalancerKind::KubeVip => false,
            LoadBalancerKind::Keepalived => node.has(Role::ControlPlane),
            LoadBalancerKind::Haproxy | LoadBalancerKind::Nginx => match lb.placement {
                Placement::ControlPlane => node.has(Role::ControlPlane),
                Placement::Dedicated => node.has(Role::LoadBalancer),
            },
        }
    }
    /// Whether `node` runs haproxy or nginx.
    pub fn runs_tcp_proxy(&self, node: &Node) -> bool {
        self.control_plane.load_balancer.kind.is_tcp_proxy() && self.holds_vip(node)
    }
    /// keepalived priority of each VIP holder, in name order: the node's own `priority`, else
    /// 150, 140, 130, … (never below 1). The first in name order with the highest priority
    /// starts as MASTER.
    pub fn keepalived_priorities(&self) -> Vec<(&Node, i64)> {
        self.vip_holders()
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, n.priority.unwrap_or((150 - 10 * i as i64).max(1))))
            .collect()
    }
    /// The VIP holder that starts as MASTER.
    pub fn keepalived_master(&self) -> Option<&Node> {
        let prios = self.keepalived_priorities();
        let best = prios.iter().map(|(_, p)| *p).max()?;
        prios.into_iter().find(|(_, p)| *p == best).map(|(n, _)| n)
    }
    /// The host part of controlPlaneEndpoint: `endpoint`, else the VIP, else the external
    /// load balancer's address.
    pub fn endpoint_host(&self) -> String {
        let cp = &self.control_plane;
        if let Some(e) = &cp.endpoint {
            return e.clone();
        }
        if let Some(v) = cp.vip {
            return v.to_string();
        }
        cp.load_balancer.address.clone().unwrap_or_default()
    }
    /// `host:port` for kubeadm's controlPlaneEndpoint and the kubeconfigs' server.
    pub fn control_plane_endpoint(&self) -> String {
        format!("{}:{}", self.endpoint_host(), self.control_plane.port)
    }
    /// The endpoint host when it is a DNS name rather than an address.
    pub fn endpoint_dns_name(&self) -> Option<String> {
        let h = self.endpoint_host();
        if h.is_empty() || h.parse::<std::net::IpAddr>().is_ok() {
            None
        } else {
            Some(h)
        }
    }
    /// The `kubernetes` Service's DNS names, which every apiserver certificate carries.
    pub fn kubernetes_service_names(&self) -> [String; 4] {
        [
            "kubernetes".to_string(),
            "kubernetes.default".to_string(),
            "kubernetes.default.svc".to_string(),
            format!("kubernetes.default.svc.{}", self.network.dns_domain),
        ]
    }
    /// The apiserver SANs that are the same on every control plane, in this order without
    /// duplicates or empties: the VIP, the endpoint host, an external load balancer's own
    /// address (clients may dial it too), then `certSANs`.
    pub fn apiserver_cluster_sans(&self) -> Vec<String> {
        self.cluster_san_entries(true)
    }
    /// kubeadm's `apiServer.certSANs`: [`apiserver_cluster_sans`](Self::apiserver_cluster_sans)
    /// without an external load balancer's own address (kubeadm adds node names, addresses
    /// and service names itself; hac issues the certificate, so this list only documents it).
    pub fn kubeadm_cert_sans(&self) -> Vec<String> {
        self.cluster_san_entries(false)
    }
    fn cluster_san_entries(&self, with_external_address: bool) -> Vec<String> {
        let cp = &self.control_plane;
        let external_address = match cp.load_balancer.kind {
            LoadBalancerKind::External if with_external_address => cp.load_balancer.address.clone(),
            LoadBalancerKind::External
            | LoadBalancerKind::Haproxy
            | LoadBalancerKind::Nginx
            | LoadBalancerKind::Keepalived
            | LoadBalancerKind::KubeVip => None,
        };
        let mut seen = HashSet::new();
        cp.vip
            .map(|v| v.to_string())
            .into_iter()
            .chain(cp.previous_vip.map(|p| p.address.to_string()))
            .chain([self.endpoint_host()])
            .chain(external_address)
            .chain(cp.cert_sans.iter().cloned())
            .filter(|s| !s.is_empty() && seen.insert(s.clone()))
            .collect()
    }
    /// The SANs of `node`'s kube-apiserver serving certificate: its name, the `kubernetes`
    /// Service's names, the first service IP, its address, then
    /// [`apiserver_cluster_sans`](Self::apiserver_cluster_sans).
    pub fn apiserver_sans(&self, node: &Node) -> SubjectAltNames {
        SubjectAltNames::of(
            [node.name.clone()]
                .into_iter()
                .chain(self.kubernetes_service_names())
                .chain([
                    self.first_service_ip().to_string(),
                    node.address.to_string(),
                ])
                .chain(self.apiserver_cluster_sans()),
        )
    }
    /// The first address of the service CIDR (the `kubernetes` Service's ClusterIP).
    pub fn first_service_ip(&self) -> Ipv4Addr {
        let base = u32::from(self.network.services.network());
        Ipv4Addr::from(base.wrapping_add(1))
    }
    /// The leaf certificates' notBefore: `pki.leafEpoch`, else `epoch`.
    pub fn leaf_not_before(&self) -> i64 {
        self.pki.leaf_epoch.unwrap_or(self.epoch).unix
    }
    /// kubeadm's bootstrap token `ttl` (a Go duration): `24h0m0s`, or `0s` for a token that
    /// never expires.
    pub fn bootstrap_token_ttl(&self) -> String {
        match self.pki.bootstrap_token_ttl_hours {
            0 => "0s".to_string(),
            h => format!("{h}h0m0s"),
        }
    }
    pub fn kubeadm_api(&self) -> KubeadmApi {
        KubeadmApi::for_version(self.kubernetes_version)
    }
}

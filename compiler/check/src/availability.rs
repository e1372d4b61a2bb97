//! The availability analysis: etcd quorum, control-plane replicas, VIP holders and load
//! balancers, what the loss of each zone (and of each single node) leaves standing. The
//! structured [`Availability`] value feeds both the zone rule and the plain-text report.

use hac_model::{Cluster, EtcdTopology, LoadBalancerKind, Node, Role};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// What the cluster consists of, and what survives the loss of each zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Availability {
    pub cluster_name: String,
    pub kubernetes_version: String,
    pub etcd_topology: EtcdTopology,
    /// Nodes running an etcd member, in name order.
    pub etcd_members: Vec<String>,
    /// ⌊n/2⌋+1.
    pub quorum: usize,
    /// ⌊(n−1)/2⌋.
    pub failures_tolerated: usize,
    /// Nodes running a kube-apiserver.
    pub control_planes: Vec<String>,
    /// How the endpoint is kept reachable.
    pub load_balancer_kind: LoadBalancerKind,
    /// `host:port` of controlPlaneEndpoint.
    pub endpoint: String,
    /// Nodes that can hold the VIP (keepalived, or kube-vip on the masters); empty for an
    /// external load balancer.
    pub vip_holders: Vec<String>,
    /// keepalived priority of each VIP holder, when keepalived holds the VIP.
    pub priorities: Vec<(String, i64)>,
    /// Nodes running haproxy/nginx.
    pub load_balancers: Vec<String>,
    /// The address of an external load balancer (kind "external").
    pub external_load_balancer: Option<String>,
    /// One entry per zone named by some node, in zone-name order.
    pub zones: Vec<ZoneLoss>,
    /// Nodes whose loss alone breaks the control plane, with what it breaks.
    pub single_points_of_failure: Vec<(String, LossOutcome)>,
    /// The interface each VIP holder binds, in words (a name, or "detected at boot");
    /// empty when no VIP is managed.
    pub vip_interfaces: String,
    /// `network.cni.manifest`, when the cluster names one.
    pub cni_manifest: Option<String>,
}

/// The loss of one zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneLoss {
    pub zone: String,
    /// Every node in the zone, in name order.
    pub nodes: Vec<String>,
    pub outcome: LossOutcome,
}

/// What remains after a set of nodes is lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LossOutcome {
    pub etcd_members_left: usize,
    pub apiservers_left: usize,
    /// `None` when no VIP is managed (external load balancer).
    pub vip_holders_left: Option<usize>,
    /// `None` when no haproxy/nginx runs.
    pub load_balancers_left: Option<usize>,
    /// What is lost, in words ("etcd quorum (1 of 3 members left, quorum is 2)"); empty when
    /// the control plane survives.
    pub lost: Vec<String>,
}

impl LossOutcome {
    pub fn survives(&self) -> bool {
        self.lost.is_empty()
    }
}

/// Node names, sorted (so that [`Availability::loss`] can look them up by binary search).
fn names<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> Vec<String> {
    let mut v: Vec<String> = nodes.into_iter().map(|n| n.name.clone()).collect();
    v.sort();
    v
}

/// Names in the order people read them (w-2 before w-10), for the report.
fn natural(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort_by(|a, b| hac_model::natural_cmp(a, b));
    v
}

fn contains(sorted: &[String], name: &str) -> bool {
    sorted.binary_search_by(|x| x.as_str().cmp(name)).is_ok()
}

/// The interfaces the VIP holders bind, in words: "eth0", "ens3 on lb-0, eth0 on lb-1",
/// "detected at boot (the one holding each node's address)".
fn vip_interfaces(cluster: &Cluster) -> String {
    let holders: Vec<&Node> = match cluster.control_plane.load_balancer.kind {
        LoadBalancerKind::External => return String::new(),
        LoadBalancerKind::KubeVip => cluster.control_planes().collect(),
        LoadBalancerKind::Haproxy | LoadBalancerKind::Nginx | LoadBalancerKind::Keepalived => {
            cluster.vip_holders()
        }
    };
    let detected = if cluster.control_plane.load_balancer.kind == LoadBalancerKind::KubeVip {
        "picked by kube-vip (the default route's)"
    } else {
        "detected at boot (the one holding the node's address)"
    };
    let mut by_interface: BTreeMap<Option<&str>, Vec<String>> = BTreeMap::new();
    for n in &holders {
        by_interface
            .entry(n.interface.as_deref())
            .or_default()
            .push(n.name.clone());
    }
    let describe = |i: Option<&str>| i.map_or(detected.to_string(), str::to_string);
    if by_interface.len() == 1 {
        return by_interface
            .keys()
            .next()
            .map(|i| describe(*i))
            .unwrap_or_default();
    }
    by_interface
        .into_iter()
        .map(|(i, nodes)| format!("{} on {}", describe(i), natural(&nodes).join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Availability {
    pub fn of(cluster: &Cluster) -> Availability {
        let etcd_members = names(cluster.etcd_members());
        let n = etcd_members.len();
        let kind = cluster.control_plane.load_balancer.kind;
        let vip_holders = match kind {
            LoadBalancerKind::KubeVip => names(cluster.control_planes()),
            LoadBalancerKind::Haproxy
            | LoadBalancerKind::Nginx
            | LoadBalancerKind::Keepalived
            | LoadBalancerKind::External => names(cluster.vip_holders()),
        };
        let priorities = match kind {
            LoadBalancerKind::KubeVip | LoadBalancerKind::External => Vec::new(),
            LoadBalancerKind::Haproxy | LoadBalancerKind::Nginx | LoadBalancerKind::Keepalived => {
                cluster
                    .keepalived_priorities()
                    .into_iter()
                    .map(|(n, p)| (n.name.clone(), p))
                    .collect()
            }
        };
        let load_balancers = if kind.is_tcp_proxy() {
            vip_holders.clone()
        } else {
            Vec::new()
        };
        let mut a = Availability {
            cluster_name: cluster.name.clone(),
            kubernetes_version: cluster.kubernetes_version.to_string(),
            etcd_topology: cluster.etcd.topology,
            etcd_members,
            quorum: n / 2 + 1,
            failures_tolerated: n.saturating_sub(1) / 2,
            control_planes: names(cluster.control_planes()),
            load_balancer_kind: kind,
            endpoint: cluster.control_plane_endpoint(),
            vip_holders,
            priorities,
            load_balancers,
            external_load_balancer: match kind {
                LoadBalancerKind::External => cluster.control_plane.load_balancer.address.clone(),
                LoadBalancerKind::Haproxy
                | LoadBalancerKind::Nginx
                | LoadBalancerKind::Keepalived
                | LoadBalancerKind::KubeVip => None,
            },
            zones: Vec::new(),
            single_points_of_failure: Vec::new(),
            vip_interfaces: vip_interfaces(cluster),
            cni_manifest: cluster.network.cni.as_ref().map(|c| c.manifest.clone()),
        };
        let mut zones: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for node in &cluster.nodes {
            if let Some(z) = &node.zone {
                zones.entry(z.as_str()).or_default().push(node.name.clone());
            }
        }
        a.zones = zones
            .into_iter()
            .map(|(zone, nodes)| {
                let outcome = a.loss(&nodes.iter().map(String::as_str).collect());
                ZoneLoss {
                    zone: zone.to_string(),
                    nodes,
                    outcome,
                }
            })
            .collect();
        a.single_points_of_failure = cluster
            .nodes
            .iter()
            .filter(|n| {
                n.roles.iter().any(|r| *r != Role::Worker) || contains(&a.vip_holders, &n.name)
            })
            .filter_map(|n| {
                let outcome = a.loss(&BTreeSet::from([n.name.as_str()]));
                (!outcome.survives()).then(|| (n.name.clone(), outcome))
            })
            .collect();
        a
    }

    /// What remains when the nodes in `lost` are gone.
    pub fn loss(&self, lost: &BTreeSet<&str>) -> LossOutcome {
        // O(|lost| log n), so that checking every node and zone stays fast on huge clusters.
        let left = |v: &[String]| {
            let gone = lost.iter().filter(|l| contains(v, l)).count();
            v.len().saturating_sub(gone)
        };
        let etcd_left = left(&self.etcd_members);
        let api_left = left(&self.control_planes);
        let vip_left = (self.load_balancer_kind != LoadBalancerKind::External)
            .then(|| left(&self.vip_holders));
        let lb_left = self
            .load_balancer_kind
            .is_tcp_proxy()
            .then(|| left(&self.load_balancers));
        let mut what = Vec::new();
        if etcd_left < self.quorum {
            what.push(format!(
                "etcd quorum ({etcd_left} of {} members left, quorum is {})",
                self.etcd_members.len(),
                self.quorum
            ));
        }
        if api_left == 0 {
            what.push("every kube-apiserver".to_string());
        }
        if vip_left == Some(0) {
            what.push("every VIP holder".to_string());
        }
        if lb_left == Some(0) {
            what.push(format!(
                "every {} load balancer",
                self.load_balancer_kind.as_str()
            ));
        }
        LossOutcome {
            etcd_members_left: etcd_left,
            apiservers_left: api_left,
            vip_holders_left: vip_left,
            load_balancers_left: lb_left,
            lost: what,
        }
    }

    /// The plain-text report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Availability of cluster \"{}\" (Kubernetes {})",
            self.cluster_name, self.kubernetes_version
        );
        let _ = writeln!(out);
        let where_ = match self.etcd_topology {
            EtcdTopology::Stacked => "stacked on the control-plane nodes",
            EtcdTopology::External => "external, on the nodes with role etcd",
        };
        let n = self.etcd_members.len();
        let _ = writeln!(
            out,
            "etcd:           {n} member{} ({where_}): {}",
            s(n),
            list(&self.etcd_members)
        );
        let _ = writeln!(
            out,
            "                quorum {}, tolerates {} failure{}",
            self.quorum,
            self.failures_tolerated,
            s(self.failures_tolerated)
        );
        let c = self.control_planes.len();
        let _ = writeln!(
            out,
            "control plane:  {c} kube-apiserver replica{}: {}",
            s(c),
            list(&self.control_planes)
        );
        let _ = writeln!(out, "endpoint:       {}", self.endpoint);
        self.write_vip(&mut out);
        self.write_load_balancer(&mut out);
        match &self.cni_manifest {
            Some(manifest) => {
                let _ = writeln!(
                    out,
                    "pod network:    {manifest}, applied once after `kubeadm init` on the first control plane"
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "pod network:    none named; nodes stay NotReady until a CNI is applied (network.cni.manifest)"
                );
            }
        }
        let _ = writeln!(out);
        self.write_zones(&mut out);
        let _ = writeln!(out);
        self.write_single_points_of_failure(&mut out);
        if self.load_balancer_kind == LoadBalancerKind::External {
            let _ = writeln!(
                out,
                "note: the external load balancer is outside this analysis; make it redundant too"
            );
        }
        out
    }

    /// The VIP line: who holds it (keepalived with MASTER/BACKUP and priorities, kube-vip, or none).
    fn write_vip(&self, out: &mut String) {
        match self.load_balancer_kind {
            LoadBalancerKind::External => {
                let _ = writeln!(
                    out,
                    "VIP:            none managed; an external load balancer serves the endpoint"
                );
            }
            LoadBalancerKind::KubeVip => {
                let _ = writeln!(
                    out,
                    "VIP:            held by kube-vip on {}",
                    list(&self.vip_holders)
                );
            }
            LoadBalancerKind::Haproxy | LoadBalancerKind::Nginx | LoadBalancerKind::Keepalived => {
                let holders: Vec<String> = self
                    .priorities
                    .iter()
                    .enumerate()
                    .map(|(i, (name, p))| {
                        let state = if i == self.master_index() {
                            "MASTER"
                        } else {
                            "BACKUP"
                        };
                        format!("{name} ({state}, priority {p})")
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "VIP:            held by keepalived on {}",
                    list(&holders)
                );
            }
        }
        if !self.vip_interfaces.is_empty() {
            let _ = writeln!(out, "                interface: {}", self.vip_interfaces);
        }
    }

    /// The load balancer line: the TCP proxy and where it runs, an external one, or none.
    fn write_load_balancer(&self, out: &mut String) {
        if self.load_balancer_kind.is_tcp_proxy() {
            let _ = writeln!(
                out,
                "load balancer:  {} on {}",
                self.load_balancer_kind.as_str(),
                list(&self.load_balancers)
            );
        } else if let Some(address) = &self.external_load_balancer {
            let _ = writeln!(
                out,
                "load balancer:  external at {address} (not managed by hac), in front of every kube-apiserver"
            );
        } else if self.load_balancer_kind != LoadBalancerKind::External {
            let _ = writeln!(
                out,
                "load balancer:  none; the VIP leads straight to a kube-apiserver"
            );
        }
    }

    /// Each named zone and whether the cluster survives its loss.
    fn write_zones(&self, out: &mut String) {
        if self.zones.is_empty() {
            let _ = writeln!(
                out,
                "zones:          none named (set `zone` on the nodes to analyse zone failures)"
            );
        } else {
            let _ = writeln!(out, "zones:");
            for z in &self.zones {
                let _ = writeln!(out, "  {}: {}", z.zone, natural(&z.nodes).join(", "));
                if z.outcome.survives() {
                    let _ = writeln!(out, "    survives its loss: {}", self.remaining(&z.outcome));
                } else {
                    let _ = writeln!(
                        out,
                        "    does NOT survive its loss: loses {}",
                        z.outcome.lost.join(", ")
                    );
                }
            }
        }
    }

    /// The nodes whose loss alone loses something, in natural order.
    fn write_single_points_of_failure(&self, out: &mut String) {
        if self.single_points_of_failure.is_empty() {
            let _ = writeln!(out, "single points of failure: none");
        } else {
            let _ = writeln!(out, "single points of failure:");
            let mut spofs: Vec<&(String, LossOutcome)> =
                self.single_points_of_failure.iter().collect();
            spofs.sort_by(|a, b| hac_model::natural_cmp(&a.0, &b.0));
            for (node, outcome) in spofs {
                let _ = writeln!(out, "  {node}: its loss loses {}", outcome.lost.join(", "));
            }
        }
    }

    /// Index in `priorities` of the VIP holder that starts as MASTER (first with the highest).
    fn master_index(&self) -> usize {
        let best = self.priorities.iter().map(|(_, p)| *p).max();
        self.priorities
            .iter()
            .position(|(_, p)| Some(*p) == best)
            .unwrap_or(0)
    }

    /// What is left after a loss that the control plane survives, in words ("etcd 2 of 3
    /// members left (quorum 2), 2 kube-apiservers"): the report's and the picture's text.
    pub fn remaining(&self, o: &LossOutcome) -> String {
        let mut parts = vec![
            format!(
                "etcd {} of {} members left (quorum {})",
                o.etcd_members_left,
                self.etcd_members.len(),
                self.quorum
            ),
            format!(
                "{} kube-apiserver{}",
                o.apiservers_left,
                s(o.apiservers_left)
            ),
        ];
        if let Some(v) = o.vip_holders_left {
            parts.push(format!("{v} VIP holder{}", s(v)));
        }
        if let Some(l) = o.load_balancers_left {
            parts.push(format!("{l} load balancer{}", s(l)));
        }
        parts.join(", ")
    }
}

/// The names joined by commas in natural order, or "none".
fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        natural(v).join(", ")
    }
}

fn s(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

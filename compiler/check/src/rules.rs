//! Every rule of cluster.md "Rules the compiler enforces", run on a converted [`Cluster`]:
//! quorum and topology, zones, roles, addresses and CIDRs, SANs, load balancer and VRRP,
//! versions and PKI. Each diagnostic carries a stable code, names the values involved,
//! points at the attribute at fault (through `cluster.origins`) and says how to fix it.

use crate::availability::Availability;
use crate::codes::CheckCode;
use hac_core::{Diagnostic, Span};
use hac_model::schema;
use hac_model::*;
use ipnet::Ipv4Net;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// The supported etcd minor releases for external units (flag spellings are known for these).
pub use hac_model::schema::{ETCD_MAX, ETCD_MIN};

/// The largest service CIDR kube-apiserver accepts for IPv4 (a /12).
pub const SERVICE_CIDR_MIN_PREFIX: u8 = 12;

/// kube-controller-manager refuses a node mask more than 16 bits longer than the pod CIDR.
pub const MAX_NODE_MASK_DIFF: u8 = 16;

/// Runs every rule; the result is sorted by source position, then code.
pub fn check(c: &Cluster) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    quorum(c, &mut d);
    topology_and_roles(c, &mut d);
    zones(c, &mut d);
    names_and_addresses(c, &mut d);
    kubelet_labels(c, &mut d);
    vip(c, &mut d);
    cidrs(c, &mut d);
    sans(c, &mut d);
    load_balancer(c, &mut d);
    keepalived(c, &mut d);
    versions_and_pki(c, &mut d);
    crate::hardening::check(c, &mut d);
    crate::sort_diagnostics(d)
}

/// Labels the kubelet may set on its own Node (`--node-labels`): the NodeRestriction
/// admission plugin and the kubelet itself refuse any other key in the `kubernetes.io` and
/// `k8s.io` namespaces, and the kubelet then does not start at all.
const KUBELET_LABELS: [&str; 11] = [
    "kubernetes.io/hostname",
    "kubernetes.io/os",
    "kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
];
const KUBELET_LABEL_NAMESPACES: [&str; 2] = ["kubelet.kubernetes.io", "node.kubernetes.io"];

/// Whether the kubelet accepts `key` in `--node-labels`.
pub fn kubelet_may_set_label(key: &str) -> bool {
    let Some((prefix, _)) = key.split_once('/') else {
        return true;
    };
    let restricted = ["kubernetes.io", "k8s.io"]
        .iter()
        .any(|ns| prefix == *ns || prefix.ends_with(&format!(".{ns}")));
    !restricted
        || KUBELET_LABELS.contains(&key)
        || KUBELET_LABEL_NAMESPACES
            .iter()
            .any(|ns| prefix == *ns || prefix.ends_with(&format!(".{ns}")))
}

fn kubelet_labels(c: &Cluster, out: &mut Vec<Diagnostic>) {
    for n in &c.nodes {
        for key in n.labels.keys() {
            if kubelet_may_set_label(key) {
                continue;
            }
            let path = format!("nodes.{}.labels", n.name);
            out.push(
                err(
                    CheckCode::KubeletRestrictedLabel,
                    format!(
                        "node {} asks for label {key:?}, which the kubelet may not set on its own node",
                        n.name
                    ),
                    at(c, &path),
                )
                .with_hint(format!(
                    "label it once the node has joined: `kubectl label node {} {key}=…`; \
                     or use a key outside kubernetes.io and k8s.io (e.g. \"node.example.com/role\"), \
                     or under node.kubernetes.io/",
                    n.name
                ))
                .with_note(
                    "the kubelet refuses --node-labels in the kubernetes.io and k8s.io namespaces \
                     except its own (kubernetes.io/hostname, topology.kubernetes.io/zone, …) and \
                     node.kubernetes.io/, and does not start",
                ),
            );
        }
    }
}

/// The span recorded for an attribute path, else its nearest recorded parent, else the root.
pub(crate) fn at(c: &Cluster, path: &str) -> Option<Span> {
    c.origins
        .get(path)
        .or_else(|| c.origins.spans.get("").copied())
}

/// How to label the value at `path`: as `what`, or, when the file does not set it (so the
/// span found is its parent's), as the default it is.
fn what_at(c: &Cluster, path: &str, what: String) -> String {
    if c.origins.spans.contains_key(path) {
        what
    } else {
        format!("{what}: the default, as `{path}` is not set")
    }
}

/// The span of a node's name (its attribute name in `nodes`), else of its definition.
fn node_at(c: &Cluster, name: &str) -> Option<Span> {
    c.origins
        .spans
        .get(&format!("nodes.{name}#name"))
        .copied()
        .or_else(|| at(c, &format!("nodes.{name}")))
}

fn err(code: CheckCode, message: String, span: Option<Span>) -> Diagnostic {
    Diagnostic::error(message)
        .with_code(code)
        .with_span_opt(span)
}

fn warn(code: CheckCode, message: String, span: Option<Span>) -> Diagnostic {
    Diagnostic::warning(message)
        .with_code(code)
        .with_span_opt(span)
}

/// Adds a secondary label, unless it would repeat the primary span or an earlier label
/// (values generated by a library call all point at the call).
fn label(d: Diagnostic, span: Option<Span>, message: impl Into<String>) -> Diagnostic {
    match span {
        Some(s) if d.span != Some(s) && !d.labels.iter().any(|l| l.span == s) => {
            d.with_label(s, message)
        }
        _ => d,
    }
}

fn member_kind(c: &Cluster) -> &'static str {
    match c.etcd.topology {
        EtcdTopology::Stacked => "control-plane node",
        EtcdTopology::External => "etcd node",
    }
}

fn quorum(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let members: Vec<&Node> = c.etcd_members().collect();
    let n = members.len();
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    let last = members.last().and_then(|m| node_at(c, &m.name));
    let kind = member_kind(c);
    match n {
        0 => {} // reported by the topology rules
        1 => out.push(
            err(
                CheckCode::SingleEtcdMember,
                format!("etcd has a single member ({}): no high availability, its loss loses the cluster", names[0]),
                last,
            )
            .with_span_label("the only etcd member")
            .with_hint(format!("add two more {kind}s: 3 members keep quorum (2) when one fails")),
        ),
        2 => {
            let mut d = err(
                CheckCode::TwoEtcdMembers,
                format!(
                    "etcd has 2 members ({}): quorum is 2, so a 2-member etcd tolerates no failure and is less available than a single member",
                    names.join(", ")
                ),
                last,
            )
            .with_span_label("second etcd member");
            d = label(d, node_at(c, names[0]), "first etcd member");
            out.push(
                d.with_hint(format!(
                    "add a third {kind}: 3 members keep quorum (2) when one fails"
                ))
                .with_note("either member failing stops etcd, and with it every kube-apiserver write"),
            );
        }
        _ if n.is_multiple_of(2) => out.push(
            err(
                CheckCode::EvenEtcdMembers,
                format!(
                    "etcd has {n} members, an even count: quorum is {}, so it tolerates {} failure{}, no more than {} members would",
                    n / 2 + 1,
                    (n - 1) / 2,
                    if (n - 1) / 2 == 1 { "" } else { "s" },
                    n - 1
                ),
                last,
            )
            .with_span_label(format!("etcd member {n}"))
            .with_hint(format!("use {} or {} {kind}s", n - 1, n + 1)),
        ),
        _ => {}
    }
    if n > 7 {
        out.push(
            warn(
                CheckCode::TooManyEtcdMembers,
                format!("etcd has {n} members; etcd advises at most 7: every write waits for a quorum of {}", n / 2 + 1),
                last,
            )
            .with_hint(format!("use 5 or 7 {kind}s; more members slow writes down without a matching gain")),
        );
    }
}

fn topology_and_roles(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let cps = c.control_planes().count();
    let etcd_nodes = c.nodes.iter().filter(|n| n.has(Role::Etcd)).count();
    match c.etcd.topology {
        EtcdTopology::External => {
            if etcd_nodes == 0 {
                out.push(
                    err(
                        CheckCode::ExternalTooFewEtcd,
                        "the external etcd topology needs at least 3 nodes with role \"etcd\", found none".to_string(),
                        at(c, "etcd.topology"),
                    )
                    .with_hint("give 3 nodes the role \"etcd\" (dedicated nodes or the control planes), or use topology \"stacked\""),
                );
            }
            if cps < 2 {
                out.push(
                    err(
                        CheckCode::ExternalTooFewControlPlanes,
                        format!(
                            "the external etcd topology needs at least 2 control-plane nodes, found {cps}"
                        ),
                        at(c, "etcd.topology"),
                    )
                    .with_hint("add control-plane nodes: with one kube-apiserver its loss stops the control plane even though etcd survives"),
                );
            }
        }
        EtcdTopology::Stacked => {
            if cps == 0 {
                out.push(
                    err(
                        CheckCode::NoControlPlane,
                        "no node has the role \"control-plane\": the stacked topology needs at least 3".to_string(),
                        at(c, "nodes"),
                    )
                    .with_hint("give 3 nodes the role \"control-plane\""),
                );
            }
        }
    }
    let lb = &c.control_plane.load_balancer;
    let lb_role_used = lb.placement == Placement::Dedicated && lb.kind.is_tcp_proxy();
    for n in &c.nodes {
        let roles_at = at(c, &format!("nodes.{}.roles", n.name));
        if n.roles.is_empty() {
            out.push(
                err(CheckCode::NodeWithoutRole, format!("node {} has no role", n.name), roles_at)
                    .with_hint("give it at least one of \"control-plane\", \"etcd\", \"worker\", \"load-balancer\", or remove it"),
            );
        }
        if n.has(Role::Etcd) && c.etcd.topology == EtcdTopology::Stacked {
            out.push(
                err(
                    CheckCode::EtcdRoleWithStacked,
                    format!("node {} has the role \"etcd\", but etcd.topology is \"stacked\"", n.name),
                    roles_at,
                )
                .with_hint("with stacked etcd the control planes run etcd; drop the role, or set etcd.topology = \"external\""),
            );
        }
        if n.has(Role::LoadBalancer) && !lb_role_used {
            out.push(
                err(
                    CheckCode::LoadBalancerRoleUnused,
                    format!(
                        "node {} has the role \"load-balancer\", but the load balancer is {} placed on \"{}\"",
                        n.name,
                        lb.kind.as_str(),
                        lb.placement.as_str()
                    ),
                    roles_at,
                )
                .with_hint("set controlPlane.loadBalancer.placement = \"dedicated\" with kind \"haproxy\" or \"nginx\", or drop the role"),
            );
        }
    }
}

fn zones(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let a = Availability::of(c);
    // When the intact cluster is already broken, or etcd tolerates no failure at all, the
    // rules above say so; per-zone warnings would only repeat it.
    if !a.loss(&BTreeSet::new()).survives() || a.failures_tolerated == 0 {
        return;
    }
    for z in &a.zones {
        if z.outcome.survives() {
            continue;
        }
        let first = z.nodes.first().map_or("", String::as_str);
        out.push(
            warn(
                CheckCode::ZoneLossBreaksControlPlane,
                format!(
                    "losing zone \"{}\" ({}) breaks the control plane: it loses {}",
                    z.zone,
                    z.nodes.join(", "),
                    z.outcome.lost.join(", ")
                ),
                at(c, &format!("nodes.{first}.zone")),
            )
            .with_hint(format!(
                "spread the nodes over at least 3 zones so that no zone holds more than {} of the {} etcd members, nor every kube-apiserver, VIP holder or load balancer",
                a.failures_tolerated,
                a.etcd_members.len()
            )),
        );
    }
}

pub use hac_model::is_dns1123_label;

/// A DNS-1123 subdomain: labels joined by dots, at most 253 characters.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

fn label_problem(s: &str) -> String {
    if s.is_empty() {
        "it is empty".to_string()
    } else if s.len() > 63 {
        format!("it is {} characters long (at most 63)", s.len())
    } else if s.bytes().any(|b| b.is_ascii_uppercase()) {
        "it has upper-case letters".to_string()
    } else if s.starts_with('-') || s.ends_with('-') {
        "it starts or ends with `-`".to_string()
    } else {
        "it has characters other than a-z, 0-9 and `-`".to_string()
    }
}

fn names_and_addresses(c: &Cluster, out: &mut Vec<Diagnostic>) {
    if !is_dns1123_label(&c.name) {
        out.push(
            err(
                CheckCode::InvalidName,
                format!(
                    "the cluster name {:?} is not a DNS-1123 label: {}",
                    c.name,
                    label_problem(&c.name)
                ),
                at(c, "name"),
            )
            .with_hint(format!(
                "use lower-case letters, digits and `-`, e.g. {:?}",
                suggest_label(&c.name)
            )),
        );
    }
    if !is_dns1123_subdomain(&c.network.dns_domain) {
        out.push(
            err(
                CheckCode::InvalidDnsDomain,
                format!(
                    "network.dnsDomain {:?} is not a DNS-1123 subdomain",
                    c.network.dns_domain
                ),
                at(c, "network.dnsDomain"),
            )
            .with_hint("use lower-case labels joined by dots, e.g. \"cluster.local\""),
        );
    }
    let mut seen_names: BTreeSet<&str> = BTreeSet::new();
    let mut seen_addr: BTreeMap<Ipv4Addr, &str> = BTreeMap::new();
    for n in &c.nodes {
        if !is_dns1123_label(&n.name) {
            out.push(
                err(
                    CheckCode::InvalidName,
                    format!(
                        "node name {:?} is not a DNS-1123 label (it becomes the hostname): {}",
                        n.name,
                        label_problem(&n.name)
                    ),
                    node_at(c, &n.name),
                )
                .with_hint(format!(
                    "use lower-case letters, digits and `-`, e.g. {:?}",
                    suggest_label(&n.name)
                )),
            );
        }
        if !seen_names.insert(&n.name) {
            out.push(err(
                CheckCode::DuplicateName,
                format!("two nodes are named {}", n.name),
                node_at(c, &n.name),
            ));
        }
        let addr_at = at(c, &format!("nodes.{}.address", n.name));
        if let Some(other) = seen_addr.get(&n.address) {
            let d = err(
                CheckCode::DuplicateAddress,
                format!(
                    "nodes {other} and {} both have the address {}",
                    n.name, n.address
                ),
                addr_at,
            )
            .with_span_label("duplicate address");
            out.push(
                label(
                    d,
                    at(c, &format!("nodes.{other}.address")),
                    "first used here",
                )
                .with_hint("give every node its own address"),
            );
        } else {
            seen_addr.insert(n.address, &n.name);
        }
    }
}

fn suggest_label(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|ch| {
            if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
                ch
            } else {
                '-'
            }
        })
        .collect();
    out = out.trim_matches('-').to_string();
    out.truncate(63);
    if out.is_empty() {
        "node-0".to_string()
    } else {
        out.trim_end_matches('-').to_string()
    }
}

/// The usable host range of a subnet: its network and broadcast addresses are excluded
/// for prefixes up to /30.
fn usable_in(net: Ipv4Net, addr: Ipv4Addr) -> bool {
    if !net.contains(&addr) {
        return false;
    }
    net.prefix_len() >= 31 || (addr != net.network() && addr != net.broadcast())
}

fn vip(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let Some(vip) = c.control_plane.vip else {
        return;
    };
    let kind = c.control_plane.load_balancer.kind;
    if kind == LoadBalancerKind::External {
        return;
    }
    let vip_at = at(c, "controlPlane.vip");
    let mut bad_subnets: BTreeMap<Ipv4Net, Vec<&Node>> = BTreeMap::new();
    let holders: Vec<&Node> = match kind {
        LoadBalancerKind::KubeVip => c.control_planes().collect(),
        LoadBalancerKind::Haproxy
        | LoadBalancerKind::Nginx
        | LoadBalancerKind::Keepalived
        | LoadBalancerKind::External => c.vip_holders(),
    };
    for n in holders {
        let addr_at = at(c, &format!("nodes.{}.address", n.name));
        match n.subnet() {
            None => out.push(
                err(
                    CheckCode::AddressWithoutPrefix,
                    format!(
                        "node {} holds the VIP {vip}, but its address {} has no prefix length, so the VIP cannot be placed in its subnet",
                        n.name, n.address
                    ),
                    addr_at,
                )
                .with_hint(format!("write the address with its prefix length, e.g. \"{}/24\"", n.address)),
            ),
            Some(net) if !usable_in(net, vip) => bad_subnets.entry(net).or_default().push(n),
            Some(_) => {}
        }
    }
    // One error per subnet, naming every VIP holder in it.
    for (net, holders) in bad_subnets {
        out.push(vip_outside_subnet(c, vip, net, &holders, vip_at));
    }
    vip_collisions(c, vip, vip_at, out);
}

/// VIP_OUTSIDE_SUBNET: the VIP is not a usable address of `net`, the subnet of `holders`.
fn vip_outside_subnet(
    c: &Cluster,
    vip: Ipv4Addr,
    net: Ipv4Net,
    holders: &[&Node],
    vip_at: Option<Span>,
) -> Diagnostic {
    let why = if net.contains(&vip) {
        format!(
            "it is the {} address of {net}",
            if vip == net.network() {
                "network"
            } else {
                "broadcast"
            }
        )
    } else {
        format!("it lies outside {net}")
    };
    let names: Vec<&str> = holders.iter().map(|n| n.name.as_str()).collect();
    let mut d = err(
        CheckCode::VipOutsideSubnet,
        format!(
            "the VIP {vip} is not a usable address in {net}, the subnet of VIP holder{} {}: {why}",
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ),
        vip_at,
    )
    .with_span_label("the VIP");
    for n in holders {
        d = label(
            d,
            at(c, &format!("nodes.{}.address", n.name)),
            format!("{} holds the VIP", n.name),
        );
    }
    d.with_hint(format!(
        "pick a free host address of {net} for the VIP; keepalived moves it between nodes of one subnet (VRRP is a link-local protocol)"
    ))
}

/// The VIP taken by a node's address, or inside the pod or service CIDR.
fn vip_collisions(c: &Cluster, vip: Ipv4Addr, vip_at: Option<Span>, out: &mut Vec<Diagnostic>) {
    for n in c.nodes.iter().filter(|n| n.address == vip) {
        let d = err(
            CheckCode::VipIsNodeAddress,
            format!("the VIP {vip} is also the address of node {}", n.name),
            vip_at,
        );
        out.push(
            label(
                d,
                at(c, &format!("nodes.{}.address", n.name)),
                "node address",
            )
            .with_hint(
                "the VIP must be a free address that moves between nodes; pick one no node uses",
            ),
        );
    }
    for (what, net, path) in [
        ("pod", c.network.pods, "network.pods"),
        ("service", c.network.services, "network.services"),
    ] {
        if net.contains(&vip) {
            let d = err(
                CheckCode::VipInClusterCidr,
                format!("the VIP {vip} lies inside the {what} CIDR {net}"),
                vip_at,
            );
            out.push(
                label(
                    d,
                    at(c, path),
                    what_at(c, path, format!("{what} CIDR {net}")),
                )
                .with_hint("pick a VIP on the nodes' network, outside the pod and service CIDRs"),
            );
        }
    }
}

fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

fn cidrs(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let net = &c.network;
    if overlaps(net.pods, net.services) {
        let d = err(
            CheckCode::CidrOverlap,
            format!(
                "the service CIDR {} overlaps the pod CIDR {}",
                net.services, net.pods
            ),
            at(c, "network.services"),
        );
        out.push(label(d, at(c, "network.pods"), "pod CIDR").with_hint(
            "choose disjoint ranges, e.g. pods 10.244.0.0/16 and services 10.96.0.0/12",
        ));
    }
    // One error per CIDR, naming every node address inside it.
    for (what, cidr, path) in [
        ("pod", net.pods, "network.pods"),
        ("service", net.services, "network.services"),
    ] {
        let inside: Vec<&Node> = c
            .nodes
            .iter()
            .filter(|n| cidr.contains(&n.address))
            .collect();
        if inside.is_empty() {
            continue;
        }
        let listed: Vec<String> = inside
            .iter()
            .map(|n| format!("{} ({})", n.name, n.address))
            .collect();
        let mut d = err(
            CheckCode::CidrOverlap,
            format!(
                "the {what} CIDR {cidr} contains the address{} of {}",
                if inside.len() == 1 { "" } else { "es" },
                listed.join(", ")
            ),
            at(c, path),
        )
        .with_span_label(what_at(c, path, format!("{what} CIDR")));
        for n in &inside {
            d = label(
                d,
                at(c, &format!("nodes.{}.address", n.name)),
                format!("address of {}", n.name),
            );
        }
        out.push(d.with_hint(
            "node addresses, pod CIDR and service CIDR must not overlap: traffic to a node would be routed to pods or services; pick a CIDR outside the nodes' network",
        ));
    }
    if net.services.prefix_len() < SERVICE_CIDR_MIN_PREFIX {
        out.push(
            err(
                CheckCode::ServiceCidrTooLarge,
                format!(
                    "the service CIDR {} is larger than kube-apiserver accepts (at most a /{SERVICE_CIDR_MIN_PREFIX} for IPv4)",
                    net.services
                ),
                at(c, "network.services"),
            )
            .with_hint("use a /12 or smaller range, e.g. 10.96.0.0/12"),
        );
    }
    node_subnets(c, out);
}

/// POD_CIDR_TOO_SMALL: `nodeMaskSize` against the pod CIDR, and enough per-node subnets for
/// every node that runs a kubelet.
fn node_subnets(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let net = &c.network;
    let kubelets = c
        .nodes
        .iter()
        .filter(|n| n.has(Role::ControlPlane) || n.has(Role::Worker))
        .count();
    let pods_at = at(c, "network.nodeMaskSize");
    if net.node_mask_size < net.pods.prefix_len() {
        out.push(
            err(
                CheckCode::PodCidrTooSmall,
                format!(
                    "network.nodeMaskSize is {}, but the pod CIDR {} is only a /{}: it holds no per-node subnet",
                    net.node_mask_size,
                    net.pods,
                    net.pods.prefix_len()
                ),
                pods_at,
            )
            .with_hint("nodeMaskSize must be at least the pod CIDR's prefix length; the default 24 fits a /16"),
        );
    } else if net.node_mask_size - net.pods.prefix_len() > MAX_NODE_MASK_DIFF {
        out.push(
            err(
                CheckCode::PodCidrTooSmall,
                format!(
                    "network.nodeMaskSize {} is more than {MAX_NODE_MASK_DIFF} bits longer than the pod CIDR {}: kube-controller-manager refuses it",
                    net.node_mask_size, net.pods
                ),
                pods_at,
            )
            .with_hint("use a larger nodeMaskSize range difference of at most 16 bits (e.g. /16 pods with nodeMaskSize 24)"),
        );
    } else {
        let capacity: u64 = 1u64 << (net.node_mask_size - net.pods.prefix_len());
        if (kubelets as u64) > capacity {
            out.push(
                err(
                    CheckCode::PodCidrTooSmall,
                    format!(
                        "the pod CIDR {} holds {capacity} /{} node subnet{}, but {kubelets} nodes need one each",
                        net.pods,
                        net.node_mask_size,
                        if capacity == 1 { "" } else { "s" }
                    ),
                    at(c, "network.pods"),
                )
                .with_hint("widen the pod CIDR or lengthen nodeMaskSize"),
            );
        }
    }
}

/// The SANs of the kube-apiserver certificates, in a stable order without duplicates: the
/// controlPlaneEndpoint host, then every control plane's certificate's (the model's
/// [`Cluster::apiserver_sans`]: the cluster-wide names and `certSANs`, then each control
/// plane's name and address, the first service IP and the `kubernetes` service names).
pub fn planned_apiserver_sans(c: &Cluster) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut sans = Vec::new();
    let mut push = |s: String| {
        if !s.is_empty() && seen.insert(s.clone()) {
            sans.push(s);
        }
    };
    push(c.endpoint_host());
    c.apiserver_cluster_sans().into_iter().for_each(&mut push);
    for n in c.control_planes() {
        c.apiserver_sans(n).to_strings().for_each(&mut push);
    }
    sans
}

/// A SAN entry: an IPv4 address or a DNS name (a `*.` wildcard first label allowed).
fn valid_san(s: &str) -> bool {
    if s.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    let name = s.strip_prefix("*.").unwrap_or(s);
    is_dns1123_subdomain(name) && !looks_like_ipv4(name)
}

/// A name resolvers would read as a number (RFC 1123 §2.1: the top-level label of a host
/// name is not all-numeric): `1.2.3`, `12345`, `10.0.0.1`.
fn looks_like_ipv4(s: &str) -> bool {
    s.rsplit('.')
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn sans(c: &Cluster, out: &mut Vec<Diagnostic>) {
    for (i, s) in c.control_plane.cert_sans.iter().enumerate() {
        if !valid_san(s) {
            let mut d = err(
                CheckCode::InvalidSan,
                format!("certSANs entry {s:?} is neither an IPv4 address nor a DNS name"),
                at(c, &format!("controlPlane.certSANs.{i}")),
            );
            if s.contains(':') {
                d.message =
                    format!("certSANs entry {s:?} is an IPv6 address: hac supports IPv4 only");
            } else {
                d = d.with_hint("write a DNS name such as \"api.example.com\" (lower-case) or an address such as \"10.0.2.100\"");
            }
            out.push(d);
        }
    }
    let endpoints = [
        ("controlPlane.endpoint", c.control_plane.endpoint.as_deref()),
        (
            "controlPlane.loadBalancer.address",
            c.control_plane.load_balancer.address.as_deref(),
        ),
    ];
    for (path, value) in endpoints {
        let Some(v) = value else { continue };
        if !valid_san(v) || v.starts_with("*.") {
            let mut d = err(
                CheckCode::InvalidEndpoint,
                format!("{path} {v:?} is neither an IPv4 address nor a DNS name; it must be one to be the certificate's SAN"),
                at(c, path),
            );
            if v.contains(':') {
                d = d.with_note(
                    "write the host alone; the port is controlPlane.port (IPv6 is not supported)",
                );
            } else {
                d = d.with_hint(
                    "write a DNS name such as \"k8s.example.internal\" or an IPv4 address",
                );
            }
            out.push(d);
        }
    }
}

fn load_balancer(c: &Cluster, out: &mut Vec<Diagnostic>) {
    if c.control_plane.load_balancer.placement == Placement::Dedicated {
        dedicated_load_balancer(c, out);
    }
    endpoint_address(c, out);
    load_balancer_ports(c, out);
}

/// placement = "dedicated": a TCP proxy on at least one (better two) load-balancer nodes.
fn dedicated_load_balancer(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let lb = &c.control_plane.load_balancer;
    if !lb.kind.is_tcp_proxy() {
        out.push(
            err(
                CheckCode::DedicatedWithoutProxy,
                format!("placement \"dedicated\" needs a TCP load balancer (\"haproxy\" or \"nginx\"), but kind is \"{}\"", lb.kind.as_str()),
                at(c, "controlPlane.loadBalancer.placement"),
            )
            .with_hint("set kind = \"haproxy\" or \"nginx\", or placement = \"control-plane\""),
        );
    } else {
        let lbs: Vec<&Node> = c
            .nodes
            .iter()
            .filter(|n| n.has(Role::LoadBalancer))
            .collect();
        match lbs.as_slice() {
            [] => out.push(
                err(
                    CheckCode::DedicatedWithoutLoadBalancer,
                    "placement \"dedicated\" but no node has the role \"load-balancer\": nothing would hold the VIP".to_string(),
                    at(c, "controlPlane.loadBalancer.placement"),
                )
                .with_hint("give two nodes the role \"load-balancer\", or set placement = \"control-plane\""),
            ),
            [only] => out.push(
                warn(
                    CheckCode::SingleDedicatedLoadBalancer,
                    format!("{} is the only load-balancer node: a single point of failure for the control-plane endpoint", only.name),
                    at(c, &format!("nodes.{}.roles", only.name)),
                )
                .with_hint("add a second node with role \"load-balancer\"; keepalived then moves the VIP to it when this one fails"),
            ),
            _ => {}
        }
    }
}

/// What the endpoint leads to: an external load balancer's address, or else a VIP.
fn endpoint_address(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let cp = &c.control_plane;
    let lb = &cp.load_balancer;
    if lb.kind == LoadBalancerKind::External {
        if lb.address.is_none() {
            out.push(
                err(
                    CheckCode::ExternalWithoutAddress,
                    "loadBalancer.kind is \"external\" but loadBalancer.address is not set".to_string(),
                    at(c, "controlPlane.loadBalancer.kind"),
                )
                .with_hint("set controlPlane.loadBalancer.address to the existing load balancer's DNS name or address"),
            );
        }
        if let (Some(vip), Some(address)) = (cp.vip, &lb.address) {
            let d = err(
                    CheckCode::VipWithExternalLoadBalancer,
                    format!(
                        "controlPlane.vip ({vip}) is set, but with loadBalancer.kind = \"external\" no VIP is managed: the endpoint would be {vip}, not the load balancer at {address}"
                    ),
                    at(c, "controlPlane.vip"),
                )
                .with_hint(format!(
                    "remove controlPlane.vip; to keep {vip} in the apiserver certificate, add it to controlPlane.certSANs"
                ));
            out.push(label(
                d,
                at(c, "controlPlane.loadBalancer.address"),
                "the external load balancer",
            ));
        }
    } else if cp.vip.is_none() {
        out.push(
            err(
                CheckCode::MissingVip,
                format!("controlPlane.vip is required with load balancer kind \"{}\"", lb.kind.as_str()),
                at(c, "controlPlane"),
            )
            .with_hint("set controlPlane.vip to a free address in the control-plane nodes' subnet, or use kind = \"external\" with an address"),
        );
    }
}

/// The frontend port against kube-apiserver's: apart where a proxy shares the host, equal
/// where the VIP leads straight to kube-apiserver.
fn load_balancer_ports(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let cp = &c.control_plane;
    let lb = &cp.load_balancer;
    // haproxy/nginx shares a host with kube-apiserver: placed on the masters, or a dedicated
    // load-balancer node that is also a control plane.
    let proxy_on_masters = lb.kind.is_tcp_proxy()
        && (lb.placement == Placement::ControlPlane
            || c.nodes
                .iter()
                .any(|n| n.has(Role::LoadBalancer) && n.has(Role::ControlPlane)));
    if proxy_on_masters && cp.port == cp.api_server_port {
        let d = err(
            CheckCode::PortConflict,
            format!(
                "controlPlane.port and apiServerPort are both {}, but {} runs on the control-plane nodes: its frontend and kube-apiserver would bind the same socket",
                cp.port,
                lb.kind.as_str()
            ),
            at(c, "controlPlane.port"),
        );
        out.push(
            label(
                d,
                c.origins.spans.get("controlPlane.apiServerPort").copied(),
                "kube-apiserver port",
            )
            .with_hint(format!(
                "use a different frontend port, e.g. port = {};",
                if cp.api_server_port == 8443 {
                    9443
                } else {
                    8443
                }
            )),
        );
    }
    if matches!(
        lb.kind,
        LoadBalancerKind::Keepalived | LoadBalancerKind::KubeVip
    ) && cp.port != cp.api_server_port
    {
        out.push(
            err(
                CheckCode::VipPortMismatch,
                format!(
                    "with kind \"{}\" the VIP leads straight to kube-apiserver, so controlPlane.port ({}) must equal apiServerPort ({})",
                    lb.kind.as_str(),
                    cp.port,
                    cp.api_server_port
                ),
                at(c, "controlPlane.port"),
            )
            .with_hint(format!("set port = {}; or use kind \"haproxy\"/\"nginx\" to listen on another port", cp.api_server_port)),
        );
    }
}

fn keepalived(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let kind = c.control_plane.load_balancer.kind;
    if matches!(kind, LoadBalancerKind::External | LoadBalancerKind::KubeVip) {
        return;
    }
    let rid = c.control_plane.keepalived.router_id;
    let (lo, hi) = schema::ROUTER_ID_RANGE;
    if !(lo..=hi).contains(&rid) {
        out.push(
            err(
                CheckCode::RouterIdOutOfRange,
                format!("controlPlane.keepalived.routerId is {rid}, outside VRRP's virtual_router_id range {lo}..{hi}"),
                at(c, "controlPlane.keepalived.routerId"),
            )
            .with_hint(format!("pick a value in {lo}..{hi} not used by another VRRP instance on the same network ({} is the default)", schema::DEFAULT_ROUTER_ID)),
        );
    }
    let prios = c.keepalived_priorities();
    let prio_at = |name: &str| at(c, &format!("nodes.{name}.priority"));
    let mut ok = true;
    for (n, p) in &prios {
        let (lo, hi) = schema::PRIORITY_RANGE;
        if !(lo..=hi).contains(p) {
            ok = false;
            out.push(
                err(
                    CheckCode::PriorityOutOfRange,
                    format!(
                        "keepalived priority of {} is {p}, outside {lo}..{hi}",
                        n.name
                    ),
                    prio_at(&n.name),
                )
                .with_hint(
                    "keepalived priorities are 1..254 (255 is reserved for the address owner)",
                ),
            );
        }
    }
    let best = prios.iter().map(|(_, p)| *p).max();
    let mut seen: BTreeMap<i64, &str> = BTreeMap::new();
    for (n, p) in &prios {
        if let Some(first) = seen.get(p) {
            ok = false;
            let top = Some(*p) == best;
            let (code, msg) = if top {
                (
                    CheckCode::NotOneMaster,
                    format!("{first} and {} share the highest keepalived priority {p}: exactly one node must start as MASTER", n.name),
                )
            } else {
                (
                    CheckCode::DuplicatePriority,
                    format!(
                        "{first} and {} have the same keepalived priority {p}",
                        n.name
                    ),
                )
            };
            let d = err(code, msg, prio_at(&n.name));
            out.push(
                label(d, prio_at(first), "same priority")
                    .with_hint("give every VIP holder a different priority (or leave `priority` unset for 150, 140, 130, …)"),
            );
        } else {
            seen.insert(*p, &n.name);
        }
    }
    if !ok || prios.len() < 2 {
        return;
    }
    vip_can_fail_over(c, &prios, best, out);
}

/// FAILOVER_IMPOSSIBLE: a failing health check must drop the MASTER below the best backup.
fn vip_can_fail_over(
    c: &Cluster,
    prios: &[(&Node, i64)],
    best: Option<i64>,
    out: &mut Vec<Diagnostic>,
) {
    let prio_at = |name: &str| at(c, &format!("nodes.{name}.priority"));
    let Some(master) = c.keepalived_master() else {
        return;
    };
    let Some(top) = best else { return };
    let runner_up = prios
        .iter()
        .filter(|(n, _)| n.name != master.name)
        .map(|(_, p)| *p)
        .max();
    let Some(second) = runner_up else { return };
    let weight = KEEPALIVED_CHECK_WEIGHT.abs();
    if top - weight >= second {
        let second_name = prios
            .iter()
            .find(|(n, p)| *p == second && n.name != master.name)
            .map_or("", |(n, _)| n.name.as_str());
        let d = err(
            CheckCode::FailoverImpossible,
            format!(
                "the VIP can never fail over: {} (priority {top}) drops only to {} when its health check fails (weight {KEEPALIVED_CHECK_WEIGHT}), still not below {second_name} (priority {second})",
                master.name,
                top - weight,
            ),
            prio_at(&master.name),
        );
        out.push(
            label(d, prio_at(second_name), "best backup")
                .with_hint(format!(
                    "keep the priorities less than {weight} apart, e.g. {} = {} and {second_name} = {}, or leave them unset",
                    master.name,
                    second + weight - 1,
                    second
                )),
        );
    }
}

fn versions_and_pki(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let v = c.kubernetes_version;
    let (lo, hi) = (KUBERNETES_MIN, KUBERNETES_MAX);
    if v.minor_release() < lo || v.minor_release() > hi {
        out.push(
            err(
                CheckCode::KubernetesVersionUnsupported,
                format!(
                    "kubernetesVersion {v} is outside the supported range {}.{}–{}.{} (kubeadm config v1beta3 for 1.22–1.30, v1beta4 from 1.31)",
                    lo.0, lo.1, hi.0, hi.1
                ),
                at(c, "kubernetesVersion"),
            )
            .with_hint(format!("use a release from {}.{} to {}.{}", lo.0, lo.1, hi.0, hi.1)),
        );
    }
    let e = c.etcd.version;
    if e.minor_release() < ETCD_MIN || e.minor_release() > ETCD_MAX {
        out.push(
            err(
                CheckCode::EtcdVersionUnsupported,
                format!(
                    "etcd.version {e} is outside the supported range {}.{}–{}.{}",
                    ETCD_MIN.0, ETCD_MIN.1, ETCD_MAX.0, ETCD_MAX.1
                ),
                at(c, "etcd.version"),
            )
            .with_hint(format!(
                "use an etcd 3.4, 3.5 or 3.6 release, or leave etcd.version unset for kubeadm's ({})",
                default_etcd_version(v)
            )),
        );
    }
    certificate_windows(c, out);
}

/// LEAF_OUTLIVES_CA: the leaf certificates' validity (from `leafEpoch` when it is moved)
/// must lie within the CAs'.
fn certificate_windows(c: &Cluster, out: &mut Vec<Diagnostic>) {
    let pki = &c.pki;
    if pki.cert_validity_days > pki.ca_validity_days {
        let d = err(
            CheckCode::LeafOutlivesCa,
            format!(
                "pki.certValidityDays ({}) is longer than pki.caValidityDays ({}): certificates would outlive the CA that signs them",
                pki.cert_validity_days, pki.ca_validity_days
            ),
            at(c, "pki.certValidityDays"),
        );
        out.push(
            label(
                d,
                c.origins.spans.get("pki.caValidityDays").copied(),
                "CA validity",
            )
            .with_hint("shorten certValidityDays or lengthen caValidityDays"),
        );
    } else if let Some(leaf) = pki.leaf_epoch {
        // A moved leaf window must still lie within the CAs'.
        let fmt = crate::convert::format_rfc3339;
        let day = |n: u32| i64::from(n).saturating_mul(86_400);
        let leaf_end = leaf.unix.saturating_add(day(pki.cert_validity_days));
        let ca_end = c.epoch.unix.saturating_add(day(pki.ca_validity_days));
        if leaf.unix < c.epoch.unix || leaf_end > ca_end {
            out.push(
                err(
                    CheckCode::LeafOutlivesCa,
                    format!(
                        "the leaf certificates' window ({} to {}) is not within the CAs' ({} to {})",
                        fmt(leaf.unix),
                        fmt(leaf_end),
                        fmt(c.epoch.unix),
                        fmt(ca_end)
                    ),
                    at(c, "pki.leafEpoch"),
                )
                .with_hint("keep pki.leafEpoch at or after epoch, and leafEpoch + certValidityDays before the CAs expire (epoch + caValidityDays)"),
            );
        }
    }
}

/// One certificate's (or one group's) validity window, for [`check_expiry`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertWindow {
    /// What people call it: `the leaf certificates`, `etc/kubernetes/pki/ca.crt`, …
    pub name: String,
    pub not_before: i64,
    pub not_after: i64,
}

/// The validity windows the model implies without issuing anything: every leaf from
/// `pki.leafEpoch` (else `epoch`) for `certValidityDays`, the CAs for `caValidityDays` (an adopted CA's own dates are only
/// known once issued: `hac build` passes the issued certificates instead).
pub fn model_cert_windows(c: &Cluster) -> Vec<CertWindow> {
    let days = |from: i64, d: u32| from.saturating_add(i64::from(d).saturating_mul(86_400));
    let leaf = c.leaf_not_before();
    vec![
        CertWindow {
            name: "the leaf certificates".to_string(),
            not_before: leaf,
            not_after: days(leaf, c.pki.cert_validity_days),
        },
        CertWindow {
            name: "the CAs".to_string(),
            not_before: c.epoch.unix,
            not_after: days(c.epoch.unix, c.pki.ca_validity_days),
        },
    ]
}

/// The clock's verdict on `windows` at `now_unix` (read once, by the CLI): E0504 when one has
/// already expired (W0501 instead with `allow_expired`), W0501 when one is not yet valid,
/// W0502 when one expires within `pki.expiryWarningDays`. At most one diagnostic, for the
/// earliest expiry, naming up to five certificates.
pub fn check_expiry(
    c: &Cluster,
    windows: &[CertWindow],
    now_unix: i64,
    allow_expired: bool,
) -> Option<Diagnostic> {
    let fmt = crate::convert::format_rfc3339;
    let names = |pick: &dyn Fn(&CertWindow) -> bool| -> String {
        let hits: Vec<&str> = windows
            .iter()
            .filter(|w| pick(w))
            .map(|w| w.name.as_str())
            .collect();
        let mut text = hits.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        if hits.len() > 5 {
            text.push_str(&format!(" and {} more", hits.len() - 5));
        }
        text
    };
    let earliest = windows.iter().map(|w| w.not_after).min()?;
    let renew = "move pki.leafEpoch forward to renew the leaves under the same CAs (a CA near its end needs a new epoch), then roll them out (`hac plan --from`)";
    if now_unix >= earliest {
        let which = names(&|w| now_unix >= w.not_after);
        let msg = format!(
            "certificates have already expired (on {}; now {}): {which}",
            fmt(earliest),
            fmt(now_unix)
        );
        let d = if allow_expired {
            Diagnostic::warning(msg).with_code(CheckCode::CertificatesNotValidNow)
        } else {
            Diagnostic::error(msg)
                .with_code(CheckCode::CertificatesExpired)
                .with_note("a bundle with expired certificates cannot run; `--allow-expired` builds it anyway (e.g. to compare with `hac diff`)".to_string())
        };
        return Some(d.with_span_opt(at(c, "epoch")).with_hint(renew));
    }
    let latest_start = windows.iter().map(|w| w.not_before).max()?;
    if now_unix < latest_start {
        return Some(
            Diagnostic::warning(format!(
                "certificates are not yet valid: valid from {} (now {}): {}",
                fmt(latest_start),
                fmt(now_unix),
                names(&|w| now_unix < w.not_before)
            ))
            .with_code(CheckCode::CertificatesNotValidNow)
            .with_span_opt(at(c, "epoch"))
            .with_hint("set epoch to a time in the past (it is every certificate's notBefore)"),
        );
    }
    let margin = i64::from(c.pki.expiry_warning_days).saturating_mul(86_400);
    if margin > 0 && earliest.saturating_sub(now_unix) < margin {
        let days_left = (earliest - now_unix) / 86_400;
        return Some(
            Diagnostic::warning(format!(
                "certificates expire in {days_left} days (on {}; now {}): {}",
                fmt(earliest),
                fmt(now_unix),
                names(&|w| w.not_after.saturating_sub(now_unix) < margin)
            ))
            .with_code(CheckCode::CertificatesExpireSoon)
            .with_span_opt(at(c, "epoch"))
            .with_hint(renew)
            .with_note(format!(
                "warned {} days ahead (pki.expiryWarningDays)",
                c.pki.expiry_warning_days
            )),
        );
    }
    None
}

/// The one use of the clock: a warning when the certificates (valid from `epoch` for
/// `certValidityDays`) are not yet valid or already expired at `now_unix`.
pub fn check_validity_now(c: &Cluster, now_unix: i64) -> Option<Diagnostic> {
    let not_before = c.epoch.unix;
    let not_after =
        not_before.saturating_add(i64::from(c.pki.cert_validity_days).saturating_mul(86_400));
    let fmt = crate::convert::format_rfc3339;
    let (msg, hint) = if now_unix < not_before {
        (
            format!(
                "the certificates are not yet valid: epoch {} is in the future (now {})",
                fmt(not_before),
                fmt(now_unix)
            ),
            "set epoch to a time in the past (it is every certificate's notBefore)",
        )
    } else if now_unix >= not_after {
        (
            format!(
                "the certificates have already expired: valid from {} for {} days, until {} (now {})",
                fmt(not_before),
                c.pki.cert_validity_days,
                fmt(not_after),
                fmt(now_unix)
            ),
            "move epoch forward (or bump pki.rotation with a newer epoch) to issue fresh certificates",
        )
    } else {
        return None;
    };
    Some(
        Diagnostic::warning(msg)
            .with_code(CheckCode::CertificatesNotValidNow)
            .with_span_opt(at(c, "epoch"))
            .with_hint(hint),
    )
}

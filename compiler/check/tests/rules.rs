//! Every rule on both sides of its boundary, on clusters built in Rust from the model's samples.

mod support;

use hac_check::codes::CheckCode;
use hac_check::{check, check_validity_now, planned_apiserver_sans};
use hac_core::{Diagnostic, FileId, Severity, Span};
use hac_model::samples::*;
use hac_model::*;
use std::net::Ipv4Addr;
use support::codes as code_list;

fn node(name: &str, roles: &[Role], last_octet: u8) -> Node {
    Node {
        name: name.to_string(),
        roles: roles.to_vec(),
        address: Ipv4Addr::new(10, 0, 2, last_octet),
        prefix_len: Some(24),
        interface: hac_model::InterfaceName::parse("eth0"),
        zone: None,
        priority: None,
        labels: Default::default(),
        taints: None,
        kubelet: Default::default(),
        hosts: Default::default(),
    }
}

/// `stacked_3` with `n` control planes (10.0.2.10…) and the two workers.
fn with_masters(n: u8) -> Cluster {
    let mut c = stacked_3();
    c.nodes.retain(|n| !n.has(Role::ControlPlane));
    for i in 0..n {
        c.nodes
            .push(node(&format!("master-{i}"), &[Role::ControlPlane], 10 + i));
    }
    c.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    c
}

fn codes_of(c: &Cluster) -> Vec<String> {
    code_list(&check(c))
}

fn has(c: &Cluster, code: &str) -> bool {
    codes_of(c).iter().any(|x| x == code)
}

fn find(c: &Cluster, code: &str) -> Diagnostic {
    check(c)
        .into_iter()
        .find(|d| d.code.as_deref() == Some(code))
        .unwrap_or_else(|| panic!("no {code} in {:?}", codes_of(c)))
}

#[test]
fn the_samples_are_clean() {
    for (name, c) in [
        ("stacked_3", stacked_3()),
        ("stacked_3_dedicated_lb", stacked_3_dedicated_lb()),
        ("external_etcd", external_etcd()),
        ("masters_run_etcd", masters_run_etcd()),
    ] {
        assert_eq!(codes_of(&c), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn etcd_member_counts() {
    let expect: &[(u8, &[&str])] = &[
        (1, &[CheckCode::SingleEtcdMember.code()]),
        (2, &[CheckCode::TwoEtcdMembers.code()]),
        (3, &[]),
        (4, &[CheckCode::EvenEtcdMembers.code()]),
        (5, &[]),
        (6, &[CheckCode::EvenEtcdMembers.code()]),
        (7, &[]),
        (
            8,
            &[
                CheckCode::EvenEtcdMembers.code(),
                CheckCode::TooManyEtcdMembers.code(),
            ],
        ),
        (9, &[CheckCode::TooManyEtcdMembers.code()]),
    ];
    for (n, want) in expect {
        let mut got = codes_of(&with_masters(*n));
        got.sort();
        assert_eq!(got, want.to_vec(), "{n} members");
    }
}

#[test]
fn two_masters_are_rejected_with_the_fix() {
    let d = find(&with_masters(2), CheckCode::TwoEtcdMembers.code());
    assert_eq!(d.severity, Severity::Error);
    assert!(d.message.contains("master-0, master-1"), "{}", d.message);
    assert!(d.message.contains("tolerates no failure"), "{}", d.message);
    assert!(
        d.hints
            .iter()
            .any(|h| h.contains("add a third control-plane node")),
        "{:?}",
        d.hints
    );
    let w = find(&with_masters(9), CheckCode::TooManyEtcdMembers.code());
    assert_eq!(w.severity, Severity::Warning);
}

#[test]
fn external_topology_needs_etcd_nodes_and_two_control_planes() {
    let mut c = stacked_3();
    c.etcd.topology = EtcdTopology::External;
    assert!(has(&c, CheckCode::ExternalTooFewEtcd.code()));
    let mut c = external_etcd();
    c.nodes
        .retain(|n| n.name != "master-1" && n.name != "master-2");
    assert!(has(&c, CheckCode::ExternalTooFewControlPlanes.code()));
    let mut c = external_etcd();
    c.nodes.retain(|n| n.name != "master-2");
    assert!(
        !has(&c, CheckCode::ExternalTooFewControlPlanes.code()),
        "2 control planes suffice"
    );
    let mut c = external_etcd();
    c.nodes.retain(|n| n.name != "etcd-2");
    assert!(has(&c, CheckCode::TwoEtcdMembers.code()));
    let mut c = stacked_3();
    c.nodes.retain(|n| !n.has(Role::ControlPlane));
    assert!(has(&c, CheckCode::NoControlPlane.code()));
}

#[test]
fn roles() {
    let mut c = stacked_3();
    c.nodes[3].roles = vec![Role::Worker, Role::Etcd];
    assert!(has(&c, CheckCode::EtcdRoleWithStacked.code()));
    let mut c = stacked_3();
    c.nodes[3].roles.clear();
    assert!(has(&c, CheckCode::NodeWithoutRole.code()));
    let mut c = stacked_3();
    c.nodes[3].roles = vec![Role::LoadBalancer];
    assert!(has(&c, CheckCode::LoadBalancerRoleUnused.code()));
    let mut c = stacked_3();
    c.nodes[0].roles = vec![Role::ControlPlane, Role::Worker];
    assert_eq!(
        codes_of(&c),
        Vec::<String>::new(),
        "an untainted control plane is fine"
    );
}

fn zoned(zones: &[&str]) -> Cluster {
    let mut c = stacked_3();
    for (n, z) in c
        .nodes
        .iter_mut()
        .filter(|n| n.has(Role::ControlPlane))
        .zip(zones)
    {
        n.zone = Some(z.to_string());
    }
    c
}

#[test]
fn zones() {
    assert!(!has(
        &zoned(&["a", "b", "c"]),
        CheckCode::ZoneLossBreaksControlPlane.code()
    ));
    let c = zoned(&["a", "a", "b"]);
    let warnings: Vec<Diagnostic> = check(&c)
        .into_iter()
        .filter(|d| d.code.as_deref() == Some(CheckCode::ZoneLossBreaksControlPlane.code()))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].message.contains("\"a\""),
        "{}",
        warnings[0].message
    );
    assert!(
        warnings[0].message.contains("master-0, master-1"),
        "{}",
        warnings[0].message
    );
    assert!(
        warnings[0].message.contains("etcd quorum"),
        "{}",
        warnings[0].message
    );
    assert_eq!(warnings[0].severity, Severity::Warning);
    // With 2 members etcd tolerates no failure at all: E0202 says so, no zone warning repeats it.
    let mut two = with_masters(2);
    two.nodes.iter_mut().for_each(|n| n.zone = Some("a".into()));
    assert_eq!(
        codes_of(&two),
        vec![CheckCode::TwoEtcdMembers.code().to_string()]
    );
}

#[test]
fn dedicated_load_balancers() {
    let mut c = stacked_3_dedicated_lb();
    c.nodes.retain(|n| n.name != "lb-1");
    let d = find(&c, CheckCode::SingleDedicatedLoadBalancer.code());
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.message.contains("lb-0"));
    c.nodes.retain(|n| n.name != "lb-0");
    assert!(has(&c, CheckCode::DedicatedWithoutLoadBalancer.code()));
    let mut c = stacked_3_dedicated_lb();
    c.control_plane.load_balancer.kind = LoadBalancerKind::Keepalived;
    assert!(has(&c, CheckCode::DedicatedWithoutProxy.code()));
}

fn with_vip(v: [u8; 4]) -> Cluster {
    let mut c = stacked_3();
    c.control_plane.vip = Some(Ipv4Addr::from(v));
    c
}

#[test]
fn vip_at_the_subnet_edges() {
    assert!(
        has(&with_vip([10, 0, 2, 0]), CheckCode::VipOutsideSubnet.code()),
        "network address"
    );
    assert!(
        has(
            &with_vip([10, 0, 2, 255]),
            CheckCode::VipOutsideSubnet.code()
        ),
        "broadcast address"
    );
    assert!(!has(
        &with_vip([10, 0, 2, 1]),
        CheckCode::VipOutsideSubnet.code()
    ));
    assert!(!has(
        &with_vip([10, 0, 2, 254]),
        CheckCode::VipOutsideSubnet.code()
    ));
    let outside = check(&with_vip([10, 0, 3, 1]));
    let outside: Vec<&Diagnostic> = outside
        .iter()
        .filter(|d| d.code.as_deref() == Some(CheckCode::VipOutsideSubnet.code()))
        .collect();
    assert_eq!(outside.len(), 1, "one per subnet");
    assert!(
        outside[0].message.contains("master-0, master-1, master-2"),
        "{}",
        outside[0].message
    );
    let mut c = with_vip([10, 0, 2, 100]);
    c.nodes[2].address = Ipv4Addr::new(10, 0, 3, 12);
    let split: Vec<Diagnostic> = check(&c)
        .into_iter()
        .filter(|d| d.code.as_deref() == Some(CheckCode::VipOutsideSubnet.code()))
        .collect();
    assert_eq!(split.len(), 1, "only master-2's subnet misses the VIP");
    assert!(
        split[0].message.contains("10.0.3.0/24") && split[0].message.contains("holder master-2:"),
        "{}",
        split[0].message
    );
    let mut c = stacked_3();
    c.nodes[1].prefix_len = None;
    assert!(has(&c, CheckCode::AddressWithoutPrefix.code()));
    let mut c = stacked_3();
    c.nodes[4].prefix_len = None;
    assert_eq!(
        codes_of(&c),
        Vec::<String>::new(),
        "a worker's bare address is fine"
    );
    assert!(has(
        &with_vip([10, 0, 2, 11]),
        CheckCode::VipIsNodeAddress.code()
    ));
    let mut c = stacked_3_dedicated_lb();
    c.control_plane.vip = Some(Ipv4Addr::new(10, 0, 2, 10));
    assert!(
        has(&c, CheckCode::VipIsNodeAddress.code()),
        "any node, not only holders"
    );
    let mut c = stacked_3();
    c.network.services = "10.0.2.0/24".parse().unwrap();
    assert!(has(&c, CheckCode::VipInClusterCidr.code()));
}

#[test]
fn cidrs_touching_but_not_overlapping() {
    let mut c = stacked_3();
    c.network.pods = "10.112.0.0/16".parse().unwrap(); // right after 10.96.0.0/12
    assert_eq!(codes_of(&c), Vec::<String>::new());
    c.network.pods = "10.111.0.0/16".parse().unwrap(); // the last /16 of 10.96.0.0/12
    assert!(has(&c, CheckCode::CidrOverlap.code()));
    let mut c = stacked_3();
    c.network.services = "10.0.0.0/12".parse().unwrap();
    assert!(
        has(&c, CheckCode::CidrOverlap.code()),
        "node addresses inside the service CIDR"
    );
    let overlap: Vec<Diagnostic> = check(&c)
        .into_iter()
        .filter(|d| d.code.as_deref() == Some(CheckCode::CidrOverlap.code()))
        .collect();
    assert_eq!(overlap.len(), 1, "one error for the CIDR, not one per node");
    assert!(
        overlap[0].message.contains("master-0 (10.0.2.10)")
            && overlap[0].message.contains("worker-1 (10.0.2.21)"),
        "{}",
        overlap[0].message
    );
    let mut c = stacked_3();
    c.network.services = "10.0.3.0/24".parse().unwrap();
    assert!(
        !has(&c, CheckCode::CidrOverlap.code()),
        "adjacent to the nodes' subnet"
    );
}

#[test]
fn service_cidr_size() {
    let mut c = stacked_3();
    c.network.services = "10.96.0.0/12".parse().unwrap();
    assert!(!has(&c, CheckCode::ServiceCidrTooLarge.code()));
    c.network.services = "10.64.0.0/11".parse().unwrap();
    assert!(has(&c, CheckCode::ServiceCidrTooLarge.code()));
}

#[test]
fn pod_cidr_holds_a_subnet_per_node() {
    let mut c = stacked_3(); // 5 kubelets
    c.network.pods = "10.244.0.0/22".parse().unwrap(); // 4 × /24
    assert!(has(&c, CheckCode::PodCidrTooSmall.code()));
    c.network.pods = "10.244.0.0/21".parse().unwrap(); // 8 × /24
    assert!(!has(&c, CheckCode::PodCidrTooSmall.code()));
    c.network.node_mask_size = 20;
    assert!(
        has(&c, CheckCode::PodCidrTooSmall.code()),
        "node mask shorter than the pod CIDR"
    );
    c.network.node_mask_size = 21;
    c.nodes.truncate(1);
    assert!(
        !has(&c, CheckCode::PodCidrTooSmall.code()),
        "exactly one subnet for one node"
    );
    let mut c = stacked_3();
    c.network.pods = "10.128.0.0/9".parse().unwrap();
    c.network.node_mask_size = 25;
    assert_eq!(
        codes_of(&c),
        Vec::<String>::new(),
        "16 bits difference is the limit"
    );
    c.network.node_mask_size = 26;
    assert!(has(&c, CheckCode::PodCidrTooSmall.code()));
}

#[test]
fn router_id_range() {
    for (id, bad) in [(0, true), (1, false), (255, false), (256, true), (-1, true)] {
        let mut c = stacked_3();
        c.control_plane.keepalived.router_id = id;
        assert_eq!(
            has(&c, CheckCode::RouterIdOutOfRange.code()),
            bad,
            "routerId {id}"
        );
    }
}

fn with_priorities(p: &[Option<i64>]) -> Cluster {
    let mut c = with_masters(p.len() as u8);
    for (n, p) in c
        .nodes
        .iter_mut()
        .filter(|n| n.has(Role::ControlPlane))
        .zip(p)
    {
        n.priority = *p;
    }
    c
}

#[test]
fn priorities_range_uniqueness_and_one_master() {
    // The highest priority at the boundary, the others 10 and 15 below it (within failover reach).
    for (p, bad) in [(254, false), (255, true)] {
        let c = with_priorities(&[Some(p), Some(p - 10), Some(p - 15)]);
        assert_eq!(has(&c, CheckCode::PriorityOutOfRange.code()), bad, "{p}");
    }
    // The lowest priority at the boundary.
    for (p, bad) in [(1, false), (0, true)] {
        let c = with_priorities(&[Some(20), Some(15), Some(p)]);
        assert_eq!(has(&c, CheckCode::PriorityOutOfRange.code()), bad, "{p}");
    }
    let c = with_priorities(&[Some(254), Some(240), Some(1)]);
    assert!(!has(&c, CheckCode::PriorityOutOfRange.code()));
    assert!(has(
        &with_priorities(&[Some(150), Some(140), Some(140)]),
        CheckCode::DuplicatePriority.code()
    ));
    let tie = with_priorities(&[Some(150), Some(150), Some(140)]);
    assert!(has(&tie, CheckCode::NotOneMaster.code()));
    assert!(!has(&tie, CheckCode::DuplicatePriority.code()));
    assert_eq!(
        codes_of(&with_priorities(&[None, None, None])),
        Vec::<String>::new()
    );
}

#[test]
fn failover_must_be_possible() {
    assert_eq!(KEEPALIVED_CHECK_WEIGHT, -20);
    let d = find(
        &with_priorities(&[Some(150), Some(100), Some(90)]),
        CheckCode::FailoverImpossible.code(),
    );
    assert!(
        d.message.contains("master-0 (priority 150)")
            && d.message.contains("master-1 (priority 100)"),
        "{}",
        d.message
    );
    assert!(d.message.contains("130"), "{}", d.message);
    // 150 − 20 = 130: must be strictly below the best other priority.
    assert!(has(
        &with_priorities(&[Some(150), Some(130), Some(120)]),
        CheckCode::FailoverImpossible.code()
    ));
    assert!(!has(
        &with_priorities(&[Some(150), Some(131), Some(120)]),
        CheckCode::FailoverImpossible.code()
    ));
    // The seed-003 layout: 2 masters at 200/100 (also a 2-member etcd).
    let c = with_priorities(&[Some(200), Some(100)]);
    assert!(
        has(&c, CheckCode::FailoverImpossible.code()) && has(&c, CheckCode::TwoEtcdMembers.code())
    );
    // Not applicable without keepalived.
    let mut c = with_priorities(&[Some(150), Some(100), Some(90)]);
    c.control_plane.load_balancer.kind = LoadBalancerKind::KubeVip;
    c.control_plane.port = 6443;
    assert_eq!(codes_of(&c), Vec::<String>::new());
}

#[test]
fn ports() {
    let mut c = stacked_3();
    c.control_plane.port = 6443;
    assert!(has(&c, CheckCode::PortConflict.code()));
    let mut c = stacked_3_dedicated_lb();
    c.control_plane.port = 6443;
    assert!(
        !has(&c, CheckCode::PortConflict.code()),
        "the dedicated load balancer runs elsewhere"
    );
    c.nodes
        .iter_mut()
        .filter(|n| n.name == "lb-0")
        .for_each(|n| n.roles.push(Role::ControlPlane));
    assert!(
        has(&c, CheckCode::PortConflict.code()),
        "a load-balancer node that is also a control plane"
    );
    let mut c = masters_run_etcd();
    c.control_plane.port = 8443;
    assert!(has(&c, CheckCode::VipPortMismatch.code()));
}

#[test]
fn external_load_balancer_address_and_vip() {
    let mut c = stacked_3();
    c.control_plane.load_balancer.kind = LoadBalancerKind::External;
    c.control_plane.port = 6443;
    c.control_plane.vip = None;
    assert!(has(&c, CheckCode::ExternalWithoutAddress.code()));
    c.control_plane.load_balancer.address = Some("lb.example.com".into());
    assert_eq!(codes_of(&c), Vec::<String>::new());
    let mut c = stacked_3();
    c.control_plane.vip = None;
    assert!(has(&c, CheckCode::MissingVip.code()));
}

#[test]
fn kubernetes_version_range() {
    for (v, bad) in [
        ((1, 21, 9), true),
        ((1, 22, 0), false),
        ((1, 35, 9), false),
        ((1, 36, 0), true),
        ((2, 0, 0), true),
    ] {
        let mut c = stacked_3();
        c.kubernetes_version = Version::new(v.0, v.1, v.2);
        assert_eq!(
            has(&c, CheckCode::KubernetesVersionUnsupported.code()),
            bad,
            "{v:?}"
        );
        if bad {
            assert!(find(&c, CheckCode::KubernetesVersionUnsupported.code())
                .message
                .contains("1.22–1.35"));
        }
    }
    for (v, bad) in [
        ((3, 3, 9), true),
        ((3, 4, 0), false),
        ((3, 6, 9), false),
        ((3, 7, 0), true),
    ] {
        let mut c = stacked_3();
        c.etcd.version = Version::new(v.0, v.1, v.2);
        assert_eq!(
            has(&c, CheckCode::EtcdVersionUnsupported.code()),
            bad,
            "{v:?}"
        );
    }
}

#[test]
fn leaf_validity_within_ca_validity() {
    let mut c = stacked_3();
    c.pki.cert_validity_days = 3650;
    assert!(!has(&c, CheckCode::LeafOutlivesCa.code()));
    c.pki.cert_validity_days = 3651;
    assert!(has(&c, CheckCode::LeafOutlivesCa.code()));
}

#[test]
fn validity_now() {
    let c = stacked_3();
    let e = c.epoch.unix;
    let last = e + 365 * 86_400 - 1;
    assert!(check_validity_now(&c, e - 1)
        .expect("future")
        .message
        .contains("not yet valid"));
    assert!(check_validity_now(&c, e).is_none());
    assert!(check_validity_now(&c, last).is_none());
    let d = check_validity_now(&c, last + 1).expect("expired");
    assert!(
        d.message.contains("expired") && d.message.contains("2027-01-01T00:00:00Z"),
        "{}",
        d.message
    );
    assert_eq!(d.severity, Severity::Warning);
    assert!(check_validity_now(&c, i64::MAX).is_some());
    assert!(check_validity_now(&c, i64::MIN).is_some());
}

#[test]
fn names_and_addresses() {
    let mut c = stacked_3();
    c.name = "Prod".into();
    assert!(has(&c, CheckCode::InvalidName.code()));
    c.name = "a".repeat(63);
    assert!(!has(&c, CheckCode::InvalidName.code()));
    c.name = "a".repeat(64);
    assert!(has(&c, CheckCode::InvalidName.code()));
    let mut c = stacked_3();
    c.nodes[4].name = "worker_1".into();
    assert!(has(&c, CheckCode::InvalidName.code()));
    let mut c = stacked_3();
    c.nodes[4].name = "-w".into();
    assert!(has(&c, CheckCode::InvalidName.code()));
    let mut c = stacked_3();
    c.nodes[4].address = c.nodes[3].address;
    let d = find(&c, CheckCode::DuplicateAddress.code());
    assert!(
        d.message.contains("worker-0")
            && d.message.contains("worker-1")
            && d.message.contains("10.0.2.20")
    );
    let mut c = stacked_3();
    c.nodes[4].name = "worker-0".into();
    assert!(has(&c, CheckCode::DuplicateName.code()));
    let mut c = stacked_3();
    c.network.dns_domain = "Cluster_Local".into();
    assert!(has(&c, CheckCode::InvalidDnsDomain.code()));
}

#[test]
fn sans() {
    let mut c = stacked_3();
    c.control_plane.cert_sans = vec![
        "api.example.com".into(),
        "10.0.9.9".into(),
        "*.example.com".into(),
    ];
    assert_eq!(codes_of(&c), Vec::<String>::new());
    for bad in ["fd00::1", "Bad_Name", "", "10.0.2.300", "a..b"] {
        let mut c = stacked_3();
        c.control_plane.cert_sans = vec![bad.into()];
        assert!(has(&c, CheckCode::InvalidSan.code()), "{bad:?}");
    }
    let mut c = stacked_3();
    c.control_plane.endpoint = Some("k8s.example.internal:6443".into());
    assert!(has(&c, CheckCode::InvalidEndpoint.code()));
    c.control_plane.endpoint = Some("k8s.example.internal".into());
    c.control_plane.cert_sans = vec!["extra.example.com".into(), "k8s.example.internal".into()];
    let sans = planned_apiserver_sans(&c);
    for want in [
        "k8s.example.internal",
        "10.0.2.100",
        "master-0",
        "10.0.2.10",
        "master-2",
        "10.0.2.12",
        "10.96.0.1",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "extra.example.com",
    ] {
        assert!(
            sans.iter().any(|s| s == want),
            "{want} missing from {sans:?}"
        );
    }
    assert_eq!(sans[0], "k8s.example.internal", "the endpoint first");
    assert_eq!(
        sans.iter().filter(|s| *s == "k8s.example.internal").count(),
        1,
        "no duplicates"
    );
    assert!(!sans.iter().any(|s| s == "worker-0"));
}

#[test]
fn diagnostics_point_at_origins_and_are_sorted() {
    let mut c = with_masters(2);
    c.control_plane.keepalived.router_id = 0;
    let span = |n: usize| Span::new(FileId(0), n, n + 1);
    c.origins.spans.insert(String::new(), span(0));
    c.origins
        .spans
        .insert("controlPlane.keepalived.routerId".into(), span(50));
    c.origins
        .spans
        .insert("nodes.master-1#name".into(), span(90));
    c.origins
        .spans
        .insert("nodes.master-0#name".into(), span(80));
    let d = check(&c);
    assert_eq!(
        code_list(&d),
        vec![
            CheckCode::RouterIdOutOfRange.code(),
            CheckCode::TwoEtcdMembers.code()
        ]
    );
    assert_eq!(d[0].span, Some(span(50)));
    assert_eq!(d[1].span, Some(span(90)));
    assert_eq!(d[1].labels.first().map(|l| l.span), Some(span(80)));
}

#[test]
fn every_diagnostic_has_a_code_and_a_hint() {
    let mut many = with_masters(4);
    many.control_plane.keepalived.router_id = 300;
    many.network.services = "10.0.0.0/8".parse().unwrap();
    many.kubernetes_version = Version::new(1, 10, 0);
    many.pki.cert_validity_days = 9999;
    many.nodes[0].roles.push(Role::Etcd);
    many.control_plane.vip = Some(Ipv4Addr::new(10, 0, 2, 10));
    let d = check(&many);
    assert!(d.len() >= 6, "{:?}", code_list(&d));
    for x in &d {
        assert!(x.code.is_some());
        assert!(!x.hints.is_empty(), "{x:?}");
        assert!(hac_check::explain(x.code.as_deref().unwrap_or("")).is_some());
    }
}

#[test]
fn huge_clusters_are_checked_without_quadratic_blowup() {
    // 40 000 nodes in 4 zones and 20 000 certSANs: every rule and the report finish (a
    // quadratic pass would take minutes here; the test harness's timeout catches a hang).
    let mut c = stacked_3();
    c.network.pods = "10.128.0.0/9".parse().unwrap();
    c.network.node_mask_size = 25;
    c.network.services = "10.96.0.0/12".parse().unwrap();
    for i in 0..40_000u32 {
        let mut n = c.nodes[3].clone();
        n.name = format!("w-{i:05}");
        n.address = Ipv4Addr::from(u32::from(Ipv4Addr::new(172, 16, 0, 0)) + i);
        n.prefix_len = Some(12);
        n.zone = Some(format!("z{}", i % 4));
        c.nodes.push(n);
    }
    c.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    c.control_plane.cert_sans = (0..20_000)
        .map(|i| format!("san-{i}.example.com"))
        .collect();
    let d = check(&c);
    assert!(d.iter().all(|d| !d.is_error()), "{:?}", code_list(&d));
    assert_eq!(hac_check::Availability::of(&c).zones.len(), 4);
    assert!(planned_apiserver_sans(&c).len() > 20_000);
}

#[test]
fn expiry_warns_ahead_and_refuses_expired_at_the_given_now() {
    use hac_check::{check_expiry, model_cert_windows};
    let c = stacked_3(); // leaves 2026-01-01 .. 2027-01-01, 30 days' warning
    let w = model_cert_windows(&c);
    let day = 86_400;
    let end = c.epoch.unix + 365 * day;
    assert!(check_expiry(&c, &w, end - 31 * day, false).is_none());
    let soon = check_expiry(&c, &w, end - 10 * day, false).expect("soon");
    assert_eq!(
        soon.code.as_deref(),
        Some(CheckCode::CertificatesExpireSoon.code())
    );
    assert_eq!(soon.severity, Severity::Warning);
    assert!(
        soon.message.contains("expire in 10 days"),
        "{}",
        soon.message
    );
    let expired = check_expiry(&c, &w, end, false).expect("expired");
    assert_eq!(
        expired.code.as_deref(),
        Some(CheckCode::CertificatesExpired.code())
    );
    assert_eq!(expired.severity, Severity::Error);
    let allowed = check_expiry(&c, &w, end, true).expect("allowed");
    assert_eq!(
        allowed.code.as_deref(),
        Some(CheckCode::CertificatesNotValidNow.code())
    );
    assert_eq!(allowed.severity, Severity::Warning);
    let early = check_expiry(&c, &w, c.epoch.unix - 1, false).expect("not yet valid");
    assert_eq!(
        early.code.as_deref(),
        Some(CheckCode::CertificatesNotValidNow.code())
    );
    let mut off = stacked_3();
    off.pki.expiry_warning_days = 0;
    assert!(check_expiry(&off, &model_cert_windows(&off), end - day, false).is_none());
    let mut wide = stacked_3();
    wide.pki.expiry_warning_days = 400;
    let d = check_expiry(&wide, &model_cert_windows(&wide), c.epoch.unix, false).expect("wide");
    assert_eq!(
        d.code.as_deref(),
        Some(CheckCode::CertificatesExpireSoon.code())
    );
}

#[test]
fn a_leaf_epoch_must_keep_the_leaves_within_the_cas() {
    let day = 86_400;
    let mut c = stacked_3(); // CAs 3650 days, leaves 365
    c.pki.leaf_epoch = Some(Epoch {
        unix: c.epoch.unix + 300 * day,
    });
    assert!(!has(&c, CheckCode::LeafOutlivesCa.code()));
    c.pki.leaf_epoch = Some(Epoch {
        unix: c.epoch.unix - day,
    });
    assert!(has(&c, CheckCode::LeafOutlivesCa.code()), "before the CAs");
    c.pki.leaf_epoch = Some(Epoch {
        unix: c.epoch.unix + 3400 * day,
    });
    assert!(has(&c, CheckCode::LeafOutlivesCa.code()), "past the CAs");
    // The expiry check follows the moved window.
    c.pki.leaf_epoch = Some(Epoch {
        unix: c.epoch.unix + 300 * day,
    });
    let w = hac_check::model_cert_windows(&c);
    let d = hac_check::check_expiry(&c, &w, c.epoch.unix + 360 * day, false);
    assert!(d.is_none(), "{d:?}");
}

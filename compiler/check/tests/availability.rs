//! The availability analysis: the seed layouts, and a property test that the per-zone survival
//! verdict agrees with a brute-force count of what each zone's loss leaves.

use hac_check::{report, Availability};
use hac_model::samples::*;
use hac_model::*;
use proptest::prelude::*;
use std::net::Ipv4Addr;

#[test]
fn stacked_three_tolerates_one_failure_and_has_no_single_point_of_failure() {
    let a = Availability::of(&stacked_3());
    assert_eq!(a.etcd_members, ["master-0", "master-1", "master-2"]);
    assert_eq!((a.quorum, a.failures_tolerated), (2, 1));
    assert_eq!(a.vip_holders, ["master-0", "master-1", "master-2"]);
    assert_eq!(a.load_balancers, a.vip_holders);
    assert!(a.single_points_of_failure.is_empty());
    assert_eq!(
        a.priorities,
        [
            ("master-0".to_string(), 150),
            ("master-1".to_string(), 140),
            ("master-2".to_string(), 130)
        ]
    );
    let text = report(&stacked_3());
    assert!(text.contains("quorum 2, tolerates 1 failure"), "{text}");
    assert!(text.contains("master-0 (MASTER, priority 150)"), "{text}");
    assert!(text.contains("single points of failure: none"), "{text}");
}

#[test]
fn member_counts_quorum_and_tolerance() {
    for (n, q, t) in [
        (1usize, 1usize, 0usize),
        (2, 2, 0),
        (3, 2, 1),
        (4, 3, 1),
        (5, 3, 2),
        (7, 4, 3),
        (9, 5, 4),
    ] {
        let mut c = stacked_3();
        c.nodes.retain(|n| !n.has(Role::ControlPlane));
        for i in 0..n {
            let mut m = c.nodes[0].clone();
            m.name = format!("m-{i}");
            m.roles = vec![Role::ControlPlane];
            m.address = Ipv4Addr::new(10, 0, 2, 100 + i as u8);
            c.nodes.push(m);
        }
        let a = Availability::of(&c);
        assert_eq!(
            (a.etcd_members.len(), a.quorum, a.failures_tolerated),
            (n, q, t),
            "{n}"
        );
    }
}

#[test]
fn two_masters_have_every_master_as_a_single_point_of_failure() {
    let mut c = stacked_3();
    c.nodes.retain(|n| n.name != "master-2");
    let a = Availability::of(&c);
    let spofs: Vec<&str> = a
        .single_points_of_failure
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(spofs, ["master-0", "master-1"]);
    assert!(a.single_points_of_failure[0].1.lost[0]
        .contains("etcd quorum (1 of 2 members left, quorum is 2)"));
}

#[test]
fn single_dedicated_load_balancer_is_a_single_point_of_failure() {
    let mut c = stacked_3_dedicated_lb();
    c.nodes.retain(|n| n.name != "lb-1");
    let a = Availability::of(&c);
    assert_eq!(a.single_points_of_failure.len(), 1);
    let (node, outcome) = &a.single_points_of_failure[0];
    assert_eq!(node, "lb-0");
    assert_eq!(
        outcome.lost,
        ["every VIP holder", "every haproxy load balancer"]
    );
    assert!(
        report(&c).contains("lb-0: its loss loses every VIP holder, every haproxy load balancer")
    );
}

#[test]
fn external_etcd_survives_one_etcd_failure() {
    let c = external_etcd();
    let a = Availability::of(&c);
    assert_eq!(a.etcd_members, ["etcd-0", "etcd-1", "etcd-2"]);
    assert_eq!(a.failures_tolerated, 1);
    assert!(a.single_points_of_failure.is_empty());
    let text = report(&c);
    assert!(
        text.contains("3 members (external, on the nodes with role etcd): etcd-0, etcd-1, etcd-2"),
        "{text}"
    );
}

#[test]
fn three_zones_survive_any_one_and_two_zones_do_not() {
    let mut c = stacked_3();
    for (i, n) in c.nodes.iter_mut().enumerate() {
        n.zone = Some(["b", "c", "d"][i % 3].to_string());
    }
    let a = Availability::of(&c);
    assert_eq!(a.zones.len(), 3);
    assert!(a.zones.iter().all(|z| z.outcome.survives()));
    assert!(report(&c).contains("  b: master-0, worker-0\n    survives its loss: etcd 2 of 3 members left (quorum 2), 2 kube-apiservers, 2 VIP holders, 2 load balancers"), "{}", report(&c));

    for n in &mut c.nodes {
        n.zone = Some(if n.name == "master-2" { "y" } else { "x" }.to_string());
    }
    let a = Availability::of(&c);
    assert!(!a.zones[0].outcome.survives());
    assert!(a.zones[1].outcome.survives());
    assert!(report(&c).contains("x: master-0, master-1, worker-0, worker-1\n    does NOT survive its loss: loses etcd quorum"));
}

#[test]
fn external_load_balancer_has_no_vip_holders() {
    let mut c = stacked_3();
    c.control_plane.load_balancer.kind = LoadBalancerKind::External;
    c.control_plane.load_balancer.address = Some("lb.example.com".into());
    c.control_plane.vip = None;
    c.control_plane.endpoint = Some("k8s.example.com".into());
    c.control_plane.port = 6443;
    let a = Availability::of(&c);
    assert!(a.vip_holders.is_empty());
    assert_eq!(a.endpoint, "k8s.example.com:6443");
    let text = report(&c);
    assert!(text.contains("none managed"), "{text}");
    assert!(
        text.contains("external load balancer is outside this analysis"),
        "{text}"
    );
}

const ROLES: [Role; 4] = [
    Role::ControlPlane,
    Role::Etcd,
    Role::Worker,
    Role::LoadBalancer,
];
const KINDS: [LoadBalancerKind; 5] = [
    LoadBalancerKind::Haproxy,
    LoadBalancerKind::Nginx,
    LoadBalancerKind::Keepalived,
    LoadBalancerKind::KubeVip,
    LoadBalancerKind::External,
];

fn layout() -> impl Strategy<Value = Cluster> {
    let node = (0u8..16, proptest::option::of(0usize..4));
    (
        proptest::collection::vec(node, 0..14),
        any::<bool>(),
        0usize..5,
        any::<bool>(),
    )
        .prop_map(|(nodes, external, kind, dedicated)| {
            let mut c = stacked_3();
            c.etcd.topology = if external {
                EtcdTopology::External
            } else {
                EtcdTopology::Stacked
            };
            c.control_plane.load_balancer.kind = KINDS[kind];
            c.control_plane.load_balancer.placement = if dedicated {
                Placement::Dedicated
            } else {
                Placement::ControlPlane
            };
            c.nodes = nodes
                .into_iter()
                .enumerate()
                .map(|(i, (role_bits, zone))| {
                    let mut n = stacked_3().nodes[0].clone();
                    n.name = format!("n-{i:02}");
                    n.address = Ipv4Addr::new(10, 0, 2, 10 + i as u8);
                    n.roles = ROLES
                        .iter()
                        .enumerate()
                        .filter(|(b, _)| role_bits & (1 << b) != 0)
                        .map(|(_, r)| *r)
                        .collect();
                    n.zone = zone.map(|z| ["a", "b", "c", "d"][z].to_string());
                    n
                })
                .collect();
            c
        })
}

/// The same verdict, computed from the definitions in cluster.md without the crate's code.
fn brute_force_survives(c: &Cluster, zone: &str) -> bool {
    let gone = |n: &Node| n.zone.as_deref() == Some(zone);
    let runs_etcd = |n: &Node| match c.etcd.topology {
        EtcdTopology::Stacked => n.roles.contains(&Role::ControlPlane),
        EtcdTopology::External => n.roles.contains(&Role::Etcd),
    };
    let members = c.nodes.iter().filter(|n| runs_etcd(n)).count();
    let members_left = c.nodes.iter().filter(|n| runs_etcd(n) && !gone(n)).count();
    let etcd_ok = members_left > members / 2;
    let api_ok = c
        .nodes
        .iter()
        .any(|n| n.roles.contains(&Role::ControlPlane) && !gone(n));
    let lb = &c.control_plane.load_balancer;
    let holder = |n: &Node| match (lb.kind, lb.placement) {
        (LoadBalancerKind::External, _) => false,
        (LoadBalancerKind::Haproxy | LoadBalancerKind::Nginx, Placement::Dedicated) => {
            n.roles.contains(&Role::LoadBalancer)
        }
        (LoadBalancerKind::Haproxy | LoadBalancerKind::Nginx, Placement::ControlPlane)
        | (LoadBalancerKind::Keepalived | LoadBalancerKind::KubeVip, _) => {
            n.roles.contains(&Role::ControlPlane)
        }
    };
    let vip_ok =
        lb.kind == LoadBalancerKind::External || c.nodes.iter().any(|n| holder(n) && !gone(n));
    etcd_ok && api_ok && vip_ok
}

proptest! {
    #[test]
    fn zone_survival_agrees_with_a_brute_force_count(c in layout()) {
        let a = Availability::of(&c);
        let mut zones: Vec<&str> = c.nodes.iter().filter_map(|n| n.zone.as_deref()).collect();
        zones.sort();
        zones.dedup();
        prop_assert_eq!(a.zones.iter().map(|z| z.zone.as_str()).collect::<Vec<_>>(), zones.clone());
        for z in &a.zones {
            let in_zone = c.nodes.iter().filter(|n| n.zone.as_deref() == Some(z.zone.as_str())).count();
            prop_assert_eq!(z.nodes.len(), in_zone);
            prop_assert_eq!(z.outcome.survives(), brute_force_survives(&c, &z.zone), "zone {}", z.zone);
        }
        let text = report(&c);
        let surviving = a.zones.iter().filter(|z| z.outcome.survives()).count();
        prop_assert_eq!(text.matches("    survives its loss").count(), surviving);
        prop_assert_eq!(text.matches("does NOT survive its loss").count(), a.zones.len() - surviving);
        // check() never panics on any layout either.
        let _ = hac_check::check(&c);
    }
}

#[test]
fn the_report_lists_names_as_people_read_them() {
    let mut c = stacked_3();
    for (i, n) in c.nodes.iter_mut().enumerate() {
        n.zone = Some("a".to_string());
        if n.name.starts_with("worker") {
            n.name = format!("w-{}", [10, 2][i % 2]);
        }
    }
    c.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let text = report(&c);
    assert!(
        text.contains("a: master-0, master-1, master-2, w-2, w-10"),
        "{text}"
    );
    assert_eq!(natural_cmp("w-2", "w-10"), std::cmp::Ordering::Less);
    assert_eq!(natural_cmp("w-010", "w-10"), std::cmp::Ordering::Less);
    assert_eq!(natural_cmp("a", "a-0"), std::cmp::Ordering::Less);
    assert_eq!(
        natural_cmp("master-9", "master-10"),
        std::cmp::Ordering::Less
    );
}

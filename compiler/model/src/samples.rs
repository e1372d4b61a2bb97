//! Ready-made clusters for tests and benchmarks of the later stages, so each stage can be
//! tested without going through the language. They mirror the `out-examples/` scenarios.

use crate::cluster::*;
use crate::components::Components;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

fn node(name: &str, roles: &[Role], addr: [u8; 4], zone: Option<&str>) -> Node {
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    Node {
        name: name.to_string(),
        roles,
        address: Ipv4Addr::from(addr),
        prefix_len: Some(24),
        interface: crate::InterfaceName::parse("eth0"),
        zone: zone.map(str::to_string),
        priority: None,
        labels: BTreeMap::new(),
        taints: None,
        kubelet: Default::default(),
        hosts: Default::default(),
    }
}

/// The common base: 3 masters 10.0.2.10-12/24, VIP 10.0.2.100, Kubernetes 1.30.2,
/// haproxy on the masters (port 8443), stacked etcd, 2 workers.
pub fn stacked_3() -> Cluster {
    Cluster {
        name: "prod".to_string(),
        kubernetes_version: Version::new(1, 30, 2),
        epoch: Epoch {
            unix: 1_767_225_600,
        }, // 2026-01-01T00:00:00Z
        control_plane: ControlPlane {
            vip: Some(Ipv4Addr::new(10, 0, 2, 100)),
            endpoint: None,
            port: 8443,
            api_server_port: 6443,
            cert_sans: Vec::new(),
            load_balancer: LoadBalancer {
                kind: LoadBalancerKind::Haproxy,
                placement: Placement::ControlPlane,
                address: None,
            },
            keepalived: Keepalived {
                router_id: 51,
                unicast: false,
            },
            previous_vip: None,
            previous_port: None,
        },
        etcd: Etcd {
            topology: EtcdTopology::Stacked,
            version: Version::new(3, 5, 16),
            binary: "/usr/local/bin/etcd".to_string(),
            existing_members: None,
        },
        network: Network {
            pods: "10.244.0.0/16".parse().unwrap(),
            services: "10.96.0.0/12".parse().unwrap(),
            dns_domain: "cluster.local".to_string(),
            node_mask_size: 24,
            cni: None,
        },
        pki: PkiOptions {
            algorithm: KeyAlgorithm::EcdsaP256,
            ca_validity_days: 3650,
            cert_validity_days: 365,
            rotation: 0,
            ca_rotation: 0,
            previous_cas: std::collections::BTreeMap::new(),
            leaf_epoch: None,
            expiry_warning_days: crate::schema::DEFAULT_EXPIRY_WARNING_DAYS,
            bootstrap_token_ttl_hours: crate::schema::DEFAULT_BOOTSTRAP_TOKEN_TTL_HOURS,
        },
        nodes: vec![
            node("master-0", &[Role::ControlPlane], [10, 0, 2, 10], None),
            node("master-1", &[Role::ControlPlane], [10, 0, 2, 11], None),
            node("master-2", &[Role::ControlPlane], [10, 0, 2, 12], None),
            node("worker-0", &[Role::Worker], [10, 0, 2, 20], None),
            node("worker-1", &[Role::Worker], [10, 0, 2, 21], None),
        ],
        outputs: Outputs {
            cloud_init: true,
            ansible: true,
            cloud_init_keys: CloudInitKeys::Separate,
        },
        components: Components::default(),
        hosts: Default::default(),
        origins: Origins::default(),
    }
}

/// `stacked_3` with two dedicated haproxy load balancers (lb-0, lb-1) and port 6443.
pub fn stacked_3_dedicated_lb() -> Cluster {
    let mut c = stacked_3();
    c.control_plane.port = 6443;
    c.control_plane.load_balancer.placement = Placement::Dedicated;
    c.nodes
        .push(node("lb-0", &[Role::LoadBalancer], [10, 0, 2, 5], None));
    c.nodes
        .push(node("lb-1", &[Role::LoadBalancer], [10, 0, 2, 6], None));
    c.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    c
}

/// 3 dedicated etcd nodes (etcd-0..2, 10.0.2.30-32) + 3 masters + 2 workers.
pub fn external_etcd() -> Cluster {
    let mut c = stacked_3();
    c.etcd.topology = EtcdTopology::External;
    for i in 0..3u8 {
        c.nodes.push(node(
            &format!("etcd-{i}"),
            &[Role::Etcd],
            [10, 0, 2, 30 + i],
            None,
        ));
    }
    c.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    c
}

/// 3 masters that also run etcd as a systemd unit; the VIP held by keepalived alone.
pub fn masters_run_etcd() -> Cluster {
    let mut c = stacked_3();
    c.etcd.topology = EtcdTopology::External;
    c.control_plane.port = 6443;
    c.control_plane.load_balancer.kind = LoadBalancerKind::Keepalived;
    for n in c.nodes.iter_mut().filter(|n| n.has(Role::ControlPlane)) {
        n.roles.push(Role::Etcd);
        n.roles.sort();
    }
    c
}

//! Data → model: defaults, origins, and every kind of conversion error with its location.

mod support;

use hac_check::build_model;
use hac_check::codes::CheckCode;
use hac_core::{Data, DataNode, Diagnostic};
use hac_model::*;
use serde_json::json;
use support::*;

fn convert(v: &serde_json::Value) -> (Result<Cluster, Vec<Diagnostic>>, Tree) {
    let t = tree(v);
    (build_model(&t.root), t)
}

fn errors(v: &serde_json::Value) -> (Vec<Diagnostic>, Tree) {
    let (r, t) = convert(v);
    match r {
        Ok(_) => panic!("expected conversion errors"),
        Err(d) => (d, t),
    }
}

fn only(diags: &[Diagnostic], code: &str) -> Diagnostic {
    assert_eq!(codes(diags), vec![code.to_string()], "{diags:#?}");
    diags[0].clone()
}

#[test]
fn minimal_cluster_gets_the_defaults_of_cluster_md() {
    let (r, _) = convert(&base());
    let c = r.expect("valid");
    assert_eq!(c.name, "prod");
    assert_eq!(c.kubernetes_version, Version::new(1, 30, 2));
    assert_eq!(c.epoch.unix, 1_767_225_600);
    assert_eq!(c.control_plane.vip, Some("10.0.2.100".parse().unwrap()));
    assert_eq!(
        c.control_plane.port, 8443,
        "haproxy on the control planes defaults to 8443"
    );
    assert_eq!(c.control_plane.api_server_port, 6443);
    assert_eq!(
        c.control_plane.load_balancer.kind,
        LoadBalancerKind::Haproxy
    );
    assert_eq!(
        c.control_plane.load_balancer.placement,
        Placement::ControlPlane
    );
    assert_eq!(c.control_plane.keepalived.router_id, 51);
    assert!(!c.control_plane.keepalived.unicast);
    assert_eq!(c.etcd.topology, EtcdTopology::Stacked);
    assert_eq!(c.etcd.version, default_etcd_version(Version::new(1, 30, 2)));
    assert_eq!(c.etcd.binary, "/usr/local/bin/etcd");
    assert_eq!(c.network.services.to_string(), "10.96.0.0/12");
    assert_eq!(c.network.dns_domain, "cluster.local");
    assert_eq!(c.network.node_mask_size, 24);
    assert_eq!(c.pki.algorithm, KeyAlgorithm::EcdsaP256);
    assert_eq!(
        (
            c.pki.ca_validity_days,
            c.pki.cert_validity_days,
            c.pki.rotation
        ),
        (3650, 365, 0)
    );
    assert!(c.outputs.cloud_init && c.outputs.ansible);
    let names: Vec<&str> = c.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        ["master-0", "master-1", "master-2", "worker-0", "worker-1"]
    );
    let m0 = &c.nodes[0];
    assert_eq!(m0.roles, vec![Role::ControlPlane]);
    assert_eq!(m0.prefix_len, Some(24));
    assert_eq!(m0.interface, None, "unnamed: detected at boot");
    assert_eq!(m0.priority, None);
    assert_eq!(m0.taints, None);
}

#[test]
fn port_default_follows_the_load_balancer_placement() {
    for (kind, placement, expected) in [
        ("haproxy", "control-plane", 8443),
        ("nginx", "control-plane", 8443),
        ("haproxy", "dedicated", 6443),
        ("keepalived", "control-plane", 6443),
        ("kube-vip", "control-plane", 6443),
        ("external", "control-plane", 6443),
    ] {
        let mut v = base();
        set(
            &mut v,
            "controlPlane.loadBalancer",
            json!({ "kind": kind, "placement": placement }),
        );
        let (r, _) = convert(&v);
        assert_eq!(
            r.expect("valid").control_plane.port,
            expected,
            "{kind} {placement}"
        );
    }
    let mut v = base();
    set(&mut v, "controlPlane.port", json!(9443));
    assert_eq!(convert(&v).0.expect("valid").control_plane.port, 9443);
}

#[test]
fn explicit_values_are_read() {
    let mut v = base();
    set(
        &mut v,
        "etcd",
        json!({ "topology": "external", "version": "v3.6.1", "binary": "/opt/etcd/etcd" }),
    );
    set(
        &mut v,
        "nodes.master-0.roles",
        json!(["etcd", "control-plane", "etcd"]),
    );
    set(
        &mut v,
        "nodes.master-1.roles",
        json!(["control-plane", "etcd"]),
    );
    set(
        &mut v,
        "nodes.master-2.roles",
        json!(["control-plane", "etcd"]),
    );
    set(&mut v, "nodes.master-0.priority", json!(120));
    set(&mut v, "nodes.master-0.zone", json!("a"));
    set(&mut v, "nodes.master-0.labels", json!({ "tier": "gold" }));
    set(
        &mut v,
        "nodes.master-0.taints",
        json!([{ "key": "k", "effect": "NoSchedule" }]),
    );
    set(&mut v, "nodes.master-0.interface", json!("ens3"));
    set(
        &mut v,
        "pki",
        json!({ "algorithm": "rsa-3072", "caValidityDays": 100, "certValidityDays": 50, "rotation": 2 }),
    );
    set(&mut v, "outputs", json!({ "ansible": false }));
    set(&mut v, "controlPlane.certSANs", json!(["api.example.com"]));
    set(
        &mut v,
        "controlPlane.keepalived",
        json!({ "routerId": 7, "unicast": true }),
    );
    set(&mut v, "epoch", json!("2026-01-01T01:00:00+01:00"));
    let c = convert(&v).0.expect("valid");
    assert_eq!(c.etcd.version, Version::new(3, 6, 1));
    assert_eq!(c.etcd.binary, "/opt/etcd/etcd");
    let m0 = &c.nodes[0];
    assert_eq!(
        m0.roles,
        vec![Role::ControlPlane, Role::Etcd],
        "sorted, without duplicates"
    );
    assert_eq!(m0.priority, Some(120));
    assert_eq!(m0.zone.as_deref(), Some("a"));
    assert_eq!(m0.labels.get("tier").map(String::as_str), Some("gold"));
    assert_eq!(
        m0.taints,
        Some(vec![Taint {
            key: "k".into(),
            value: None,
            effect: "NoSchedule".into()
        }])
    );
    assert_eq!(m0.interface.as_deref(), Some("ens3"));
    assert_eq!(c.pki.algorithm, KeyAlgorithm::Rsa3072);
    assert_eq!(
        (
            c.pki.ca_validity_days,
            c.pki.cert_validity_days,
            c.pki.rotation
        ),
        (100, 50, 2)
    );
    assert!(c.outputs.cloud_init && !c.outputs.ansible);
    assert_eq!(
        c.control_plane.cert_sans,
        vec!["api.example.com".to_string()]
    );
    assert_eq!(
        (
            c.control_plane.keepalived.router_id,
            c.control_plane.keepalived.unicast
        ),
        (7, true)
    );
    assert_eq!(c.epoch.unix, 1_767_225_600, "offsets are applied");
}

#[test]
fn null_means_default_for_optional_attributes() {
    let mut v = base();
    set(&mut v, "nodes.master-0.priority", json!(null));
    set(&mut v, "nodes.master-0.taints", json!(null));
    set(
        &mut v,
        "controlPlane.loadBalancer",
        json!({ "kind": "haproxy", "address": null }),
    );
    let c = convert(&v).0.expect("valid");
    assert_eq!(c.nodes[0].priority, None);
    assert_eq!(c.control_plane.load_balancer.address, None);
}

#[test]
fn origins_record_every_written_attribute() {
    let (r, t) = convert(&base());
    let c = r.expect("valid");
    for path in [
        "name",
        "kubernetesVersion",
        "epoch",
        "controlPlane.vip",
        "network.pods",
        "nodes.master-0.address",
        "nodes.worker-1.roles",
        "nodes.master-1",
    ] {
        assert_eq!(c.origins.spans.get(path).copied(), t.value(path), "{path}");
    }
    assert_eq!(
        c.origins.spans.get("nodes.master-0#name").copied(),
        t.key("nodes.master-0")
    );
    // A defaulted attribute falls back to its parent.
    assert_eq!(c.origins.get("network.services"), t.value("network"));
}

#[test]
fn wrong_type_names_expected_and_found() {
    let mut v = base();
    set(&mut v, "nodes.master-0.roles", json!("control-plane"));
    let (d, t) = errors(&v);
    let d = only(&d, CheckCode::WrongType.code());
    assert!(
        d.message
            .contains("expected a list of roles, found the string \"control-plane\""),
        "{}",
        d.message
    );
    assert_eq!(d.span, t.value("nodes.master-0.roles"));
    assert!(
        d.hints.iter().any(|h| h.contains("[ \"control-plane\" ]")),
        "{:?}",
        d.hints
    );

    let mut v = base();
    set(&mut v, "controlPlane.port", json!("8443"));
    let (d, t) = errors(&v);
    let d = only(&d, CheckCode::WrongType.code());
    assert!(
        d.message
            .contains("expected an integer, found the string \"8443\""),
        "{}",
        d.message
    );
    assert_eq!(d.span, t.value("controlPlane.port"));

    let (d, _) = errors(&json!([1, 2]));
    assert_eq!(codes(&d), vec![CheckCode::WrongType.code()]);
    let (d, _) = errors(
        &json!({ "name": "x", "kubernetesVersion": "1.30.0", "epoch": "2026-01-01T00:00:00Z", "network": 3, "nodes": {} }),
    );
    assert!(only(&d, CheckCode::WrongType.code())
        .message
        .contains("found the integer 3"));
}

#[test]
fn a_wrong_value_is_answered_with_the_schema_example_and_default() {
    // Out of range: the example from the row, and the default it falls back to.
    let mut v = base();
    set(&mut v, "pki.caValidityDays", json!(0));
    let (d, _) = errors(&v);
    let d = only(&d, CheckCode::OutOfRange.code());
    assert_eq!(
        d.hints,
        ["e.g. `pki.caValidityDays = 3650;` (leave it out for the default, 3650)"]
    );
    // A wrong type, in a node's set: the same row.
    let mut v = base();
    set(&mut v, "nodes.master-0.hosts", json!({ "firewall": "yes" }));
    let (d, _) = errors(&v);
    let d = only(&d, CheckCode::WrongType.code());
    assert!(
        d.message.contains("`nodes.master-0.hosts.firewall`"),
        "{}",
        d.message
    );
    assert_eq!(
        d.hints,
        ["e.g. `hosts.firewall = true;` (leave it out for the default, false)"]
    );
    // An attribute without a default gets the example alone.
    let mut v = base();
    set(&mut v, "kubelet.maxPods", json!(0));
    let (d, _) = errors(&v);
    assert_eq!(
        only(&d, CheckCode::OutOfRange.code()).hints,
        ["e.g. `kubelet.maxPods = 150;`"]
    );
    // A hint the reader already gives ("did you mean") is not buried under the example.
    let mut v = base();
    set(&mut v, "controlPlane.loadBalancer.kind", json!("haprox"));
    let (d, _) = errors(&v);
    assert_eq!(
        only(&d, CheckCode::InvalidEnum.code()).hints,
        ["did you mean \"haproxy\"?"]
    );
}

#[test]
fn missing_required_attribute_points_at_the_enclosing_set() {
    let mut v = base();
    remove(&mut v, "name");
    let (d, t) = errors(&v);
    let d = only(&d, CheckCode::MissingAttribute.code());
    assert!(d.message.contains("`name`"), "{}", d.message);
    assert_eq!(d.span, t.value(""));

    let mut v = base();
    remove(&mut v, "nodes.worker-0.address");
    let (d, t) = errors(&v);
    let d = only(&d, CheckCode::MissingAttribute.code());
    assert!(
        d.message.contains("nodes.worker-0.address"),
        "{}",
        d.message
    );
    assert_eq!(d.span, t.value("nodes.worker-0"));

    let mut v = base();
    set(&mut v, "epoch", json!(null));
    let (d, t) = errors(&v);
    assert_eq!(
        only(&d, CheckCode::MissingAttribute.code()).span,
        t.value("epoch")
    );
}

#[test]
fn unknown_attribute_suggests_the_closest_name() {
    let mut v = base();
    let pods = v["network"].clone();
    remove(&mut v, "network");
    set(&mut v, "netwrok", pods);
    let (d, t) = errors(&v);
    // The misspelt set is unknown, and the required `network` is then missing.
    let unknown = d
        .iter()
        .find(|d| d.code.as_deref() == Some(CheckCode::UnknownAttribute.code()))
        .expect("unknown");
    assert!(unknown.message.contains("`netwrok`"));
    assert_eq!(unknown.hints, vec!["did you mean `network`?".to_string()]);
    assert_eq!(unknown.span, t.key("netwrok"));
    assert!(d
        .iter()
        .any(|d| d.code.as_deref() == Some(CheckCode::MissingAttribute.code())));

    let mut v = base();
    set(&mut v, "nodes.master-0.adress", json!("x"));
    let (d, _) = errors(&v);
    let d = only(&d, CheckCode::UnknownAttribute.code());
    assert_eq!(d.hints, vec!["did you mean `address`?".to_string()]);

    let mut v = base();
    set(&mut v, "zzzzzz", json!(1));
    let (d, _) = errors(&v);
    assert!(only(&d, CheckCode::UnknownAttribute.code()).hints[0].contains("controlPlane"));
}

#[test]
fn invalid_enum_lists_the_valid_values() {
    let mut v = base();
    set(&mut v, "controlPlane.loadBalancer.kind", json!("haproxi"));
    let (d, t) = errors(&v);
    let d = only(&d, CheckCode::InvalidEnum.code());
    assert!(
        d.message
            .contains("\"haproxy\", \"nginx\", \"keepalived\", \"kube-vip\", \"external\""),
        "{}",
        d.message
    );
    assert_eq!(d.hints, vec!["did you mean \"haproxy\"?".to_string()]);
    assert_eq!(d.span, t.value("controlPlane.loadBalancer.kind"));

    let mut v = base();
    set(&mut v, "nodes.master-0.roles", json!(["controlplane"]));
    let (d, t) = errors(&v);
    let d = only(&d, CheckCode::InvalidEnum.code());
    assert_eq!(d.span, t.value("nodes.master-0.roles.0"));
    assert_eq!(d.hints, vec!["did you mean \"control-plane\"?".to_string()]);

    for (path, value) in [
        ("etcd.topology", "stack"),
        ("pki.algorithm", "ed25519"),
        ("controlPlane.loadBalancer.placement", "masters"),
    ] {
        let mut v = base();
        set(&mut v, path, json!(value));
        assert_eq!(
            codes(&errors(&v).0),
            vec![CheckCode::InvalidEnum.code()],
            "{path}"
        );
    }
    let mut v = base();
    set(
        &mut v,
        "nodes.master-0.taints",
        json!([{ "key": "k", "effect": "NoSchedul" }]),
    );
    assert_eq!(codes(&errors(&v).0), vec![CheckCode::InvalidEnum.code()]);
}

fn malformed(path: &str, value: &serde_json::Value) -> Diagnostic {
    let mut v = base();
    set(&mut v, path, value.clone());
    let (d, t) = errors(&v);
    let d = only(&d, CheckCode::Malformed.code());
    assert_eq!(d.span, t.value(path), "{path} = {value}");
    d
}

#[test]
fn malformed_addresses_cidrs_versions_and_timestamps() {
    malformed("controlPlane.vip", &json!("10.0.2.300"));
    malformed("controlPlane.vip", &json!("10.0.2"));
    malformed("nodes.master-0.address", &json!("10.0.2.10/33"));
    malformed("nodes.master-0.address", &json!("10.0.2.10/"));
    malformed("nodes.master-0.address", &json!("10.0.2.010/24"));
    let d = malformed("nodes.master-0.address", &json!("fd00::10/64"));
    assert!(
        d.message.contains("IPv6") && d.message.contains("IPv4 only"),
        "{d:?}"
    );
    let d = malformed("controlPlane.vip", &json!("fd00::1"));
    assert!(d.message.contains("IPv4 only"), "{d:?}");
    let d = malformed("network.pods", &json!("fd00::/64"));
    assert!(d.message.contains("IPv4 only"), "{d:?}");
    malformed("network.pods", &json!("10.244.0.0"));
    malformed("network.pods", &json!("10.244.0.0/40"));
    let d = malformed("network.services", &json!("10.96.0.1/12"));
    assert_eq!(d.hints, vec!["did you mean \"10.96.0.0/12\"?".to_string()]);
    let d = malformed("kubernetesVersion", &json!("1.30"));
    assert!(d.hints[0].contains("1.30.0"), "{:?}", d.hints);
    malformed("kubernetesVersion", &json!("1.30.2.1"));
    malformed("kubernetesVersion", &json!("latest"));
    malformed("etcd.version", &json!("3.5"));
    malformed("epoch", &json!("2026-01-01"));
    malformed("epoch", &json!("2026-13-01T00:00:00Z"));
    malformed("epoch", &json!("2026-02-29T00:00:00Z"));
    malformed("epoch", &json!("2026-01-01T24:00:00Z"));
    malformed("epoch", &json!("2026-01-01T00:00:00"));
    malformed("epoch", &json!("2026-01-01T00:00:00+1:00"));
}

#[test]
fn rfc3339_boundaries() {
    use hac_check::convert::{format_rfc3339, parse_rfc3339};
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_rfc3339("2028-02-29T00:00:00Z"), Some(1_835_395_200));
    assert_eq!(
        parse_rfc3339("2026-01-01T00:00:00.123Z"),
        Some(1_767_225_600)
    );
    assert_eq!(
        parse_rfc3339("2025-12-31T19:00:00-05:00"),
        Some(1_767_225_600)
    );
    assert_eq!(
        parse_rfc3339("2100-02-29T00:00:00Z"),
        None,
        "2100 is not a leap year"
    );
    assert_eq!(
        parse_rfc3339("2000-02-29T00:00:00Z").map(|_| ()),
        Some(()),
        "2000 is"
    );
    assert_eq!(parse_rfc3339("2026-01-01T00:00:00.Z"), None);
    assert_eq!(parse_rfc3339("２026-01-01T00:00:00Z"), None);
    assert_eq!(format_rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
    assert_eq!(
        format_rfc3339(1_835_395_200 + 86_399),
        "2028-02-29T23:59:59Z"
    );
}

#[test]
fn numbers_outside_their_range() {
    for (path, bad, good) in [
        ("controlPlane.port", [0, 65536], [1, 65535]),
        ("controlPlane.apiServerPort", [0, 70000], [1, 65535]),
        ("network.nodeMaskSize", [0, 33], [16, 28]),
        ("pki.caValidityDays", [0, 36501], [1, 36500]),
        ("pki.rotation", [-1, -5], [0, 7]),
    ] {
        for b in bad {
            let mut v = base();
            set(&mut v, path, json!(b));
            let (d, t) = errors(&v);
            let d = only(&d, CheckCode::OutOfRange.code());
            assert_eq!(d.span, t.value(path));
            assert!(d.message.contains(&b.to_string()), "{}", d.message);
        }
        for g in good {
            let mut v = base();
            set(&mut v, path, json!(g));
            assert!(convert(&v).0.is_ok(), "{path} = {g}");
        }
    }
}

#[test]
fn invalid_strings() {
    let mut v = base();
    set(&mut v, "etcd.binary", json!("etcd"));
    assert_eq!(codes(&errors(&v).0), vec![CheckCode::InvalidValue.code()]);
    let mut v = base();
    set(
        &mut v,
        "nodes.master-0.interface",
        json!("a very long interface name"),
    );
    assert_eq!(codes(&errors(&v).0), vec![CheckCode::InvalidValue.code()]);
}

#[test]
fn every_error_is_collected_not_just_the_first() {
    let mut v = base();
    set(&mut v, "kubernetesVersion", json!("one"));
    set(&mut v, "nodes.master-0.roles", json!("control-plane"));
    set(&mut v, "nodes.worker-1.address", json!("10.0.2.999/24"));
    set(&mut v, "network.dnsDomian", json!("x"));
    set(&mut v, "pki.algorithm", json!("dsa"));
    let (d, _) = errors(&v);
    let mut got = codes(&d);
    got.sort();
    assert_eq!(
        got,
        vec![
            CheckCode::WrongType.code(),
            CheckCode::UnknownAttribute.code(),
            CheckCode::InvalidEnum.code(),
            CheckCode::Malformed.code(),
            CheckCode::Malformed.code()
        ]
    );
    // Sorted by source position.
    let starts: Vec<u32> = d.iter().filter_map(|d| d.span.map(|s| s.start)).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted);
}

#[test]
fn floats_and_other_types_never_panic() {
    for weird in [
        json!(1.5),
        json!(null),
        json!(true),
        json!([]),
        json!({}),
        json!("x"),
    ] {
        for path in [
            "name",
            "controlPlane",
            "controlPlane.port",
            "nodes",
            "nodes.master-0",
            "nodes.master-0.roles",
            "network.nodeMaskSize",
            "pki",
            "outputs.ansible",
            "nodes.master-0.labels",
            "nodes.master-0.taints",
            "controlPlane.certSANs",
        ] {
            let mut v = base();
            set(&mut v, path, weird.clone());
            let _ = convert(&v).0;
        }
    }
    let huge = DataNode::new(Data::Int(i64::MIN), None);
    let _ = build_model(&huge);
}

#[test]
fn label_and_taint_keys_and_values_follow_kubernetes_syntax() {
    for (labels, ok) in [
        (json!({ "tier": "gold" }), true),
        (json!({ "node.example.com/pool": "general" }), true),
        (json!({ "a": "" }), true),
        (json!({ "a": "x".repeat(63) }), true),
        (json!({ "a": "x".repeat(64) }), false),
        (json!({ "Example.com/x": "y" }), false),
        (json!({ "/x": "y" }), false),
        (json!({ "example.com/": "y" }), false),
        (json!({ "has space": "y" }), false),
        (json!({ "a": "-bad" }), false),
        (json!({ "a": "bad value" }), false),
    ] {
        let mut v = base();
        set(&mut v, "nodes.worker-0.labels", labels.clone());
        let r = convert(&v).0;
        assert_eq!(r.is_ok(), ok, "{labels}");
        if let Err(d) = r {
            assert_eq!(codes(&d), vec![CheckCode::InvalidValue.code()], "{labels}");
        }
    }
    let mut v = base();
    set(
        &mut v,
        "nodes.worker-0.taints",
        json!([{ "key": "dedicated", "value": "gpu", "effect": "NoSchedule" }]),
    );
    assert!(convert(&v).0.is_ok());
    for taint in [
        json!([{ "key": "bad key", "effect": "NoSchedule" }]),
        json!([{ "key": "k", "value": "bad value", "effect": "NoExecute" }]),
    ] {
        let mut v = base();
        set(&mut v, "nodes.worker-0.taints", taint.clone());
        let (d, _) = errors(&v);
        assert_eq!(codes(&d), vec![CheckCode::InvalidValue.code()], "{taint}");
    }
}

fn arbitrary_data() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(|b| json!(b)),
        any::<i64>().prop_map(|i| json!(i)),
        (-1000i64..1000).prop_map(|i| json!(i)),
        "[a-z0-9./:-]{0,20}".prop_map(|s| json!(s)),
        Just(json!("10.0.2.10/24")),
        Just(json!("1.30.2")),
        Just(json!("control-plane")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("name".to_string()),
                    Just("roles".to_string()),
                    Just("address".to_string()),
                    Just("vip".to_string()),
                    Just("port".to_string()),
                    "[a-z-]{1,8}".prop_map(String::from),
                ],
                inner,
                0..4
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    /// Any value at any attribute of a valid cluster is either accepted (and then checked
    /// without panicking) or rejected with located, coded errors; never a panic.
    #[test]
    fn arbitrary_values_never_panic(
        path in proptest::sample::select(vec![
            "name", "kubernetesVersion", "epoch", "controlPlane", "controlPlane.vip", "controlPlane.port",
            "controlPlane.loadBalancer", "controlPlane.keepalived.routerId", "etcd", "etcd.version",
            "network", "network.pods", "network.nodeMaskSize", "pki", "nodes", "nodes.master-0",
            "nodes.master-0.roles", "nodes.master-0.address", "nodes.master-0.priority",
            "nodes.worker-0.labels", "nodes.worker-0.taints", "outputs", "extra",
        ]),
        value in arbitrary_data(),
    ) {
        let mut v = base();
        set(&mut v, path, value);
        match convert(&v).0 {
            Ok(c) => {
                let _ = hac_check::check(&c);
                let _ = hac_check::report(&c);
            }
            Err(d) => {
                proptest::prop_assert!(!d.is_empty());
                for x in &d {
                    proptest::prop_assert!(x.code.is_some());
                    proptest::prop_assert!(x.span.is_some(), "{x:?}");
                }
            }
        }
    }
}

#[test]
fn rules_point_at_the_attributes_conversion_recorded() {
    let mut v = base();
    remove(&mut v, "nodes.master-2");
    set(&mut v, "controlPlane.vip", json!("10.0.3.100"));
    set(&mut v, "controlPlane.keepalived.routerId", json!(0));
    let (r, t) = convert(&v);
    let d = hac_check::check(&r.expect("converts"));
    let at = |code: &str| {
        d.iter()
            .find(|x| x.code.as_deref() == Some(code))
            .and_then(|x| x.span)
    };
    assert_eq!(
        at(CheckCode::TwoEtcdMembers.code()),
        t.key("nodes.master-1"),
        "the second member's name"
    );
    assert_eq!(
        at(CheckCode::VipOutsideSubnet.code()),
        t.value("controlPlane.vip")
    );
    assert_eq!(
        at(CheckCode::RouterIdOutOfRange.code()),
        t.value("controlPlane.keepalived.routerId")
    );
    let two = d
        .iter()
        .find(|x| x.code.as_deref() == Some(CheckCode::TwoEtcdMembers.code()))
        .expect("E0202");
    assert_eq!(two.labels.first().map(|l| l.span), t.key("nodes.master-0"));
    // Sorted by source position.
    let starts: Vec<u32> = d.iter().filter_map(|x| x.span.map(|s| s.start)).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
}

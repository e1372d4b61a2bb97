//! The attribute schema (`hac_model::schema`) agrees with what the converter does: the
//! defaults it documents are the values a cluster gets, every attribute it lists is accepted,
//! any other name is refused with the schema's list, and every code it names is explained.

mod support;

use hac_check::{build_model, codes};
use hac_model::schema::{self, DefaultValue, Section};
use hac_model::*;
use serde_json::json;
use support::*;

/// The model's value of a schema attribute, written as the schema writes defaults (`null`
/// for an unset optional value); `None` when the test does not know the path.
fn model_value(c: &Cluster, path: &str) -> Option<String> {
    let q = |s: &str| format!("{s:?}");
    let opt = |s: &Option<String>| s.as_ref().map_or("null".to_string(), |s| q(s));
    let cp = &c.control_plane;
    let k = &c.components;
    let node = c.node("master-0")?;
    Some(match path {
        "controlPlane.endpoint" => opt(&cp.endpoint),
        "controlPlane.apiServerPort" => cp.api_server_port.to_string(),
        "controlPlane.certSANs" if cp.cert_sans.is_empty() => "[ ]".to_string(),
        "controlPlane.loadBalancer.kind" => q(cp.load_balancer.kind.as_str()),
        "controlPlane.loadBalancer.placement" => q(cp.load_balancer.placement.as_str()),
        "controlPlane.loadBalancer.address" => opt(&cp.load_balancer.address),
        "controlPlane.keepalived.routerId" => cp.keepalived.router_id.to_string(),
        "controlPlane.keepalived.unicast" => cp.keepalived.unicast.to_string(),
        "etcd.topology" => q(c.etcd.topology.as_str()),
        "etcd.binary" => q(&c.etcd.binary),
        "network.services" => q(&c.network.services.to_string()),
        "network.dnsDomain" => q(&c.network.dns_domain),
        "network.nodeMaskSize" => c.network.node_mask_size.to_string(),
        "pki.algorithm" => q(c.pki.algorithm.as_str()),
        "pki.caValidityDays" => c.pki.ca_validity_days.to_string(),
        "pki.certValidityDays" => c.pki.cert_validity_days.to_string(),
        "pki.rotation" => c.pki.rotation.to_string(),
        "nodes.<name>.interface" => q(&node.interface),
        "nodes.<name>.zone" => opt(&node.zone),
        "nodes.<name>.labels" if node.labels.is_empty() => "{ }".to_string(),
        "nodes.<name>.taints" if node.taints.is_none() => "null".to_string(),
        "outputs.cloudInit" => c.outputs.cloud_init.to_string(),
        "outputs.ansible" => c.outputs.ansible.to_string(),
        "imageRepository" => opt(&k.image_repository),
        "featureGates" if k.feature_gates.is_empty() => "{ }".to_string(),
        "etcd.extraArgs" if k.etcd_args.is_empty() => "{ }".to_string(),
        "controlPlane.apiServer.extraArgs" if k.api_server.extra_args.is_empty() => {
            "{ }".to_string()
        }
        "controlPlane.apiServer.extraVolumes" if k.api_server.extra_volumes.is_empty() => {
            "[ ]".to_string()
        }
        "controlPlane.controllerManager.extraArgs" if k.controller_manager_args.is_empty() => {
            "{ }".to_string()
        }
        "controlPlane.scheduler.extraArgs" if k.scheduler_args.is_empty() => "{ }".to_string(),
        "kubelet.maxPods" => opt(&k.kubelet.max_pods.map(|m| m.to_string())),
        "kubelet.cgroupDriver" => opt(&k.kubelet.cgroup_driver),
        "kubelet.systemReserved" if k.kubelet.system_reserved.is_empty() => "{ }".to_string(),
        "kubelet.kubeReserved" if k.kubelet.kube_reserved.is_empty() => "{ }".to_string(),
        "kubelet.evictionHard" if k.kubelet.eviction_hard.is_empty() => "{ }".to_string(),
        "kubelet.serverTLSBootstrap" => opt(&k.kubelet.server_tls_bootstrap.map(|b| b.to_string())),
        "kubeProxy.mode" => opt(&k.kube_proxy_mode.map(|m| m.as_str().to_string())),
        _ => return None,
    })
}

#[test]
fn the_documented_defaults_are_the_values_a_cluster_gets() {
    let c = build_model(&tree(base()).root).expect("the base cluster converts");
    let mut checked = 0;
    for a in schema::ATTRIBUTES {
        let want = match a.default {
            DefaultValue::Int(i) => i.to_string(),
            DefaultValue::Bool(b) => b.to_string(),
            DefaultValue::Str(s) => format!("{s:?}"),
            DefaultValue::EmptyList => "[ ]".to_string(),
            DefaultValue::EmptySet => "{ }".to_string(),
            DefaultValue::Unset(_) if a.section != Section::Taint => "null".to_string(),
            _ => continue,
        };
        if a.section == Section::Volume {
            continue; // the base cluster has no volume: see the test below
        }
        let path = a.path();
        let got = model_value(&c, &path)
            .unwrap_or_else(|| panic!("{path}: the test does not know where the model keeps it"));
        assert_eq!(
            got, want,
            "{path}: the schema's default is not what convert applies"
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} defaults checked");
}

#[test]
fn the_computed_port_default_follows_the_load_balancer() {
    let c = build_model(&tree(base()).root).expect("converts");
    assert_eq!(c.control_plane.port, schema::DEFAULT_PROXY_PORT);
    let mut v = base();
    set(
        &mut v,
        "controlPlane.loadBalancer.kind",
        json!("keepalived"),
    );
    let c = build_model(&tree(v).root).expect("converts");
    assert_eq!(c.control_plane.port, schema::DEFAULT_PORT);
    assert_eq!(c.etcd.version, default_etcd_version(c.kubernetes_version));
}

/// A cluster that sets every attribute of the schema.
fn full() -> serde_json::Value {
    json!({
        "name": "prod",
        "kubernetesVersion": "1.30.2",
        "epoch": "2026-01-01T00:00:00Z",
        "controlPlane": {
            "vip": "10.0.2.100", "endpoint": "k8s.example.internal", "port": 8443,
            "apiServerPort": 6443, "certSANs": ["k8s.example.com"],
            "loadBalancer": { "kind": "haproxy", "placement": "control-plane", "address": null },
            "keepalived": { "routerId": 51, "unicast": true },
            "apiServer": {
                "extraArgs": { "audit-log-maxage": 30 },
                "extraVolumes": [{ "name": "audit", "hostPath": "/var/log/audit",
                                   "mountPath": "/var/log/audit", "readOnly": false,
                                   "pathType": "DirectoryOrCreate" }]
            },
            "controllerManager": { "extraArgs": { "terminated-pod-gc-threshold": 500 } },
            "scheduler": { "extraArgs": { "v": 2 } }
        },
        "etcd": { "topology": "stacked", "version": "3.5.16", "binary": "/usr/local/bin/etcd",
                  "extraArgs": { "quota-backend-bytes": 8589934592_i64 } },
        "imageRepository": "registry.internal/k8s",
        "featureGates": { "InPlacePodVerticalScaling": true },
        "kubelet": { "maxPods": 150, "cgroupDriver": "systemd",
                     "systemReserved": { "cpu": "500m" }, "kubeReserved": { "memory": "1Gi" },
                     "evictionHard": { "memory.available": "500Mi" },
                     "serverTLSBootstrap": true },
        "kubeProxy": { "mode": "ipvs" },
        "network": { "pods": "10.244.0.0/16", "services": "10.96.0.0/12",
                     "dnsDomain": "cluster.local", "nodeMaskSize": 24 },
        "pki": { "algorithm": "ecdsa-p256", "caValidityDays": 3650, "certValidityDays": 365,
                 "rotation": 0 },
        "nodes": {
            "master-0": { "roles": ["control-plane"], "address": "10.0.2.10/24",
                          "interface": "eth0", "zone": "a", "priority": 150,
                          "labels": { "node.example.com/pool": "system" },
                          "taints": [{ "key": "dedicated", "value": "infra", "effect": "NoSchedule" }] },
            "master-1": { "roles": ["control-plane"], "address": "10.0.2.11/24" },
            "master-2": { "roles": ["control-plane"], "address": "10.0.2.12/24" }
        },
        "outputs": { "cloudInit": true, "ansible": true }
    })
}

/// The value at a schema path in the JSON (`<name>` = master-0, `[]` = the first element).
fn json_at<'v>(v: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    let mut cur = v;
    for part in path.split('.') {
        let part = if part == "<name>" { "master-0" } else { part };
        cur = match part.strip_suffix("[]") {
            Some(list) => cur.get(list)?.get(0)?,
            None => cur.get(part)?,
        };
    }
    Some(cur)
}

#[test]
fn every_schema_attribute_is_accepted_and_the_full_cluster_passes_the_rules() {
    let v = full();
    for a in schema::ATTRIBUTES {
        assert!(
            json_at(&v, &a.path()).is_some(),
            "{}: the full cluster does not set it",
            a.path()
        );
    }
    let c = build_model(&tree(v).root).unwrap_or_else(|d| panic!("{d:#?}"));
    let diags = hac_check::check(&c);
    assert!(diags.is_empty(), "{diags:#?}");
}

#[test]
fn an_unknown_name_in_any_section_is_refused_with_the_schema_list() {
    for section in Section::ALL {
        let mut v = full();
        let path = match section.path() {
            "" => "zzzzzzzzzz".to_string(),
            p => format!("{p}.zzzzzzzzzz"),
        };
        let parent = path.rsplit_once('.').map(|(p, _)| p);
        let target = match parent {
            None => &mut v,
            Some(p) => {
                let mut cur = &mut v;
                for part in p.split('.') {
                    let part = if part == "<name>" { "master-0" } else { part };
                    cur = match part.strip_suffix("[]") {
                        Some(list) => &mut cur[list][0],
                        None => &mut cur[part],
                    };
                }
                cur
            }
        };
        target["zzzzzzzzzz"] = json!(1);
        let diags = build_model(&tree(v).root).expect_err("an unknown attribute is an error");
        assert_eq!(
            codes(&diags),
            [codes::UNKNOWN_ATTRIBUTE],
            "{path}: {diags:#?}"
        );
        let hint = diags[0].hints.join(" ");
        assert!(
            hint.contains(&section.keys().join(", ")),
            "{path}: the hint does not list the schema's names: {hint}"
        );
    }
}

#[test]
fn every_code_the_schema_names_is_one_hac_emits() {
    let known = |c: &str| {
        codes::ALL.contains(&c)
            || codes::LANGUAGE.contains(&c)
            || codes::OTHER_STAGES.contains(&c)
            || ["W0701", "E0702", "E0703"].contains(&c)
    };
    for a in schema::ATTRIBUTES {
        for c in a.codes {
            assert!(known(c), "{}: unknown code {c}", a.path());
        }
    }
}

#[test]
fn every_cluster_code_is_documented_under_an_attribute_or_a_section() {
    for code in codes::ALL {
        let named = schema::ATTRIBUTES.iter().any(|a| a.codes.contains(code))
            || Section::ALL.iter().any(|s| s.doc().contains(code));
        assert!(
            named,
            "{code} is named by no attribute or section of the schema"
        );
    }
}

#[test]
fn a_volume_takes_the_documented_defaults() {
    let mut v = base();
    set(
        &mut v,
        "controlPlane.apiServer.extraVolumes",
        json!([{ "name": "audit", "hostPath": "/var/log/audit", "mountPath": "/var/log/audit" }]),
    );
    let c = build_model(&tree(v).root).expect("converts");
    let vol = &c.components.api_server.extra_volumes[0];
    let want = |key: &str| {
        schema::attributes_of(Section::Volume)
            .find(|a| a.key == key)
            .map(|a| a.default)
    };
    assert_eq!(want("readOnly"), Some(DefaultValue::Bool(vol.read_only)));
    assert!(
        matches!(want("pathType"), Some(DefaultValue::Str(s)) if s == vol.path_type),
        "pathType: {:?}",
        vol.path_type
    );
}

//! The attribute schema (`hac_model::schema`) agrees with what the converter does: the
//! defaults it documents are the values a cluster gets, every attribute it lists is accepted,
//! any other name is refused with the schema's list, and every code it names is explained.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod support;

use hac_check::build_model;
use hac_check::codes::CheckCode;
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
    let api = &c.components.api_server;
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
        "pki.caRotation" => c.pki.ca_rotation.to_string(),
        "pki.expiryWarningDays" => c.pki.expiry_warning_days.to_string(),
        "pki.leafEpoch" => c.pki.leaf_epoch.map_or("null".to_string(), |e| {
            format!("{:?}", hac_check::convert::format_rfc3339(e.unix))
        }),
        "pki.bootstrapTokenTtlHours" => c.pki.bootstrap_token_ttl_hours.to_string(),
        "nodes.<name>.interface" => opt(&node
            .interface
            .as_ref()
            .map(std::string::ToString::to_string)),
        "nodes.<name>.zone" => opt(&node.zone),
        "nodes.<name>.labels" if node.labels.is_empty() => "{ }".to_string(),
        "nodes.<name>.taints" if node.taints.is_none() => "null".to_string(),
        "outputs.cloudInit" => c.outputs.cloud_init.to_string(),
        "hosts.os" => q(c.hosts.os.as_str()),
        "hosts.packages" => q(c.hosts.packages.as_str()),
        "hosts.repositoryKey" => opt(&c.hosts.repository_key),
        "hosts.firewall" => c.hosts.firewall.to_string(),
        "hosts.sshPort" => c.hosts.ssh_port.to_string(),
        "outputs.ansible" => c.outputs.ansible.to_string(),
        "outputs.cloudInitKeys" => q(c.outputs.cloud_init_keys.as_str()),
        "network.cni" => c
            .network
            .cni
            .as_ref()
            .map_or("null".to_string(), |cni| q(&cni.manifest)),
        "imageRepository" => opt(&c.components.image_repository),
        "featureGates" if c.components.feature_gates.is_empty() => "{ }".to_string(),
        "kubelet.maxPods" => c
            .components
            .kubelet
            .max_pods
            .map_or("null".to_string(), |m| m.to_string()),
        "kubelet.systemReserved" if c.components.kubelet.system_reserved.is_empty() => {
            "{ }".to_string()
        }
        "kubelet.kubeReserved" if c.components.kubelet.kube_reserved.is_empty() => {
            "{ }".to_string()
        }
        "kubelet.evictionHard" if c.components.kubelet.eviction_hard.is_empty() => {
            "{ }".to_string()
        }
        "kubelet.cgroupDriver" => opt(&c.components.kubelet.cgroup_driver),
        "kubelet.serverTLSBootstrap" => c
            .components
            .kubelet
            .server_tls_bootstrap
            .map_or("null".to_string(), |b| b.to_string()),
        "kubeProxy.mode" => c
            .components
            .kube_proxy_mode
            .map_or("null".to_string(), |m| q(m.as_str())),
        "controlPlane.apiServer.extraArgs" if api.extra_args.is_empty() => "{ }".to_string(),
        "controlPlane.apiServer.extraVolumes" if api.extra_volumes.is_empty() => "[ ]".to_string(),
        "controlPlane.controllerManager.extraArgs"
            if c.components.controller_manager_args.is_empty() =>
        {
            "{ }".to_string()
        }
        "controlPlane.scheduler.extraArgs" if c.components.scheduler_args.is_empty() => {
            "{ }".to_string()
        }
        "etcd.extraArgs" if c.components.etcd_args.is_empty() => "{ }".to_string(),
        // The security settings: `defaults_base` sets each of them to `{ }` (OIDC to its two
        // required attributes), so their own attributes show their defaults.
        "controlPlane.apiServer.encryption" => "null".to_string(),
        "controlPlane.apiServer.audit" => "null".to_string(),
        "controlPlane.apiServer.oidc" => "null".to_string(),
        "controlPlane.apiServer.encryption.provider" => {
            q(api.encryption.as_ref()?.provider.as_str())
        }
        "controlPlane.apiServer.encryption.rotation" => {
            api.encryption.as_ref()?.rotation.to_string()
        }
        "controlPlane.apiServer.audit.policy" => match api.audit.as_ref()?.policy {
            AuditPolicy::Level(l) => q(AuditLevel::ALL.iter().find(|(_, x)| *x == l)?.0),
            AuditPolicy::Text(_) => return None,
        },
        "controlPlane.apiServer.audit.logPath" => q(&api.audit.as_ref()?.log_path),
        "controlPlane.apiServer.audit.maxAge" => api.audit.as_ref()?.max_age.to_string(),
        "controlPlane.apiServer.audit.maxBackup" => api.audit.as_ref()?.max_backup.to_string(),
        "controlPlane.apiServer.audit.maxSize" => api.audit.as_ref()?.max_size.to_string(),
        "controlPlane.apiServer.oidc.usernameClaim" => q(&api.oidc.as_ref()?.username_claim),
        "controlPlane.apiServer.oidc.groupsClaim" => opt(&api.oidc.as_ref()?.groups_claim),
        "controlPlane.apiServer.oidc.usernamePrefix" => opt(&api.oidc.as_ref()?.username_prefix),
        "controlPlane.apiServer.oidc.groupsPrefix" => opt(&api.oidc.as_ref()?.groups_prefix),
        "controlPlane.apiServer.oidc.ca" => opt(&api.oidc.as_ref()?.ca),
        "controlPlane.kubeVip.version" => {
            let image = c.components.kube_vip_image();
            q(image.rsplit_once(':')?.1)
        }
        _ => return None,
    })
}

#[test]
fn the_documented_defaults_are_the_values_a_cluster_gets() {
    let bare = build_model(&tree(&base()).root).expect("the base cluster converts");
    let mut v = base();
    set(&mut v, "controlPlane.apiServer.encryption", json!({}));
    set(&mut v, "controlPlane.apiServer.audit", json!({}));
    set(
        &mut v,
        "controlPlane.apiServer.oidc",
        json!({ "issuerURL": "https://login.example.com", "clientID": "k" }),
    );
    set(&mut v, "controlPlane.kubeVip", json!({}));
    let with_sets = build_model(&tree(&v).root).expect("the cluster with empty sets converts");
    let mut checked = 0;
    for a in schema::ATTRIBUTES {
        let want = match a.default {
            DefaultValue::Int(i) => i.to_string(),
            DefaultValue::Bool(b) => b.to_string(),
            DefaultValue::Str(s) => format!("{s:?}"),
            DefaultValue::EmptyList => "[ ]".to_string(),
            DefaultValue::EmptySet => "{ }".to_string(),
            DefaultValue::Unset(_) if a.section != Section::Taint => "null".to_string(),
            // No literal default to compare (required, computed, or a taint's unset field).
            DefaultValue::Unset(_)
            | DefaultValue::Required
            | DefaultValue::RequiredWhen(_)
            | DefaultValue::Defaults
            | DefaultValue::Computed(_) => continue,
        };
        if a.section == Section::Volume {
            continue; // the base cluster has no volume: see the test below
        }
        let path = a.path();
        // An optional set is `null` in the base cluster; its attributes' defaults show once
        // it is set (to `{ }`).
        let nested = [
            Section::Encryption,
            Section::Audit,
            Section::Oidc,
            Section::KubeVip,
        ]
        .contains(&a.section);
        let c = if nested { &with_sets } else { &bare };
        let got = model_value(c, &path)
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
    let c = build_model(&tree(&base()).root).expect("converts");
    assert_eq!(c.control_plane.port, schema::DEFAULT_PROXY_PORT);
    let mut v = base();
    set(
        &mut v,
        "controlPlane.loadBalancer.kind",
        json!("keepalived"),
    );
    let c = build_model(&tree(&v).root).expect("converts");
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
            "kubeVip": { "image": "registry.internal/kube-vip", "version": "v0.8.9" },
            "apiServer": {
                "extraArgs": { "default-not-ready-toleration-seconds": 60 },
                "encryption": { "resources": ["secrets", "configmaps"], "provider": "secretbox",
                                "rotation": 1 },
                "audit": { "policy": "request", "logPath": "/var/log/kubernetes/audit/audit.log",
                           "maxAge": 30, "maxBackup": 10, "maxSize": 100 },
                "oidc": { "issuerURL": "https://login.example.com", "clientID": "kubernetes",
                          "usernameClaim": "email", "groupsClaim": "groups",
                          "usernamePrefix": "oidc:", "groupsPrefix": "oidc:",
                          "ca": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" },
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
                     "dnsDomain": "cluster.local", "nodeMaskSize": 24,
                     "cni": { "manifest": "calico.yaml" } },
        "pki": { "algorithm": "ecdsa-p256", "caValidityDays": 3650, "certValidityDays": 365,
                 "rotation": 0, "caRotation": 1, "leafEpoch": "2026-06-01T00:00:00Z", "expiryWarningDays": 60,
                 "bootstrapTokenTtlHours": 2 },
        "nodes": {
            "master-0": { "roles": ["control-plane"], "address": "10.0.2.10/24", "kubelet": { "maxPods": 250 },
                          "hosts": { "packages": "preinstalled" },
                          "interface": "eth0", "zone": "a", "priority": 150,
                          "labels": { "node.example.com/pool": "system" },
                          "taints": [{ "key": "dedicated", "value": "infra", "effect": "NoSchedule" }] },
            "master-1": { "roles": ["control-plane"], "address": "10.0.2.11/24" },
            "master-2": { "roles": ["control-plane"], "address": "10.0.2.12/24" }
        },
        "outputs": { "cloudInit": true, "ansible": true, "cloudInitKeys": "separate" },
        "hosts": { "os": "debian", "packages": "mirror", "mirror": "https://apt.internal/k8s/",
                   "repositoryKey": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBGMHoXcB\n-----END PGP PUBLIC KEY BLOCK-----\n",
                   "firewall": true, "sshPort": 2222 }
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
    let c = build_model(&tree(&v).root).unwrap_or_else(|d| panic!("{d:#?}"));
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
        let diags = build_model(&tree(&v).root).expect_err("an unknown attribute is an error");
        assert_eq!(
            codes(&diags),
            [CheckCode::UnknownAttribute.code()],
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
    // Explained here (this crate's, the language's, the secrets file's), or a render code.
    let known = |c: &str| {
        hac_check::explain(c).is_some()
            || hac_render::codes::RenderCode::ALL
                .iter()
                .any(|k| k.code() == c)
    };
    for a in schema::ATTRIBUTES {
        for c in a.codes {
            assert!(known(c), "{}: unknown code {c}", a.path());
        }
    }
}

#[test]
fn every_cluster_code_is_documented_under_an_attribute_or_a_section() {
    for code in CheckCode::ALL.iter().map(|k| k.code()) {
        let named = schema::ATTRIBUTES.iter().any(|a| a.codes.contains(&code))
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
    let c = build_model(&tree(&v).root).expect("converts");
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

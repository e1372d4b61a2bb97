//! Least privilege (bundle.md's table): for every sample and variant, each node's archive
//! holds exactly the files its roles call for, with the table's modes, its PKI files passed
//! through untouched, and no private key where no running component uses it.

mod common;

use common::*;
use hac_render::facts::*;
use hac_render::prepare::*;

/// What a node of each kind gets besides its PKI files, per variant: kind → [(path, mode)].
fn expected_rendered(variant: &str, node: &str) -> Vec<(&'static str, u32)> {
    let mut kubelet = vec![
        (KUBEADM_CONFIG, 0o600),
        (SYSCTL_CONF, 0o644),
        (MODULES_CONF, 0o644),
        (CONTAINERD_CONFIG, 0o644),
        (CRICTL_CONFIG, 0o644),
    ];
    // The Kubernetes apt source, except where the image carries the packages.
    if !(variant == "firewall_mirror" && node == "master-2") {
        kubelet.extend([(APT_SOURCE, 0o644), (APT_KEY, 0o644)]);
    }
    let keepalived = [(KEEPALIVED_CONF, 0o600), (CHECK_APISERVER, 0o755)];
    let always = [(BOOTSTRAP, 0o755), (MANIFEST, 0o644), (PREPARE, 0o755)];
    let mut files: Vec<(&'static str, u32)> = always.to_vec();
    if variant == "firewall_mirror" {
        files.extend([(FIREWALL_RULESET, 0o644), (FIREWALL_UNIT, 0o644)]);
    }
    let kind = node.split('-').next().unwrap_or_default();
    match (variant, kind) {
        (_, "worker") => files.extend(kubelet.iter().copied()),
        (
            "stacked_3"
            | "external_etcd"
            | "inline_keys"
            | "unicast"
            | "v1beta4_stacked"
            | "v1beta4_external_etcd_3_6"
            | "firewall_mirror",
            "master",
        ) => {
            files.extend(kubelet.iter().copied());
            files.extend(keepalived);
            files.push((HAPROXY_CFG, 0o644));
        }
        ("nginx", "master") => {
            files.extend(kubelet.iter().copied());
            files.extend(keepalived);
            files.push((NGINX_CONF, 0o644));
        }
        (
            "stacked_3_dedicated_lb" | "nginx_dedicated" | "external_lb" | "detected_interface",
            "master",
        ) => files.extend(kubelet.iter().copied()),
        ("kube_vip" | "kube_vip_1_28" | "kube_vip_detected_interface", "master") => {
            files.extend(kubelet.iter().copied());
            files.push((KUBE_VIP_MANIFEST, 0o600));
        }
        ("keepalived_only", "master") => {
            files.extend(kubelet.iter().copied());
            files.extend(keepalived);
        }
        ("masters_run_etcd", "master") => {
            files.extend(kubelet.iter().copied());
            files.extend(keepalived);
            files.push((ETCD_UNIT, 0o644));
        }
        ("stacked_3_dedicated_lb" | "detected_interface", "lb") => {
            files.extend(keepalived);
            files.push((HAPROXY_CFG, 0o644));
        }
        ("nginx_dedicated", "lb") => {
            files.extend(keepalived);
            files.push((NGINX_CONF, 0o644));
        }
        (_, "etcd") => files.push((ETCD_UNIT, 0o644)),
        other => panic!("no expectation for {other:?}"),
    }
    files.sort();
    files
}

#[test]
fn every_node_gets_exactly_what_its_roles_call_for() {
    let mut nodes_checked = 0;
    for (variant, cluster) in variants() {
        let pki = fake_pki(&cluster, &real_ca_pem());
        let bundle = hac_render::render(&cluster, &pki, &secrets(), "r", "svg").expect("render");
        assert_eq!(
            bundle.hosts.keys().collect::<Vec<_>>(),
            cluster.nodes.iter().map(|n| &n.name).collect::<Vec<_>>(),
            "{variant}: one archive per node"
        );
        for node in &cluster.nodes {
            let files = &bundle.hosts[&node.name];
            let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
            let mut sorted = paths.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(
                paths, sorted,
                "{variant}/{}: files sorted by path, no duplicates",
                node.name
            );
            let pki_files = &pki.files[&node.name];
            for p in pki_files {
                let got = files.iter().find(|f| f.path == p.path);
                assert_eq!(
                    got,
                    Some(p),
                    "{variant}/{}: PKI file {} passed through untouched",
                    node.name,
                    p.path
                );
            }
            let mut rendered: Vec<(&str, u32)> = files
                .iter()
                .filter(|f| !pki_files.iter().any(|p| p.path == f.path))
                .map(|f| (f.path.as_str(), f.mode))
                .collect();
            rendered.sort();
            assert_eq!(
                rendered,
                expected_rendered(variant, &node.name),
                "{variant}/{}",
                node.name
            );
            nodes_checked += 1;
        }
    }
    assert!(nodes_checked > 60);
}

#[test]
fn a_dedicated_haproxy_node_gets_the_ca_certificate_even_if_the_pki_left_it_out() {
    let cluster = hac_model::samples::stacked_3_dedicated_lb();
    let mut pki = fake_pki(&cluster, &real_ca_pem());
    if let Some(lb) = pki.files.get_mut("lb-0") {
        lb.clear();
    }
    let bundle = hac_render::render(&cluster, &pki, &secrets(), "r", "svg").expect("render");
    let ca = file(&bundle, "lb-0", CA_CERT).expect("lb-0 has ca.crt for haproxy's ca-file");
    assert_eq!(ca.mode, 0o644);
    assert_eq!(text(ca), real_ca_pem());
    let keys: Vec<&str> = bundle.hosts["lb-0"]
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| p.ends_with(".key"))
        .collect();
    assert!(
        keys.is_empty(),
        "a load balancer holds no private key: {keys:?}"
    );
}

#[test]
fn no_private_key_or_secret_where_no_component_uses_it() {
    for (variant, cluster) in variants() {
        let bundle = render_with_real_ca(&cluster);
        for node in &cluster.nodes {
            let files = &bundle.hosts[&node.name];
            let is_master = node.has(hac_model::Role::ControlPlane);
            for f in files {
                let key_like = f.path.ends_with(".key")
                    || f.path.ends_with(".conf")
                        && f.path.starts_with("etc/kubernetes/")
                        && !f.path.contains("/manifests/");
                if !is_master && key_like {
                    let etcd_member_key =
                        f.path.starts_with("etc/kubernetes/pki/etcd/") && cluster.runs_etcd(node);
                    assert!(
                        etcd_member_key,
                        "{variant}/{}: {} must not be on a node that is not a control plane",
                        node.name, f.path
                    );
                }
                if f.mode & 0o077 != 0 {
                    let body = text(f);
                    assert!(
                        !body.contains(VRRP_PASSWORD) && !body.contains(TOKEN),
                        "{variant}/{}: {} is readable by others but holds a secret",
                        node.name,
                        f.path
                    );
                }
            }
            let has_password = files.iter().any(|f| text(f).contains(VRRP_PASSWORD));
            assert_eq!(
                has_password,
                cluster.holds_vip(node),
                "{variant}/{}: the VRRP password only where keepalived runs",
                node.name
            );
            let has_token = files.iter().any(|f| text(f).contains(TOKEN));
            assert_eq!(
                has_token,
                runs_kubelet(node),
                "{variant}/{}: the bootstrap token only where kubeadm runs",
                node.name
            );
        }
    }
}

#[test]
fn manifest_lists_every_other_file_and_describes_only_its_node() {
    for (variant, cluster) in variants() {
        let bundle = render_with_real_ca(&cluster);
        for (node, files) in &bundle.hosts {
            let manifest: serde_json::Value =
                serde_json::from_slice(&file(&bundle, node, MANIFEST).expect("manifest").contents)
                    .expect("manifest is JSON");
            let listed = manifest["files"].as_array().expect("files");
            let others: Vec<_> = files.iter().filter(|f| f.path != MANIFEST).collect();
            assert_eq!(
                listed.len(),
                others.len(),
                "{variant}/{node}: every file but the manifest itself"
            );
            for (entry, f) in listed.iter().zip(&others) {
                let sha = hac_render::encoding::sha256_hex(&f.contents);
                assert_eq!(entry["path"], serde_json::json!(f.path));
                if f.mode & 0o044 == 0 {
                    // World-readable manifest: no digest of a file only root may read
                    // (keepalived.conf's is a password oracle).
                    assert!(
                        entry.get("sha256").is_none(),
                        "{variant}/{node}: {}",
                        f.path
                    );
                } else {
                    assert_eq!(entry["sha256"], serde_json::json!(sha));
                }
                assert_eq!(entry["mode"], serde_json::json!(format!("{:04o}", f.mode)));
            }
            let node_model = cluster.node(node).expect("node");
            let roles: Vec<&str> = node_model.roles.iter().map(|r| r.as_str()).collect();
            assert_eq!(manifest["roles"], serde_json::json!(roles));
            // Nothing cluster-wide: adding another node must leave this manifest unchanged
            // (SHA256SUMS at the bundle root ties the nodes together).
            let keys: Vec<&str> = manifest
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                ["cluster", "node", "roles", "files"],
                "{variant}/{node}"
            );
        }
    }
}

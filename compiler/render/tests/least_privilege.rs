//! Least privilege (bundle.md's table, hac_model::archive): for every sample and variant,
//! each node's archive holds exactly the table's files with the table's modes (reviewed as
//! data in tests/fixtures/archives/), its PKI files passed through untouched, and no private
//! key or secret where no running component uses it.

mod common;

use common::*;
use hac_model::archive::{archive_files, WORKER_CA};
use hac_render::facts::*;

/// Every file of every archive of `bundle`, one line each: `node: mode path`.
fn listing(bundle: &hac_model::Bundle) -> String {
    let mut out = String::new();
    for (node, files) in &bundle.hosts {
        for f in files {
            out.push_str(&format!("{node}: {:04o} {}\n", f.mode, f.path));
        }
    }
    out
}

/// Each variant's archives, as reviewed data: tests/fixtures/archives/<variant>.txt
/// (regenerate with `UPDATE_FIXTURES=1` and review the diff).
#[test]
fn the_archives_of_each_variant_match_their_reviewed_listing() {
    for (variant, cluster) in variants() {
        let got = listing(&render_with_real_ca(&cluster));
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/archives/{variant}.txt"));
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
            std::fs::write(&path, &got).expect("write the fixture");
        }
        let want =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            got,
            want,
            "{variant}: archives differ from {}",
            path.display()
        );
    }
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
            // Exactly the archive table's rows, with their modes: nothing rendered beside it.
            let got: Vec<(&str, u32)> = files.iter().map(|f| (f.path.as_str(), f.mode)).collect();
            let table: Vec<(&str, u32)> = archive_files(&cluster, node)
                .iter()
                .map(|row| (row.path, row.mode))
                .collect();
            assert_eq!(got, table, "{variant}/{}", node.name);
            nodes_checked += 1;
        }
    }
    assert!(nodes_checked > 60);
}

/// The PKI stage and the renderer read the same table; a PKI that strays from it (a bug in
/// hac) is refused rather than shipped: here a load balancer's CA certificate left out.
#[test]
fn a_pki_that_differs_from_the_archive_table_is_refused() {
    let cluster = hac_model::samples::stacked_3_dedicated_lb();
    let mut pki = fake_pki(&cluster, &real_ca_pem());
    if let Some(lb) = pki.files.get_mut("lb-0") {
        lb.clear();
    }
    let errors = hac_render::render(&cluster, &pki, &secrets(), "r", "svg")
        .expect_err("a PKI without lb-0's ca.crt is refused");
    assert_eq!(
        errors[0].code.as_deref(),
        Some(hac_render::codes::RenderCode::RenderBug.code()),
        "{errors:#?}"
    );
    assert!(
        errors[0].message.contains("lb-0") && errors[0].message.contains(CA_CERT),
        "{errors:#?}"
    );
}

/// A load balancer that also joins as a worker keeps the cluster CA beside hac's files:
/// `kubeadm join` refuses a node whose /etc/kubernetes/pki/ca.crt exists. (The renderer
/// once added a second copy at kubeadm's path for haproxy.)
#[test]
fn a_load_balancer_that_is_also_a_worker_has_no_ca_at_kubeadms_path() {
    let mut cluster = hac_model::samples::stacked_3_dedicated_lb();
    for n in &mut cluster.nodes {
        if n.has(hac_model::Role::LoadBalancer) {
            n.roles.push(hac_model::Role::Worker);
        }
    }
    let bundle = render_with_real_ca(&cluster);
    let paths: Vec<&str> = bundle.hosts["lb-0"]
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert!(!paths.contains(&CA_CERT), "{paths:?}");
    let ca = file(&bundle, "lb-0", WORKER_CA).expect("the CA beside hac's files");
    assert_eq!(text(ca), real_ca_pem());
    assert!(
        paths.contains(&HAPROXY_CFG) && paths.contains(&KUBEADM_CONFIG),
        "{paths:?}"
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

//! Least privilege (bundle.md): which node receives which PKI file, with which mode, for each
//! sample cluster, compared against the data files in tests/fixtures/placement/ (regenerate
//! with `UPDATE_FIXTURES=1` and review the diff), plus the invariants stated outright:
//! workers get nothing, no node gets the etcd or front-proxy CA key, dedicated load
//! balancers get ca.crt only, super-admin.conf only on the first control plane from 1.29.

mod support;

use hac_model::archive::{archive_files, FileKind};
use hac_model::{samples, Cluster, Role, Version};
use support::*;

fn listing(c: &Cluster) -> String {
    let pki = issue(c);
    let mut out = String::new();
    for (node, files) in &pki.files {
        if files.is_empty() {
            out.push_str(&format!("{node}: (nothing)\n"));
        }
        for a in files {
            out.push_str(&format!("{node}: {:04o} {}\n", a.mode, a.path));
        }
    }
    out
}

fn cases() -> Vec<(&'static str, Cluster)> {
    let mut k128 = samples::stacked_3();
    k128.kubernetes_version = Version::new(1, 28, 9);
    vec![
        ("stacked-3", samples::stacked_3()),
        ("stacked-3-dedicated-lb", samples::stacked_3_dedicated_lb()),
        ("external-etcd", samples::external_etcd()),
        ("masters-run-etcd", samples::masters_run_etcd()),
        ("stacked-3-k8s-1.28", k128),
    ]
}

#[test]
fn placement_matches_the_fixture_of_each_sample() {
    for (name, c) in cases() {
        let got = listing(&c);
        let path = fixture(&format!("placement/{name}.txt"));
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        let want =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            got,
            want,
            "{name}: placement differs from {}",
            path.display()
        );
    }
}

/// The PKI stage issues exactly the archive table's PKI rows (hac_model::archive), which the
/// renderer and the bundle tests read too.
#[test]
fn issued_files_are_the_archive_tables_pki_rows() {
    for (name, c) in cases() {
        let pki = issue(&c);
        for node in &c.nodes {
            let issued: Vec<(&str, u32)> = pki.files[&node.name]
                .iter()
                .map(|a| (a.path.as_str(), a.mode))
                .collect();
            let table: Vec<(&str, u32)> = archive_files(&c, node)
                .into_iter()
                .filter(|row| matches!(row.kind, FileKind::Pki(_)))
                .map(|row| (row.path, row.mode))
                .collect();
            assert_eq!(issued, table, "{name}: {}", node.name);
        }
    }
}

#[test]
fn invariants_of_the_least_privilege_table() {
    for (name, c) in cases() {
        let pki = issue(&c);
        assert_eq!(
            pki.files.len(),
            c.nodes.len(),
            "{name}: every node has an entry"
        );
        let first = c.first_control_plane().unwrap().name.clone();
        for node in &c.nodes {
            let files = &pki.files[&node.name];
            let has = |p: &str| files.iter().any(|a| a.path == p);
            for a in files {
                assert!(
                    !a.path.ends_with("etcd/ca.key") && !a.path.ends_with("front-proxy-ca.key"),
                    "{name} {}: {}",
                    node.name,
                    a.path
                );
                assert!(!a.path.starts_with('/'), "relative paths");
                let secret = a.path.ends_with(".key")
                    || a.path.ends_with(".pub")
                    || a.path.ends_with(".conf");
                assert_eq!(
                    a.mode,
                    if secret { 0o600 } else { 0o644 },
                    "{name} {}: {}",
                    node.name,
                    a.path
                );
            }
            let mut sorted: Vec<&str> = files.iter().map(|a| a.path.as_str()).collect();
            sorted.sort();
            assert_eq!(
                sorted,
                files.iter().map(|a| a.path.as_str()).collect::<Vec<_>>(),
                "sorted by path"
            );
            if node.roles == [Role::Worker] {
                assert_eq!(
                    sorted,
                    ["etc/hac/kubernetes-ca.crt"],
                    "{name}: worker {} gets the cluster CA certificate only, beside hac's files",
                    node.name
                );
            }
            if node.roles == [Role::LoadBalancer] {
                assert_eq!(
                    sorted,
                    ["etc/kubernetes/pki/ca.crt"],
                    "{name}: {}",
                    node.name
                );
            }
            if node.roles == [Role::Etcd] {
                assert!(
                    files
                        .iter()
                        .all(|a| a.path.starts_with("etc/kubernetes/pki/etcd/")),
                    "{name}: {}",
                    node.name
                );
                assert_eq!(files.len(), 7);
            }
            if node.has(Role::ControlPlane) {
                assert!(has("etc/kubernetes/pki/ca.key") && has("etc/kubernetes/admin.conf"));
                let super_admin =
                    c.kubernetes_version.minor_release() >= (1, 29) && node.name == first;
                assert_eq!(
                    has("etc/kubernetes/super-admin.conf"),
                    super_admin,
                    "{name}: {}",
                    node.name
                );
                assert_eq!(
                    has("etc/kubernetes/pki/etcd/server.key"),
                    c.runs_etcd(node),
                    "{name}: {}",
                    node.name
                );
            }
        }
    }
}

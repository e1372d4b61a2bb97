//! The review surface of a change: adding one worker to a cluster must change only the new
//! node's files (its host folder or archive, its cloud-init user-data), the Ansible inventory,
//! `report.txt`, `topology.svg` (where it is built) and `SHA256SUMS` — every existing host's
//! files stay byte-identical, so a review diff shows the change and nothing else. Adding a
//! control plane changes, besides, only what lists the control planes: the load balancers'
//! backends (and so their manifest.json and user-data).

mod e2e_support;
use e2e_support::*;
use e2e_support::{build_file as build, stacked_3_variant as cluster};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const WORKERS: &str = r#"prefix = "worker"; count = 2;"#;
const MASTERS: &str = r#"prefix = "master"; count = 3;"#;

/// (changed, added, removed) paths between two output folders; a mode change counts.
fn changes(old: &Path, new: &Path) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    use std::os::unix::fs::PermissionsExt;
    let a: BTreeSet<PathBuf> = files_under(old).into_iter().collect();
    let b: BTreeSet<PathBuf> = files_under(new).into_iter().collect();
    let show = |p: &PathBuf| p.display().to_string();
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode();
    let changed = a
        .intersection(&b)
        .filter(|p| {
            std::fs::read(old.join(p)).unwrap() != std::fs::read(new.join(p)).unwrap()
                || mode(old.join(p)) != mode(new.join(p))
        })
        .map(show)
        .collect();
    let added = b.difference(&a).map(show).collect();
    let removed = a.difference(&b).map(show).collect();
    (changed, added, removed)
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(std::string::ToString::to_string).collect()
}

/// The bundle-level files any change of the node list touches: `topology.svg` only where
/// this hac builds it; `report.txt` only where it changed (the availability report names
/// the control planes and etcd members, not the workers — a report that grows a line per
/// node may change too).
fn node_list_files(old: &Path, changed: &BTreeSet<String>) -> BTreeSet<String> {
    // state.json records every node (docs/state.md).
    let mut files = set(&["SHA256SUMS", "ansible/inventory.yml", "state.json"]);
    for optional in ["topology.svg", "report.txt"] {
        if old.join(optional).exists() && changed.contains(optional) {
            files.insert(optional.to_string());
        }
    }
    files
}

#[test]
fn adding_a_worker_changes_only_its_files_the_inventory_the_report_and_the_sums() {
    let tmp = tempfile::tempdir().unwrap();
    let before = cluster(&tmp.path().join("before"), WORKERS, WORKERS);
    let after = cluster(
        &tmp.path().join("after"),
        WORKERS,
        r#"prefix = "worker"; count = 3;"#,
    );
    for format in ["tree", "tar"] {
        let old = tmp.path().join(format!("old-{format}"));
        let new = tmp.path().join(format!("new-{format}"));
        build(&before, &old, format);
        build(&after, &new, format);
        let (changed, added, removed) = changes(&old, &new);
        assert_eq!(
            changed,
            node_list_files(&old, &changed),
            "{format}: changed files"
        );
        assert!(removed.is_empty(), "{format}: removed {removed:?}");
        let mut expected_added = set(&[
            "cloud-init/worker-2.yaml",
            "cloud-init/worker-2-keys.tar.gz",
        ]);
        if format == "tar" {
            expected_added.insert("hosts/worker-2.tar.gz".to_string());
        } else {
            let host = files_under(&new.join("hosts/worker-2"));
            // The new worker gets what every worker gets.
            assert_eq!(
                host,
                files_under(&new.join("hosts/worker-1")),
                "worker-2's files"
            );
            expected_added.extend(
                host.iter()
                    .map(|p| format!("hosts/worker-2/{}", p.display())),
            );
        }
        assert_eq!(added, expected_added, "{format}: added files");
    }
}

#[test]
fn adding_a_control_plane_changes_only_what_lists_the_control_planes() {
    let tmp = tempfile::tempdir().unwrap();
    let before = cluster(&tmp.path().join("before"), MASTERS, MASTERS);
    // Five masters: etcd keeps an odd member count, as the quorum rules ask.
    let after = cluster(
        &tmp.path().join("after"),
        MASTERS,
        r#"prefix = "master"; count = 5;"#,
    );
    let old = tmp.path().join("old");
    let new = tmp.path().join("new");
    build(&before, &old, "tree");
    build(&after, &new, "tree");
    let (changed, added, removed) = changes(&old, &new);
    assert!(removed.is_empty(), "removed {removed:?}");
    // The load balancers route to every control plane: their haproxy.cfg changes, and with
    // it the manifest listing its sha256 and the user-data carrying both.
    let mut expected = node_list_files(&old, &changed);
    for lb in ["lb-0", "lb-1"] {
        expected.insert(format!("hosts/{lb}/etc/haproxy/haproxy.cfg"));
        expected.insert(format!("hosts/{lb}/etc/hac/manifest.json"));
        expected.insert(format!("cloud-init/{lb}.yaml"));
    }
    assert_eq!(changed, expected, "changed files");
    for host in ["master-0", "master-1", "master-2", "worker-0", "worker-1"] {
        assert!(
            !changed.iter().any(|p| p.contains(&format!("/{host}"))),
            "{host} must not change"
        );
    }
    let new_hosts: BTreeSet<&str> = added
        .iter()
        .map(|p| p.split('/').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        new_hosts,
        BTreeSet::from([
            "master-3",
            "master-3-keys.tar.gz",
            "master-3.yaml",
            // Over 16 KiB even with files packed: the gzip to upload (cloud_init.rs).
            "master-3.yaml.gz",
            "master-4",
            "master-4-keys.tar.gz",
            "master-4.yaml",
            "master-4.yaml.gz"
        ]),
        "{added:?}"
    );
}

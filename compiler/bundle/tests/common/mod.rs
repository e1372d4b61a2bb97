//! Shared helpers of the bundle tests: a sample bundle shaped like a real one (keys 0600,
//! scripts 0755, the etcd data directory), a byte-for-byte snapshot of a folder, and the
//! lookup of the external tools the tests drive.

#![allow(dead_code)]

use hac_model::{Artifact, Bundle};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// 2026-01-01T00:00:00Z, the epoch of `hac_model::samples`.
pub const EPOCH: i64 = 1_767_225_600;

/// A small bundle: two masters and a worker, the files beside the archives.
pub fn sample_bundle() -> Bundle {
    let mut hosts = BTreeMap::new();
    for master in ["master-0", "master-1"] {
        hosts.insert(
            master.to_string(),
            vec![
                Artifact::new("etc/kubernetes/pki/ca.crt", 0o644, "CA CERT\n"),
                Artifact::new("etc/kubernetes/pki/ca.key", 0o600, format!("KEY OF {master}\n")),
                Artifact::new("etc/kubernetes/admin.conf", 0o600, "apiVersion: v1\nkind: Config\n"),
                Artifact::new("etc/hac/bootstrap.sh", 0o755, "#!/bin/sh\nkubeadm init\n"),
                Artifact::new("etc/hac/manifest.json", 0o644, "{}\n"),
                Artifact::new("var/lib/etcd/", 0o700, ""),
                Artifact::new(
                    "etc/kubernetes/a-rather-long-folder-name-to-need-the-gnu-long-name-extension/and-a-long-file-name-too.yaml",
                    0o644,
                    "long: true\n",
                ),
            ],
        );
    }
    hosts.insert(
        "worker-0".to_string(),
        vec![
            Artifact::new("etc/hac/bootstrap.sh", 0o755, "#!/bin/sh\nkubeadm join\n"),
            Artifact::new(
                "etc/kubernetes/kubeadm-config.yaml",
                0o600,
                "kind: JoinConfiguration\n",
            ),
        ],
    );
    Bundle {
        hosts,
        files: vec![
            Artifact::new("report.txt", 0o644, "all good\n"),
            Artifact::new("ansible/site.yml", 0o644, "- hosts: all\n"),
            Artifact::new("ansible/inventory.yml", 0o644, "all: {}\n"),
            Artifact::new("cloud-init/master-0.yaml", 0o600, "#cloud-config\n"),
        ],
        warnings: Vec::new(),
    }
}

/// Every entry under `root`, sorted: relative path, kind, mode, and the bytes of files.
pub fn snapshot(root: &Path) -> Vec<(String, String, u32, Vec<u8>)> {
    let mut entries = Vec::new();
    collect(root, root, &mut entries);
    entries.sort();
    entries
}

fn collect(root: &Path, dir: &Path, entries: &mut Vec<(String, String, u32, Vec<u8>)>) {
    let listing =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for child in listing {
        let child = child.expect("directory entry");
        let path = child.path();
        let relative = path
            .strip_prefix(root)
            .expect("under root")
            .display()
            .to_string();
        let metadata = std::fs::symlink_metadata(&path).expect("metadata");
        let mode = metadata.permissions().mode() & 0o7777;
        if metadata.is_dir() {
            entries.push((relative, "dir".to_string(), mode, Vec::new()));
            collect(root, &path, entries);
        } else {
            let bytes = std::fs::read(&path).expect("read file");
            entries.push((relative, "file".to_string(), mode, bytes));
        }
    }
}

/// Names of the entries of `dir` that start with `.` (left-over temporary folders).
pub fn hidden_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect()
}

/// A command for an external tool; a missing tool fails the test with the install hint.
pub fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{name}` is not installed: run scripts/install-test-deps.sh"
    );
    Command::new(name)
}

/// Runs `command`, fails the test with its output unless it succeeds; returns stdout.
pub fn run_ok(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

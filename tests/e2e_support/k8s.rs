//! The real Kubernetes binaries (kubeadm, kube-apiserver, kube-controller-manager,
//! kube-scheduler, kubectl) that `scripts/k8s-tools.sh` builds from `k8s.io/kubernetes`, and
//! the helpers the tests share to run them on unpacked bundles.

use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The kubeadm that reads `kubeadm.k8s.io/v1beta3` (hac emits it below 1.31).
pub const KUBE_V1BETA3: &str = "1.30.14";
/// The kubeadm that reads `kubeadm.k8s.io/v1beta4` (hac emits it from 1.31).
pub const KUBE_V1BETA4: &str = "1.32.9";

/// The folder `scripts/k8s-tools.sh` caches a version's binaries in.
pub fn k8s_dir(version: &str) -> PathBuf {
    let cache = std::env::var_os("HAC_K8S_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|c| PathBuf::from(c).join("hac/k8s")))
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/hac/k8s")
        });
    cache.join(format!("v{version}"))
}

/// One Kubernetes binary of one version; fails loudly with the command that builds it.
pub fn k8s_bin(version: &str, tool: &str) -> PathBuf {
    let p = k8s_dir(version).join(tool);
    assert!(
        p.is_file(),
        "{} is missing: run `scripts/k8s-tools.sh {version}` (scripts/test.sh does; the first \
         build of a version takes minutes)",
        p.display()
    );
    p
}

/// The kubeadm that deploys `kubernetes_version` ("1.30.2", "v1.32.1"): the 1.30 build for
/// every version hac writes v1beta3 for, the 1.32 build from 1.31 on (kubeadm deploys its
/// own minor and the one before it).
pub fn kubeadm_version_for(kubernetes_version: &str) -> &'static str {
    let minor: u32 = kubernetes_version
        .trim_start_matches('v')
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("not a Kubernetes version: {kubernetes_version}"));
    if minor <= 30 {
        KUBE_V1BETA3
    } else {
        KUBE_V1BETA4
    }
}

/// Unpacks a host archive into `root` with the real tar.
pub fn unpack(archive: &Path, root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    let o = run(Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(root));
    assert!(
        o.status.success(),
        "tar -xzf {} failed: {}",
        archive.display(),
        text(&o.stderr)
    );
}

/// The roles a host's `etc/hac/manifest.json` lists.
pub fn host_roles(root: &Path) -> Vec<String> {
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("etc/hac/manifest.json")).expect("manifest.json"),
    )
    .expect("manifest.json is JSON");
    m["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

/// The YAML documents of a multi-document file.
pub fn yaml_documents(text: &str) -> Vec<serde_yaml::Value> {
    text.split("\n---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_yaml::from_str(d).unwrap_or_else(|e| panic!("bad YAML {e}:\n{d}")))
        .collect()
}

pub fn yaml_kind(doc: &serde_yaml::Value) -> &str {
    doc["kind"].as_str().unwrap_or("")
}

/// The command of a static pod manifest kubeadm wrote (`spec.containers[0].command`).
pub fn static_pod_command(manifest: &Path) -> Vec<String> {
    let doc: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(manifest)
            .unwrap_or_else(|e| panic!("{}: {e}", manifest.display())),
    )
    .unwrap();
    doc["spec"]["containers"][0]["command"]
        .as_sequence()
        .unwrap_or_else(|| panic!("no command in {}", manifest.display()))
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

/// Rewrites the absolute paths a component reads (`/etc/kubernetes/…`, `/var/lib/etcd`) into
/// the host's unpacked root, so that the exact command runs against the bundle's files.
pub fn map_paths_into(root: &Path, word: &str) -> String {
    let r = root.display().to_string();
    word.replace("/etc/kubernetes", &format!("{r}/etc/kubernetes"))
        .replace("/var/lib/etcd", &format!("{r}/var/lib/etcd"))
        .replace("/var/log/kubernetes", &format!("{r}/var/log/kubernetes"))
}

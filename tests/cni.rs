//! `network.cni.manifest` end to end through the CLI: the file is read like an import
//! (relative to the cluster file, inside the sandbox `--allow-path` widens, never a secrets
//! file), carried only in the first control plane's archive, and every way it can be wrong
//! is a coded diagnostic at the attribute.

mod e2e_support;
use e2e_support::*;
use std::path::{Path, PathBuf};

const TINY: &str = "tests/cluster/cni/tiny-cni.yaml";

/// stacked-3 with `network.cni.manifest = <manifest>` in `dir`, with its secrets.
fn cluster_with_cni(dir: &Path, manifest: &str) -> PathBuf {
    stacked_3_variant(
        dir,
        "network.pods = \"10.244.0.0/16\";",
        &format!("network.pods = \"10.244.0.0/16\";\n  network.cni.manifest = {manifest:?};"),
    )
}

/// `hac check` on `file` with `args`: (exit code, stderr).
fn check(file: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = run(hac().arg("check").arg(file).args(args));
    (o.status.code(), text(&o.stderr))
}

#[test]
fn the_manifest_goes_to_the_first_control_plane_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let file = cluster_with_cni(&dir, "net/cni.yaml");
    std::fs::create_dir_all(dir.join("net")).unwrap();
    let manifest = std::fs::read(root().join(TINY)).unwrap();
    std::fs::write(dir.join("net/cni.yaml"), &manifest).unwrap();
    let out = tmp.path().join("out");
    build_file(&file, &out, "tree");
    let path = "etc/kubernetes/hac/cni.yaml";
    let first = out.join("hosts/master-0").join(path);
    assert_eq!(std::fs::read(&first).unwrap(), manifest);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&first).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    for node in ["master-1", "master-2", "worker-0", "lb-0"] {
        assert!(
            !out.join("hosts").join(node).join(path).exists(),
            "{node} has the CNI"
        );
    }
    let bootstrap =
        std::fs::read_to_string(out.join("hosts/master-0/etc/hac/bootstrap.sh")).unwrap();
    assert!(
        bootstrap.contains("apply --server-side --force-conflicts -f /etc/kubernetes/hac/cni.yaml")
    );
    let report = std::fs::read_to_string(out.join("report.txt")).unwrap();
    assert!(
        report.contains("pod network:    net/cni.yaml, applied once"),
        "{report}"
    );
    // Without one, the report says what that means (a note, not a warning).
    let plain = tmp.path().join("plain");
    let file = stacked_3_variant(&plain, "etcd.topology", "etcd.topology");
    let o = run(hac().arg("check").arg(&file).arg("--deny-warnings"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("nodes stay NotReady until a CNI is applied"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn a_missing_or_wrong_manifest_is_a_coded_error_at_the_attribute() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    // Missing.
    let file = cluster_with_cni(&dir, "calico.yaml");
    let (code, err) = check(&file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("E0109") && err.contains("calico.yaml") && err.contains("no such file"),
        "{err}"
    );
    assert!(
        err.contains("network.cni.manifest = \"calico.yaml\""),
        "no snippet of the attribute:\n{err}"
    );
    // Not a manifest (a Helm values file).
    std::fs::write(dir.join("calico.yaml"), "replicas: 3\nimage: calico\n").unwrap();
    let (code, err) = check(&file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("E0111") && err.contains("apiVersion"), "{err}");
    // Too large.
    let big = format!("apiVersion: v1\nkind: List\n# {}\n", "x".repeat(5 << 20));
    std::fs::write(dir.join("calico.yaml"), big).unwrap();
    let (code, err) = check(&file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("E0111") && err.contains("4 MiB"), "{err}");
    // A folder.
    std::fs::remove_file(dir.join("calico.yaml")).unwrap();
    std::fs::create_dir(dir.join("calico.yaml")).unwrap();
    let (code, err) = check(&file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("E0109") && err.contains("folder"), "{err}");
    // A secrets file, by name: never read (E0610).
    let file = cluster_with_cni(&dir, "stacked-3.secrets");
    let (code, err) = check(&file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("E0610"), "{err}");
    assert!(!err.contains("rootSecret"), "{err}");
    // A secrets file under another name: refused by its content.
    std::fs::copy(dir.join("stacked-3.secrets"), dir.join("net.yaml")).unwrap();
    let file = cluster_with_cni(&dir, "net.yaml");
    let (code, err) = check(&file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("E0610"), "{err}");
}

#[test]
fn the_manifest_is_read_inside_the_import_sandbox_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let outside = tmp.path().join("shared");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(root().join(TINY), outside.join("cni.yaml")).unwrap();
    // `..` out of the cluster's folder.
    let file = cluster_with_cni(&dir, "../shared/cni.yaml");
    let (code, err) = check(&file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("E0110"), "{err}");
    // --allow-path widens the sandbox, as for imports.
    let (code, err) = check(&file, &["--allow-path", outside.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    // An absolute path: only under --allow-path.
    let absolute = outside.join("cni.yaml");
    let file = cluster_with_cni(&dir, absolute.to_str().unwrap());
    let (code, err) = check(&file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("E0110") && err.contains("--allow-path"),
        "{err}"
    );
    let (code, err) = check(&file, &["--allow-path", outside.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    // A symbolic link inside the folder that points out of it.
    std::os::unix::fs::symlink(outside.join("cni.yaml"), dir.join("link.yaml")).unwrap();
    let file = cluster_with_cni(&dir, "link.yaml");
    let (code, err) = check(&file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("E0110") && err.contains("symbolic link"),
        "{err}"
    );
}

//! prepare.sh's check of preinstalled packages (`hosts.packages = "preinstalled"`, the
//! air-gapped images) run against the real kubeadm and kubectl that scripts/k8s-tools.sh
//! builds (1.30.14 and 1.32.9): the version words prepare.sh looks for are the ones the real
//! `kubeadm version -o short` and `kubectl version --client` print, a matching image passes
//! and another release is named. (tests/ansible_play.rs and tests/cloud_init_boot.rs install
//! stand-in packages with real apt; compiler/render/tests/prepare.rs covers the other paths.)
//!
//! Real: prepare.sh, kubeadm, kubectl, sed/grep/sha256sum. Stubbed, each a script that logs
//! its call: `kubelet` (k8s-tools.sh does not build it; the stub prints what `kubelet
//! --version` prints), `containerd` (only its presence is checked), and `systemctl`,
//! `modprobe`, `sysctl`, `swapoff` (they would act on this machine). The node's files are
//! the bundle's tree of worker-0, under HAC_ROOT.

mod e2e_support;
use e2e_support::k8s::*;
use e2e_support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Builds stacked-3 at `version` with preinstalled packages and returns worker-0's root.
fn worker_root(dir: &Path, version: &str) -> std::path::PathBuf {
    let ha = stacked_3_variant(
        &dir.join("src"),
        "kubernetesVersion = \"1.30.0\";",
        &format!("kubernetesVersion = \"{version}\"; hosts.packages = \"preinstalled\";"),
    );
    let out = dir.join("out");
    build_file(&ha, &out, "tree");
    let root = out.join("hosts/worker-0");
    std::fs::create_dir_all(root.join("proc")).unwrap();
    std::fs::write(
        root.join("proc/swaps"),
        "Filename\tType\tSize\tUsed\tPriority\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/fstab"), "").unwrap();
    root
}

/// Runs worker-0's prepare.sh with the real kubeadm and kubectl of `binaries` and a kubelet
/// stub saying `kubelet_says`; returns (exit code, output, logged stub calls).
fn prepare(
    dir: &Path,
    root: &Path,
    binaries: &str,
    kubelet_says: &str,
) -> (Option<i32>, String, String) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("calls.log");
    for tool in ["kubeadm", "kubectl"] {
        let _ = std::fs::remove_file(bin.join(tool));
        std::os::unix::fs::symlink(k8s_bin(binaries, tool), bin.join(tool)).unwrap();
    }
    let stub = |name: &str, body: &str| {
        let p = bin.join(name);
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\necho \"{name} $*\" >> {}\n{body}\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    stub("kubelet", &format!("echo '{kubelet_says}'"));
    for s in ["containerd", "systemctl", "modprobe", "sysctl", "swapoff"] {
        stub(s, "exit 0");
    }
    let o = run(Command::new("sh")
        .arg(root.join("etc/hac/prepare.sh"))
        .env_clear()
        .env("HAC_ROOT", root)
        .env("HOME", dir)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display())));
    (
        o.status.code(),
        format!("{}{}", text(&o.stdout), text(&o.stderr)),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

#[test]
fn preinstalled_images_are_verified_with_the_real_kubeadm_and_kubectl() {
    for version in [KUBE_V1BETA3, KUBE_V1BETA4] {
        let tmp = tempfile::tempdir().unwrap();
        let root = worker_root(tmp.path(), version);
        let (code, output, calls) = prepare(
            tmp.path(),
            &root,
            version,
            &format!("Kubernetes v{version}"),
        );
        assert_eq!(code, Some(0), "{version}:\n{output}");
        assert!(
            output.contains(&format!(
                "hac prepare: packages: preinstalled and verified (kubeadm, kubelet and kubectl v{version}, containerd)"
            )),
            "{version}:\n{output}"
        );
        assert!(
            calls.contains("kubelet --version") && !calls.contains("apt"),
            "{version}: {calls}"
        );
    }
}

#[test]
fn an_image_of_another_release_is_named_with_what_the_real_binaries_print() {
    let tmp = tempfile::tempdir().unwrap();
    let root = worker_root(tmp.path(), KUBE_V1BETA3);
    let (code, output, _) = prepare(
        tmp.path(),
        &root,
        KUBE_V1BETA4,
        &format!("Kubernetes v{KUBE_V1BETA4}"),
    );
    assert_eq!(code, Some(1), "{output}");
    for tool in ["kubeadm", "kubelet"] {
        assert!(
            output.contains(&format!("{tool} is "))
                && output.contains(&format!("not v{KUBE_V1BETA3}")),
            "{tool} not named:\n{output}"
        );
    }
    assert!(
        output.contains(&format!("kubeadm is v{KUBE_V1BETA4}, not v{KUBE_V1BETA3}")),
        "{output}"
    );
    assert!(output.contains("kubectl is not v1.30.14"), "{output}");
}

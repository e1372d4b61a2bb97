//! The shell scripts behave as intended, not only pass shellcheck: bootstrap.sh runs the
//! right commands in the right order for each role (with every external command stubbed
//! and logged), and check_apiserver.sh succeeds against a live HTTPS endpoint and fails
//! against a dead one (in a private network namespace).

mod common;

use common::*;
use hac_render::facts::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const STUBBED: &[&str] = &[
    "modprobe",
    "sysctl",
    "id",
    "useradd",
    "mkdir",
    "chown",
    "chmod",
    "systemctl",
    "kubeadm",
    "sed",
];

/// Runs `script` with `args` where every external command is a stub that logs its call;
/// returns (exit code, the logged calls).
fn run_stubbed(script: &[u8], args: &[&str]) -> (Option<i32>, Vec<String>) {
    let tmp = scratch_dir("bootstrap");
    let dir = tmp.path();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let log = dir.join("calls.log");
    for cmd in STUBBED {
        // `id etcd` fails, as on a fresh machine without the etcd user.
        let status = if *cmd == "id" { 1 } else { 0 };
        let stub = format!(
            "#!/bin/sh\necho \"{cmd} $*\" >> {}\nexit {status}\n",
            log.display()
        );
        let path = bin.join(cmd);
        std::fs::write(&path, stub).expect("stub");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod stub");
    }
    let script_path = dir.join("bootstrap.sh");
    std::fs::write(&script_path, script).expect("script");
    let out = run(Command::new(tool("sh"))
        .arg(&script_path)
        .args(args)
        .env_clear()
        .env("PATH", &bin));
    let calls = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (out.status.code(), calls)
}

fn bootstrap(bundle: &hac_model::Bundle, node: &str) -> Vec<u8> {
    file(bundle, node, BOOTSTRAP)
        .expect("bootstrap.sh")
        .contents
        .clone()
}

#[test]
fn bootstrap_on_the_first_master_starts_services_then_runs_kubeadm_init() {
    let bundle = render_with_real_ca(&hac_model::samples::stacked_3());
    let (code, calls) = run_stubbed(&bootstrap(&bundle, "master-0"), &[]);
    assert_eq!(code, Some(0), "{calls:#?}");
    assert_eq!(
        calls,
        [
            "modprobe overlay",
            "modprobe br_netfilter",
            "sysctl --system",
            "systemctl enable --now haproxy",
            "systemctl reload-or-restart haproxy",
            "systemctl enable --now keepalived",
            "systemctl reload-or-restart keepalived",
            "kubeadm init --config /etc/kubernetes/kubeadm-config.yaml",
        ]
    );
    let (_, services_only) = run_stubbed(&bootstrap(&bundle, "master-0"), &["services"]);
    assert!(
        !services_only.iter().any(|c| c.starts_with("kubeadm")),
        "{services_only:#?}"
    );
    let (_, kubeadm_only) = run_stubbed(&bootstrap(&bundle, "master-0"), &["kubeadm"]);
    assert_eq!(
        kubeadm_only,
        ["kubeadm init --config /etc/kubernetes/kubeadm-config.yaml"]
    );
    let (code, calls) = run_stubbed(&bootstrap(&bundle, "master-0"), &["bogus"]);
    assert_eq!(
        (code, calls.len()),
        (Some(2), 0),
        "an unknown phase is a usage error that runs nothing"
    );
}

#[test]
fn bootstrap_on_an_etcd_member_hands_it_its_keys_and_starts_it_without_waiting() {
    let bundle = render_with_real_ca(&hac_model::samples::external_etcd());
    let (code, calls) = run_stubbed(&bootstrap(&bundle, "etcd-2"), &[]);
    assert_eq!(code, Some(0), "{calls:#?}");
    assert_eq!(
        calls,
        [
            "id etcd",
            "useradd --system --home-dir /var/lib/etcd --no-create-home --shell /usr/sbin/nologin etcd",
            "mkdir -p /var/lib/etcd",
            "chown etcd:etcd /var/lib/etcd",
            "chmod 0700 /var/lib/etcd",
            "chown etcd:etcd /etc/kubernetes/pki/etcd/peer.key",
            "chown etcd:etcd /etc/kubernetes/pki/etcd/server.key",
            "systemctl daemon-reload",
            "systemctl enable --now --no-block etcd",
        ]
    );
}

#[test]
fn bootstrap_on_workers_and_other_masters_joins() {
    let bundle = render_with_real_ca(&hac_model::samples::stacked_3_dedicated_lb());
    let (_, calls) = run_stubbed(&bootstrap(&bundle, "master-2"), &[]);
    assert_eq!(
        calls.last().map(String::as_str),
        Some("kubeadm join --config /etc/kubernetes/kubeadm-config.yaml")
    );
    assert!(
        !calls
            .iter()
            .any(|c| c.contains("haproxy") || c.contains("keepalived")),
        "dedicated LB: masters run neither: {calls:#?}"
    );
    let (_, calls) = run_stubbed(&bootstrap(&bundle, "worker-1"), &[]);
    assert_eq!(
        calls,
        [
            "modprobe overlay",
            "modprobe br_netfilter",
            "sysctl --system",
            "kubeadm join --config /etc/kubernetes/kubeadm-config.yaml"
        ]
    );
    let (_, calls) = run_stubbed(&bootstrap(&bundle, "lb-0"), &[]);
    assert_eq!(
        calls,
        [
            "systemctl enable --now haproxy",
            "systemctl reload-or-restart haproxy",
            "systemctl enable --now keepalived",
            "systemctl reload-or-restart keepalived"
        ]
    );
}

fn check_script_exit(script: &[u8], with_server: bool, vip_on_node: bool) -> (Option<i32>, String) {
    tool("curl");
    let openssl = tool("openssl");
    let tmp = scratch_dir("check-apiserver");
    let dir = tmp.path();
    let run_openssl = |args: &[&str]| {
        let out = run(Command::new(&openssl).args(args).current_dir(dir));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run_openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "k.pem",
        "-out",
        "c.pem",
        "-subj",
        "/CN=fake-apiserver",
        "-days",
        "2",
    ]);
    std::fs::write(dir.join("check.sh"), script).expect("script");
    let server = if with_server {
        "openssl s_server -quiet -www -accept 8443 -cert c.pem -key k.pem >/dev/null 2>&1 &\np=$!\ntrap 'kill $p' EXIT\nfor i in 1 2 3 4 5 6 7 8 9 10; do curl -sk -o /dev/null https://127.0.0.1:8443/ && break; sleep 0.3; done"
    } else {
        ":"
    };
    let vip = if vip_on_node {
        "ip addr add 10.0.2.100/32 dev lo"
    } else {
        ":"
    };
    let shell = format!(
        "set -u\ncd {}\nip link set lo up\n{vip}\n{server}\nsh ./check.sh\n",
        dir.display()
    );
    let out = run(Command::new(tool("unshare")).args(["-n", "sh", "-c", &shell]));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_apiserver_succeeds_only_while_the_api_answers() {
    let bundle = render_with_real_ca(&hac_model::samples::stacked_3());
    let script = file(&bundle, "master-0", CHECK_APISERVER)
        .expect("script")
        .contents
        .clone();
    let (code, stderr) = check_script_exit(&script, true, false);
    assert_eq!(code, Some(0), "live endpoint: {stderr}");
    let (code, stderr) = check_script_exit(&script, true, true);
    assert_eq!(code, Some(0), "live endpoint, VIP held here: {stderr}");
    let (code, stderr) = check_script_exit(&script, false, false);
    assert_eq!(code, Some(1), "dead endpoint must fail: {stderr}");
    assert!(
        stderr.contains("https://localhost:8443/healthz"),
        "{stderr}"
    );
}

#[test]
fn kube_vip_leaves_super_admin_conf_once_kubeadm_init_is_done() {
    let mut cluster = hac_model::samples::stacked_3();
    cluster.control_plane.load_balancer.kind = hac_model::LoadBalancerKind::KubeVip;
    cluster.control_plane.port = 6443;
    let bundle = render_with_real_ca(&cluster);
    let pod = text(file(&bundle, "master-0", KUBE_VIP_MANIFEST).expect("kube-vip.yaml"));
    assert!(
        pod.contains("path: /etc/kubernetes/super-admin.conf\n"),
        "{pod}"
    );
    let (_, calls) = run_stubbed(&bootstrap(&bundle, "master-0"), &["kubeadm"]);
    assert_eq!(
        calls,
        [
            "kubeadm init --config /etc/kubernetes/kubeadm-config.yaml",
            "sed -i s#path: /etc/kubernetes/super-admin.conf#path: /etc/kubernetes/admin.conf# /etc/kubernetes/manifests/kube-vip.yaml",
        ]
    );
    let (_, calls) = run_stubbed(&bootstrap(&bundle, "master-1"), &["kubeadm"]);
    assert_eq!(
        calls,
        ["kubeadm join --config /etc/kubernetes/kubeadm-config.yaml"]
    );
    let pod1 = text(file(&bundle, "master-1", KUBE_VIP_MANIFEST).expect("kube-vip.yaml"));
    assert!(
        pod1.contains("path: /etc/kubernetes/admin.conf\n"),
        "{pod1}"
    );
}

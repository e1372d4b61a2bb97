//! The shell scripts behave as intended, not only pass shellcheck: bootstrap.sh runs the
//! right commands in the right order for each role (with every external command stubbed
//! and logged), and check_apiserver.sh succeeds against a live HTTPS endpoint and fails
//! against a dead one (in a private network namespace).
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

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
    "curl",
    "grep",
    "sleep",
    "cmp",
    "install",
];

/// Runs `script` with `args` where every external command is a stub that logs its call;
/// returns (exit code, the logged calls).
fn run_stubbed(script: &[u8], args: &[&str]) -> (Option<i32>, Vec<String>) {
    let (code, calls, _) = run_stubbed_failing(script, args, &[]);
    (code, calls)
}

/// `run_stubbed` where the commands in `failing` exit 1, with waits of 3 tries 0 s apart;
/// returns the script's stdout and stderr too.
fn run_stubbed_failing(
    script: &[u8],
    args: &[&str],
    failing: &[&str],
) -> (Option<i32>, Vec<String>, String) {
    let tmp = scratch_dir("bootstrap");
    let dir = tmp.path();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let log = dir.join("calls.log");
    for cmd in STUBBED {
        // `id etcd` fails, as on a fresh machine without the etcd user.
        let status = if *cmd == "id" || failing.contains(cmd) {
            1
        } else {
            0
        };
        let stub = format!(
            "#!/bin/sh\necho \"{cmd} $*\" >> {}\nexit {status}\n",
            log.display()
        );
        let path = bin.join(cmd);
        std::fs::write(&path, stub).expect("stub");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod stub");
    }
    // The services' change digest (bundle_digest) runs the real cat, sha256sum and cut;
    // its state folder is under HAC_ROOT (made here: mkdir is a stub).
    real_tools(&bin);
    std::fs::create_dir_all(dir.join("root/var/lib/hac")).expect("state folder");
    // prepare.sh (its own tests are in prepare.rs) is a stub under HAC_ROOT.
    let prepare = dir.join("root/etc/hac/prepare.sh");
    std::fs::create_dir_all(prepare.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &prepare,
        format!("#!/bin/sh\necho prepare.sh >> {}\n", log.display()),
    )
    .expect("prepare stub");
    std::fs::set_permissions(&prepare, std::fs::Permissions::from_mode(0o755))
        .expect("chmod prepare stub");
    let script_path = dir.join("bootstrap.sh");
    std::fs::write(&script_path, without_key_wait(script)).expect("script");
    let out = run(Command::new(tool("sh"))
        .arg(&script_path)
        .args(args)
        .env_clear()
        .env("PATH", &bin)
        .env("HAC_ROOT", dir.join("root"))
        .env("HAC_WAIT_TRIES", "3")
        .env("HAC_WAIT_SECONDS", "0"));
    let calls = without_digest_calls(
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string),
    );
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), calls, output)
}

/// Links the real `cat`, `sha256sum` and `cut` into the stub folder `bin` (not logged).
fn real_tools(bin: &std::path::Path) {
    for t in ["cat", "sha256sum", "cut"] {
        let _ = std::os::unix::fs::symlink(tool(t), bin.join(t));
    }
}

/// The logged calls without the services' change-digest bookkeeping (reading the manifest's
/// paths with sed, making the state folder), which the expectations leave out.
fn without_digest_calls(calls: impl Iterator<Item = String>) -> Vec<String> {
    calls
        .filter(|c| !c.starts_with("sed -n s/^ *\"path\"") && !c.ends_with("/var/lib/hac"))
        .collect()
}

/// `script` without its call of `await_keys` (the samples keep keys out of the user-data,
/// and this machine has none of them in place): the tests of the other steps run as on a
/// host whose keys were delivered. bootstrap_waits_for_the_key_archive_… tests the wait.
fn without_key_wait(script: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(script);
    let kept = drop_key_wait(&text);
    assert!(
        kept.len() < text.len(),
        "bootstrap.sh no longer waits for its keys"
    );
    kept.into_bytes()
}

/// `script` without the call `await_keys \ PATH…` (its continuation lines included).
fn drop_key_wait(script: &str) -> String {
    let mut out = String::new();
    let mut in_call = false;
    for line in script.split_inclusive('\n') {
        if line.contains("await_keys \\") {
            in_call = true;
        }
        if !in_call {
            out.push_str(line);
        } else if !line.trim_end().ends_with('\\') {
            in_call = false;
        }
    }
    out
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
            "prepare.sh",
            "modprobe overlay",
            "modprobe br_netfilter",
            "sysctl --system",
            "systemctl enable --now haproxy",
            "systemctl reload-or-restart haproxy",
            "systemctl enable --now keepalived",
            "systemctl reload-or-restart keepalived",
            "curl -ks --max-time 5 -o /dev/null https://10.0.2.100:8443/",
            "kubeadm init --config /etc/kubernetes/kubeadm-config.yaml",
        ]
    );
    let (_, services_only) = run_stubbed(&bootstrap(&bundle, "master-0"), &["services"]);
    assert!(
        !services_only.iter().any(|c| c.starts_with("kubeadm")),
        "{services_only:#?}"
    );
    assert!(
        !services_only.iter().any(|c| c == "prepare.sh"),
        "{services_only:#?}"
    );
    let (code, prepare_only) = run_stubbed(&bootstrap(&bundle, "master-0"), &["prepare"]);
    assert_eq!(
        (code, prepare_only),
        (Some(0), vec!["prepare.sh".to_string()]),
        "the prepare phase runs /etc/hac/prepare.sh alone"
    );
    let (_, kubeadm_only) = run_stubbed(&bootstrap(&bundle, "master-0"), &["kubeadm"]);
    assert_eq!(
        kubeadm_only,
        [
            "curl -ks --max-time 5 -o /dev/null https://10.0.2.100:8443/",
            "kubeadm init --config /etc/kubernetes/kubeadm-config.yaml"
        ]
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
            "prepare.sh",
            "id etcd",
            "useradd --system --home-dir /var/lib/etcd --no-create-home --shell /usr/sbin/nologin etcd",
            "mkdir -p /var/lib/etcd",
            "chown etcd:etcd /var/lib/etcd",
            "chmod 0700 /var/lib/etcd",
            "chown etcd:etcd /etc/kubernetes/pki/etcd/peer.key",
            "chown etcd:etcd /etc/kubernetes/pki/etcd/server.key",
            "chmod o+x /etc/kubernetes /etc/kubernetes/pki /etc/kubernetes/pki/etcd",
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
            "prepare.sh",
            "modprobe overlay",
            "modprobe br_netfilter",
            "sysctl --system",
            "curl -ksf --max-time 5 https://10.0.2.100:6443/readyz",
            "kubeadm join --config /etc/kubernetes/kubeadm-config.yaml"
        ]
    );
    let (_, calls) = run_stubbed(&bootstrap(&bundle, "lb-0"), &[]);
    assert_eq!(
        calls,
        [
            "prepare.sh",
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
    // A joining control plane: kubeadm join's preflight wants /etc/kubernetes/manifests
    // empty, so the manifest is staged in /etc/hac and placed after the join (cmp fails:
    // not in place yet).
    assert!(file(&bundle, "master-1", KUBE_VIP_MANIFEST).is_none());
    let (code, calls, out) =
        run_stubbed_failing(&bootstrap(&bundle, "master-1"), &["kubeadm"], &["cmp"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        calls,
        [
            "curl -ksf --max-time 5 https://10.0.2.100:6443/readyz",
            "kubeadm join --config /etc/kubernetes/kubeadm-config.yaml",
            "cmp -s /etc/hac/kube-vip.yaml /etc/kubernetes/manifests/kube-vip.yaml",
            "install -m 0600 /etc/hac/kube-vip.yaml /etc/kubernetes/manifests/kube-vip.yaml",
        ]
    );
    assert!(out.contains("hac: changed (kube-vip placed"), "{out}");
    let pod1 = text(file(&bundle, "master-1", KUBE_VIP_STAGED).expect("staged kube-vip.yaml"));
    assert!(
        pod1.contains("path: /etc/kubernetes/admin.conf\n"),
        "{pod1}"
    );
}

#[test]
fn joins_wait_for_the_endpoint_and_give_up_visibly() {
    let bundle = render_with_real_ca(&hac_model::samples::stacked_3_dedicated_lb());
    // The API answers: one probe, then the join.
    let (code, calls, out) =
        run_stubbed_failing(&bootstrap(&bundle, "worker-1"), &["kubeadm"], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        &calls[calls.len() - 2..],
        [
            "curl -ksf --max-time 5 https://10.0.2.100:6443/readyz",
            "kubeadm join --config /etc/kubernetes/kubeadm-config.yaml"
        ]
    );
    assert!(
        out.contains("hac: the API at https://10.0.2.100:6443/readyz: ready"),
        "{out}"
    );
    // It never answers: three probes with a log line each, no join, exit 1 with the reason.
    let (code, calls, out) =
        run_stubbed_failing(&bootstrap(&bundle, "worker-1"), &["kubeadm"], &["curl"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(calls.iter().filter(|c| c.starts_with("curl")).count(), 3);
    assert!(
        !calls.iter().any(|c| c.starts_with("kubeadm")),
        "{calls:#?}"
    );
    assert!(
        out.contains("hac: waiting for the API at https://10.0.2.100:6443/readyz (try 1 of 3)"),
        "{out}"
    );
    assert!(
        out.contains(
            "hac: gave up waiting for the API at https://10.0.2.100:6443/readyz after 3 tries"
        ),
        "{out}"
    );
}

#[test]
fn the_first_master_waits_for_external_etcd_then_the_load_balancer() {
    let cluster = hac_model::samples::external_etcd();
    let bundle = render_with_real_ca(&cluster);
    let first = cluster.first_control_plane().unwrap().name.clone();
    let (code, calls, out) = run_stubbed_failing(&bootstrap(&bundle, &first), &["kubeadm"], &[]);
    assert_eq!(code, Some(0), "{out}");
    let waits: Vec<&str> = calls
        .iter()
        .map(String::as_str)
        .filter(|c| c.starts_with("curl") || c.starts_with("kubeadm"))
        .collect();
    assert_eq!(waits.len(), 3, "{calls:#?}");
    assert!(
        waits[0].contains("--cert /etc/kubernetes/pki/apiserver-etcd-client.crt"),
        "{waits:#?}"
    );
    assert!(waits[0].ends_with(":2379/health"), "{waits:#?}");
    assert!(
        waits[1].starts_with("curl -ks --max-time 5 -o /dev/null https://"),
        "{waits:#?}"
    );
    assert_eq!(
        waits[2],
        "kubeadm init --config /etc/kubernetes/kubeadm-config.yaml"
    );
    // No member healthy: it tries every member each round, then gives up before kubeadm.
    let (code, calls, out) =
        run_stubbed_failing(&bootstrap(&bundle, &first), &["kubeadm"], &["curl", "grep"]);
    assert_eq!(code, Some(1), "{out}");
    let members = cluster.etcd_members().count();
    assert_eq!(
        calls.iter().filter(|c| c.contains(":2379/health")).count(),
        3 * members
    );
    assert!(
        out.contains("hac: gave up waiting for etcd's quorum after 3 tries"),
        "{out}"
    );
    assert!(
        !calls.iter().any(|c| c.starts_with("kubeadm")),
        "{calls:#?}"
    );
}

/// Runs the `services` phase of `script` with `ip` answering `ip_output`, systemctl, chmod
/// and mv stubbed (logged) and the interface file redirected into a scratch folder; returns
/// (exit code, the logged calls, stdout and stderr, what was written to the interface file).
fn run_detection(script: &[u8], ip_output: &str) -> (Option<i32>, Vec<String>, String, String) {
    let tmp = scratch_dir("detect");
    let dir = tmp.path();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let log = dir.join("calls.log");
    let conf = dir.join("hac-interface.conf");
    let stub = |name: &str, body: &str| {
        let path = bin.join(name);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"{name} $*\" >> {}\n{body}", log.display()),
        )
        .expect("stub");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    };
    stub("ip", &format!("printf '%s' '{ip_output}'\n"));
    stub("systemctl", "");
    stub("chmod", "");
    // mv really moves (the stub logs it): the test reads the file that was put in place.
    stub("mv", "shift; cat \"$1\" > \"$2\"\n");
    let text = String::from_utf8_lossy(&without_key_wait(script)).replace(
        &format!("/{KEEPALIVED_INTERFACE_CONF}"),
        &conf.display().to_string(),
    );
    let script_path = dir.join("bootstrap.sh");
    std::fs::write(&script_path, text).expect("script");
    let out = run(Command::new(tool("sh"))
        .arg(&script_path)
        .arg("services")
        .env_clear()
        .env("HAC_ROOT", dir.join("root"))
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display())));
    let calls = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(|l| l.replace(&dir.display().to_string(), "DIR"))
        .collect();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code(),
        calls,
        output,
        std::fs::read_to_string(&conf).unwrap_or_default(),
    )
}

#[test]
fn bootstrap_finds_keepalived_interface_before_starting_it() {
    let mut cluster = hac_model::samples::stacked_3_dedicated_lb();
    cluster.nodes.iter_mut().for_each(|n| n.interface = None);
    let bundle = render_with_real_ca(&cluster);
    let lb = cluster.vip_holders()[0].clone();
    let addr = lb.address.to_string();
    let line = format!(
        "3: ens5    inet {addr}/24 brd 10.0.2.255 scope global ens5\\       valid_lft forever preferred_lft forever\n"
    );
    let (code, calls, output, conf) = run_detection(&bootstrap(&bundle, &lb.name), &line);
    assert_eq!(code, Some(0), "{output}\n{calls:#?}");
    assert_eq!(
        calls,
        [
            "systemctl enable --now haproxy".to_string(),
            "systemctl reload-or-restart haproxy".to_string(),
            format!("ip -o -4 addr show to {addr}"),
            "chmod 0644 DIR/hac-interface.conf.tmp".to_string(),
            "mv -f DIR/hac-interface.conf.tmp DIR/hac-interface.conf".to_string(),
            "systemctl enable --now keepalived".to_string(),
            "systemctl reload-or-restart keepalived".to_string(),
        ]
    );
    assert!(
        output.contains(&format!("hac: keepalived binds ens5 (holds {addr})")),
        "{output}"
    );
    assert_eq!(conf, "    interface ens5\n");

    // No interface holds the address: exit 1 with the attribute to set; keepalived not started.
    let (code, calls, output, conf) = run_detection(&bootstrap(&bundle, &lb.name), "");
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains(&format!("hac: no interface holds {addr}"))
            && output.contains(&format!("nodes.{}.interface", lb.name)),
        "{output}"
    );
    assert!(
        !calls.iter().any(|c| c.contains("keepalived")),
        "{calls:#?}"
    );
    assert!(conf.is_empty());

    // A named interface is written as is: no detection at boot.
    let named = render_with_real_ca(&hac_model::samples::stacked_3_dedicated_lb());
    let script = text(file(&named, &lb.name, BOOTSTRAP).expect("bootstrap.sh"));
    assert!(!script.contains("ip -o"), "{script}");
    let cfg = text(file(&named, &lb.name, KEEPALIVED_CONF).expect("keepalived.conf"));
    assert!(
        cfg.contains("    interface eth0\n") && !cfg.contains("include"),
        "{cfg}"
    );
}

/// Runs `script` (text, already pointed at scratch paths) with `args` and `env`: the
/// [`STUBBED`] commands, `kubectl` and `sleep` are logged stubs (those in `failing` exit 1),
/// everything else (tar, gzip, rm) is the system's. Returns (exit code, calls, output).
fn run_with_system_tools(
    dir: &std::path::Path,
    script: &str,
    args: &[&str],
    env: &[(&str, String)],
    failing: &[&str],
) -> (Option<i32>, Vec<String>, String) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let log = dir.join("calls.log");
    let _ = std::fs::remove_file(&log);
    for cmd in STUBBED.iter().chain(&["kubectl"]) {
        let status = i32::from(*cmd == "id" || failing.contains(cmd));
        let path = bin.join(cmd);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"{cmd} $*\" >> {}\nexit {status}\n",
                log.display()
            ),
        )
        .expect("stub");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let script_path = dir.join("bootstrap.sh");
    std::fs::write(&script_path, script).expect("script");
    let mut cmd = Command::new(tool("sh"));
    cmd.arg(&script_path)
        .args(args)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HAC_WAIT_TRIES", "3")
        .env("HAC_WAIT_SECONDS", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd);
    let calls = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(|l| l.replace(&dir.display().to_string(), "DIR"))
        .collect();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), calls, output)
}

#[test]
fn bootstrap_waits_for_the_key_archive_unpacks_it_and_deletes_it() {
    let cluster = hac_model::samples::stacked_3();
    assert_eq!(
        cluster.outputs.cloud_init_keys,
        hac_model::CloudInitKeys::Separate
    );
    let bundle = render_with_real_ca(&cluster);
    let archive = bundle
        .files
        .iter()
        .find(|f| f.path == "cloud-init/master-0-keys.tar.gz")
        .expect("the key archive of master-0");
    let tmp = scratch_dir("keys");
    let dir = tmp.path();
    let root = dir.join("root");
    std::fs::create_dir_all(&root).expect("root");
    // The node's files as cloud-init writes them from the user-data: the public ones only.
    let user_data = hac_render::cloud_init::user_data(
        &bundle.hosts["master-0"],
        hac_model::CloudInitKeys::Separate,
    );
    for f in &user_data.write_files {
        assert_ne!(
            f.permissions, "0600",
            "{} is private but in the user-data",
            f.path
        );
    }
    let script = text(file(&bundle, "master-0", BOOTSTRAP).expect("bootstrap.sh"))
        .replace(" /etc/", &format!(" {}/etc/", root.display()))
        .replace("-C /", &format!("-C {}", root.display()));
    let delivered = dir.join("hac-keys.tar.gz");
    // prepare.sh (tested in prepare.rs) is a no-op stand-in under HAC_ROOT.
    let prepare = root.join("etc/hac/prepare.sh");
    std::fs::create_dir_all(prepare.parent().expect("parent")).expect("mkdir");
    std::fs::write(&prepare, "#!/bin/sh\nexit 0\n").expect("prepare stub");
    std::fs::set_permissions(&prepare, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::create_dir_all(root.join("var/lib/hac")).expect("state folder");
    let env = [
        ("HAC_KEYS_ARCHIVE", delivered.display().to_string()),
        ("HAC_ROOT", root.display().to_string()),
    ];

    // Not delivered: a line per try, then exit 1; nothing else runs.
    let (code, calls, output) = run_with_system_tools(dir, &script, &[], &env, &[]);
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains("hac: waiting for this node's keys at")
            && output
                .contains("copy cloud-init/master-0-keys.tar.gz of the bundle there (try 1 of 3)")
            && output.contains("hac: gave up waiting for"),
        "{output}"
    );
    assert!(
        !calls
            .iter()
            .any(|c| c.starts_with("kubeadm") || c.starts_with("systemctl")),
        "{calls:#?}"
    );

    // A truncated copy is not taken for the archive.
    std::fs::write(&delivered, &archive.contents[..archive.contents.len() / 2]).expect("partial");
    let (code, _, output) = run_with_system_tools(dir, &script, &[], &env, &[]);
    assert_eq!(code, Some(1), "a truncated archive was unpacked:\n{output}");

    // Another node's archive (master-1's holds the same paths): refused, nothing unpacked.
    let other = bundle
        .files
        .iter()
        .find(|f| f.path == "cloud-init/master-1-keys.tar.gz")
        .expect("the key archive of master-1");
    std::fs::write(&delivered, &other.contents).expect("deliver the wrong one");
    let (code, _, output) = run_with_system_tools(dir, &script, &[], &env, &[]);
    assert_eq!(
        code,
        Some(1),
        "another node's archive was accepted:\n{output}"
    );
    assert!(
        output.contains("is not cloud-init/master-0-keys.tar.gz of this build"),
        "{output}"
    );
    assert!(
        !root.join("etc/kubernetes/pki/apiserver.key").exists(),
        "another node's keys were unpacked"
    );

    // Delivered: unpacked (the private files with their modes), deleted, then the phases run.
    std::fs::write(&delivered, &archive.contents).expect("deliver");
    let (code, calls, output) = run_with_system_tools(dir, &script, &[], &env, &[]);
    assert_eq!(code, Some(0), "{output}\n{calls:#?}");
    assert!(
        output.contains("hac: unpacked this node's keys from"),
        "{output}"
    );
    assert!(!delivered.exists(), "the archive was left on the node");
    let key = root.join("etc/kubernetes/pki/ca.key");
    let mode = std::fs::metadata(&key)
        .expect("ca.key unpacked")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let original = file(&bundle, "master-0", "etc/kubernetes/pki/ca.key").expect("ca.key");
    assert!(std::fs::read(&key).expect("read") == original.contents);
    assert!(
        calls.iter().any(|c| c.starts_with("kubeadm init")),
        "{calls:#?}"
    );

    // Keys in place (a second run, or the Ansible play): no wait, no archive needed.
    let (code, _, output) = run_with_system_tools(dir, &script, &[], &env, &[]);
    assert_eq!(code, Some(0), "{output}");
    assert!(!output.contains("waiting for this node's keys"), "{output}");

    // "inline": no wait at all in bootstrap.sh.
    let mut inline = cluster.clone();
    inline.outputs.cloud_init_keys = hac_model::CloudInitKeys::Inline;
    let bundle = render_with_real_ca(&inline);
    let script = text(file(&bundle, "master-0", BOOTSTRAP).expect("bootstrap.sh"));
    assert!(!script.contains("await_keys"), "{script}");
    assert!(!bundle
        .files
        .iter()
        .any(|f| f.path.ends_with("-keys.tar.gz")));
}

#[test]
fn the_first_master_applies_the_cni_once_after_kubeadm_init() {
    let mut cluster = hac_model::samples::stacked_3();
    cluster.network.cni = Some(hac_model::Cni {
        manifest: "cni.yaml".to_string(),
        contents: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tiny-cni\n".to_string(),
    });
    let bundle = render_with_real_ca(&cluster);
    let manifest = file(&bundle, "master-0", CNI_MANIFEST).expect("cni.yaml on master-0");
    assert_eq!(manifest.mode, 0o644);
    for node in ["master-1", "master-2", "worker-0"] {
        assert!(
            file(&bundle, node, CNI_MANIFEST).is_none(),
            "{node} carries the CNI"
        );
        let script = text(file(&bundle, node, BOOTSTRAP).expect("bootstrap.sh"));
        assert!(
            !script.contains("kubectl"),
            "{node} applies the CNI:\n{script}"
        );
    }
    let tmp = scratch_dir("cni");
    let dir = tmp.path();
    let marker = dir.join("cni.applied");
    let script = text(file(&bundle, "master-0", BOOTSTRAP).expect("bootstrap.sh"))
        .replace(&format!("/{CNI_MARKER}"), &marker.display().to_string());
    let keys = [("HAC_KEYS_ARCHIVE", dir.join("none").display().to_string())];
    // The keys are not in place on this machine: no wait (tested above).
    let script = String::from_utf8(without_key_wait(script.as_bytes())).expect("UTF-8");

    // kubectl keeps failing: bounded retries, a clear error, no marker.
    let (code, calls, output) =
        run_with_system_tools(dir, &script, &["kubeadm"], &keys, &["kubectl"]);
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains("hac: applying the CNI manifest failed (try 1 of 3); retrying"),
        "{output}"
    );
    assert!(
        output.contains("hac: gave up applying the CNI manifest"),
        "{output}"
    );
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("kubectl")).count(),
        3,
        "{calls:#?}"
    );
    assert!(!marker.exists());

    // kubectl works: applied right after kubeadm init, once.
    let (code, calls, output) = run_with_system_tools(dir, &script, &["kubeadm"], &keys, &[]);
    assert_eq!(code, Some(0), "{output}");
    let init = calls
        .iter()
        .position(|c| c.starts_with("kubeadm init"))
        .expect("kubeadm init");
    assert_eq!(
        calls[init + 1],
        "kubectl --kubeconfig /etc/kubernetes/admin.conf apply --server-side --force-conflicts -f /etc/kubernetes/hac/cni.yaml"
    );
    assert!(
        output.contains("hac: applied the CNI manifest /etc/kubernetes/hac/cni.yaml"),
        "{output}"
    );
    assert!(marker.exists());
    let (code, calls, output) = run_with_system_tools(dir, &script, &["kubeadm"], &keys, &[]);
    assert_eq!(code, Some(0), "{output}");
    assert!(
        !calls.iter().any(|c| c.starts_with("kubectl")),
        "applied twice: {calls:#?}"
    );
    assert!(
        output.contains("the CNI manifest was applied already"),
        "{output}"
    );
}

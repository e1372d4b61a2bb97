//! Host preparation: prepare.sh runs the right commands in the right order against fake
//! apt-get / apt-mark / dpkg-query / systemctl / swapoff / modprobe / sysctl / nft that keep
//! a small package database, so a second run can be seen to install and restart nothing;
//! the preinstalled and version-mismatch paths stop with clear errors. The firewall is
//! checked by the real nft (in a private network namespace), containerd's configuration by
//! the real containerd, and the pinned pkgs.k8s.io key by gpg.

mod common;

use common::*;
use hac_model::{Cluster, PackageSource, Role};
use hac_render::prepare::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// The fake commands: each logs `NAME ARGS` to $LOG and acts on the state folder $S.
const FAKES: &[(&str, &str)] = &[
    (
        "dpkg-query",
        r#"for last; do :; done
[ -f "$S/pkg/$last" ] || exit 1
selection=install
grep -qx "$last" "$S/held" 2>/dev/null && selection=hold
echo "$selection ok installed $(cat "$S/pkg/$last")""#,
    ),
    (
        "apt-get",
        r#"case " $* " in *" install "*) ;; *) exit 0 ;; esac
skip=0
for a; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$a" in
        -o) skip=1 ;;
        -*|install) ;;
        *=*) mkdir -p "$S/pkg"; echo "${a#*=}" | sed 's/\*/1.1/' > "$S/pkg/${a%%=*}" ;;
        *) mkdir -p "$S/pkg"; echo 1.0 > "$S/pkg/$a" ;;
    esac
done"#,
    ),
    (
        "apt-mark",
        r#"case "$1" in
    showhold) cat "$S/held" 2>/dev/null || true ;;
    hold) shift; for p; do echo "$p" >> "$S/held"; done ;;
esac"#,
    ),
    (
        "systemctl",
        r#"case "$1" in
    list-units) cat "$S/swap-units" 2>/dev/null || true ;;
    mask) sed -i 's/ loaded / masked /' "$S/swap-units" ;;
    is-enabled) [ -f "$S/enabled/$3" ] ;;
    enable) mkdir -p "$S/enabled"; touch "$S/enabled/$2" ;;
esac"#,
    ),
    (
        "swapoff",
        r#"echo "Filename Type Size Used Priority" > "$ROOT/proc/swaps""#,
    ),
    ("modprobe", ""),
    ("sysctl", ""),
    (
        "nft",
        r#"case "$1" in
    list) [ -f "$S/nft-table" ] ;;
    -f) touch "$S/nft-table" ;;
    delete) rm -f "$S/nft-table" ;;
esac"#,
    ),
];

/// The real tools prepare.sh uses besides the faked ones.
const REAL: &[&str] = &[
    "sed",
    "grep",
    "awk",
    "tr",
    "sha256sum",
    "cat",
    "mkdir",
    "rm",
    "touch",
];

struct Host {
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    bin: std::path::PathBuf,
    state: std::path::PathBuf,
    log: std::path::PathBuf,
    script: std::path::PathBuf,
}

fn write_exec(path: &Path, body: &str) {
    std::fs::write(path, body).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A fake host for `node` of `bundle`: its archive under a root folder with an active swap
/// and a swap line in fstab, the fakes and real tools on PATH.
fn host(bundle: &hac_model::Bundle, node: &str, extra: &[(&str, &str)]) -> Host {
    let tmp = scratch_dir("prepare");
    let dir = tmp.path().to_path_buf();
    let (root, bin, state) = (dir.join("root"), dir.join("bin"), dir.join("state"));
    for d in [&root.join("proc"), &root.join("etc"), &bin, &state] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    for f in &bundle.hosts[node] {
        let p = root.join(&f.path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, &f.contents).expect("write file");
    }
    std::fs::write(
        root.join("proc/swaps"),
        "Filename Type Size Used Priority\n/swap.img file 1048572 0 -2\n",
    )
    .expect("swaps");
    std::fs::write(
        root.join("etc/fstab"),
        "UUID=abc / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n",
    )
    .expect("fstab");
    std::fs::write(
        state.join("swap-units"),
        "swap.img.swap loaded active active /swap.img\n",
    )
    .expect("units");
    let log = dir.join("calls.log");
    for (name, body) in FAKES.iter().chain(extra) {
        write_exec(
            &bin.join(name),
            &format!("#!/bin/sh\nprintf '%s\\n' \"{name} $*\" >> \"$LOG\"\n{body}\n"),
        );
    }
    for name in REAL {
        std::os::unix::fs::symlink(tool(name), bin.join(name)).expect("symlink");
    }
    let script = root.join(PREPARE);
    Host {
        _tmp: tmp,
        root,
        bin,
        state,
        log,
        script,
    }
}

/// Runs prepare.sh on `h`; returns (exit code, the calls of this run, stdout + stderr).
fn run_prepare(h: &Host) -> (Option<i32>, Vec<String>, String) {
    let _ = std::fs::remove_file(&h.log);
    let out = run(Command::new(tool("sh"))
        .arg(&h.script)
        .env_clear()
        .env("PATH", &h.bin)
        .env("HAC_ROOT", &h.root)
        .env("S", &h.state)
        .env("ROOT", &h.root)
        .env("LOG", &h.log));
    let root = h.root.display().to_string();
    let calls = std::fs::read_to_string(&h.log)
        .unwrap_or_default()
        .lines()
        .map(|l| l.replace(&root, ""))
        .collect();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), calls, output)
}

fn with_firewall(mut c: Cluster) -> Cluster {
    c.hosts.firewall = true;
    for n in &mut c.nodes {
        n.hosts.firewall = true;
    }
    c
}

/// The calls that change the host (queries left out).
fn changes(calls: &[String]) -> Vec<&str> {
    calls
        .iter()
        .map(String::as_str)
        .filter(|c| {
            !c.starts_with("dpkg-query")
                && !c.starts_with("systemctl list-units")
                && !c.starts_with("systemctl is-enabled")
                && !c.starts_with("apt-mark showhold")
                && !c.starts_with("nft list")
        })
        .collect()
}

#[test]
fn a_blank_master_is_prepared_in_order_and_a_second_run_changes_nothing() {
    let bundle = render_with_real_ca(&with_firewall(hac_model::samples::stacked_3()));
    let h = host(&bundle, "master-0", &[]);
    let (code, calls, output) = run_prepare(&h);
    assert_eq!(code, Some(0), "{output}\n{calls:#?}");
    assert_eq!(
        changes(&calls),
        [
            "swapoff -a",
            "systemctl mask swap.img.swap",
            "modprobe overlay",
            "modprobe br_netfilter",
            "sysctl --system",
            "apt-get -o DPkg::Lock::Timeout=600 update -q",
            "apt-get -o DPkg::Lock::Timeout=600 install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold containerd keepalived haproxy nftables kubelet=1.30.2-* kubeadm=1.30.2-* kubectl=1.30.2-*",
            "apt-mark hold kubelet kubeadm kubectl",
            "systemctl restart containerd",
            "systemctl enable containerd",
            "nft -f /etc/hac/firewall.nft",
            "systemctl daemon-reload",
            "systemctl enable hac-firewall.service",
        ],
        "{output}"
    );
    let fstab = std::fs::read_to_string(h.root.join("etc/fstab")).expect("fstab");
    assert_eq!(
        fstab,
        "UUID=abc / ext4 defaults 0 1\n# swap off for the kubelet (hac): /swap.img none swap sw 0 0\n"
    );
    // Every step logs one line.
    for step in [
        "swap: turned off",
        "swap: fstab entries commented out",
        "swap: masked swap.img.swap",
        "kernel: overlay and br_netfilter loaded",
        "packages: installing containerd keepalived haproxy nftables kubelet=1.30.2-*",
        "packages: held kubelet kubeadm kubectl",
        "containerd: restarted with /etc/containerd/config.toml (sandbox registry.k8s.io/pause:3.9, systemd cgroups)",
        "firewall: loaded table inet hac (SSH on port 22 always open)",
        "master-0 is prepared",
    ] {
        assert!(output.contains(&format!("hac prepare: {step}")), "{step}:\n{output}");
    }

    let (code, calls, output) = run_prepare(&h);
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(
        changes(&calls),
        [
            "modprobe overlay",
            "modprobe br_netfilter",
            "sysctl --system"
        ],
        "a second run installs, restarts and reloads nothing:\n{output}"
    );
    for step in [
        "swap: off",
        "swap: no fstab entry",
        "swap: no swap unit to mask",
        "packages: all installed",
        "packages: kubelet, kubeadm, kubectl held",
        "containerd: configuration unchanged",
        "firewall: table inet hac unchanged",
    ] {
        assert!(
            output.contains(&format!("hac prepare: {step}")),
            "{step}:\n{output}"
        );
    }

    // A changed containerd configuration restarts containerd, and only that.
    let config = h.root.join(CONTAINERD_CONFIG);
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str("# changed\n");
    std::fs::write(&config, text).expect("write");
    let (code, calls, output) = run_prepare(&h);
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(
        changes(&calls),
        [
            "modprobe overlay",
            "modprobe br_netfilter",
            "sysctl --system",
            "systemctl restart containerd"
        ]
    );
}

#[test]
fn nodes_install_only_what_their_roles_need() {
    let bundle = render_with_real_ca(&hac_model::samples::external_etcd());
    let h = host(&bundle, "worker-0", &[]);
    let (code, calls, output) = run_prepare(&h);
    assert_eq!(code, Some(0), "{output}");
    assert!(
        calls.contains(&"apt-get -o DPkg::Lock::Timeout=600 install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold containerd kubelet=1.30.2-* kubeadm=1.30.2-* kubectl=1.30.2-*".to_string()),
        "{calls:#?}"
    );
    assert!(
        !calls.iter().any(|c| c.starts_with("nft -f")),
        "the firewall is off by default: {calls:#?}"
    );
    // An etcd member installs nothing (etcd.binary is not the distribution's) and stops
    // clearly when etcd is not where its unit expects it.
    let h = host(&bundle, "etcd-0", &[]);
    let (code, calls, output) = run_prepare(&h);
    assert_eq!(code, Some(1), "{output}");
    assert!(
        !calls.iter().any(|c| c.starts_with("apt-get")),
        "{calls:#?}"
    );
    assert!(
        !calls
            .iter()
            .any(|c| c.starts_with("swapoff") || c.starts_with("modprobe")),
        "no kubelet, no swap or kernel work: {calls:#?}"
    );
    assert!(
        output.contains(
            "hac prepare: error: /usr/local/bin/etcd is , not etcd 3.5.x (etcd.version 3.5.16)"
        ),
        "{output}"
    );
    // With etcd in place it passes.
    let etcd_bin = h.root.join("etcd");
    write_exec(
        &etcd_bin,
        "#!/bin/sh\necho 'etcd Version: 3.5.16'\necho 'Git SHA: 0'\n",
    );
    let script = std::fs::read_to_string(&h.script)
        .expect("script")
        .replace("/usr/local/bin/etcd", &etcd_bin.display().to_string());
    std::fs::write(&h.script, script).expect("write");
    let (code, _, output) = run_prepare(&h);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("etcd: "), "{output}");
}

#[test]
fn installed_packages_of_another_release_stop_the_script_naming_them() {
    let bundle = render_with_real_ca(&hac_model::samples::stacked_3());
    let h = host(&bundle, "worker-0", &[]);
    std::fs::create_dir_all(h.state.join("pkg")).expect("mkdir");
    std::fs::write(h.state.join("pkg/kubelet"), "1.30.1-1.1\n").expect("write");
    let (code, calls, output) = run_prepare(&h);
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains(
            "hac prepare: error: installed packages are not Kubernetes 1.30.2: kubelet 1.30.1-1.1;"
        ),
        "{output}"
    );
    assert!(
        !calls.iter().any(|c| c.starts_with("apt-get")),
        "{calls:#?}"
    );
}

const GOOD_TOOLS: &[(&str, &str)] = &[
    ("kubeadm", "echo v1.30.2"),
    ("kubelet", "echo 'Kubernetes v1.30.2'"),
    (
        "kubectl",
        "echo 'Client Version: v1.30.2'; echo 'Kustomize Version: v5.0.4'",
    ),
    ("containerd", ""),
    ("keepalived", ""),
    ("haproxy", ""),
];

#[test]
fn preinstalled_images_are_verified_and_a_mismatch_is_named() {
    let mut c = hac_model::samples::stacked_3();
    for n in &mut c.nodes {
        n.hosts.packages = PackageSource::Preinstalled;
    }
    let bundle = render_with_real_ca(&c);
    assert!(
        file(&bundle, "master-0", APT_SOURCE).is_none()
            && file(&bundle, "master-0", APT_KEY).is_none(),
        "preinstalled: no apt source"
    );
    let h = host(&bundle, "master-0", GOOD_TOOLS);
    let (code, calls, output) = run_prepare(&h);
    assert_eq!(code, Some(0), "{output}");
    assert!(!calls.iter().any(|c| c.starts_with("apt")), "{calls:#?}");
    assert!(
        output.contains("hac prepare: packages: preinstalled and verified (kubeadm, kubelet and kubectl v1.30.2, containerd, keepalived, haproxy)"),
        "{output}"
    );

    let bad: Vec<(&str, &str)> = GOOD_TOOLS
        .iter()
        .filter(|(n, _)| *n != "containerd")
        .map(|(n, b)| {
            if *n == "kubeadm" {
                (*n, "echo v1.30.20")
            } else {
                (*n, *b)
            }
        })
        .collect();
    let h = host(&bundle, "master-0", &bad);
    let (code, calls, output) = run_prepare(&h);
    assert_eq!(code, Some(1), "{output}");
    assert!(!calls.iter().any(|c| c.starts_with("apt")), "{calls:#?}");
    assert!(
        output.contains("hac prepare: error: the image does not carry what this node needs (packages = \"preinstalled\"): kubeadm is v1.30.20, not v1.30.2; containerd is missing;"),
        "{output}"
    );
}

#[test]
fn the_apt_source_names_the_minor_release_or_the_mirror_and_the_pinned_key() {
    let bundle = render_with_real_ca(&hac_model::samples::stacked_3());
    let source = text(file(&bundle, "worker-0", APT_SOURCE).expect("source"));
    assert!(
        source.ends_with("deb [signed-by=/etc/apt/keyrings/hac-kubernetes.asc] https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /\n"),
        "{source}"
    );
    assert_eq!(
        text(file(&bundle, "worker-0", APT_KEY).expect("key")),
        hac_model::KUBERNETES_RELEASE_KEY
    );
    let bundle = render_with_real_ca(&firewall_mirror());
    let source = text(file(&bundle, "worker-0", APT_SOURCE).expect("source"));
    assert!(source.contains("] file:///srv/k8s-repo/ /\n"), "{source}");
    assert!(file(&bundle, "master-2", APT_SOURCE).is_none());
    assert!(
        file(&bundle, "etcd-0", APT_SOURCE).is_none(),
        "no kubelet, no Kubernetes packages"
    );
}

#[test]
fn gpg_shows_the_pinned_key_has_the_pkgs_k8s_io_fingerprint() {
    let gpg = tool("gpg");
    let tmp = scratch_dir("gpg");
    let key = tmp.path().join("key.asc");
    std::fs::write(&key, hac_model::KUBERNETES_RELEASE_KEY).expect("write");
    let out = run(Command::new(&gpg)
        .env("GNUPGHOME", tmp.path())
        .args(["--batch", "--with-colons", "--show-keys"])
        .arg(&key));
    let listing = String::from_utf8_lossy(&out.stdout);
    let fprs: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.strip_prefix("fpr:::::::::"))
        .map(|l| l.trim_end_matches(':'))
        .collect();
    assert_eq!(
        fprs,
        [hac_model::KUBERNETES_KEY_FINGERPRINT],
        "{listing}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        hac_model::KUBERNETES_KEY_FINGERPRINT,
        "DE15B14486CD377B9E876E1A234654DA9A296436"
    );
}

/// Every firewall ruleset of every variant with the firewall on.
fn rulesets() -> Vec<(String, Cluster, String, String)> {
    let mut out = Vec::new();
    for (variant, cluster) in variants() {
        let cluster = with_firewall(cluster);
        let bundle = render_with_real_ca(&cluster);
        for node in bundle.hosts.keys() {
            let f = file(&bundle, node, FIREWALL_RULESET).expect("a ruleset on every node");
            out.push((variant.to_string(), cluster.clone(), node.clone(), text(f)));
        }
    }
    out
}

#[test]
fn nft_accepts_and_loads_every_ruleset_twice_in_a_private_namespace() {
    let nft = tool("nft");
    let unshare = tool("unshare");
    let tmp = scratch_dir("nft");
    let mut n = 0;
    for (variant, _, node, rules) in rulesets() {
        let path = tmp.path().join(format!("{variant}-{node}.nft"));
        std::fs::write(&path, &rules).expect("write");
        let p = path.display();
        let nft = nft.display();
        // -c checks; loading twice proves a reload replaces the table (no duplicate rules).
        let shell =
            format!("{nft} -c -f {p} && {nft} -f {p} && {nft} -f {p} && {nft} list table inet hac");
        let out = run(Command::new(&unshare).args(["-n", "sh", "-c", &shell]));
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{variant}/{node}: nft rejects the ruleset:\n{}\n{rules}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            listing.matches("dport 22 accept").count()
                + listing.matches("dport 2222 accept").count(),
            1,
            "{variant}/{node}: one SSH rule after two loads:\n{listing}"
        );
        n += 1;
    }
    assert!(n >= 80, "only {n} rulesets checked");
}

#[test]
fn ssh_comes_first_and_etcd_is_open_to_its_members_and_control_planes_only() {
    for (variant, cluster, node, rules) in rulesets() {
        let n = cluster.node(&node).expect("node");
        let lines: Vec<&str> = rules
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let chain = lines
            .iter()
            .position(|l| l.starts_with("type filter hook input"))
            .expect("input chain");
        assert!(lines[chain].contains("policy drop"), "{variant}/{node}");
        assert_eq!(
            lines[chain + 1],
            format!("tcp dport {} accept comment \"ssh\"", n.hosts.ssh_port),
            "{variant}/{node}: SSH is the first rule"
        );
        let etcd: Vec<&&str> = lines.iter().filter(|l| l.contains("2379")).collect();
        if !cluster.runs_etcd(n) {
            assert!(etcd.is_empty(), "{variant}/{node} runs no etcd: {etcd:?}");
            continue;
        }
        let workers: Vec<String> = cluster
            .nodes
            .iter()
            .filter(|w| w.has(Role::Worker) && !w.has(Role::ControlPlane) && !cluster.runs_etcd(w))
            .map(|w| format!("{}", w.address))
            .collect();
        for rule in etcd.iter().filter(|l| l.ends_with("accept")) {
            assert!(rule.starts_with("ip saddr { "), "{variant}/{node}: {rule}");
            for w in &workers {
                assert!(
                    !rule.contains(&format!(" {w},")) && !rule.contains(&format!(" {w} }}")),
                    "{variant}/{node}: etcd open to worker {w}: {rule}"
                );
            }
        }
        assert!(
            etcd.iter()
                .any(|l| l.ends_with("tcp dport 2379-2380 accept")),
            "{variant}/{node}: etcd members must reach each other: {etcd:?}"
        );
    }
}

#[test]
fn containerd_accepts_every_config_with_kubeadms_sandbox_image_and_systemd_cgroups() {
    let containerd = tool("containerd");
    let tmp = scratch_dir("containerd");
    let mut n = 0;
    for (variant, cluster) in variants() {
        let bundle = render_with_real_ca(&cluster);
        let sandbox = sandbox_image(&cluster);
        for node in bundle.hosts.keys() {
            let Some(f) = file(&bundle, node, CONTAINERD_CONFIG) else {
                continue;
            };
            let path = tmp.path().join(format!("{variant}-{node}.toml"));
            std::fs::write(&path, &f.contents).expect("write");
            let out = run(Command::new(&containerd)
                .arg("--config")
                .arg(&path)
                .args(["config", "dump"]));
            let dump = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{variant}/{node}: containerd rejects config.toml:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                dump.contains(&format!("sandbox_image = \"{sandbox}\""))
                    && dump.contains("SystemdCgroup = true")
                    && dump.contains("bin_dir = \"/opt/cni/bin\""),
                "{variant}/{node}:\n{dump}"
            );
            n += 1;
        }
    }
    assert!(n >= 60, "only {n} configs checked");
}

#[test]
fn the_sandbox_image_follows_the_version_and_image_repository() {
    let mut c = hac_model::samples::stacked_3();
    assert_eq!(sandbox_image(&c), "registry.k8s.io/pause:3.9");
    c.kubernetes_version = hac_model::Version::new(1, 31, 0);
    assert_eq!(sandbox_image(&c), "registry.k8s.io/pause:3.10");
    c.components.image_repository = Some("registry.internal:5000/k8s".to_string());
    assert_eq!(sandbox_image(&c), "registry.internal:5000/k8s/pause:3.10");
    c.nodes[0].kubelet.cgroup_driver = Some("cgroupfs".to_string());
    let bundle = render_with_real_ca(&c);
    let name = c.nodes[0].name.clone();
    let config = text(file(&bundle, &name, CONTAINERD_CONFIG).expect("config"));
    assert!(config.contains("SystemdCgroup = false"), "{config}");
}

#[test]
fn firewall_snapshots() {
    let bundle = render_with_real_ca(&firewall_mirror());
    for node in ["master-0", "etcd-0", "worker-0"] {
        let mut out = String::new();
        for path in [FIREWALL_RULESET, FIREWALL_UNIT, PREPARE] {
            let f = file(&bundle, node, path).expect("file");
            out.push_str(&format!("===== /{} ({:04o})\n{}", f.path, f.mode, text(f)));
        }
        insta::assert_snapshot!(format!("firewall_mirror__{node}"), out);
    }
}

/// Listens on `ports` (all addresses) until killed.
const LISTEN: &str = r#"
import socket, sys, threading, time
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        c, _ = s.accept(); c.close()
for p in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(p),), daemon=True).start()
print("listening", flush=True)
time.sleep(60)
"#;

/// Connects from each `source:port` pair of argv to argv[1]; prints `source port open|closed`.
const PROBE: &str = r#"
import socket, sys
target = sys.argv[1]
for pair in sys.argv[2:]:
    src, port = pair.split(":")
    s = socket.socket(); s.settimeout(1); s.bind((src, 0))
    try:
        s.connect((target, int(port))); state = "open"
    except OSError:
        state = "closed"
    s.close()
    print(src, port, state, flush=True)
"#;

#[test]
fn the_loaded_firewall_admits_ssh_and_the_control_planes_and_keeps_workers_out_of_etcd() {
    let (nft, unshare, nsenter, ip, python) = (
        tool("nft"),
        tool("unshare"),
        tool("nsenter"),
        tool("ip"),
        tool("python3"),
    );
    let cluster = with_firewall(hac_model::samples::stacked_3());
    let bundle = render_with_real_ca(&cluster);
    let tmp = scratch_dir("firewall-live");
    let dir = tmp.path();
    let ruleset = dir.join("master-0.nft");
    std::fs::write(
        &ruleset,
        &file(&bundle, "master-0", FIREWALL_RULESET)
            .expect("ruleset")
            .contents,
    )
    .expect("write");
    std::fs::write(dir.join("listen.py"), LISTEN).expect("write");
    std::fs::write(dir.join("probe.py"), PROBE).expect("write");
    // The peer: a network namespace of its own, kept alive by sleep.
    let mut peer = Command::new(&unshare)
        .args(["-n", "sleep", "120"])
        .spawn()
        .expect("spawn the peer namespace");
    let pid = peer.id();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // master-0 (10.0.2.10) in another namespace; the peer holds a worker's and master-1's
    // addresses.
    let (ip, nft, nsenter, python) = (
        ip.display(),
        nft.display(),
        nsenter.display(),
        python.display(),
    );
    let d = dir.display();
    let probes = "10.0.2.20:22 10.0.2.20:6443 10.0.2.20:8443 10.0.2.20:2379 10.0.2.20:2380 10.0.2.20:10250 10.0.2.20:10257 10.0.2.11:22 10.0.2.11:2379 10.0.2.11:2380 10.0.2.11:10250 10.0.2.11:10257";
    let script = format!(
        "set -e
{ip} link set lo up
{ip} link add h0 type veth peer name p0 netns {pid}
{ip} addr add 10.0.2.10/24 dev h0
{ip} link set h0 up
{nsenter} -t {pid} -n sh -c '{ip} link set lo up && {ip} addr add 10.0.2.20/24 dev p0 && {ip} addr add 10.0.2.11/24 dev p0 && {ip} link set p0 up'
{nft} -f {d}/master-0.nft
{python} {d}/listen.py 22 2379 2380 6443 8443 10250 10257 > {d}/listen.log 2>&1 &
listener=$!
sleep 1
{nsenter} -t {pid} -n {python} {d}/probe.py 10.0.2.10 {probes}
kill $listener
"
    );
    let out = run(Command::new(&unshare).args(["-n", "sh", "-c", &script]));
    let _ = peer.kill();
    let _ = peer.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "10.0.2.20 22 open",
            "10.0.2.20 6443 open",
            "10.0.2.20 8443 open",
            "10.0.2.20 2379 closed",
            "10.0.2.20 2380 closed",
            "10.0.2.20 10250 closed",
            "10.0.2.20 10257 closed",
            "10.0.2.11 22 open",
            "10.0.2.11 2379 open",
            "10.0.2.11 2380 open",
            "10.0.2.11 10250 open",
            "10.0.2.11 10257 closed",
        ],
        "a worker reaches SSH and the API only; a control plane reaches etcd and the kubelet"
    );
}

/// apt-get update with the bundle's source and key only, in folders of `dir`.
fn apt_update(dir: &Path, source: &str, key: &[u8]) -> (bool, String) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let key_path = dir.join("hac-kubernetes.asc");
    std::fs::write(&key_path, key).expect("write key");
    let parts = dir.join("sources.list.d");
    let state = dir.join("state");
    let cache = dir.join("cache");
    for d in [
        parts.clone(),
        state.join("lists/partial"),
        cache.join("archives/partial"),
    ] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    let source = source.replace(&format!("/{APT_KEY}"), &key_path.display().to_string());
    std::fs::write(parts.join("hac-kubernetes.list"), source).expect("write source");
    let out = run(Command::new(tool("apt-get"))
        .arg("-o")
        .arg("Dir::Etc::sourcelist=/dev/null")
        .arg("-o")
        .arg(format!("Dir::Etc::sourceparts={}", parts.display()))
        .arg("-o")
        .arg(format!("Dir::State={}", state.display()))
        .arg("-o")
        .arg(format!("Dir::Cache={}", cache.display()))
        .args(["-o", "APT::Sandbox::User=root", "update"]));
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && !output.contains("W: ") && !output.contains("E: "),
        output,
    )
}

#[test]
fn apt_trusts_a_mirror_through_the_bundles_key_alone() {
    let gpg = tool("gpg");
    let tmp = scratch_dir("apt-mirror");
    let dir = tmp.path();
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).expect("mkdir");
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let gpg_run = |args: &[&str]| {
        let out = run(Command::new(&gpg)
            .env("GNUPGHOME", &home)
            .args(["--batch", "--yes", "--passphrase", ""])
            .args(args));
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    gpg_run(&[
        "--quick-gen-key",
        "hac mirror <mirror@example.internal>",
        "rsa2048",
        "sign",
        "never",
    ]);
    let key = String::from_utf8(gpg_run(&["--armor", "--export"])).expect("ascii key");
    // A flat repository laid out as pkgs.k8s.io's: Packages and a signed InRelease.
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    std::fs::write(repo.join("Packages"), "").expect("Packages");
    std::fs::write(
        repo.join("Release"),
        "Origin: hac-test\nLabel: hac-test\nDate: Thu, 01 Jan 2015 00:00:00 UTC\nSHA256:\n e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 Packages\n",
    )
    .expect("Release");
    let release = repo.join("Release").display().to_string();
    let inrelease = repo.join("InRelease").display().to_string();
    gpg_run(&["--clearsign", "-o", &inrelease, &release]);
    let _ = run(Command::new(tool("chmod")).args(["-R", "a+rX"]).arg(dir));

    let mut c = hac_model::samples::stacked_3();
    for n in &mut c.nodes {
        n.hosts.packages = PackageSource::Mirror;
        n.hosts.mirror = Some(format!("file://{}/", repo.display()));
        n.hosts.repository_key = Some(key.clone());
    }
    let bundle = render_with_real_ca(&c);
    let source = text(file(&bundle, "worker-0", APT_SOURCE).expect("source"));
    let bundled_key = &file(&bundle, "worker-0", APT_KEY).expect("key").contents;
    let (ok, output) = apt_update(&dir.join("with-mirror-key"), &source, bundled_key);
    assert!(
        ok,
        "apt refused the mirror signed by the bundled key:\n{output}\n{source}"
    );
    // The pinned pkgs.k8s.io key does not vouch for this repository: apt refuses it.
    let (ok, output) = apt_update(
        &dir.join("with-upstream-key"),
        &source,
        hac_model::KUBERNETES_RELEASE_KEY.as_bytes(),
    );
    assert!(
        !ok && output.contains("NO_PUBKEY"),
        "apt accepted a repository the key did not sign:\n{output}"
    );
}

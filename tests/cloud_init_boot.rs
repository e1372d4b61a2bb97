//! A cluster booted from its cloud-init user-data alone, as cloud-init does on blank hosts:
//! all nodes at once, nothing but the bootstrap scripts' own gates ordering them (issue 9,
//! item 5). Five nodes (three control planes that run external etcd as a unit, two
//! workers, the external load balancer's address a second address of master-0), each a
//! network namespace (see `e2e_support::netlab`) plus a mount namespace whose root is an
//! overlay of the machine's `/` (upper and work folders in a temporary folder) entered by
//! chroot, as `e2e_support::nodes` sets them up (tests/ansible_play.rs uses them too).
//!
//! Real: cloud-init's own code (the machine's Debian cloud-init, run by
//! tests/fixtures/cloud-init-boot/cloud-init-user.py inside each node): its
//! UserDataProcessor reads the user-data as it would be uploaded (`cloud-init/<node>.yaml.gz`
//! where hac wrote one, else `cloud-init/<node>.yaml`), then the `handle()` of
//! `write_files` (gz+b64 files included), `runcmd` (`util.shellify` into the instance's
//! scripts/runcmd) and `scripts_user` (`subp.runparts`, which raises when the script fails:
//! cloud-init's status "error"). Real too: bootstrap.sh and its gates, prepare.sh with
//! `apt-get update`/`install`, dpkg and `apt-mark hold` in each node's overlay root, apt's
//! signature check against the bundle's `repositoryKey`, `useradd`, `curl`, `gzip`, `tar`,
//! and etcd (3 members started from the rendered etcd.service, over mutual TLS: master-0's
//! gate waits for their quorum).
//!
//! Faked, because there is no internet: the packages' contents and the repository's
//! location, as `e2e_support::nodes` does for tests/ansible_play.rs too (a stand-in of
//! pkgs.k8s.io's flat repository, signed by a throwaway gpg key, at /opt/hac-test/repo in
//! each node, the cluster's `hosts.mirror`; the machine's apt sources hidden in each
//! overlay, its own Kubernetes packages purged there). The kubeadm package carries
//! tests/fixtures/e2e-nodes/fakes/kubeadm (it records the call with the time, writes
//! kubelet.conf and, on `init`, starts the fake apiserver: an HTTPS server answering
//! `/readyz` with the node's apiserver certificate, logging who it answered and when;
//! tests/k8s_control_plane.rs runs the real kubeadm); kubelet, kubectl and containerd carry
//! the answer-`--version` stubs of tests/fixtures/e2e-nodes/packages.
//!
//! Faked, because it cannot run in a namespace: `systemctl` (no systemd as PID 1: it
//! records calls with the time and starts etcd from its unit), `modprobe` and `sysctl` (the
//! kernel is the host's: recorded only), the scripts of tests/fixtures/e2e-nodes/fakes
//! installed in /usr/local/sbin of each node, which comes first in the PATH cloud-init's
//! service has. The operator's one step, copying `cloud-init/<node>-keys.tar.gz` to
//! /root/hac-keys.tar.gz, is done by the test, at a different moment per node so that each
//! gate has to wait: master-0's before boot; worker-0's 2 s after it says it waits for
//! them; master-1's once master-0 waits for etcd's quorum and worker-0 for the API;
//! master-2's 2 s after master-1's; worker-1's never (it runs with HAC_WAIT_TRIES=3).
//!
//! Asserted: every runcmd but worker-1's exits 0 (cloud-init's scripts_user succeeds);
//! every file of the node's archive in the bundle (hosts/<node>.tar.gz) is on the node with
//! the same bytes and mode, from write_files or the key archive (worker-1: none of its key
//! archive's); prepare installed kubelet, kubeadm and kubectl 1.31.4-1.1 from the stand-in
//! repository, before the wait for the keys and before the node's services and kubeadm
//! steps; a quorum of etcd members (two of three: what master-0's gate asks for; master-2's
//! keys come later, so its member may start after) started before `kubeadm init` on
//! master-0, each control plane's etcd before its own join; `kubeadm
//! init` once, before every `kubeadm join`; every joining node was answered 200 on /readyz
//! by the fake apiserver before it joined; each key archive was unpacked and deleted; the
//! waits bootstrap.sh prints ("hac: waiting for …", "…: ready") appear where the node had
//! to wait; worker-1 gives up after its 3 tries with exit code 1, says why, and joins
//! nothing. The machine's apt sources and packages are the same after the test as before.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod e2e_support;
use e2e_support::nodes::*;
use e2e_support::*;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NODES: [(&str, &str); 5] = [
    ("master-0", "10.78.0.11/24"),
    ("master-1", "10.78.0.12/24"),
    ("master-2", "10.78.0.13/24"),
    ("worker-0", "10.78.0.31/24"),
    ("worker-1", "10.78.0.32/24"),
];

/// The external load balancer's address (added to master-0, where the fake apiserver runs).
const LB_ADDRESS: &str = "10.78.0.100/24";
const API: &str = "https://10.78.0.100:6443/readyz";

/// The node whose key archive is never delivered: its runcmd must fail, bounded.
const UNDELIVERED: &str = "worker-1";

/// The PATH of cloud-init's systemd service (systemd's default); the fakes are in
/// /usr/local/sbin, ahead of the machine's tools.
const CLOUD_INIT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The lab: the fakes in /usr/local/sbin, first in cloud-init's PATH.
const SETUP: Setup = Setup {
    tag: "cb",
    nodes: &NODES,
    lb_address: LB_ADDRESS,
    path: CLOUD_INIT_PATH,
    fakes_in: "usr/local/sbin",
};

/// bootstrap.sh's waits: short tries, bounded.
const WAIT_SECONDS: &str = "2";
const WAIT_TRIES: &str = "60";

/// Where bootstrap.sh waits for the node's key archive (its default `HAC_KEYS_ARCHIVE`).
const KEYS_IN_NODE: &str = "root/hac-keys.tar.gz";

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn cluster(repository_key: &str) -> String {
    SETUP.cluster("tests/cloud_init_boot.rs", "boot", "", repository_key)
}

/// Blank hosts: the nodes (see `e2e_support::nodes`) with cloud-init's stand-in at
/// /opt/hac-test/cloud-init-user.py and no cloud-init state.
fn start_boot_nodes(tmp: &Path, repository: &Repository) -> Nodes {
    let nodes = start_nodes(tmp, &SETUP, repository);
    for node in &nodes.nodes {
        std::fs::copy(
            root().join("tests/fixtures/cloud-init-boot/cloud-init-user.py"),
            node.path("opt/hac-test/cloud-init-user.py"),
        )
        .unwrap();
        // A blank host: no cloud-init state of the machine's own boot, if it had one.
        if node.path("var/lib/cloud").exists() {
            std::fs::remove_dir_all(node.path("var/lib/cloud")).unwrap();
        }
        assert!(!node.path("etc/kubernetes/kubelet.conf").exists());
    }
    nodes
}

/// Builds the cluster with hac's default outputs (archives, Ansible, cloud-init with the
/// keys separate).
fn build(tmp: &Path, repository_key: &str) -> PathBuf {
    let dir = tmp.join("cluster");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("boot.ha");
    std::fs::write(&file, cluster(repository_key)).unwrap();
    std::fs::copy(example_secrets("external-etcd"), dir.join("boot.secrets")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("boot.secrets"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let out = tmp.join("bundle");
    let o = run(hac().arg("build").arg(&file).arg("-o").arg(&out).arg("-q"));
    assert!(o.status.success(), "hac build failed:\n{}", text(&o.stderr));
    out
}

/// The user-data of `node` as it is uploaded: the `.yaml.gz` where hac wrote one (the
/// `.yaml` beside it is the same content, readable), else the `.yaml`.
fn user_data(bundle: &Path, node: &str) -> PathBuf {
    let yaml = bundle.join(format!("cloud-init/{node}.yaml"));
    let gz = bundle.join(format!("cloud-init/{node}.yaml.gz"));
    assert!(yaml.is_file(), "no {}", yaml.display());
    if !gz.exists() {
        return yaml;
    }
    let o = run(Command::new("gzip").arg("-dc").arg(&gz));
    assert!(
        o.status.success(),
        "gzip -dc {}: {}",
        gz.display(),
        text(&o.stderr)
    );
    assert!(
        o.stdout == std::fs::read(&yaml).unwrap(),
        "{} is not the gzip of {}",
        gz.display(),
        yaml.display()
    );
    gz
}

/// The operator's step: the node's key archive copied to /root/hac-keys.tar.gz (copied
/// beside it first, then renamed: a whole file appears).
fn deliver_keys(bundle: &Path, node: &Node) -> f64 {
    let archive = bundle.join(format!("cloud-init/{}-keys.tar.gz", node.name));
    let partial = node.path("root/.hac-keys.tar.gz.part");
    std::fs::copy(&archive, &partial).unwrap();
    std::fs::rename(&partial, node.path(KEYS_IN_NODE)).unwrap();
    now()
}

#[test]
fn every_node_boots_from_its_user_data_alone_in_the_order_the_cluster_needs() {
    require_node_tools();
    require_tool("gzip");
    assert!(
        Path::new("/usr/lib/python3/dist-packages/cloudinit/config/cc_write_files.py").is_file(),
        "cloud-init is not installed: run scripts/install-test-deps.sh"
    );
    let started = Instant::now();
    let tmp = tempfile::Builder::new()
        .prefix("hac-cloud-init-boot")
        .tempdir()
        .unwrap();
    let t = tmp.path();
    let machine_before = machine_apt_state();
    let repository = build_repository(t);
    let bundle = build(t, &repository.key);
    let mut lab = start_boot_nodes(t, &repository);
    eprintln!("setup: {:.1}s", started.elapsed().as_secs_f64());

    // Each node's user-data where cloud-init keeps it; master-0's keys before boot.
    for n in &lab.nodes {
        let instance = n.path("var/lib/cloud/instance");
        for d in ["var/lib/cloud", "var/lib/cloud/instance"] {
            mkdir_0755(&n.path(d));
        }
        std::fs::copy(user_data(&bundle, n.name), instance.join("user-data.txt")).unwrap();
    }
    // master-1's image has /etc/kubernetes from an earlier tool, 0700 (what a `kubeadm …
    // --dry-run` leaves): its etcd member, which runs as its own user, must still reach its
    // keys (bootstrap.sh gives the folders kubeadm's 0755).
    {
        use std::os::unix::fs::PermissionsExt;
        let etc_kubernetes = lab.nodes[1].path("etc/kubernetes");
        std::fs::create_dir_all(&etc_kubernetes).unwrap();
        std::fs::set_permissions(&etc_kubernetes, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let mut delivered: BTreeMap<&str, f64> = BTreeMap::new();
    delivered.insert("master-0", deliver_keys(&bundle, &lab.nodes[0]));

    // Boot: every node's cloud-init at once.
    let boot = now();
    let boot_started = Instant::now();
    for i in 0..lab.nodes.len() {
        let (name, tries, seconds) = if lab.nodes[i].name == UNDELIVERED {
            (lab.nodes[i].name, "3", "1")
        } else {
            (lab.nodes[i].name, WAIT_TRIES, WAIT_SECONDS)
        };
        let argv = lab.nodes[i].argv(
            &[
                format!("HAC_WAIT_TRIES={tries}"),
                format!("HAC_WAIT_SECONDS={seconds}"),
            ],
            &["/usr/bin/python3", "/opt/hac-test/cloud-init-user.py"],
        );
        lab.lab.spawn(name, &format!("cloud-init-{name}"), &argv);
    }

    // The operator copies the other key archives, each at its moment (see the module
    // comment), while the nodes boot.
    let log = |lab: &Nodes, node: &str| lab.lab.log(&format!("cloud-init-{node}"));
    let waits_for_keys = "hac: waiting for this node's keys";
    let mut worker_waiting: Option<Instant> = None;
    let deadline = Instant::now() + Duration::from_secs(200);
    while delivered.len() < 4 {
        assert!(
            Instant::now() < deadline,
            "the nodes did not reach the gates the keys are delivered at (delivered: {delivered:?})\n{}",
            lab.lab.logs(30)
        );
        // No node ends before its keys came (it would have failed): fail fast then.
        for (name, _) in &NODES[..4] {
            if !delivered.contains_key(name) && !lab.lab.alive(&format!("cloud-init-{name}")) {
                panic!(
                    "cloud-init of {name} ended before its keys were delivered:\n{}",
                    lab.lab.logs(40)
                );
            }
        }
        let node = |name: &str| lab.nodes.iter().find(|n| n.name == name).unwrap();
        if !delivered.contains_key("worker-0") {
            if worker_waiting.is_none() && log(&lab, "worker-0").contains(waits_for_keys) {
                worker_waiting = Some(Instant::now());
            }
            if worker_waiting.is_some_and(|w| w.elapsed() >= Duration::from_secs(2)) {
                delivered.insert("worker-0", deliver_keys(&bundle, node("worker-0")));
            }
        }
        if !delivered.contains_key("master-1")
            && log(&lab, "master-0").contains("hac: waiting for etcd's quorum")
            && log(&lab, "worker-0").contains(&format!("hac: waiting for the API at {API}"))
            && log(&lab, "master-1").contains(waits_for_keys)
        {
            delivered.insert("master-1", deliver_keys(&bundle, node("master-1")));
        }
        if let Some(m1) = delivered.get("master-1").copied() {
            if !delivered.contains_key("master-2")
                && now() >= m1 + 2.0
                && log(&lab, "master-2").contains(waits_for_keys)
            {
                delivered.insert("master-2", deliver_keys(&bundle, node("master-2")));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    // Every node's cloud-init ends, bounded: HAC_WAIT_TRIES × HAC_WAIT_SECONDS per gate.
    let mut status = BTreeMap::new();
    for (name, _) in NODES {
        let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(60);
        let s = lab
            .lab
            .wait_exit(&format!("cloud-init-{name}"), left)
            .unwrap_or_else(|| panic!("cloud-init of {name} did not finish\n{}", lab.lab.logs(40)));
        status.insert(name, s.code());
    }
    eprintln!("boot: {:.1}s", boot_started.elapsed().as_secs_f64());
    let nodes = &lab.nodes;
    let apiserver = timed_lines(
        &std::fs::read_to_string(nodes[0].path("var/log/hac-test/apiserver.log"))
            .unwrap_or_default(),
    );
    // The timeline, for whoever reads the output.
    let mut timeline: Vec<(f64, String)> = Vec::new();
    for n in nodes {
        for (t, c) in n.calls() {
            if c.starts_with("kubeadm") || c.contains(" etcd") {
                timeline.push((t, format!("{}: {c}", n.name)));
            }
        }
    }
    for (name, t) in &delivered {
        timeline.push((*t, format!("{name}: key archive delivered")));
    }
    if let Some((t, _)) = apiserver.iter().find(|(_, l)| l.ends_with(" 200")) {
        timeline.push((
            *t,
            "master-0: the fake apiserver's first 200 on /readyz".into(),
        ));
    }
    timeline.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (t, what) in &timeline {
        eprintln!("  +{:6.2}s {what}", t - boot);
    }
    // What each node's cloud-init said about its waits.
    for (name, _) in NODES {
        for l in log(&lab, name).lines().filter(|l| {
            l.starts_with("hac: waiting")
                || l.ends_with(": ready")
                || l.starts_with("hac: gave up")
                || l.starts_with("hac: unpacked")
                || l.starts_with("hac prepare: packages: installing")
                || l.starts_with("cloud-init:")
        }) {
            eprintln!("  {name}: {l}");
        }
    }
    let all_logs = || {
        let mut s = String::new();
        for (name, _) in NODES {
            s.push_str(&format!("--- cloud-init of {name}\n{}\n", log(&lab, name)));
        }
        // The etcd members the stand-in systemctl started (their quorum gates master-0).
        for n in &lab.nodes {
            if let Ok(etcd) = std::fs::read_to_string(n.path("var/log/hac-test/etcd.log")) {
                let lines: Vec<&str> = etcd.lines().collect();
                let tail = lines[lines.len().saturating_sub(20)..].join("\n");
                s.push_str(&format!("--- etcd of {} (last 20 lines)\n{tail}\n", n.name));
            }
        }
        s
    };

    // Every etcd member started, joined and kept running (a member that cannot read its
    // keys exits at once, and the other two would still make a quorum). The last one may
    // publish itself a moment after the boot ended.
    let etcd_log =
        |n: &Node| std::fs::read_to_string(n.path("var/log/hac-test/etcd.log")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline
        && !lab.nodes[..3]
            .iter()
            .all(|n| etcd_log(n).contains("etcdserver: published"))
    {
        std::thread::sleep(Duration::from_millis(500));
    }
    for n in &lab.nodes[..3] {
        let etcd = etcd_log(n);
        assert!(
            etcd.contains("etcdserver: published") && !etcd.contains(" C | "),
            "{}: etcd did not join and keep running:\n{etcd}",
            n.name
        );
    }

    // cloud-init's scripts_user: done everywhere but where the keys never came.
    for (name, _) in NODES {
        let said = log(&lab, name);
        if name == UNDELIVERED {
            assert_eq!(status[name], Some(1), "{name}:\n{said}");
            assert!(
                said.contains("cloud-init: scripts_user failed"),
                "{name}:\n{said}"
            );
            assert!(
                said.contains(&format!("hac: gave up waiting for /{KEYS_IN_NODE} (copy cloud-init/{name}-keys.tar.gz of the bundle there) after 3 tries")),
                "{name}:\n{said}"
            );
        } else {
            assert_eq!(status[name], Some(0), "{name}:\n{}", all_logs());
            assert!(
                said.contains("cloud-init: scripts_user done"),
                "{name}:\n{said}"
            );
            assert!(!said.contains("cloud-init: WARNING"), "{name}:\n{said}");
        }
        assert!(!said.contains("PRIVATE KEY"), "{name}:\n{said}");
    }

    // write_files and the key archive: every file of the node's archive in the bundle
    // (hosts/<node>.tar.gz), same bytes and mode; on worker-1 none of its key archive's.
    for n in nodes {
        let expected = t.join("expected").join(n.name);
        std::fs::create_dir_all(&expected).unwrap();
        let o = run(Command::new("tar")
            .arg("-xzf")
            .arg(bundle.join(format!("hosts/{}.tar.gz", n.name)))
            .arg("-C")
            .arg(&expected));
        assert!(o.status.success(), "{}", text(&o.stderr));
        let o = run(Command::new("tar")
            .arg("-tzf")
            .arg(bundle.join(format!("cloud-init/{}-keys.tar.gz", n.name))));
        assert!(o.status.success(), "{}", text(&o.stderr));
        let private: Vec<String> = text(&o.stdout)
            .lines()
            .filter(|l| !l.ends_with('/'))
            .map(str::to_string)
            .collect();
        assert!(!private.is_empty(), "{}: an empty key archive", n.name);
        for file in files_under(&expected) {
            let inside = file.to_string_lossy().into_owned();
            let there = n.path(&inside);
            if n.name == UNDELIVERED && private.contains(&inside) {
                assert!(
                    !there.exists(),
                    "{}: /{inside} without its key archive",
                    n.name
                );
                continue;
            }
            let want = std::fs::read(expected.join(&file)).unwrap();
            let got =
                std::fs::read(&there).unwrap_or_else(|e| panic!("{}: /{inside}: {e}", n.name));
            assert!(
                got == want,
                "{}: /{inside} differs from the bundle's",
                n.name
            );
            let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o7777;
            assert_eq!(
                mode(&there),
                mode(&expected.join(&file)),
                "{}: mode of /{inside}",
                n.name
            );
        }
    }

    // prepare: the packages from the stand-in repository, before the node's services.
    for n in nodes {
        n.assert_k8s_packages();
        // prepare.sh ran apt (and needed no keys: it ran before the wait for them).
        let said = log(&lab, n.name);
        let installing = said
            .find("hac prepare: packages: installing")
            .unwrap_or_else(|| panic!("{}: prepare installed nothing:\n{said}", n.name));
        assert!(
            said.contains(&format!("Setting up kubeadm ({K8S_PACKAGE_VERSION})")),
            "{}:\n{said}",
            n.name
        );
        let keys = said
            .find("hac: unpacked this node's keys")
            .or_else(|| said.find(waits_for_keys))
            .unwrap_or_else(|| panic!("{}: no key archive step:\n{said}", n.name));
        assert!(installing < keys, "{}:\n{said}", n.name);
        let installed = n.mtime("var/lib/dpkg/info/kubeadm.list");
        let prepared = n
            .first_call("systemctl enable containerd")
            .unwrap_or_else(|| panic!("prepare did not enable containerd on {}", n.name));
        assert!(installed <= prepared, "{}", n.name);
        if n.name == UNDELIVERED {
            assert!(
                !n.calls().iter().any(|(_, c)| c.starts_with("kubeadm")),
                "{}: {:?}",
                n.name,
                n.calls()
            );
            continue;
        }
        let next = if n.name.starts_with("master-") {
            n.first_call("systemctl enable --now --no-block etcd")
                .unwrap_or_else(|| panic!("etcd was not started on {}", n.name))
        } else {
            n.first_call("kubeadm join").unwrap()
        };
        assert!(
            prepared < next && installed < next,
            "{}: services before prepare ended: {:?}",
            n.name,
            n.calls()
        );
    }

    // kubeadm: init once on master-0, after a quorum of etcd members started; every join
    // after it, after the node's own etcd, after the API answered that node.
    let init = nodes[0]
        .first_call("kubeadm init --config /etc/kubernetes/kubeadm-config.yaml")
        .unwrap_or_else(|| panic!("no kubeadm init on master-0:\n{}", all_logs()));
    let inits: usize = nodes
        .iter()
        .map(|n| {
            n.calls()
                .iter()
                .filter(|(_, c)| c.starts_with("kubeadm init"))
                .count()
        })
        .sum();
    assert_eq!(inits, 1, "kubeadm init ran {inits} times");
    let etcd_starts: Vec<f64> = nodes[..3]
        .iter()
        .map(|n| {
            n.first_call("systemctl enable --now --no-block etcd")
                .unwrap()
        })
        .collect();
    assert!(
        etcd_starts.iter().filter(|t| **t < init).count() >= 2,
        "kubeadm init ({init}) before a quorum of etcd members started ({etcd_starts:?})"
    );
    assert!(
        init > delivered["master-1"],
        "kubeadm init before the second etcd member had its keys"
    );
    for (i, n) in nodes[1..4].iter().enumerate() {
        let join = n
            .first_call("kubeadm join --config")
            .unwrap_or_else(|| panic!("no kubeadm join on {}:\n{}", n.name, all_logs()));
        assert!(init < join, "{} joined before kubeadm init", n.name);
        if n.name.starts_with("master-") {
            assert!(etcd_starts[i + 1] < join, "{}", n.name);
        }
        let address = NODES[i + 1].1.split('/').next().unwrap();
        let answered = apiserver
            .iter()
            .find(|(_, l)| l.starts_with(&format!("{address} /readyz")) && l.ends_with(" 200"))
            .unwrap_or_else(|| panic!("the API never answered {}: {apiserver:?}", n.name));
        assert!(
            answered.0 < join,
            "{} joined before the API answered it",
            n.name
        );
        assert!(
            log(&lab, n.name).contains(&format!("hac: the API at {API}: ready")),
            "{}",
            log(&lab, n.name)
        );
    }

    // The key archives: unpacked and deleted; the waits said so where a node waited.
    for n in nodes {
        let said = log(&lab, n.name);
        assert!(!n.path(KEYS_IN_NODE).exists(), "{}", n.name);
        assert_eq!(n.archives(&[]), Vec::<PathBuf>::new(), "{}", n.name);
        if n.name == UNDELIVERED {
            assert!(said.contains(&format!("{waits_for_keys} at /{KEYS_IN_NODE}: copy cloud-init/{}-keys.tar.gz of the bundle there (try 1 of 3)", n.name)), "{said}");
            continue;
        }
        assert!(
            said.contains(&format!(
                "hac: unpacked this node's keys from /{KEYS_IN_NODE} and deleted it"
            )),
            "{}:\n{said}",
            n.name
        );
        let waited = said.contains(&format!(
            "{waits_for_keys} at /{KEYS_IN_NODE}: copy cloud-init/{}-keys.tar.gz of the bundle there (try 1 of {WAIT_TRIES})",
            n.name
        ));
        assert_eq!(waited, n.name != "master-0", "{}:\n{said}", n.name);
    }
    let m0 = log(&lab, "master-0");
    assert!(
        m0.contains(&format!(
            "hac: waiting for etcd's quorum (try 1 of {WAIT_TRIES})"
        )) && m0.contains("hac: etcd's quorum: ready"),
        "{m0}"
    );
    let w0 = log(&lab, "worker-0");
    assert!(
        w0.contains(&format!(
            "hac: waiting for the API at {API} (try 1 of {WAIT_TRIES})"
        )),
        "{w0}"
    );

    assert_eq!(machine_apt_state(), machine_before);
    eprintln!("total: {:.1}s", started.elapsed().as_secs_f64());
}

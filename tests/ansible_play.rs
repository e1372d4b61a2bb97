//! The bundle's Ansible play (`ansible/site.yml`) run for real by `ansible-playbook` against
//! four nodes (three control planes that run etcd as a unit, one worker), each a network
//! namespace (see `e2e_support::netlab`) plus a mount namespace whose root is an overlay of
//! the machine's `/` (upper and work folders in a temporary folder) entered by chroot.
//! ansible-core ships no chroot connection, so the test brings one
//! (tests/fixtures/ansible-play/connection_plugins/hac_ns.py: `nsenter` into the node's
//! namespaces and root).
//!
//! Real: ansible-playbook and every module it runs on the nodes, bootstrap.sh, `useradd`,
//! `curl`, and etcd (3 members started from the rendered etcd.service, over mutual TLS: the
//! play's etcd gate waits for them). Faked, because it cannot run in a namespace, each a
//! script in tests/fixtures/ansible-play/fakes installed at /opt/hac-test/bin on the node:
//! `systemctl` (no systemd as PID 1: it records calls and starts etcd from its unit),
//! `modprobe` and `sysctl` (the kernel is the host's: recorded only), and `kubeadm` (it
//! records the call, writes kubelet.conf and, on `init`, starts an HTTPS server answering
//! `/readyz` with the node's apiserver certificate; tests/k8s_control_plane.rs runs the real
//! kubeadm). The external load balancer's address is a second address of master-0.
//! No package is installed by this play yet: the prepare phase (packages) is not wired in.
//!
//! Asserted: the first run (tree output) converges with failed=0 and the kubeadm steps in
//! order; a second run reports changed=0; `--check --diff` passes with changed=0; a changed
//! cluster (audit off, archive output) removes the file the masters lost; no archive is
//! ever left on a node nor its unpacked copy on the controller; pre-existing system
//! directories keep owner and mode, and their mtime unless the play added or removed an
//! entry in them; `--limit worker-0` touches worker-0 only.

mod e2e_support;
use e2e_support::netlab::*;
use e2e_support::*;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const NODES: [(&str, &str); 4] = [
    ("master-0", "10.77.0.11/24"),
    ("master-1", "10.77.0.12/24"),
    ("master-2", "10.77.0.13/24"),
    ("worker-0", "10.77.0.31/24"),
];

/// The external load balancer's address (added to master-0, where the fake apiserver runs).
const LB_ADDRESS: &str = "10.77.0.100/24";

fn cluster(audit: bool) -> String {
    let audit = if audit {
        "apiServer.audit = { policy = \"metadata\"; };"
    } else {
        ""
    };
    format!(
        r#"# Test-only cluster of tests/ansible_play.rs.
{{ lib, ... }}:
{{
  name = "play";
  kubernetesVersion = "1.31.4";
  epoch = "2026-01-01T00:00:00Z";
  controlPlane = {{
    loadBalancer = {{ kind = "external"; address = "10.77.0.100"; }};
    port = 6443;
    {audit}
  }};
  etcd = {{ topology = "external"; version = "3.4.23"; binary = "/usr/bin/etcd"; }};
  network.pods = "10.244.0.0/16";
  nodes =
    lib.nodes {{ prefix = "master"; count = 3; first = "10.77.0.11/24"; roles = [ "control-plane" "etcd" ]; }}
    // {{ worker-0 = {{ roles = [ "worker" ]; address = "10.77.0.31/24"; }}; }};
}}
"#
    )
}

/// System directories whose metadata the play must not change (those that exist).
const SYSTEM_DIRS: &[&str] = &[
    "",
    "etc",
    "etc/kubernetes",
    "etc/systemd",
    "etc/systemd/system",
    "etc/sysctl.d",
    "etc/modules-load.d",
    "root",
    "usr",
    "usr/local",
    "usr/local/bin",
    "usr/local/sbin",
    "var",
    "var/lib",
];

#[derive(Clone, Debug, PartialEq, Eq)]
struct DirMeta {
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: (i64, i64),
    entries: Vec<String>,
}

/// One node: its holder process (the namespaces and root) and its overlay's upper folder.
struct Node {
    name: &'static str,
    pid: u32,
    upper: PathBuf,
}

impl Node {
    /// A path inside the node's root, as the test (outside its namespaces) reaches it.
    fn path(&self, inside: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root/{inside}", self.pid))
    }

    fn dir_meta(&self, dir: &str) -> Option<DirMeta> {
        let p = self.path(dir);
        let m = std::fs::symlink_metadata(&p).ok()?;
        let mut entries: Vec<String> = std::fs::read_dir(&p)
            .ok()?
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        entries.sort();
        Some(DirMeta {
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode(),
            mtime: (m.mtime(), m.mtime_nsec()),
            entries,
        })
    }

    fn system_dirs(&self) -> BTreeMap<&'static str, DirMeta> {
        SYSTEM_DIRS
            .iter()
            .filter_map(|d| self.dir_meta(d).map(|m| (*d, m)))
            .collect()
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.path("var/log/hac-test/calls.log")).unwrap_or_default()
    }

    /// Files the node gained or changed (its overlay's upper folder) whose name looks like
    /// an archive.
    fn archives(&self) -> Vec<PathBuf> {
        files_under(&self.upper)
            .into_iter()
            .filter(|p| {
                let s = p.to_string_lossy();
                s.ends_with(".tar.gz") || s.ends_with(".tgz") || s.contains("hac-node")
            })
            .collect()
    }
}

/// The lab and the nodes; on drop every process left in a node's network namespace (etcd,
/// the fake apiserver) is killed before the lab removes the namespaces.
struct Nodes {
    lab: Lab,
    nodes: Vec<Node>,
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for (name, _) in NODES {
            let ns = self.lab.ns(name);
            if let Ok(o) = Command::new("ip").args(["netns", "pids", &ns]).output() {
                for pid in text(&o.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            }
        }
    }
}

/// The holder: a private mount namespace with the overlay root, /proc, /dev, /sys and a
/// fresh /run and /tmp, then `chroot` into it; it writes its PID first.
const HOLDER: &str = r#"set -e
d=$0
mount -t overlay overlay -o "lowerdir=/,upperdir=$d/upper,workdir=$d/work" "$d/root"
mount -t proc proc "$d/root/proc"
mount --rbind /dev "$d/root/dev"
mount --rbind /sys "$d/root/sys"
mount -t tmpfs -o mode=0755 tmpfs "$d/root/run"
mount -t tmpfs -o mode=1777 tmpfs "$d/root/tmp"
echo $$ >"$d/pid"
exec chroot "$d/root" sleep infinity
"#;

fn start_nodes(tmp: &Path) -> Nodes {
    let cidrs: Vec<(String, String)> = NODES
        .iter()
        .map(|(n, a)| (n.to_string(), a.to_string()))
        .collect();
    let hosts_file = format!(
        "127.0.0.1 localhost\n{}",
        NODES
            .iter()
            .map(|(n, a)| format!("{} {n}\n", a.split('/').next().unwrap()))
            .collect::<String>()
    );
    let mut lab = Lab::new("ap", tmp, &cidrs, &hosts_file);
    let master0 = lab.ns("master-0");
    let o =
        run(Command::new("ip").args(["-n", &master0, "addr", "add", LB_ADDRESS, "dev", "eth0"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let fixtures = root().join("tests/fixtures/ansible-play/fakes");
    let mut nodes = Vec::new();
    for (name, _) in NODES {
        let d = tmp.join("nodes").join(name);
        for sub in ["upper", "work", "root"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        lab.spawn(
            name,
            &format!("holder-{name}"),
            &[
                "unshare".into(),
                "--mount".into(),
                "--propagation".into(),
                "private".into(),
                "sh".into(),
                "-c".into(),
                HOLDER.into(),
                d.to_string_lossy().into_owned(),
            ],
        );
        let pid_file = d.join("pid");
        wait_until(&lab, Duration::from_secs(20), "node root", || {
            std::fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n'))
        });
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // chroot has run once /proc/PID/root is the overlay (its /opt/hac-test is ours).
        wait_until(&lab, Duration::from_secs(20), "chroot", || {
            std::fs::read_link(format!("/proc/{pid}/root")).is_ok_and(|r| r.ends_with("root"))
        });
        let node = Node {
            name,
            pid,
            upper: d.join("upper"),
        };
        // The fakes (see the module comment).
        let bin = node.path("opt/hac-test/bin");
        std::fs::create_dir_all(&bin).unwrap();
        for (from, to) in [
            ("systemctl", "systemctl"),
            ("kubeadm", "kubeadm"),
            ("record", "modprobe"),
            ("record", "sysctl"),
            ("fake-apiserver.py", "fake-apiserver.py"),
        ] {
            std::fs::copy(fixtures.join(from), bin.join(to)).unwrap();
        }
        // A system directory that exists before the play, with an owner, mode and mtime a
        // tar extraction would reset.
        let k8s = node.path("etc/kubernetes");
        std::fs::create_dir_all(&k8s).unwrap();
        let o = run(Command::new("sh")
            .arg("-c")
            .arg("chown 0:4 \"$0\" && chmod 0751 \"$0\" && touch -d 2020-01-01T00:00:00Z \"$0\"")
            .arg(&k8s));
        assert!(o.status.success(), "{}", text(&o.stderr));
        nodes.push(node);
    }
    Nodes { lab, nodes }
}

struct Recap {
    output: String,
    success: bool,
    /// host → (changed, failed, unreachable)
    hosts: BTreeMap<String, (u32, u32, u32)>,
}

fn playbook(tmp: &Path, bundle: &Path, nodes: &[Node], extra: &[&str]) -> Recap {
    let inventory = tmp.join("test-inventory.yml");
    let mut hosts = String::from("all:\n  hosts:\n");
    for n in nodes {
        // Per host, not under `all.vars`: the controller-side tasks run on the implicit
        // localhost, which reads `all`'s vars.
        hosts.push_str(&format!(
            "    {}:\n      ansible_connection: hac_ns\n      hac_ns_pid: {}\n      ansible_become: false\n      ansible_python_interpreter: /usr/bin/python3\n",
            n.name, n.pid
        ));
    }
    std::fs::write(&inventory, hosts).unwrap();
    let controller_tmp = tmp.join("controller-tmp");
    std::fs::create_dir_all(&controller_tmp).unwrap();
    let o = run(Command::new("ansible-playbook")
        .arg("-i")
        .arg(bundle.join("ansible/inventory.yml"))
        .arg("-i")
        .arg(&inventory)
        .arg(bundle.join("ansible/site.yml"))
        .args(["-e", "hac_gate_retries=24", "-e", "hac_gate_delay=5"])
        .args(extra)
        .env(
            "ANSIBLE_CONNECTION_PLUGINS",
            root().join("tests/fixtures/ansible-play/connection_plugins"),
        )
        .env("ANSIBLE_PIPELINING", "1")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_FORKS", "4")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_HOME", tmp.join("ansible-home"))
        .env("ANSIBLE_LOCAL_TEMP", tmp.join("ansible-home/tmp"))
        .env("TMPDIR", &controller_tmp));
    let output = format!("{}{}", text(&o.stdout), text(&o.stderr));
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(tmp.join("ansible.log"))
        .unwrap();
    use std::io::Write as _;
    writeln!(log, "=== {extra:?}\n{output}").unwrap();
    let mut hosts = BTreeMap::new();
    let recap = output.split("PLAY RECAP").nth(1).unwrap_or("");
    for line in recap.lines() {
        let Some((host, counts)) = line.split_once(" : ") else {
            continue;
        };
        let get = |key: &str| -> u32 {
            counts
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {key} in {line:?}"))
        };
        hosts.insert(
            host.trim().to_string(),
            (get("changed"), get("failed"), get("unreachable")),
        );
    }
    Recap {
        output,
        success: o.status.success(),
        hosts,
    }
}

fn assert_converged(recap: &Recap, what: &str) {
    assert!(
        recap.success,
        "{what}: ansible-playbook failed:\n{}",
        recap.output
    );
    for (name, _) in NODES {
        let (_, failed, unreachable) = recap
            .hosts
            .get(name)
            .unwrap_or_else(|| panic!("{what}: {name} not in the recap:\n{}", recap.output));
        assert_eq!(
            (*failed, *unreachable),
            (0, 0),
            "{what}: {name}\n{}",
            recap.output
        );
    }
}

fn assert_unchanged(recap: &Recap, what: &str) {
    assert_converged(recap, what);
    for (host, (changed, _, _)) in &recap.hosts {
        assert_eq!(
            *changed, 0,
            "{what}: {host} reports changes:\n{}",
            recap.output
        );
    }
}

/// Owner and mode of every pre-existing system directory unchanged; its mtime too unless
/// the set of its entries changed (the kernel's own rule: adding or removing an entry).
fn assert_dirs_kept(nodes: &[Node], before: &[BTreeMap<&str, DirMeta>], what: &str) {
    for (node, before) in nodes.iter().zip(before) {
        for (dir, old) in before {
            let new = node
                .dir_meta(dir)
                .unwrap_or_else(|| panic!("{what}: /{dir} vanished on {}", node.name));
            assert_eq!(
                (new.uid, new.gid, new.mode),
                (old.uid, old.gid, old.mode),
                "{what}: owner or mode of /{dir} changed on {}",
                node.name
            );
            if new.entries == old.entries {
                assert_eq!(
                    new.mtime, old.mtime,
                    "{what}: mtime of /{dir} changed on {} though no entry was added or removed",
                    node.name
                );
            }
        }
    }
}

fn assert_no_archive_left(nodes: &[Node], tmp: &Path, what: &str) {
    for n in nodes {
        assert_eq!(n.archives(), Vec::<PathBuf>::new(), "{what}: on {}", n.name);
    }
    let staging: Vec<_> = std::fs::read_dir(tmp.join("controller-tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|f| f.to_string_lossy().starts_with("hac-node-"))
        .collect();
    assert!(
        staging.is_empty(),
        "{what}: unpacked archives left on the controller: {staging:?}"
    );
}

#[test]
fn the_play_converges_is_idempotent_checkable_and_limited() {
    for tool in [
        "ansible-playbook",
        "ip",
        "unshare",
        "nsenter",
        "chroot",
        "etcd",
        "curl",
        "python3",
        "setpriv",
        "useradd",
    ] {
        require_tool(tool);
    }
    let tmp = tempfile::Builder::new()
        .prefix("hac-ansible-play")
        .tempdir()
        .unwrap();
    let t = tmp.path();
    let secrets = example_secrets("external-etcd");
    let mut bundles = Vec::new();
    for (version, audit, format) in [("v1", true, "tree"), ("v2", false, "tar")] {
        let dir = t.join(format!("cluster-{version}"));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("play.ha");
        std::fs::write(&file, cluster(audit)).unwrap();
        std::fs::copy(&secrets, dir.join("play.secrets")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.join("play.secrets"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let out = t.join(format!("bundle-{version}"));
        build_file(&file, &out, format);
        bundles.push(out);
    }
    let (v1, v2) = (&bundles[0], &bundles[1]);
    assert!(v1.join("hosts/master-0").is_dir() && v2.join("hosts/master-0.tar.gz").is_file());

    let lab = start_nodes(t);
    let nodes = &lab.nodes;
    let before: Vec<_> = nodes.iter().map(Node::system_dirs).collect();
    assert!(before.iter().all(|d| d.contains_key("etc/kubernetes")));

    // 1. A first run from the tree output converges.
    let first = playbook(t, v1, nodes, &[]);
    assert_converged(&first, "first run");
    assert!(
        first.hosts.values().all(|(changed, _, _)| *changed > 0),
        "first run changed nothing somewhere:\n{}",
        first.output
    );
    let calls: Vec<String> = nodes.iter().map(Node::calls).collect();
    assert!(calls[0].contains("kubeadm init --config /etc/kubernetes/kubeadm-config.yaml"));
    for c in &calls[1..] {
        assert!(c.contains("kubeadm join --config"), "{c}");
        assert!(!c.contains("kubeadm init"), "{c}");
    }
    for c in &calls[..3] {
        assert!(c.contains("systemctl enable --now --no-block etcd"), "{c}");
    }
    let gate = first
        .output
        .find("Wait until every etcd member reports health")
        .expect("the etcd gate ran");
    let init = first.output.find("Initialise the cluster").unwrap();
    let joins = first.output.find("Join the other control planes").unwrap();
    assert!(init < gate && gate < joins, "{}", first.output);
    assert!(
        nodes[0].path("etc/kubernetes/audit-policy.yaml").is_file(),
        "v1 installs the audit policy"
    );
    for n in nodes {
        let bootstrap = std::fs::metadata(n.path("etc/hac/bootstrap.sh")).unwrap();
        assert_eq!(bootstrap.mode() & 0o7777, 0o755, "{}", n.name);
        let key = n.path("etc/kubernetes/pki/ca.key");
        if key.exists() {
            assert_eq!(std::fs::metadata(&key).unwrap().mode() & 0o7777, 0o600);
        }
    }
    assert_no_archive_left(nodes, t, "first run");
    assert_dirs_kept(nodes, &before, "first run");
    // Key material is never shown.
    assert!(!first.output.contains("PRIVATE KEY"), "{}", first.output);

    // 2. A second run changes nothing, not even a directory's mtime.
    let after_first: Vec<_> = nodes.iter().map(Node::system_dirs).collect();
    let second = playbook(t, v1, nodes, &[]);
    assert_unchanged(&second, "second run");
    for (n, dirs) in nodes.iter().zip(&after_first) {
        assert_eq!(&n.system_dirs(), dirs, "second run on {}", n.name);
    }

    // 3. --check --diff passes and finds nothing to do.
    let check = playbook(t, v1, nodes, &["--check", "--diff"]);
    assert_unchanged(&check, "--check --diff");
    assert!(!check.output.contains("PRIVATE KEY"), "{}", check.output);

    // 4. A changed cluster from the archive output: audit off, the masters lose the
    //    policy file.
    let third = playbook(t, v2, nodes, &[]);
    assert_converged(&third, "v2 run");
    for n in &nodes[..3] {
        assert!(
            !n.path("etc/kubernetes/audit-policy.yaml").exists(),
            "the dropped audit policy is still on {}",
            n.name
        );
    }
    assert_no_archive_left(nodes, t, "v2 run");
    assert_dirs_kept(nodes, &before, "v2 run");
    let again = playbook(t, v2, nodes, &[]);
    assert_unchanged(&again, "second v2 run");

    // 5. --limit worker-0 does worker-0's part only.
    for n in [&nodes[0], &nodes[3]] {
        std::fs::remove_file(n.path("etc/hac/bootstrap.sh")).unwrap();
    }
    let limited = playbook(t, v2, nodes, &["--limit", "worker-0"]);
    assert!(limited.success, "{}", limited.output);
    assert_eq!(
        limited.hosts.keys().collect::<Vec<_>>(),
        vec!["worker-0"],
        "{}",
        limited.output
    );
    assert!(limited.hosts["worker-0"].0 > 0, "{}", limited.output);
    assert!(nodes[3].path("etc/hac/bootstrap.sh").is_file());
    assert!(
        !nodes[0].path("etc/hac/bootstrap.sh").exists(),
        "--limit worker-0 touched master-0"
    );
}

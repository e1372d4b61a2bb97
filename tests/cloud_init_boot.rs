//! A cluster booted from its cloud-init user-data alone, as cloud-init does on blank hosts:
//! all nodes at once, nothing but the bootstrap scripts' own gates ordering them (issue 9,
//! item 5). Five nodes (three control planes that run external etcd as a unit, two
//! workers, the external load balancer's address a second address of master-0), each a
//! network namespace (see `e2e_support::netlab`) plus a mount namespace whose root is an
//! overlay of the machine's `/` (upper and work folders in a temporary folder) entered by
//! chroot, as in tests/ansible_play.rs.
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
//! location, as in tests/ansible_play.rs (a stand-in of pkgs.k8s.io's flat repository,
//! signed by a throwaway gpg key, at /opt/hac-test/repo in each node, the cluster's
//! `hosts.mirror`; the machine's apt sources hidden in each overlay, its own Kubernetes
//! packages purged there). The kubeadm package carries
//! tests/fixtures/cloud-init-boot/fakes/kubeadm (it records the call with the time, writes
//! kubelet.conf and, on `init`, starts the fake apiserver: an HTTPS server answering
//! `/readyz` with the node's apiserver certificate, logging who it answered and when;
//! tests/k8s_control_plane.rs runs the real kubeadm); kubelet, kubectl and containerd carry
//! the answer-`--version` stubs of tests/fixtures/cloud-init-boot/packages.
//!
//! Faked, because it cannot run in a namespace: `systemctl` (no systemd as PID 1: it records
//! calls with the time and starts etcd from its unit), `modprobe` and `sysctl` (the kernel
//! is the host's: recorded only), installed in /usr/local/sbin of each node, which comes
//! first in the PATH cloud-init's service has. The operator's one step, copying
//! `cloud-init/<node>-keys.tar.gz` to /root/hac-keys.tar.gz, is done by the test, at a
//! different moment per node so that each gate has to wait: master-0's before boot;
//! worker-0's 2 s after it says it waits for them; master-1's once master-0 waits for
//! etcd's quorum and worker-0 for the API; master-2's 2 s after master-1's; worker-1's
//! never (it runs with HAC_WAIT_TRIES=3).
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

mod e2e_support;
use e2e_support::netlab::*;
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

/// The Kubernetes packages prepare.sh installs on every node, and their version in the
/// stand-in repository (pkgs.k8s.io's for Kubernetes 1.31.4).
const K8S_PACKAGES: [&str; 3] = ["kubeadm", "kubectl", "kubelet"];
const K8S_PACKAGE_VERSION: &str = "1.31.4-1.1";

/// Where each node holds the stand-in repository (the cluster's `hosts.mirror`).
const REPO_IN_NODE: &str = "opt/hac-test/repo";

/// The PATH of cloud-init's systemd service (systemd's default); the fakes are in
/// /usr/local/sbin, ahead of the machine's tools.
const CLOUD_INIT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// bootstrap.sh's waits: short tries, bounded.
const WAIT_SECONDS: &str = "2";
const WAIT_TRIES: &str = "60";

/// Where bootstrap.sh waits for the node's key archive (its default `HAC_KEYS_ARCHIVE`).
const KEYS_IN_NODE: &str = "root/hac-keys.tar.gz";

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/cloud-init-boot")
}

/// The version of `package` installed on the machine, if any.
fn installed_version(package: &str) -> Option<String> {
    let o = run(Command::new("dpkg-query")
        .args(["-W", "-f", "${Status} ${Version}"])
        .arg(package));
    parse_installed(&text(&o.stdout))
}

/// `dpkg-query -W -f '${Status} ${Version}'` → the version, when installed (or held).
fn parse_installed(status: &str) -> Option<String> {
    let status = status.trim();
    ["install ok installed ", "hold ok installed "]
        .iter()
        .find_map(|p| status.strip_prefix(p))
        .map(str::to_string)
}

fn mkdir_0755(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn sha256sum(file: &Path) -> String {
    let o = run(Command::new("sha256sum").arg(file));
    assert!(o.status.success(), "sha256sum: {}", text(&o.stderr));
    text(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The stand-in Kubernetes package repository (see the module comment).
struct Repository {
    dir: PathBuf,
    /// The armored public key its InRelease is signed with (the cluster's `repositoryKey`).
    key: String,
}

/// Builds the stand-in repository under `tmp/repo` (as tests/ansible_play.rs does): a flat
/// apt repository as pkgs.k8s.io's with `Packages`, `Release` and an `InRelease`
/// clearsigned by a throwaway gpg key.
fn build_repository(tmp: &Path) -> Repository {
    let stubs = fixtures().join("packages");
    // (name, version, the file it installs as /usr/bin/<name>)
    let mut packages: Vec<(&'static str, &str, Option<PathBuf>)> = vec![
        ("kubelet", K8S_PACKAGE_VERSION, Some(stubs.join("kubelet"))),
        (
            "kubeadm",
            K8S_PACKAGE_VERSION,
            Some(fixtures().join("fakes/kubeadm")),
        ),
        ("kubectl", K8S_PACKAGE_VERSION, Some(stubs.join("kubectl"))),
    ];
    if installed_version("containerd").is_none() {
        packages.push((
            "containerd",
            "1.6.20~ds1-1+hactest1",
            Some(stubs.join("containerd")),
        ));
    }
    if installed_version("etcd-server").is_none() {
        // Empty: the machine's etcd (the test requires one) is what the nodes run.
        packages.push(("etcd-server", "3.4.23-4+hactest1", None));
    }
    let dir = tmp.join("repo");
    mkdir_0755(&dir);
    let mut index = String::new();
    for (name, version, content) in &packages {
        let tree = tmp.join("debs").join(name);
        mkdir_0755(&tree.join("DEBIAN"));
        let control = format!(
            "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: hac tests <tests@hac.invalid>\nSection: admin\nPriority: optional\nDescription: test stand-in for {name} (tests/cloud_init_boot.rs)\n"
        );
        std::fs::write(tree.join("DEBIAN/control"), &control).unwrap();
        if let Some(src) = content {
            let bin = tree.join("usr/bin");
            for d in ["usr", "usr/bin"] {
                mkdir_0755(&tree.join(d));
            }
            std::fs::copy(src, bin.join(name)).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        let deb = format!("{name}_{version}_all.deb");
        let o = run(Command::new("dpkg-deb")
            .args(["--root-owner-group", "--build"])
            .arg(&tree)
            .arg(dir.join(&deb)));
        assert!(o.status.success(), "dpkg-deb {name}: {}", text(&o.stderr));
        let size = std::fs::metadata(dir.join(&deb)).unwrap().len();
        let sha = sha256sum(&dir.join(&deb));
        index.push_str(&format!(
            "{control}Filename: {deb}\nSize: {size}\nSHA256: {sha}\n\n"
        ));
    }
    std::fs::write(dir.join("Packages"), &index).unwrap();
    let size = index.len();
    let sha = sha256sum(&dir.join("Packages"));
    std::fs::write(
        dir.join("Release"),
        format!("Origin: hac-test\nLabel: hac-test\nDate: Thu, 01 Jan 2015 00:00:00 UTC\nSHA256:\n {sha} {size} Packages\n"),
    )
    .unwrap();
    // A throwaway key; its agent is stopped once InRelease is signed.
    let home = tmp.join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let gpg = |args: &[&str]| -> Vec<u8> {
        let o = run(Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args(["--batch", "--yes", "--passphrase", ""])
            .args(args));
        assert!(o.status.success(), "gpg {args:?}: {}", text(&o.stderr));
        o.stdout
    };
    gpg(&[
        "--quick-gen-key",
        "hac test repository <repository@hac.invalid>",
        "rsa2048",
        "sign",
        "never",
    ]);
    let key = String::from_utf8(gpg(&["--armor", "--export"])).unwrap();
    let release = dir.join("Release").to_string_lossy().into_owned();
    let inrelease = dir.join("InRelease").to_string_lossy().into_owned();
    gpg(&["--clearsign", "-o", &inrelease, &release]);
    let _ = run(Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "all"]));
    assert!(key.contains("BEGIN PGP PUBLIC KEY BLOCK"), "{key}");
    Repository { dir, key }
}

/// What of the machine's apt configuration and packages the test changes in the nodes'
/// overlays (sources hidden, Kubernetes packages purged): the machine's own must be the
/// same after the test as before.
fn machine_apt_state() -> (Vec<String>, Option<Vec<u8>>, Vec<Option<String>>) {
    let mut sources: Vec<String> = std::fs::read_dir("/etc/apt/sources.list.d")
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    sources.sort();
    let list = std::fs::read("/etc/apt/sources.list").ok();
    let packages = K8S_PACKAGES.iter().map(|p| installed_version(p)).collect();
    (sources, list, packages)
}

fn cluster(repository_key: &str) -> String {
    // A Nix string: the armored key (base64, no quote, backslash or `$`) with its newlines
    // escaped.
    let key = repository_key.replace('\n', "\\n");
    format!(
        r#"# Test-only cluster of tests/cloud_init_boot.rs.
{{ lib, ... }}:
{{
  name = "boot";
  kubernetesVersion = "1.31.4";
  epoch = "2026-01-01T00:00:00Z";
  controlPlane = {{
    loadBalancer = {{ kind = "external"; address = "10.78.0.100"; }};
    port = 6443;
  }};
  etcd = {{ topology = "external"; version = "3.4.23"; binary = "/usr/bin/etcd"; }};
  network.pods = "10.244.0.0/16";
  hosts = {{ packages = "mirror"; mirror = "file:///{REPO_IN_NODE}/"; repositoryKey = "{key}"; }};
  nodes =
    lib.nodes {{ prefix = "master"; count = 3; first = "10.78.0.11/24"; roles = [ "control-plane" "etcd" ]; }}
    // {{ worker-0 = {{ roles = [ "worker" ]; address = "10.78.0.31/24"; }}; }}
    // {{ worker-1 = {{ roles = [ "worker" ]; address = "10.78.0.32/24"; }}; }};
}}
"#
    )
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

    /// `argv` in the node (its namespaces and root), with the environment cloud-init's
    /// service gives its modules plus `env`.
    fn argv(&self, env: &[String], argv: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = [
            "nsenter",
            "--target",
            &self.pid.to_string(),
            "--net",
            "--mount",
            "--uts",
            "--root",
            "--wd=/",
            "env",
            "-i",
            &format!("PATH={CLOUD_INIT_PATH}"),
            "LANG=C.UTF-8",
            "HOME=/root",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(env.iter().cloned());
        v.extend(argv.iter().map(|s| s.to_string()));
        v
    }

    /// Runs `argv` in the node to its end.
    fn exec(&self, argv: &[&str]) -> std::process::Output {
        let v = self.argv(&[], argv);
        run(Command::new(&v[0]).args(&v[1..]))
    }

    /// The version of `package` installed in the node, if any.
    fn package(&self, package: &str) -> Option<String> {
        let o = self.exec(&["dpkg-query", "-W", "-f", "${Status} ${Version}", package]);
        parse_installed(&text(&o.stdout))
    }

    /// The fakes' calls, "<epoch seconds> <command line>" each.
    fn calls(&self) -> Vec<(f64, String)> {
        timed_lines(
            &std::fs::read_to_string(self.path("var/log/hac-test/calls.log")).unwrap_or_default(),
        )
    }

    /// The time of the first call that starts with `prefix`.
    fn first_call(&self, prefix: &str) -> Option<f64> {
        self.calls()
            .into_iter()
            .find(|(_, c)| c.starts_with(prefix))
            .map(|(t, _)| t)
    }

    /// Files the node gained or changed (its overlay's upper folder) whose name looks like
    /// an archive.
    fn archives(&self) -> Vec<PathBuf> {
        files_under(&self.upper)
            .into_iter()
            .filter(|p| {
                let s = p.to_string_lossy();
                s.ends_with(".tar.gz") || s.ends_with(".tgz")
            })
            .collect()
    }

    fn mtime(&self, inside: &str) -> f64 {
        let m = std::fs::metadata(self.path(inside))
            .unwrap_or_else(|e| panic!("{inside} on {}: {e}", self.name));
        m.mtime() as f64 + m.mtime_nsec() as f64 / 1e9
    }
}

/// "<epoch seconds> <rest>" lines; other lines are skipped.
fn timed_lines(log: &str) -> Vec<(f64, String)> {
    log.lines()
        .filter_map(|l| {
            let (t, rest) = l.split_once(' ')?;
            Some((t.parse().ok()?, rest.to_string()))
        })
        .collect()
}

/// The lab and the nodes; on drop every process left in a node's network namespace (etcd,
/// the fake apiserver, a runcmd still running) is killed before the lab removes the
/// namespaces.
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

/// Blank hosts: the nodes' namespaces and roots, with the fakes, the stand-in repository,
/// the machine's apt sources hidden and its Kubernetes packages purged, no cloud-init state.
fn start_nodes(tmp: &Path, repository: &Repository) -> Nodes {
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
    let mut lab = Lab::new("cb", tmp, &cidrs, &hosts_file);
    let master0 = lab.ns("master-0");
    let o =
        run(Command::new("ip").args(["-n", &master0, "addr", "add", LB_ADDRESS, "dev", "eth0"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let fakes = fixtures().join("fakes");
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
        // chroot has run once /proc/PID/root is the overlay.
        wait_until(&lab, Duration::from_secs(20), "chroot", || {
            std::fs::read_link(format!("/proc/{pid}/root")).is_ok_and(|r| r.ends_with("root"))
        });
        let node = Node {
            name,
            pid,
            upper: d.join("upper"),
        };
        // The fakes (see the module comment); kubeadm comes from the stand-in package.
        let sbin = node.path("usr/local/sbin");
        std::fs::create_dir_all(&sbin).unwrap();
        for (from, to) in [
            ("systemctl", "systemctl"),
            ("record", "modprobe"),
            ("record", "sysctl"),
        ] {
            std::fs::copy(fakes.join(from), sbin.join(to)).unwrap();
        }
        let test_dir = node.path("opt/hac-test");
        mkdir_0755(&test_dir);
        std::fs::copy(
            fakes.join("fake-apiserver.py"),
            test_dir.join("fake-apiserver.py"),
        )
        .unwrap();
        std::fs::copy(
            fixtures().join("cloud-init-user.py"),
            test_dir.join("cloud-init-user.py"),
        )
        .unwrap();
        // The stand-in repository, at the cluster's `hosts.mirror`.
        let repo = node.path(REPO_IN_NODE);
        mkdir_0755(&repo);
        for entry in std::fs::read_dir(&repository.dir).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), repo.join(entry.file_name())).unwrap();
        }
        // The machine's apt sources cannot be reached from the node: hidden in its overlay
        // (whiteouts; the machine's files stay).
        if let Ok(dir) = std::fs::read_dir(node.path("etc/apt/sources.list.d")) {
            for entry in dir {
                std::fs::remove_file(entry.unwrap().path()).unwrap();
            }
        }
        if node.path("etc/apt/sources.list").exists() {
            std::fs::write(node.path("etc/apt/sources.list"), "").unwrap();
        }
        // A blank host: no cloud-init state of the machine's own boot, if it had one.
        if node.path("var/lib/cloud").exists() {
            std::fs::remove_dir_all(node.path("var/lib/cloud")).unwrap();
        }
        // A host without Kubernetes packages: the machine's own (another release, such as
        // Google Cloud SDK's kubectl) are purged in the overlay.
        for package in K8S_PACKAGES {
            if node.package(package).is_some() {
                let o = node.exec(&["dpkg", "--purge", package]);
                assert!(
                    o.status.success(),
                    "purging the machine's {package} in {name}: {}{}",
                    text(&o.stdout),
                    text(&o.stderr)
                );
            }
            assert_eq!(node.package(package), None, "{package} on {name}");
        }
        assert!(!node.path("etc/kubernetes/kubelet.conf").exists());
        nodes.push(node);
    }
    Nodes { lab, nodes }
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
    for tool in [
        "ip",
        "unshare",
        "nsenter",
        "chroot",
        "etcd",
        "curl",
        "setpriv",
        "useradd",
        "apt-get",
        "dpkg-deb",
        "dpkg-query",
        "gpg",
        "gpgconf",
        "gzip",
        "sha256sum",
    ] {
        require_tool(tool);
    }
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
    let mut lab = start_nodes(t, &repository);
    eprintln!("setup: {:.1}s", started.elapsed().as_secs_f64());

    // Each node's user-data where cloud-init keeps it; master-0's keys before boot.
    for n in &lab.nodes {
        let instance = n.path("var/lib/cloud/instance");
        for d in ["var/lib/cloud", "var/lib/cloud/instance"] {
            mkdir_0755(&n.path(d));
        }
        std::fs::copy(user_data(&bundle, n.name), instance.join("user-data.txt")).unwrap();
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
        s
    };

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
        for package in K8S_PACKAGES {
            assert_eq!(
                n.package(package).as_deref(),
                Some(K8S_PACKAGE_VERSION),
                "{package} on {}",
                n.name
            );
        }
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
        assert_eq!(n.archives(), Vec::<PathBuf>::new(), "{}", n.name);
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

//! Test nodes that install packages, shared by tests/ansible_play.rs and
//! tests/cloud_init_boot.rs: each node is a network namespace (see `netlab`) plus a mount
//! namespace whose root is an overlay of the machine's `/` (upper and work folders in a
//! temporary folder) entered by chroot, held by a process the test reaches by PID.
//!
//! Faked, because there is no internet: the packages' contents and the repository's
//! location. `build_repository` builds a stand-in of pkgs.k8s.io's flat repository
//! (`dpkg-deb --build`, a `Packages` index, an `InRelease` clearsigned by a throwaway gpg
//! key) holding kubelet, kubeadm and kubectl 1.31.4-1.1, plus a stand-in of each
//! distribution package prepare.sh installs that the machine lacks (containerd,
//! etcd-server); `start_nodes` copies it to /opt/hac-test/repo on each node, the
//! `hosts.mirror` of the cluster `Setup::cluster` writes. The machine's own apt sources
//! cannot be reached from the namespaces, so each node's overlay hides them
//! (/etc/apt/sources.list.d emptied, sources.list blanked: whiteouts, the machine's files
//! are untouched), and the machine's own kubelet, kubeadm or kubectl package, if any (e.g.
//! Google Cloud SDK's kubectl 1:528), is purged in the overlay first: prepare.sh rightly
//! refuses a kubectl of another release. The kubeadm package carries
//! tests/fixtures/e2e-nodes/fakes/kubeadm as /usr/bin/kubeadm (it records the call with the
//! time, writes kubelet.conf and, on `init`, starts the fake apiserver,
//! /opt/hac-test/fake-apiserver.py: an HTTPS server answering `/readyz` with the node's
//! apiserver certificate, logging who it answered and when; tests/k8s_control_plane.rs runs
//! the real kubeadm); kubelet, kubectl and containerd carry the answer-`--version` stubs of
//! tests/fixtures/e2e-nodes/packages.
//!
//! Faked, because it cannot run in a namespace, each a script in
//! tests/fixtures/e2e-nodes/fakes installed in a folder of the node's PATH that the test
//! chooses (`Setup::fakes_in`): `systemctl` (no systemd as PID 1: it records calls with the
//! time, starts etcd from its unit, marks other units active, remembers `enable` and `mask`
//! for `is-enabled`, lists no swap unit), `modprobe` and `sysctl` (the kernel is the host's:
//! recorded only, with the time). The external load balancer's address is a second address
//! of master-0.
//!
//! When `Nodes` is dropped, also when the test fails, every process left in a node's
//! network namespace (etcd, the fake apiserver, whatever else the test started there) is
//! killed before the lab removes the namespaces.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

use super::netlab::*;
use super::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The Kubernetes packages prepare.sh installs on every node (all run a kubelet), and their
/// version in the stand-in repository (pkgs.k8s.io's for Kubernetes 1.31.4).
pub const K8S_PACKAGES: [&str; 3] = ["kubeadm", "kubectl", "kubelet"];
pub const K8S_PACKAGE_VERSION: &str = "1.31.4-1.1";

/// Where each node holds the stand-in repository (the cluster's `hosts.mirror`).
pub const REPO_IN_NODE: &str = "opt/hac-test/repo";

/// The shared fixtures: the packages' contents and the fakes.
pub fn fixtures() -> PathBuf {
    root().join("tests/fixtures/e2e-nodes")
}

/// What differs between the tests' labs.
pub struct Setup {
    /// The lab's tag (see `Lab::new`): short, and distinct per test.
    pub tag: &'static str,
    /// (name, address/prefix) of every node; one of them is master-0.
    pub nodes: &'static [(&'static str, &'static str)],
    /// The external load balancer's address, added to master-0.
    pub lb_address: &'static str,
    /// The PATH of the commands run in a node (`Node::exec`).
    pub path: &'static str,
    /// The folder of each node (relative to its root, in `path` before the machine's
    /// tools) the command fakes are installed in.
    pub fakes_in: &'static str,
}

impl Setup {
    /// The test's cluster (hac's language): the masters of `nodes` (control planes that run
    /// the machine's etcd 3.4.23 as a unit), its workers, the external load balancer at
    /// `lb_address`, and the stand-in repository signed by `repository_key` as
    /// `hosts.mirror`. `control_plane` is added to `controlPlane` as it is (whole lines).
    pub fn cluster(
        &self,
        test: &str,
        name: &str,
        control_plane: &str,
        repository_key: &str,
    ) -> String {
        let masters: Vec<_> = self
            .nodes
            .iter()
            .filter(|(n, _)| n.starts_with("master-"))
            .collect();
        let lb = self.lb_address.split('/').next().unwrap();
        let (count, first) = (masters.len(), masters[0].1);
        let workers: Vec<String> = self
            .nodes
            .iter()
            .filter(|(n, _)| n.starts_with("worker-"))
            .map(|(n, a)| {
                format!("\n    // {{ {n} = {{ roles = [ \"worker\" ]; address = \"{a}\"; }}; }}")
            })
            .collect();
        let workers = workers.concat();
        // A Nix string: the armored key (base64, no quote, backslash or `$`) with its
        // newlines escaped.
        let key = repository_key.replace('\n', "\\n");
        format!(
            r#"# Test-only cluster of {test}.
{{ lib, ... }}:
{{
  name = "{name}";
  kubernetesVersion = "1.31.4";
  epoch = "2026-01-01T00:00:00Z";
  controlPlane = {{
    loadBalancer = {{ kind = "external"; address = "{lb}"; }};
    port = 6443;
{control_plane}  }};
  etcd = {{ topology = "external"; version = "3.4.23"; binary = "/usr/bin/etcd"; }};
  network.pods = "10.244.0.0/16";
  hosts = {{ packages = "mirror"; mirror = "file:///{REPO_IN_NODE}/"; repositoryKey = "{key}"; }};
  nodes =
    lib.nodes {{ prefix = "master"; count = {count}; first = "{first}"; roles = [ "control-plane" "etcd" ]; }}{workers};
}}
"#
        )
    }
}

/// Fails loudly when a tool the nodes need (`build_repository`, `start_nodes`, and what
/// prepare.sh and etcd's unit run in them) is missing.
pub fn require_node_tools() {
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
        "sha256sum",
    ] {
        require_tool(tool);
    }
}

/// The version of `package` installed on the machine, if any.
pub fn installed_version(package: &str) -> Option<String> {
    let o = run(Command::new("dpkg-query")
        .args(["-W", "-f", "${Status} ${Version}"])
        .arg(package));
    parse_installed(&text(&o.stdout))
}

/// `dpkg-query -W -f '${Status} ${Version}'` → the version, when installed (or held).
pub fn parse_installed(status: &str) -> Option<String> {
    let status = status.trim();
    ["install ok installed ", "hold ok installed "]
        .iter()
        .find_map(|p| status.strip_prefix(p))
        .map(str::to_string)
}

pub fn mkdir_0755(dir: &Path) {
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

/// "<epoch seconds> <rest>" lines (the fakes' calls, the fake apiserver's answers); other
/// lines are skipped.
pub fn timed_lines(log: &str) -> Vec<(f64, String)> {
    log.lines()
        .filter_map(|l| {
            let (t, rest) = l.split_once(' ')?;
            Some((t.parse().ok()?, rest.to_string()))
        })
        .collect()
}

/// The stand-in Kubernetes package repository (see the module comment).
pub struct Repository {
    pub dir: PathBuf,
    /// The armored public key its InRelease is signed with (the cluster's `repositoryKey`).
    pub key: String,
    /// The distribution packages prepare.sh installs that the machine lacks, which the
    /// repository stands in for (containerd on every node, etcd-server on the masters).
    pub stand_ins: Vec<&'static str>,
}

/// Builds the stand-in repository under `tmp/repo`: a flat apt repository as pkgs.k8s.io's
/// (`deb [signed-by=…] file:///opt/hac-test/repo/ /`) with `Packages`, `Release` and an
/// `InRelease` clearsigned by a throwaway gpg key.
pub fn build_repository(tmp: &Path) -> Repository {
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
    let mut stand_ins = Vec::new();
    if installed_version("containerd").is_none() {
        packages.push((
            "containerd",
            "1.6.20~ds1-1+hactest1",
            Some(stubs.join("containerd")),
        ));
        stand_ins.push("containerd");
    }
    if installed_version("etcd-server").is_none() {
        // Empty: the machine's etcd (the tests require one) is what the nodes run.
        packages.push(("etcd-server", "3.4.23-4+hactest1", None));
        stand_ins.push("etcd-server");
    }
    let dir = tmp.join("repo");
    mkdir_0755(&dir);
    let mut index = String::new();
    for (name, version, content) in &packages {
        let tree = tmp.join("debs").join(name);
        mkdir_0755(&tree.join("DEBIAN"));
        let control = format!(
            "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: hac tests <tests@hac.invalid>\nSection: admin\nPriority: optional\nDescription: test stand-in for {name} (tests/e2e_support/nodes.rs)\n"
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
    Repository {
        dir,
        key,
        stand_ins,
    }
}

/// What of the machine's apt configuration and packages the tests change in the nodes'
/// overlays (sources hidden, Kubernetes packages purged): the machine's own must be the
/// same after a test as before. (Other packages are not compared: the machine may install
/// some meanwhile, such as scripts/install-test-deps.sh run by another task.)
pub fn machine_apt_state() -> (Vec<String>, Option<Vec<u8>>, Vec<Option<String>>) {
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

/// One node: its holder process (the namespaces and root) and its overlay's upper folder.
pub struct Node {
    pub name: &'static str,
    pub pid: u32,
    pub upper: PathBuf,
    /// The PATH of the commands run in it (`Setup::path`).
    exec_path: &'static str,
}

impl Node {
    /// A path inside the node's root, as the test (outside its namespaces) reaches it.
    pub fn path(&self, inside: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root/{inside}", self.pid))
    }

    /// `argv` in the node (its namespaces and root), with a clean environment (the setup's
    /// PATH, `HOME=/root`, `LANG=C.UTF-8`) plus `env`.
    pub fn argv(&self, env: &[String], argv: &[&str]) -> Vec<String> {
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
            &format!("PATH={}", self.exec_path),
            "HOME=/root",
            "LANG=C.UTF-8",
        ]
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
        v.extend(env.iter().cloned());
        v.extend(argv.iter().map(std::string::ToString::to_string));
        v
    }

    /// Runs `argv` in the node to its end.
    pub fn exec(&self, argv: &[&str]) -> Output {
        let v = self.argv(&[], argv);
        run(Command::new(&v[0]).args(&v[1..]))
    }

    /// The version of `package` installed in the node, if any.
    pub fn package(&self, package: &str) -> Option<String> {
        let o = self.exec(&["dpkg-query", "-W", "-f", "${Status} ${Version}", package]);
        parse_installed(&text(&o.stdout))
    }

    /// Asserts that kubelet, kubeadm and kubectl are installed in the node, at the stand-in
    /// repository's version.
    pub fn assert_k8s_packages(&self) {
        for package in K8S_PACKAGES {
            assert_eq!(
                self.package(package).as_deref(),
                Some(K8S_PACKAGE_VERSION),
                "{package} on {}",
                self.name
            );
        }
    }

    /// The fakes' call log as it is: "<epoch seconds> <command line>" a line.
    pub fn calls_log(&self) -> String {
        std::fs::read_to_string(self.path("var/log/hac-test/calls.log")).unwrap_or_default()
    }

    /// The fakes' calls, (epoch seconds, command line) each.
    pub fn calls(&self) -> Vec<(f64, String)> {
        timed_lines(&self.calls_log())
    }

    /// The time of the first call that starts with `prefix`.
    pub fn first_call(&self, prefix: &str) -> Option<f64> {
        self.calls()
            .into_iter()
            .find(|(_, c)| c.starts_with(prefix))
            .map(|(t, _)| t)
    }

    /// Files the node gained or changed (its overlay's upper folder) whose name looks like
    /// an archive or contains one of `also`.
    pub fn archives(&self, also: &[&str]) -> Vec<PathBuf> {
        files_under(&self.upper)
            .into_iter()
            .filter(|p| {
                let s = p.to_string_lossy();
                s.ends_with(".tar.gz") || s.ends_with(".tgz") || also.iter().any(|a| s.contains(a))
            })
            .collect()
    }

    /// The mtime of a file in the node, in epoch seconds.
    pub fn mtime(&self, inside: &str) -> f64 {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(self.path(inside))
            .unwrap_or_else(|e| panic!("{inside} on {}: {e}", self.name));
        m.mtime() as f64 + m.mtime_nsec() as f64 / 1e9
    }
}

/// The lab and the nodes; on drop every process left in a node's network namespace is
/// killed before the lab removes the namespaces.
pub struct Nodes {
    pub lab: Lab,
    pub nodes: Vec<Node>,
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for node in &self.nodes {
            let ns = self.lab.ns(node.name);
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

/// The nodes' namespaces and roots (under `tmp/nodes`), each with the fakes, the stand-in
/// repository, the machine's apt sources hidden and its Kubernetes packages purged.
pub fn start_nodes(tmp: &Path, setup: &Setup, repository: &Repository) -> Nodes {
    let cidrs: Vec<(String, String)> = setup
        .nodes
        .iter()
        .map(|(n, a)| (n.to_string(), a.to_string()))
        .collect();
    let hosts_file = format!(
        "127.0.0.1 localhost\n{}",
        setup
            .nodes
            .iter()
            .map(|(n, a)| format!("{} {n}\n", a.split('/').next().unwrap()))
            .collect::<String>()
    );
    let mut lab = Lab::new(setup.tag, tmp, &cidrs, &hosts_file);
    let master0 = lab.ns("master-0");
    let o = run(Command::new("ip").args([
        "-n",
        &master0,
        "addr",
        "add",
        setup.lb_address,
        "dev",
        "eth0",
    ]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let fakes = fixtures().join("fakes");
    let mut nodes = Vec::new();
    for (name, _) in setup.nodes {
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
            exec_path: setup.path,
        };
        // The fakes (see the module comment); kubeadm comes from the stand-in package.
        let test_dir = node.path("opt/hac-test");
        mkdir_0755(&test_dir);
        std::fs::copy(
            fakes.join("fake-apiserver.py"),
            test_dir.join("fake-apiserver.py"),
        )
        .unwrap();
        let bin = node.path(setup.fakes_in);
        std::fs::create_dir_all(&bin).unwrap();
        for (from, to) in [
            ("systemctl", "systemctl"),
            ("record", "modprobe"),
            ("record", "sysctl"),
        ] {
            std::fs::copy(fakes.join(from), bin.join(to)).unwrap();
        }
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
        nodes.push(node);
    }
    Nodes { lab, nodes }
}

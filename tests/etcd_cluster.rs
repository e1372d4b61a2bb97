//! A real 3-member etcd cluster started from the archives `hac build` writes: each member's
//! archive is unpacked into its own root, its `etcd.service` ExecStart is run with the paths
//! mapped into that root, each member in a network namespace of its own joined by a bridge
//! that lives in yet another namespace (nothing touches the root namespace's network). The
//! cluster must become healthy over mutual TLS, and refuse a client without a certificate.

mod e2e_support;
use e2e_support::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MEMBERS: [(&str, &str); 3] = [
    ("etcd-0", "172.31.0.11"),
    ("etcd-1", "172.31.0.12"),
    ("etcd-2", "172.31.0.13"),
];

/// Network namespaces and etcd processes, torn down on drop (also when the test fails).
struct Lab {
    prefix: String,
    children: Vec<Child>,
}

impl Lab {
    fn ns(&self, i: usize) -> String {
        format!("{}-m{i}", self.prefix)
    }
    fn bridge_ns(&self) -> String {
        format!("{}-br", self.prefix)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            terminate(c);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for c in &mut self.children {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        for i in 0..MEMBERS.len() {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(i)])
                .status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.bridge_ns()])
            .status();
    }
}

fn terminate(c: &Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(c.id().to_string())
        .status();
}

fn sh(args: &[&str]) {
    let o = run(Command::new(args[0]).args(&args[1..]));
    assert!(o.status.success(), "{args:?} failed: {}", text(&o.stderr));
}

fn setup_network(lab: &Lab) {
    let br = lab.bridge_ns();
    sh(&["ip", "netns", "add", &br]);
    sh(&["ip", "-n", &br, "link", "add", "br0", "type", "bridge"]);
    sh(&["ip", "-n", &br, "link", "set", "br0", "up"]);
    for (i, (_, addr)) in MEMBERS.iter().enumerate() {
        let ns = lab.ns(i);
        sh(&["ip", "netns", "add", &ns]);
        let peer = format!("p{i}");
        sh(&[
            "ip", "-n", &ns, "link", "add", "eth0", "type", "veth", "peer", "name", &peer, "netns",
            &br,
        ]);
        sh(&["ip", "-n", &br, "link", "set", &peer, "master", "br0"]);
        sh(&["ip", "-n", &br, "link", "set", &peer, "up"]);
        sh(&[
            "ip",
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            "eth0",
        ]);
        sh(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
        sh(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
    }
}

/// The ExecStart command of a unit file, continuation lines joined, split into words.
fn exec_start(unit: &str) -> Vec<String> {
    let joined = unit.replace("\\\n", " ");
    let line = joined
        .lines()
        .find_map(|l| l.trim().strip_prefix("ExecStart="))
        .expect("etcd.service has an ExecStart line");
    line.split_whitespace().map(str::to_string).collect()
}

fn map_into(root: &Path, word: &str) -> String {
    let r = root.display().to_string();
    word.replace("/etc/kubernetes", &format!("{r}/etc/kubernetes"))
        .replace("/var/lib/etcd", &format!("{r}/var/lib/etcd"))
}

fn etcdctl(lab: &Lab, pki: &Path, with_client_cert: bool) -> std::process::Output {
    let endpoints: Vec<String> = MEMBERS
        .iter()
        .map(|(_, a)| format!("https://{a}:2379"))
        .collect();
    let mut c = Command::new("ip");
    c.args([
        "netns",
        "exec",
        &lab.ns(0),
        "etcdctl",
        "--dial-timeout=2s",
        "--command-timeout=3s",
    ])
    .arg(format!("--endpoints={}", endpoints.join(",")))
    .arg(format!("--cacert={}", pki.join("etcd/ca.crt").display()));
    if with_client_cert {
        c.arg(format!(
            "--cert={}",
            pki.join("etcd/healthcheck-client.crt").display()
        ))
        .arg(format!(
            "--key={}",
            pki.join("etcd/healthcheck-client.key").display()
        ));
    }
    c.args(["endpoint", "health"]).env("ETCDCTL_API", "3");
    run(&mut c)
}

#[test]
fn three_members_from_the_archives_form_a_healthy_mtls_cluster() {
    for t in ["etcd", "etcdctl", "ip", "tar"] {
        require_tool(t);
    }
    let fixture = root().join("tests/fixtures/etcd-netns");
    let secrets = fixture.join("etcd-netns.secrets");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    let o = run(hac()
        .arg("build")
        .arg(fixture.join("etcd-netns.ha"))
        .arg("--secrets")
        .arg(&secrets)
        .arg("-o")
        .arg(&out)
        .arg("-q"));
    assert!(o.status.success(), "build failed: {}", text(&o.stderr));

    let mut lab = Lab {
        prefix: format!("hac{}", std::process::id()),
        children: Vec::new(),
    };
    setup_network(&lab);

    let mut roots: Vec<PathBuf> = Vec::new();
    for (i, (name, _)) in MEMBERS.iter().enumerate() {
        let root_dir = tmp.path().join(format!("root-{name}"));
        std::fs::create_dir_all(&root_dir).unwrap();
        sh(&[
            "tar",
            "-xzf",
            &out.join(format!("hosts/{name}.tar.gz"))
                .display()
                .to_string(),
            "-C",
            &root_dir.display().to_string(),
        ]);
        let unit = std::fs::read_to_string(root_dir.join("etc/systemd/system/etcd.service"))
            .expect("etcd.service in the archive");
        let words = exec_start(&unit);
        assert!(
            words.iter().any(|w| w.starts_with("--client-cert-auth")),
            "no client cert auth: {words:?}"
        );
        assert!(
            !unit.contains("http://")
                || unit.matches("http://").count() == unit.matches("http://127.0.0.1:2381").count(),
            "plain http beyond local metrics: {unit}"
        );
        let mapped: Vec<String> = words.iter().map(|w| map_into(&root_dir, w)).collect();
        let log = std::fs::File::create(tmp.path().join(format!("{name}.log"))).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &lab.ns(i)])
            .args(&mapped)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start etcd");
        lab.children.push(child);
        roots.push(root_dir);
    }

    let pki = roots[0].join("etc/kubernetes/pki");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last: String;
    loop {
        let o = etcdctl(&lab, &pki, true);
        last = format!("{}{}", text(&o.stdout), text(&o.stderr));
        if o.status.success() && last.matches("is healthy").count() == 3 {
            break;
        }
        if Instant::now() > deadline {
            let logs: String = MEMBERS
                .iter()
                .map(|(n, _)| {
                    format!(
                        "--- {n}\n{}\n",
                        std::fs::read_to_string(tmp.path().join(format!("{n}.log")))
                            .unwrap_or_default()
                            .lines()
                            .rev()
                            .take(15)
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                })
                .collect();
            panic!("the cluster did not become healthy:\n{last}\n{logs}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(last.matches("is healthy").count() == 3, "{last}");

    let o = etcdctl(&lab, &pki, false);
    assert!(
        !o.status.success(),
        "a client without a certificate must be refused:\n{}",
        text(&o.stdout)
    );
    drop(lab);
}

//! `hac plan` against real etcd: an external cluster grows 3 → 5 → 3 members by running the
//! commands the plan prints, while a writer puts a key every 100 ms.
//!
//! Each member runs in a network namespace of its own on a bridge that lives in another
//! namespace (nothing touches the root namespace's network), started from its archive as
//! tests/etcd_cluster.rs does. The plan's `etcdctl` commands run verbatim (with
//! `/etc/kubernetes` mapped into the member's unpacked root) in the namespace of the step's
//! host; `tar --no-overwrite-dir -xzpf hosts/<n>.tar.gz -C /` unpacks into that root, `/etc/hac/bootstrap.sh
//! services` starts the unit's ExecStart, `systemctl disable --now etcd` stops it and
//! `rm -rf /var/lib/etcd` removes its data. The plan's kube-apiserver steps (on the masters)
//! are left out: no apiserver runs here.
//!
//! The bound: membership changes one at a time keep quorum, so at most a leader election's
//! worth of writes may fail. No run of failed writes may last longer than 3 seconds, and at
//! most 5% of all writes may fail.

mod e2e_support;
use e2e_support::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SUBNET: &str = "172.31.1";
const CLIENT: &str = "172.31.1.50";

fn addr(i: usize) -> String {
    format!("{SUBNET}.{}", 11 + i)
}

struct Lab {
    prefix: String,
    children: BTreeMap<String, Child>,
    namespaces: Vec<String>,
}

impl Lab {
    fn ns(&self, host: &str) -> String {
        format!("{}-{host}", self.prefix)
    }
    fn stop(&mut self, host: &str) {
        if let Some(mut c) = self.children.remove(host) {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let hosts: Vec<String> = self.children.keys().cloned().collect();
        for h in hosts {
            self.stop(&h);
        }
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn sh(args: &[&str]) {
    let o = run(Command::new(args[0]).args(&args[1..]));
    assert!(o.status.success(), "{args:?} failed: {}", text(&o.stderr));
}

/// The bridge namespace, one namespace per etcd host (5) and one for the writer.
fn setup_network(lab: &mut Lab) {
    let br = format!("{}-br", lab.prefix);
    sh(&["ip", "netns", "add", &br]);
    lab.namespaces.push(br.clone());
    sh(&["ip", "-n", &br, "link", "add", "br0", "type", "bridge"]);
    sh(&["ip", "-n", &br, "link", "set", "br0", "up"]);
    let mut hosts: Vec<(String, String)> = (0..5).map(|i| (format!("etcd-{i}"), addr(i))).collect();
    hosts.push(("client".to_string(), CLIENT.to_string()));
    for (i, (host, address)) in hosts.iter().enumerate() {
        let ns = lab.ns(host);
        sh(&["ip", "netns", "add", &ns]);
        lab.namespaces.push(ns.clone());
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
            &format!("{address}/24"),
            "dev",
            "eth0",
        ]);
        sh(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
        sh(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
    }
}

fn cluster_file(dir: &Path, members: usize) -> PathBuf {
    let fixture = root().join("tests/fixtures/etcd-netns");
    let text = std::fs::read_to_string(fixture.join("etcd-netns.ha"))
        .unwrap()
        .replace("172.31.0.", &format!("{SUBNET}."))
        .replace(
            r#"prefix = "etcd"; count = 3;"#,
            &format!(r#"prefix = "etcd"; count = {members};"#),
        );
    let file = dir.join("etcd-netns.ha");
    std::fs::write(&file, text).unwrap();
    let secrets = dir.join("etcd-netns.secrets");
    std::fs::copy(fixture.join("etcd-netns.secrets"), &secrets).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    file
}

fn build(file: &Path, out: &Path, from: Option<&Path>) {
    let mut c = hac();
    c.arg("build").arg(file).arg("-o").arg(out).arg("-q");
    if let Some(f) = from {
        c.arg("--from").arg(f);
    }
    let o = run(&mut c);
    assert!(o.status.success(), "build failed: {}", text(&o.stderr));
}

fn plan(file: &Path, from: &Path) -> String {
    let o = run(hac().arg("plan").arg(file).arg("--from").arg(from));
    assert!(o.status.success(), "plan failed: {}", text(&o.stderr));
    text(&o.stdout)
}

/// `(host, commands)` of each step of a plan's text.
fn steps(plan: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in plan.lines() {
        let t = line.trim_start();
        if let Some(rest) = t
            .split_once(". [")
            .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
        {
            let host = rest.1.split(']').next().unwrap_or_default().to_string();
            out.push((host, Vec::new()));
        } else if let Some(cmd) = t.strip_prefix("$ ") {
            out.last_mut()
                .expect("a command inside a step")
                .1
                .push(cmd.to_string());
        }
    }
    out
}

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

struct Runner<'a> {
    lab: &'a mut Lab,
    tmp: &'a Path,
}

impl Runner<'_> {
    fn root(&self, host: &str) -> PathBuf {
        self.tmp.join(format!("root-{host}"))
    }
    fn unpack(&self, bundle: &Path, host: &str) {
        let root = self.root(host);
        std::fs::create_dir_all(&root).unwrap();
        sh(&[
            "tar",
            "-xzpf",
            &bundle
                .join(format!("hosts/{host}.tar.gz"))
                .display()
                .to_string(),
            "-C",
            &root.display().to_string(),
        ]);
    }
    fn start(&mut self, host: &str) {
        let root = self.root(host);
        let unit = std::fs::read_to_string(root.join("etc/systemd/system/etcd.service"))
            .expect("etcd.service");
        let words: Vec<String> = exec_start(&unit)
            .iter()
            .map(|w| map_into(&root, w))
            .collect();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.tmp.join(format!("{host}.log")))
            .unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.lab.ns(host)])
            .args(&words)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start etcd");
        self.lab.children.insert(host.to_string(), child);
    }
    /// One command of the plan, as the operator would run it on `host`.
    fn command(&mut self, bundle: &Path, host: &str, cmd: &str) {
        let bare = cmd.split("   #").next().unwrap_or(cmd).trim();
        if bare.starts_with("tar --no-overwrite-dir -xzpf hosts/") {
            self.unpack(bundle, host);
        } else if bare == "/etc/hac/bootstrap.sh services" {
            self.start(host);
        } else if bare == "systemctl disable --now etcd" {
            self.lab.stop(host);
        } else if bare == "rm -rf /var/lib/etcd" {
            std::fs::remove_dir_all(self.root(host).join("var/lib/etcd")).unwrap();
        } else {
            assert!(
                bare.contains("etcdctl"),
                "unexpected command on {host}: {cmd}"
            );
            let mapped = map_into(&self.root(host), bare);
            let o = run(Command::new("ip")
                .args(["netns", "exec", &self.lab.ns(host), "sh", "-c", &mapped])
                .env("ETCDCTL_API", "3"));
            assert!(
                o.status.success(),
                "on {host}: {cmd}\n{}{}\n{}",
                text(&o.stdout),
                text(&o.stderr),
                self.logs()
            );
        }
    }
    fn run_plan(&mut self, bundle: &Path, plan: &str) -> usize {
        let mut ran = 0;
        for (host, commands) in steps(plan) {
            if !host.starts_with("etcd-") {
                continue; // kube-apiserver steps: no apiserver in this test
            }
            for c in &commands {
                self.command(bundle, &host, c);
            }
            ran += 1;
        }
        ran
    }
    fn logs(&self) -> String {
        (0..5)
            .map(|i| {
                let h = format!("etcd-{i}");
                let log =
                    std::fs::read_to_string(self.tmp.join(format!("{h}.log"))).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(8).collect();
                format!(
                    "--- {h}\n{}\n",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect()
    }
}

/// `etcdctl` from the writer's namespace with etcd-0's certificate, against the three
/// members that stay throughout.
fn client(lab_ns: &str, root0: &Path, args: &[&str]) -> std::process::Output {
    let pki = root0.join("etc/kubernetes/pki/etcd");
    let endpoints: Vec<String> = (0..3)
        .map(|i| format!("https://{}:2379", addr(i)))
        .collect();
    run(Command::new("ip")
        .args([
            "netns",
            "exec",
            lab_ns,
            "etcdctl",
            "--dial-timeout=2s",
            "--command-timeout=2s",
        ])
        .arg(format!("--endpoints={}", endpoints.join(",")))
        .arg(format!("--cacert={}", pki.join("ca.crt").display()))
        .arg(format!(
            "--cert={}",
            pki.join("healthcheck-client.crt").display()
        ))
        .arg(format!(
            "--key={}",
            pki.join("healthcheck-client.key").display()
        ))
        .args(args)
        .env("ETCDCTL_API", "3"))
}

fn members(lab_ns: &str, root0: &Path) -> Vec<String> {
    let o = client(lab_ns, root0, &["member", "list"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stdout).lines().map(str::to_string).collect()
}

#[test]
fn external_etcd_grows_3_to_5_and_back_by_the_plan_while_writes_go_on() {
    for t in ["etcd", "etcdctl", "ip", "tar", "sh"] {
        require_tool(t);
    }
    let tmp = tempfile::tempdir().unwrap();
    let (d3, d5) = (tmp.path().join("c3"), tmp.path().join("c5"));
    std::fs::create_dir_all(&d3).unwrap();
    std::fs::create_dir_all(&d5).unwrap();
    let (f3, f5) = (cluster_file(&d3, 3), cluster_file(&d5, 5));
    let (b3, b5, b3again) = (
        tmp.path().join("b3"),
        tmp.path().join("b5"),
        tmp.path().join("b3again"),
    );
    build(&f3, &b3, None);
    build(&f5, &b5, Some(&b3));
    let grow = plan(&f5, &b3);

    let mut lab = Lab {
        prefix: format!("hacp{}", std::process::id()),
        children: BTreeMap::new(),
        namespaces: Vec::new(),
    };
    setup_network(&mut lab);
    let client_ns = lab.ns("client");
    let mut runner = Runner {
        lab: &mut lab,
        tmp: tmp.path(),
    };
    for i in 0..3 {
        let h = format!("etcd-{i}");
        runner.unpack(&b3, &h);
        runner.start(&h);
    }
    let root0 = runner.root("etcd-0");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client(&client_ns, &root0, &["put", "ready", "1"])
        .status
        .success()
    {
        assert!(
            Instant::now() < deadline,
            "the first 3 members never served:\n{}",
            runner.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // A live cluster has been up for a while: etcd refuses `member add` ("unhealthy
    // cluster") until its members have been connected for 5 seconds.
    std::thread::sleep(Duration::from_secs(6));

    // The writer: one put every 100 ms, each result recorded with its time.
    let stop = Arc::new(AtomicBool::new(false));
    let results: Arc<Mutex<Vec<(Instant, bool)>>> = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let (stop, results, ns, root0) = (
            stop.clone(),
            results.clone(),
            client_ns.clone(),
            root0.clone(),
        );
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let ok = client(&ns, &root0, &["put", "writer", &n.to_string()])
                    .status
                    .success();
                results.lock().unwrap().push((started, ok));
                n += 1;
                let spent = started.elapsed();
                if spent < Duration::from_millis(100) {
                    std::thread::sleep(Duration::from_millis(100) - spent);
                }
            }
        })
    };

    let ran = runner.run_plan(&b5, &grow);
    assert_eq!(ran, 2, "two etcd steps (etcd-3, etcd-4):\n{grow}");
    let list = members(&client_ns, &root0);
    assert_eq!(list.len(), 5, "{list:?}");
    assert!(
        list.iter()
            .all(|m| m.contains(", started, ") && m.ends_with("false")),
        "five started voting members: {list:?}"
    );

    // And back to three, from the five-member bundle.
    build(&f3, &b3again, Some(&b5));
    let shrink = plan(&f3, &b5);
    let ran = runner.run_plan(&b3again, &shrink);
    assert_eq!(ran, 2, "two etcd steps (remove etcd-3, etcd-4):\n{shrink}");
    let list = members(&client_ns, &root0);
    assert_eq!(list.len(), 3, "{list:?}");
    assert!(!list
        .iter()
        .any(|m| m.contains("etcd-3") || m.contains("etcd-4")));

    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let results = results.lock().unwrap();
    let total = results.len();
    let failed = results.iter().filter(|(_, ok)| !ok).count();
    assert!(total > 20, "the writer ran: {total} puts");
    // The longest run of failures, in time.
    let mut longest = Duration::ZERO;
    let mut first_fail: Option<Instant> = None;
    for (t, ok) in results.iter() {
        match (ok, first_fail) {
            (false, None) => first_fail = Some(*t),
            (true, Some(f)) => {
                longest = longest.max(t.duration_since(f));
                first_fail = None;
            }
            _ => {}
        }
    }
    if let Some(f) = first_fail {
        longest = longest.max(Instant::now().duration_since(f));
    }
    eprintln!("writer: {failed} of {total} puts failed; longest run of failures {longest:?}");
    assert!(
        longest <= Duration::from_secs(3),
        "writes failed for {longest:?} in a row ({failed} of {total} failed)"
    );
    assert!(
        failed * 20 <= total,
        "{failed} of {total} writes failed (bound: 5%)"
    );
    let o = client(&client_ns, &root0, &["endpoint", "health"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    drop(lab);
}

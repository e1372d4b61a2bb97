//! `hac plan` against real etcd (Debian's etcd 3.4): an external cluster changed by running
//! the commands the plan prints, while a writer puts a key every 100 ms.
//!
//! - 3 → 5 → 3 members: two members added (learner, promoted) one at a time, then removed one
//!   at a time.
//! - A leaf renewal (`pki.leafEpoch` moved forward, same CAs): one step per member, one member
//!   restarted at a time behind its health gate. Afterwards every member serves the new
//!   bundle's server certificate (serial and notBefore, read over TLS from its client port),
//!   each was restarted, the three are healthy voting members and hold the writes; the writer
//!   keeps the old client certificate throughout (the CAs did not change).
//!
//! - A failed member replaced (`hac plan --failed etcd-2`, `hac build --from … --failed
//!   etcd-2`): etcd-2 is killed and its files (data included) deleted, as a dead disk
//!   would; the plan removes its member through a live one, then etcd-2 joins again empty as
//!   a learner (`existing`, the live members and itself) and is promoted. The writer, on the
//!   two live members, keeps going; afterwards etcd-2 is a voting member under a new ID and
//!   serves the data written while it was gone.
//!
//! Each member runs in a network namespace of its own on a bridge that lives in another
//! namespace (nothing touches the root namespace's network), started from its archive as
//! tests/etcd_cluster.rs does; each scenario has its own namespaces. The plan's `etcdctl`
//! commands run verbatim (with `/etc/kubernetes` mapped into the member's unpacked root) in
//! the namespace of the step's host; `tar --no-overwrite-dir -xzpf hosts/<n>.tar.gz -C /`
//! unpacks into that root, `/etc/hac/bootstrap.sh prepare` does nothing (the packages are the
//! test machine's own etcd and etcdctl: the one fake here), `/etc/hac/bootstrap.sh services`
//! starts the unit's ExecStart,
//! `systemctl restart etcd` stops the process and starts it again, returning once etcd
//! reports READY=1 on `NOTIFY_SOCKET` (as systemd waits for the `Type=notify` unit),
//! `systemctl disable --now etcd` stops it and `rm -rf /var/lib/etcd` removes its data. The
//! plan's steps on the masters (kube-apiserver, static pods) are left out: no apiserver runs
//! here.
//!
//! The bound: membership changes one at a time keep quorum, and so do restarts one member at
//! a time, so at most a leader election's worth of writes may fail. No run of failed writes
//! may last longer than 3 seconds, and at most 5% of all writes may fail.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod e2e_support;
use e2e_support::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SUBNET: &str = "172.31.1";
const CLIENT: &str = "172.31.1.50";

fn addr(i: usize) -> String {
    format!("{SUBNET}.{}", 11 + i)
}

/// The network namespaces of one scenario (`tag` keeps scenarios that run at the same time
/// apart): one per etcd host (5) and one for the writer, on a bridge in a namespace of its
/// own; each process's log is `<dir>/<host>.log`.
fn lab(tag: &str, dir: &Path) -> netlab::Lab {
    let mut hosts: Vec<(String, String)> = (0..5)
        .map(|i| (format!("etcd-{i}"), format!("{}/24", addr(i))))
        .collect();
    hosts.push(("client".to_string(), format!("{CLIENT}/24")));
    netlab::Lab::new(tag, dir, &hosts, "127.0.0.1 localhost\n")
}

fn cluster_file(dir: &Path, members: usize) -> PathBuf {
    cluster_file_with(dir, members, "")
}

/// The fixture with `members` etcd members and `extra` settings added after `epoch`.
fn cluster_file_with(dir: &Path, members: usize, extra: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let fixture = root().join("tests/fixtures/etcd-netns");
    let text = std::fs::read_to_string(fixture.join("etcd-netns.ha"))
        .unwrap()
        .replace("172.31.0.", &format!("{SUBNET}."))
        .replace(
            r#"prefix = "etcd"; count = 3;"#,
            &format!(r#"prefix = "etcd"; count = {members};"#),
        )
        .replace(
            r#"epoch = "2026-01-01T00:00:00Z";"#,
            &format!(r#"epoch = "2026-01-01T00:00:00Z";{extra}"#),
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
    plan_failed(file, from, &[])
}

/// `hac plan` with `--failed` for each of `failed`.
fn plan_failed(file: &Path, from: &Path, failed: &[&str]) -> String {
    let mut c = hac();
    c.arg("plan").arg(file).arg("--from").arg(from);
    for f in failed {
        c.args(["--failed", f]);
    }
    let o = run(&mut c);
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
    lab: &'a mut netlab::Lab,
    tmp: &'a Path,
}

impl Runner<'_> {
    fn root(&self, host: &str) -> PathBuf {
        self.tmp.join(format!("root-{host}"))
    }
    fn unpack(&self, bundle: &Path, host: &str) {
        unpack_host(bundle, host, &self.root(host));
    }
    fn start(&mut self, host: &str) {
        self.spawn(host, None);
    }
    /// Starts the unit's ExecStart in the host's namespace; with `notify`, etcd's
    /// `NOTIFY_SOCKET` (the unit is `Type=notify`).
    fn spawn(&mut self, host: &str, notify: Option<&Path>) {
        let root = self.root(host);
        let unit = std::fs::read_to_string(root.join("etc/systemd/system/etcd.service"))
            .expect("etcd.service");
        let words: Vec<String> = exec_start(&unit)
            .iter()
            .map(|w| map_into(&root, w))
            .collect();
        let env: Vec<(&str, &Path)> = notify.map(|n| ("NOTIFY_SOCKET", n)).into_iter().collect();
        self.lab.spawn_with_env(host, host, &words, &env);
    }
    /// `systemctl restart etcd` of a `Type=notify` unit: the process is stopped, started
    /// again from the unit's ExecStart, and the command returns once etcd has told
    /// `NOTIFY_SOCKET` it is ready (it has joined the cluster and serves).
    fn restart(&mut self, host: &str) {
        use std::os::unix::net::UnixDatagram;
        self.lab.stop(host);
        let path = self.tmp.join(format!("notify-{host}.sock"));
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path).expect("the notify socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        self.spawn(host, Some(&path));
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut buf = [0u8; 512];
        loop {
            if let Ok(n) = socket.recv(&mut buf) {
                if text(&buf[..n]).lines().any(|l| l == "READY=1") {
                    break;
                }
            }
            let exited = !self.lab.alive(host);
            assert!(
                !exited && Instant::now() < deadline,
                "etcd on {host} did not get ready after its restart:\n{}",
                self.logs()
            );
        }
        let _ = std::fs::remove_file(&path);
    }
    /// One command of the plan, as the operator would run it on `host`.
    fn command(&mut self, bundle: &Path, host: &str, cmd: &str) {
        let bare = cmd.split("   #").next().unwrap_or(cmd).trim();
        if bare.starts_with("tar --no-overwrite-dir -xzpf hosts/") {
            self.unpack(bundle, host);
        } else if bare == "/etc/hac/bootstrap.sh prepare" {
            // The packages: this machine's etcd and etcdctl.
        } else if bare == "/etc/hac/bootstrap.sh services" {
            self.start(host);
        } else if bare == "systemctl stop etcd 2>/dev/null; rm -rf /var/lib/etcd" {
            self.lab.stop(host);
            let data = self.root(host).join("var/lib/etcd");
            if data.exists() {
                std::fs::remove_dir_all(data).unwrap();
            }
        } else if bare == "systemctl restart etcd" {
            self.restart(host);
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

/// `etcdctl` from the writer's namespace with the client certificate of `pki` (a member's
/// `/etc/kubernetes/pki/etcd`), against the three members that stay throughout.
fn client(lab_ns: &str, pki: &Path, args: &[&str]) -> std::process::Output {
    client_at(lab_ns, pki, &[0, 1, 2], args)
}

/// `etcdctl` against the members `etcd-<i>` of `at`.
fn client_at(lab_ns: &str, pki: &Path, at: &[usize], args: &[&str]) -> std::process::Output {
    let endpoints: Vec<String> = at
        .iter()
        .map(|i| format!("https://{}:2379", addr(*i)))
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

fn members(lab_ns: &str, pki: &Path) -> Vec<String> {
    let o = client(lab_ns, pki, &["member", "list"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stdout).lines().map(str::to_string).collect()
}

/// Unpacks and starts etcd-0..2 from `bundle` and waits until they serve, and a while
/// longer: a live cluster has been up for a while, and etcd refuses `member add` ("unhealthy
/// cluster") until its members have been connected for 5 seconds.
fn start_three(runner: &mut Runner, bundle: &Path, client_ns: &str, pki: &Path) {
    for i in 0..3 {
        let h = format!("etcd-{i}");
        runner.unpack(bundle, &h);
        runner.start(&h);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client(client_ns, pki, &["put", "ready", "1"])
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
    std::thread::sleep(Duration::from_secs(6));
}

/// One put every 100 ms, each result recorded with its time.
struct Writer {
    stop: Arc<AtomicBool>,
    results: Arc<Mutex<Vec<(Instant, bool)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A scenario that fails half-way stops its writer too.
impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Writer {
    fn start(ns: &str, pki: &Path) -> Writer {
        Writer::start_at(ns, pki, &[0, 1, 2])
    }
    fn start_at(ns: &str, pki: &Path, at: &[usize]) -> Writer {
        let at = at.to_vec();
        let stop = Arc::new(AtomicBool::new(false));
        let results: Arc<Mutex<Vec<(Instant, bool)>>> = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, results, ns, pki) = (
                stop.clone(),
                results.clone(),
                ns.to_string(),
                pki.to_path_buf(),
            );
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let ok = client_at(&ns, &pki, &at, &["put", "writer", &n.to_string()])
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
        Writer {
            stop,
            results,
            thread: Some(thread),
        }
    }

    /// Stops the writer and checks the bound: no run of failed writes longer than 3 s, at
    /// most 5% failed. Returns the index (the value put) of the last successful write.
    fn finish(mut self) -> u64 {
        std::thread::sleep(Duration::from_millis(500));
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        let results = self.results.lock().unwrap();
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
        results
            .iter()
            .rposition(|(_, ok)| *ok)
            .expect("a write succeeded") as u64
    }
}

#[test]
fn external_etcd_grows_3_to_5_and_back_by_the_plan_while_writes_go_on() {
    for t in ["etcd", "etcdctl", "ip", "tar", "sh"] {
        require_tool(t);
    }
    let tmp = tempfile::tempdir().unwrap();
    let (d3, d5) = (tmp.path().join("c3"), tmp.path().join("c5"));
    let (f3, f5) = (cluster_file(&d3, 3), cluster_file(&d5, 5));
    let (b3, b5, b3again) = (
        tmp.path().join("b3"),
        tmp.path().join("b5"),
        tmp.path().join("b3again"),
    );
    build(&f3, &b3, None);
    build(&f5, &b5, Some(&b3));
    let grow = plan(&f5, &b3);

    let mut lab = lab("g", tmp.path());
    let client_ns = lab.ns("client");
    let mut runner = Runner {
        lab: &mut lab,
        tmp: tmp.path(),
    };
    let pki0 = runner.root("etcd-0").join("etc/kubernetes/pki/etcd");
    start_three(&mut runner, &b3, &client_ns, &pki0);
    let writer = Writer::start(&client_ns, &pki0);

    let ran = runner.run_plan(&b5, &grow);
    assert_eq!(ran, 2, "two etcd steps (etcd-3, etcd-4):\n{grow}");
    let list = members(&client_ns, &pki0);
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
    let list = members(&client_ns, &pki0);
    assert_eq!(list.len(), 3, "{list:?}");
    assert!(!list
        .iter()
        .any(|m| m.contains("etcd-3") || m.contains("etcd-4")));

    writer.finish();
    let o = client(&client_ns, &pki0, &["endpoint", "health"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    drop(lab);
}

/// `serial=…` and `notBefore=…` of the certificate `producer` prints (in PEM), run in `ns`.
fn serial_and_not_before(ns: Option<&str>, producer: &str) -> String {
    let script = format!("{producer} | openssl x509 -noout -serial -startdate");
    let mut c = match ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]);
            c
        }
        None => Command::new("env"),
    };
    let o = run(c.args(["sh", "-c", &script]));
    assert!(
        o.status.success() && !o.stdout.is_empty(),
        "{script}: {}",
        text(&o.stderr)
    );
    text(&o.stdout).trim().to_string()
}

/// The certificate etcd-`i` serves on its client port, as a client in `ns` sees it.
fn served(ns: &str, pki: &Path, i: usize) -> String {
    let p = |f: &str| pki.join(f).display().to_string();
    serial_and_not_before(
        Some(ns),
        &format!(
            "openssl s_client -connect {}:2379 -CAfile {} -cert {} -key {} -verify_return_error </dev/null 2>/dev/null",
            addr(i),
            p("ca.crt"),
            p("healthcheck-client.crt"),
            p("healthcheck-client.key")
        ),
    )
}

/// The server certificate of `host`'s archive in `bundle`.
fn bundled(bundle: &Path, host: &str) -> String {
    serial_and_not_before(
        None,
        &format!(
            "tar -xzOf {} etc/kubernetes/pki/etcd/server.crt",
            bundle.join(format!("hosts/{host}.tar.gz")).display()
        ),
    )
}

#[test]
fn external_etcd_rolls_renewed_leaf_certificates_member_by_member_while_writes_go_on() {
    for t in ["etcd", "etcdctl", "ip", "tar", "sh", "openssl"] {
        require_tool(t);
    }
    let tmp = tempfile::tempdir().unwrap();
    // The leaves move from the epoch (2026-01-01) to 2026-06-01, a year each, well within the
    // CAs' ten years, and already valid (before the pinned HAC_NOW, and before the clock the
    // members check the certificates with).
    let old = cluster_file(&tmp.path().join("old"), 3);
    let new = cluster_file_with(
        &tmp.path().join("new"),
        3,
        "\n  pki.leafEpoch = \"2026-06-01T00:00:00Z\";",
    );
    let (b_old, b_new) = (tmp.path().join("b-old"), tmp.path().join("b-new"));
    build(&old, &b_old, None);
    build(&new, &b_new, Some(&b_old));
    let renew = plan(&new, &b_old);

    // One step per etcd member, in name order: its new files, its restart, its health gate.
    let etcd_steps: Vec<(String, Vec<String>)> = steps(&renew)
        .into_iter()
        .filter(|(h, _)| h.starts_with("etcd-"))
        .collect();
    let hosts: Vec<&str> = etcd_steps.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(hosts, ["etcd-0", "etcd-1", "etcd-2"], "{renew}");
    for (i, (host, commands)) in etcd_steps.iter().enumerate() {
        assert!(
            renew.contains(&format!(
                "[{host}] roll out renewed certificates (etcd/healthcheck-client.crt, etcd/peer.crt, etcd/server.crt)"
            )),
            "{renew}"
        );
        assert_eq!(commands.len(), 3, "{host}: {commands:?}");
        assert!(
            commands[0].starts_with(&format!(
                "tar --no-overwrite-dir -xzpf hosts/{host}.tar.gz -C /"
            )),
            "{commands:?}"
        );
        assert_eq!(commands[1], "systemctl restart etcd", "one member restarts");
        assert!(
            commands[2].contains(&format!("--endpoints=https://{}:2379 ", addr(i)))
                && commands[2].contains(" endpoint health --cluster;"),
            "the health gate is last: {commands:?}"
        );
        // The renewal is a real one: another serial and notBefore than the running bundle's.
        assert_ne!(bundled(&b_old, host), bundled(&b_new, host));
    }

    let mut lab = lab("r", tmp.path());
    let client_ns = lab.ns("client");
    let mut runner = Runner {
        lab: &mut lab,
        tmp: tmp.path(),
    };
    let pki0 = runner.root("etcd-0").join("etc/kubernetes/pki/etcd");
    start_three(&mut runner, &b_old, &client_ns, &pki0);
    for i in 0..3 {
        let h = format!("etcd-{i}");
        assert_eq!(
            served(&client_ns, &pki0, i),
            bundled(&b_old, &h),
            "{h} before"
        );
    }
    // The writer keeps etcd-0's old client certificate (a client that is not renewed at the
    // same time): the CAs stay, so it is trusted throughout.
    let writer_pki = tmp.path().join("writer-pki");
    std::fs::create_dir_all(&writer_pki).unwrap();
    for f in ["ca.crt", "healthcheck-client.crt", "healthcheck-client.key"] {
        std::fs::copy(pki0.join(f), writer_pki.join(f)).unwrap();
    }
    let pids =
        |r: &Runner| -> Vec<u32> { (0..3).map(|i| r.lab.pid(&format!("etcd-{i}"))).collect() };
    let before = pids(&runner);
    let started = Instant::now();
    let writer = Writer::start(&client_ns, &writer_pki);

    let ran = runner.run_plan(&b_new, &renew);
    assert_eq!(
        ran, 3,
        "three etcd steps (etcd-0, etcd-1, etcd-2):\n{renew}"
    );
    let last = writer.finish();
    eprintln!(
        "renewal rolled through 3 members in {:?}",
        started.elapsed()
    );

    let after = pids(&runner);
    for i in 0..3 {
        assert_ne!(before[i], after[i], "etcd-{i} was restarted");
    }
    // Every member serves its renewed certificate, and a client with a renewed certificate
    // (etcd-0's new one) is served.
    for i in 0..3 {
        let h = format!("etcd-{i}");
        assert_eq!(
            served(&client_ns, &pki0, i),
            bundled(&b_new, &h),
            "{h} after"
        );
    }
    let list = members(&client_ns, &pki0);
    assert_eq!(list.len(), 3, "{list:?}");
    assert!(
        list.iter()
            .all(|m| m.contains(", started, ") && m.ends_with("false")),
        "three started voting members: {list:?}"
    );
    let o = client(&client_ns, &pki0, &["endpoint", "health"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // The data: what was there before, and the writer's last write (or a later one that
    // failed on the client's side but was committed).
    let get = |key: &str| {
        let o = client(&client_ns, &pki0, &["get", key, "--print-value-only"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout).trim().to_string()
    };
    assert_eq!(get("ready"), "1");
    let value: u64 = get("writer").parse().expect("the writer's key");
    assert!(
        value >= last,
        "writer = {value}, last successful put {last}"
    );
    drop(lab);
}

#[test]
fn a_failed_external_member_is_removed_then_joins_again_empty_while_writes_go_on() {
    for t in ["etcd", "etcdctl", "ip", "tar", "sh"] {
        require_tool(t);
    }
    let tmp = tempfile::tempdir().unwrap();
    let f3 = cluster_file(&tmp.path().join("c3"), 3);
    let (b3, b3r) = (tmp.path().join("b3"), tmp.path().join("b3r"));
    build(&f3, &b3, None);

    let mut lab = lab("f", tmp.path());
    let client_ns = lab.ns("client");
    let mut runner = Runner {
        lab: &mut lab,
        tmp: tmp.path(),
    };
    let pki0 = runner.root("etcd-0").join("etc/kubernetes/pki/etcd");
    start_three(&mut runner, &b3, &client_ns, &pki0);
    let id_of = |list: &[String], name: &str| -> String {
        list.iter()
            .find(|m| m.contains(&format!(", {name}, ")))
            .and_then(|m| m.split(',').next())
            .unwrap_or_else(|| panic!("{name} in {list:?}"))
            .to_string()
    };
    let old_id = id_of(&members(&client_ns, &pki0), "etcd-2");
    let writer = Writer::start_at(&client_ns, &pki0, &[0, 1]);

    // etcd-2 dies with its disk: the process killed, every file of it gone.
    runner.lab.stop("etcd-2");
    std::fs::remove_dir_all(runner.root("etcd-2")).unwrap();
    std::thread::sleep(Duration::from_secs(2));

    // Planned as every member up, etcd refuses the first membership change: with --failed,
    // the dead member goes first.
    let replace = plan_failed(&f3, &b3, &["etcd-2"]);
    assert!(
        replace.contains("now: etcd 3 members (1 down), quorum 2, tolerates 0 failures"),
        "{replace}"
    );
    build_failed(&f3, &b3r, &b3, "etcd-2");
    // Its new unit joins the live members as `existing`, and lists itself with them.
    let unit = exec_start(&unit_of(&b3r, "etcd-2", tmp.path()));
    assert!(
        unit.iter().any(|w| w == "--initial-cluster-state=existing"),
        "{unit:?}"
    );
    let listed = unit
        .iter()
        .find_map(|w| w.strip_prefix("--initial-cluster="))
        .expect("--initial-cluster");
    assert_eq!(listed.split(',').count(), 3, "{listed}");
    let hosts: Vec<String> = steps(&replace).into_iter().map(|(h, _)| h).collect();
    assert_eq!(hosts, ["etcd-0", "etcd-2"], "{replace}");
    let ran = runner.run_plan(&b3r, &replace);
    assert_eq!(ran, 2, "{replace}");
    let last = writer.finish();

    let list = members(&client_ns, &pki0);
    assert_eq!(list.len(), 3, "{list:?}");
    assert!(
        list.iter()
            .all(|m| m.contains(", started, ") && m.ends_with("false")),
        "three started voting members: {list:?}"
    );
    assert_ne!(id_of(&list, "etcd-2"), old_id, "etcd-2 is a new member");
    // etcd-2 alone (a serializable read, from its own copy) has what was written while it
    // was gone, up to the writer's last put (applying the last entries may take a moment).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = client_at(
            &client_ns,
            &pki0,
            &[2],
            &["get", "writer", "--print-value-only", "--consistency=s"],
        );
        let value: Option<u64> = text(&o.stdout).trim().parse().ok();
        if o.status.success() && value.is_some_and(|v| v >= last) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "etcd-2 serves writer = {value:?}, the last put was {last}: {}",
            text(&o.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(lab);
}

fn build_failed(file: &Path, out: &Path, from: &Path, failed: &str) {
    let o = run(hac()
        .arg("build")
        .arg(file)
        .arg("-o")
        .arg(out)
        .arg("-q")
        .arg("--from")
        .arg(from)
        .args(["--failed", failed]));
    assert!(o.status.success(), "build failed: {}", text(&o.stderr));
}

/// The etcd unit of `host` in the bundle `bundle` (unpacked under `tmp`).
fn unit_of(bundle: &Path, host: &str, tmp: &Path) -> String {
    let dir = tmp.join(format!("unit-{host}"));
    unpack_host(bundle, host, &dir);
    std::fs::read_to_string(dir.join("etc/systemd/system/etcd.service")).unwrap()
}

/// `hosts/<host>.tar.gz` of `bundle` unpacked into `root` (modes kept: tar as root).
fn unpack_host(bundle: &Path, host: &str, root: &Path) {
    k8s::unpack(&bundle.join(format!("hosts/{host}.tar.gz")), root);
}

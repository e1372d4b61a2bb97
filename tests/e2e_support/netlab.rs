//! A lab of test hosts: one network namespace per host, joined by a bridge that lives in a
//! namespace of its own (nothing touches the root namespace's network), name resolution per
//! namespace (`/etc/netns/<ns>/hosts`), and the processes started in them, each with its
//! own log. Everything is torn down on drop, also when the test fails: processes by PID
//! (SIGTERM, then SIGKILL), namespaces, and the `/etc/netns` folders.

use super::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Lab {
    prefix: String,
    pub dir: PathBuf,
    hosts: Vec<String>,
    procs: Vec<Proc>,
}

struct Proc {
    label: String,
    child: Child,
    log: PathBuf,
    running: bool,
}

fn sh(args: &[&str]) {
    let o = run(Command::new(args[0]).args(&args[1..]));
    assert!(o.status.success(), "{args:?} failed: {}", text(&o.stderr));
}

impl Lab {
    /// Creates one namespace per `(host, address/prefix)`, each with `eth0` on the shared
    /// bridge, and gives every namespace the same `hosts` file.
    pub fn new(tag: &str, dir: &Path, hosts: &[(String, String)], hosts_file: &str) -> Lab {
        require_tool("ip");
        let mut lab = Lab {
            prefix: format!("hk{}{tag}", std::process::id() % 100_000),
            dir: dir.to_path_buf(),
            hosts: Vec::new(),
            procs: Vec::new(),
        };
        let br = lab.bridge();
        sh(&["ip", "netns", "add", &br]);
        sh(&["ip", "-n", &br, "link", "add", "br0", "type", "bridge"]);
        sh(&["ip", "-n", &br, "link", "set", "br0", "up"]);
        for (i, (host, cidr)) in hosts.iter().enumerate() {
            lab.hosts.push(host.clone());
            let ns = lab.ns(host);
            let peer = format!("p{i}");
            sh(&["ip", "netns", "add", &ns]);
            sh(&[
                "ip", "-n", &ns, "link", "add", "eth0", "type", "veth", "peer", "name", &peer,
                "netns", &br,
            ]);
            sh(&["ip", "-n", &br, "link", "set", &peer, "master", "br0"]);
            sh(&["ip", "-n", &br, "link", "set", &peer, "up"]);
            sh(&["ip", "-n", &ns, "addr", "add", cidr, "dev", "eth0"]);
            sh(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
            sh(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
            let etc = PathBuf::from("/etc/netns").join(&ns);
            std::fs::create_dir_all(&etc).unwrap();
            std::fs::write(etc.join("hosts"), hosts_file).unwrap();
        }
        lab
    }

    fn bridge(&self) -> String {
        format!("{}br", self.prefix)
    }

    /// The namespace of a host.
    pub fn ns(&self, host: &str) -> String {
        let i = self
            .hosts
            .iter()
            .position(|h| h == host)
            .unwrap_or_else(|| panic!("no host {host} in the lab"));
        format!("{}h{i}", self.prefix)
    }

    /// A command run in a host's namespace, with the host's name as hostname (a UTS
    /// namespace of its own), so that leader-election identities name the host.
    pub fn command(&self, host: &str, argv: &[String]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns(host)])
            .args([
                "unshare",
                "--uts",
                "sh",
                "-c",
                "hostname \"$0\" && exec \"$@\"",
            ])
            .arg(host)
            .args(argv);
        c
    }

    /// Runs a command in a host's namespace to its end.
    pub fn exec(&self, host: &str, argv: &[String]) -> Output {
        run(&mut self.command(host, argv))
    }

    /// Starts a long-running process in a host's namespace; its output goes to `<label>.log`.
    pub fn spawn(&mut self, host: &str, label: &str, argv: &[String]) {
        self.spawn_with_env(host, label, argv, &[]);
    }

    /// [`Lab::spawn`] with environment variables set for the process (e.g. a systemd
    /// unit's `NOTIFY_SOCKET`).
    pub fn spawn_with_env(
        &mut self,
        host: &str,
        label: &str,
        argv: &[String],
        env: &[(&str, &Path)],
    ) {
        let log = self.dir.join(format!("{label}.log"));
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut command = self.command(host, argv);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {label}: {e}"));
        self.procs.push(Proc {
            label: label.to_string(),
            child,
            log,
            running: true,
        });
    }

    /// Whether a started process is still running.
    pub fn alive(&mut self, label: &str) -> bool {
        self.procs
            .iter_mut()
            .filter(|p| p.label == label && p.running)
            .any(|p| matches!(p.child.try_wait(), Ok(None)))
    }

    /// The process id of the running process `label`.
    pub fn pid(&self, label: &str) -> u32 {
        self.procs
            .iter()
            .rev()
            .find(|p| p.label == label && p.running)
            .unwrap_or_else(|| panic!("no running process {label}"))
            .child
            .id()
    }

    /// Waits for a started process to end by itself; its exit status, or None on timeout.
    pub fn wait_exit(&mut self, label: &str, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        let p = self
            .procs
            .iter_mut()
            .rev()
            .find(|p| p.label == label)
            .unwrap_or_else(|| panic!("no process {label}"));
        while Instant::now() < deadline {
            if let Ok(Some(status)) = p.child.try_wait() {
                p.running = false;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// The log of a started process.
    pub fn log(&self, label: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{label}.log"))).unwrap_or_default()
    }

    /// Sends `signal` (`HUP`, …) to the running process `label`.
    pub fn signal(&self, label: &str, signal: &str) {
        let p = self
            .procs
            .iter()
            .rev()
            .find(|p| p.label == label && p.running)
            .unwrap_or_else(|| panic!("no running process {label}"));
        sh(&["kill", &format!("-{signal}"), &p.child.id().to_string()]);
    }

    /// Replaces every namespace's hosts file (what a DNS change does); processes already
    /// running see it at their next lookup.
    pub fn set_hosts_file(&self, hosts_file: &str) {
        for h in &self.hosts {
            let etc = PathBuf::from("/etc/netns").join(self.ns(h));
            std::fs::write(etc.join("hosts"), hosts_file).unwrap();
        }
    }

    /// Stops every process whose label starts with `prefix` (SIGTERM, SIGKILL after 10 s).
    pub fn stop(&mut self, prefix: &str) {
        let mut stopping: Vec<&mut Proc> = self
            .procs
            .iter_mut()
            .filter(|p| p.running && p.label.starts_with(prefix))
            .collect();
        for p in &stopping {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(p.child.id().to_string())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for p in &mut stopping {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = p.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = p.child.kill();
            let _ = p.child.wait();
            p.running = false;
        }
    }

    /// The last lines of every process's log, for a failure message.
    pub fn logs(&self, lines: usize) -> String {
        let mut out = String::new();
        let mut seen = std::collections::BTreeSet::new();
        for p in &self.procs {
            if !seen.insert(p.log.clone()) {
                continue;
            }
            let t = std::fs::read_to_string(&p.log).unwrap_or_default();
            let all: Vec<&str> = t.lines().collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            out.push_str(&format!("--- {}\n{}\n", p.label, tail.join("\n")));
        }
        out
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop("");
        for h in self.hosts.clone() {
            let ns = self.ns(&h);
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
            let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(&ns));
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.bridge()])
            .status();
    }
}

/// Polls `probe` every 250 ms until it returns true or `within` has passed; returns how
/// long it took, or panics with `what` and the lab's logs.
pub fn wait_until(
    lab: &Lab,
    within: Duration,
    what: &str,
    mut probe: impl FnMut() -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        if probe() {
            return start.elapsed();
        }
        if start.elapsed() > within {
            panic!(
                "{what}: not within {} s\n{}",
                within.as_secs(),
                lab.logs(25)
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

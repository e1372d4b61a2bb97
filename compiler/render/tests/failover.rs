//! The VIP really fails over: the rendered keepalived.conf of three control planes runs in
//! three network namespaces joined by a bridge (in a namespace of its own; nothing touches
//! the root namespace's network). The first master holds the VIP; when its health check
//! fails, the VIP moves to the next priority within fall × interval; when it recovers, it
//! takes the VIP back. Run for multicast and unicast VRRP.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod common;

use common::*;
use hac_render::facts::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Namespaces and keepalived processes, torn down on drop (also when the test fails).
struct Lab {
    prefix: String,
    members: usize,
    children: Vec<Child>,
}

impl Lab {
    fn ns(&self, i: usize) -> String {
        format!("{}m{i}", self.prefix)
    }
    fn bridge(&self) -> String {
        format!("{}br", self.prefix)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for c in &mut self.children {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        for i in 0..self.members {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(i)])
                .status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.bridge()])
            .status();
    }
}

fn sh(args: &[&str]) {
    let out = run(Command::new(args[0]).args(&args[1..]));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn holds(lab: &Lab, i: usize, vip: &str) -> bool {
    let out =
        run(Command::new("ip").args(["-n", &lab.ns(i), "-4", "-o", "addr", "show", "dev", "eth0"]));
    String::from_utf8_lossy(&out.stdout).contains(&format!(" {vip}/"))
}

/// Waits (generously: this only detects a hang) until exactly member `want` holds the VIP.
fn wait_for_holder(lab: &Lab, want: usize, vip: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let holders: Vec<usize> = (0..lab.members).filter(|i| holds(lab, *i, vip)).collect();
        if holders == [want] {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: expected member {want} alone to hold {vip}, holders are {holders:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn failover(variant: &str, cluster: &hac_model::Cluster, tag: &str) {
    let keepalived = tool("keepalived");
    tool("ip");
    let bundle = render_with_real_ca(cluster);
    let holders: Vec<&hac_model::Node> = cluster.vip_holders();
    assert_eq!(holders.len(), 3, "{variant}: three VIP holders");
    let vip = cluster
        .control_plane
        .vip
        .map(|v| v.to_string())
        .unwrap_or_default();
    let tmp = scratch_dir(&format!("failover-{tag}"));
    let dir = tmp.path();
    let mut lab = Lab {
        prefix: format!("hacr{}{tag}", std::process::id()),
        members: holders.len(),
        children: Vec::new(),
    };

    let br = lab.bridge();
    sh(&["ip", "netns", "add", &br]);
    sh(&["ip", "-n", &br, "link", "add", "br0", "type", "bridge"]);
    sh(&["ip", "-n", &br, "link", "set", "br0", "up"]);
    for (i, node) in holders.iter().enumerate() {
        let ns = lab.ns(i);
        let peer = format!("p{i}");
        sh(&["ip", "netns", "add", &ns]);
        sh(&[
            "ip", "-n", &ns, "link", "add", "eth0", "type", "veth", "peer", "name", &peer, "netns",
            &br,
        ]);
        sh(&["ip", "-n", &br, "link", "set", &peer, "master", "br0"]);
        sh(&["ip", "-n", &br, "link", "set", &peer, "up"]);
        let addr = format!("{}/{}", node.address, node.prefix_len.unwrap_or(24));
        sh(&["ip", "-n", &ns, "addr", "add", &addr, "dev", "eth0"]);
        sh(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
        sh(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
    }
    for (i, node) in holders.iter().enumerate() {
        let conf = text(file(&bundle, &node.name, KEEPALIVED_CONF).expect("keepalived.conf"));
        let script = dir.join(format!("check-{}.sh", node.name));
        let flag = dir.join(format!("fail-{}", node.name));
        std::fs::write(&script, format!("#!/bin/sh\n[ ! -e {} ]\n", flag.display()))
            .expect("write check");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .expect("chmod check");
        let conf = conf.replace(
            &format!("/{CHECK_APISERVER}"),
            &script.display().to_string(),
        );
        let conf_path = dir.join(format!("{}.conf", node.name));
        std::fs::write(&conf_path, conf).expect("write conf");
        let log = std::fs::File::create(dir.join(format!("{}.log", node.name))).expect("log");
        let child = Command::new("ip")
            .args(["netns", "exec", &lab.ns(i)])
            .arg(&keepalived)
            .args([
                "--dont-fork",
                "--log-console",
                "--log-detail",
                "--no-syslog",
                "--vrrp",
                "--use-file",
            ])
            .arg(&conf_path)
            .arg(format!(
                "--pid={}",
                dir.join(format!("{}.pid", node.name)).display()
            ))
            .arg(format!(
                "--vrrp_pid={}",
                dir.join(format!("{}.vrrp.pid", node.name)).display()
            ))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start keepalived");
        lab.children.push(child);
    }
    let logs = |dir: &Path| -> String {
        holders
            .iter()
            .map(|n| {
                format!(
                    "--- {}\n{}",
                    n.name,
                    std::fs::read_to_string(dir.join(format!("{}.log", n.name)))
                        .unwrap_or_default()
                )
            })
            .collect()
    };
    let master = holders
        .iter()
        .position(|n| {
            cluster
                .keepalived_master()
                .is_some_and(|m| m.name == n.name)
        })
        .expect("a master");
    let runner_up = (0..holders.len())
        .filter(|i| *i != master)
        .max_by_key(|i| cluster.keepalived_priorities()[*i].1)
        .expect("a peer");

    let guard = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_for_holder(&lab, master, &vip, &format!("{variant}: at start"));
        std::fs::write(dir.join(format!("fail-{}", holders[master].name)), b"").expect("fail flag");
        wait_for_holder(
            &lab,
            runner_up,
            &vip,
            &format!("{variant}: after the holder's check fails"),
        );
        std::fs::remove_file(dir.join(format!("fail-{}", holders[master].name)))
            .expect("clear flag");
        wait_for_holder(
            &lab,
            master,
            &vip,
            &format!("{variant}: after the holder recovers"),
        );
    }));
    if let Err(e) = guard {
        let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
        panic!("{msg}\nkeepalived logs:\n{}", logs(dir));
    }
}

#[test]
fn the_vip_fails_over_and_back_multicast_and_unicast() {
    let mut unicast = hac_model::samples::stacked_3();
    unicast.control_plane.keepalived.unicast = true;
    let a = std::thread::spawn(|| {
        failover(
            "stacked_3 (multicast)",
            &hac_model::samples::stacked_3(),
            "mc",
        );
    });
    let b = std::thread::spawn(move || failover("unicast", &unicast, "uc"));
    let ra = a.join();
    let rb = b.join();
    assert!(
        ra.is_ok() && rb.is_ok(),
        "failover failed (see the panic messages above)"
    );
}

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

/// Three VIP holders of `cluster`, each in a network namespace on one bridge (of its own),
/// running keepalived with its rendered keepalived.conf.
fn start_lab(cluster: &hac_model::Cluster, tag: &str) -> (Lab, tempfile::TempDir) {
    tool("ip");
    let holders: Vec<&hac_model::Node> = cluster.vip_holders();
    assert_eq!(holders.len(), 3, "three VIP holders");
    let tmp = scratch_dir(&format!("failover-{tag}"));
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
    let bundle = render_with_real_ca(cluster);
    for (i, node) in holders.iter().enumerate() {
        let conf_path = write_conf(tmp.path(), &bundle, &node.name);
        let log =
            std::fs::File::create(tmp.path().join(format!("{}.log", node.name))).expect("log");
        let child = Command::new("ip")
            .args(["netns", "exec", &lab.ns(i)])
            .arg(tool("keepalived"))
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
                tmp.path().join(format!("{}.pid", node.name)).display()
            ))
            .arg(format!(
                "--vrrp_pid={}",
                tmp.path().join(format!("{}.vrrp.pid", node.name)).display()
            ))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start keepalived");
        lab.children.push(child);
    }
    (lab, tmp)
}

/// Writes `node`'s keepalived.conf of `bundle` into `dir` (its health check replaced by one
/// that fails while `dir/fail-<node>` exists) and returns its path.
fn write_conf(dir: &Path, bundle: &hac_model::Bundle, node: &str) -> std::path::PathBuf {
    let conf = text(file(bundle, node, KEEPALIVED_CONF).expect("keepalived.conf"));
    let script = dir.join(format!("check-{node}.sh"));
    let flag = dir.join(format!("fail-{node}"));
    std::fs::write(&script, format!("#!/bin/sh\n[ ! -e {} ]\n", flag.display()))
        .expect("write check");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod check");
    let conf = conf.replace(
        &format!("/{CHECK_APISERVER}"),
        &script.display().to_string(),
    );
    let conf_path = dir.join(format!("{node}.conf"));
    std::fs::write(&conf_path, conf).expect("write conf");
    conf_path
}

fn failover(variant: &str, cluster: &hac_model::Cluster, tag: &str) {
    let holders: Vec<&hac_model::Node> = cluster.vip_holders();
    let vip = cluster
        .control_plane
        .vip
        .map(|v| v.to_string())
        .unwrap_or_default();
    let (lab, tmp) = start_lab(cluster, tag);
    let dir = tmp.path();
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

/// Holders of `vip` sampled every 100 ms until `stop`: (milliseconds since start, holders).
fn sample(
    lab: &Lab,
    vips: &[&str],
    stop: &std::sync::atomic::AtomicBool,
) -> Vec<(u128, Vec<usize>)> {
    let start = Instant::now();
    let mut out = Vec::new();
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        for (k, vip) in vips.iter().enumerate() {
            let holders: Vec<usize> = (0..lab.members).filter(|i| holds(lab, *i, vip)).collect();
            out.push((start.elapsed().as_millis() * 10 + k as u128, holders));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    out
}

/// Over the samples of one VIP: the most holders at once and the longest time (ms) it had none.
fn split_and_gap(samples: &[(u128, Vec<usize>)], k: u128) -> (usize, u128) {
    let (mut most, mut gap, mut since) = (0, 0, None);
    for (t, holders) in samples.iter().filter(|(t, _)| t % 10 == k) {
        let t = t / 10;
        most = most.max(holders.len());
        match (holders.is_empty(), since) {
            (true, None) => since = Some(t),
            (false, Some(s)) => {
                gap = gap.max(t - s);
                since = None;
            }
            _ => {}
        }
    }
    if let (Some(s), Some((t, _))) = (since, samples.last()) {
        gap = gap.max(t / 10 - s);
    }
    (most, gap)
}

/// Sends SIGHUP (`systemctl reload keepalived`) to holder `i`'s keepalived.
fn reload(lab: &Lab, i: usize) {
    sh(&["kill", "-HUP", &lab.children[i].id().to_string()]);
}

/// The VIP moves to a new address as `hac plan` rolls it (docs/plan.md): the build between
/// holds the new VIP under a new router id and the old one in a VRRP instance of its own;
/// its keepalived.conf reaches the holders one at a time, the MASTER last (`systemctl reload
/// keepalived`), then the next build's, which drops the old VIP. Sampled every 100 ms with
/// real keepalived: the old VIP keeps exactly one holder while the first roll runs, the new
/// one while the second runs; never two holders of one VIP.
#[test]
fn the_vip_moves_to_a_new_address_one_holder_at_a_time() {
    let before = hac_model::samples::stacked_3();
    let (_, between) = variants()
        .into_iter()
        .find(|(name, _)| *name == "vip_move")
        .expect("the vip_move variant");
    let mut after = between.clone();
    after.control_plane.previous_vip = None;
    let (old, new) = ("10.0.2.100", "10.0.2.200");
    assert_eq!(
        before.control_plane.vip.map(|v| v.to_string()).as_deref(),
        Some(old)
    );
    assert_eq!(
        after.control_plane.vip.map(|v| v.to_string()).as_deref(),
        Some(new)
    );
    let (lab, tmp) = start_lab(&before, "mv");
    let dir = tmp.path();
    let names: Vec<String> = before
        .vip_holders()
        .iter()
        .map(|n| n.name.clone())
        .collect();
    let master = names
        .iter()
        .position(|n| n == "master-0")
        .expect("master-0");
    let mut order: Vec<usize> = (0..names.len()).filter(|i| *i != master).rev().collect();
    order.push(master);
    let logs = || -> String {
        names
            .iter()
            .map(|n| {
                format!(
                    "--- {n}\n{}",
                    std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap_or_default()
                )
            })
            .collect()
    };
    let roll = |cluster: &hac_model::Cluster| {
        let bundle = render_with_real_ca(cluster);
        for i in &order {
            write_conf(dir, &bundle, &names[*i]);
            reload(&lab, *i);
            std::thread::sleep(Duration::from_secs(6));
        }
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_for_holder(&lab, master, old, "at start");
        let stop = std::sync::atomic::AtomicBool::new(false);
        let first = std::thread::scope(|s| {
            let sampler = s.spawn(|| sample(&lab, &[old, new], &stop));
            roll(&between);
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            sampler.join().expect("sampler")
        });
        wait_for_holder(&lab, master, old, "after the first roll");
        wait_for_holder(&lab, master, new, "after the first roll");
        let stop = std::sync::atomic::AtomicBool::new(false);
        let second = std::thread::scope(|s| {
            let sampler = s.spawn(|| sample(&lab, &[old, new], &stop));
            roll(&after);
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            sampler.join().expect("sampler")
        });
        wait_for_holder(&lab, master, new, "after the second roll");
        let old_holders: Vec<usize> = (0..names.len()).filter(|i| holds(&lab, *i, old)).collect();
        assert!(
            old_holders.is_empty(),
            "the old VIP is released: {old_holders:?}"
        );
        let (most_old, gap_old) = split_and_gap(&first, 0);
        let (most_new_1, _) = split_and_gap(&first, 1);
        let (most_new, gap_new) = split_and_gap(&second, 1);
        eprintln!(
            "first roll: {old} at most {most_old} holders, longest without one {gap_old} ms; {new} at most {most_new_1}; second roll: {new} at most {most_new} holders, longest without one {gap_new} ms"
        );
        assert!(
            most_old <= 1 && most_new_1 <= 1 && most_new <= 1,
            "a VIP had two holders"
        );
        assert_eq!(gap_old, 0, "{old} went unheld during the first roll");
        assert_eq!(gap_new, 0, "{new} went unheld during the second roll");
    }));
    if let Err(e) = result {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_default();
        panic!("{msg}\nkeepalived logs:\n{}", logs());
    }
}

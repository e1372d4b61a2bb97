//! A real 3-member etcd cluster on loopback (127.0.53.11–13, free ports) started with the
//! issued server and peer certificates and `--client-cert-auth`/`--peer-client-cert-auth`:
//! `etcdctl endpoint health` with the healthcheck-client certificate (and with the
//! apiserver's etcd client certificate) is healthy; without a client certificate, or with one
//! from another CA, it is refused. Members are stopped with SIGTERM, then SIGKILL.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod support;

use hac_model::samples;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// An etcd process, stopped on drop (SIGTERM, then SIGKILL after 10 s).
struct Member {
    child: Child,
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port(addr: Ipv4Addr) -> u16 {
    TcpListener::bind((addr, 0))
        .expect("bind loopback")
        .local_addr()
        .unwrap()
        .port()
}

/// `etcdctl endpoint health` against `endpoint` with `cert`/`key` (or none); (success, output).
fn health(endpoint: &str, ca: &Path, client: Option<(&Path, &Path)>) -> (bool, String) {
    let mut cmd = Command::new("etcdctl");
    cmd.env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoint}"))
        .arg("--cacert")
        .arg(ca)
        .args(["--dial-timeout=3s", "--command-timeout=5s"]);
    if let Some((cert, key)) = client {
        cmd.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    cmd.args(["endpoint", "health"]);
    let o = run(&mut cmd);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success() && text.contains("is healthy"), text)
}

#[test]
fn a_three_member_etcd_cluster_runs_on_the_issued_certificates_with_mutual_tls() {
    require_tool("etcd");
    require_tool("etcdctl");
    let mut c = samples::external_etcd();
    let addrs = [
        Ipv4Addr::new(127, 0, 53, 11),
        Ipv4Addr::new(127, 0, 53, 12),
        Ipv4Addr::new(127, 0, 53, 13),
    ];
    for (i, a) in addrs.iter().enumerate() {
        let n = c
            .nodes
            .iter_mut()
            .find(|n| n.name == format!("etcd-{i}"))
            .unwrap();
        n.address = *a;
    }
    let pki = issue(&c);
    let tmp = tempfile::tempdir().unwrap();
    let ports: Vec<(u16, u16)> = addrs
        .iter()
        .map(|a| (free_port(*a), free_port(*a)))
        .collect();
    let initial_cluster = (0..3)
        .map(|i| format!("etcd-{i}=https://{}:{}", addrs[i], ports[i].1))
        .collect::<Vec<_>>()
        .join(",");
    let mut members = Vec::new();
    let mut endpoints = Vec::new();
    for i in 0..3 {
        let name = format!("etcd-{i}");
        let root = tmp.path().join(&name);
        write_node(&root, &pki.files[&name]);
        let p = |f: &str| -> PathBuf { root.join("etc/kubernetes/pki/etcd").join(f) };
        let client_url = format!("https://{}:{}", addrs[i], ports[i].0);
        let peer_url = format!("https://{}:{}", addrs[i], ports[i].1);
        let log = std::fs::File::create(tmp.path().join(format!("{name}.log"))).unwrap();
        let child = Command::new("etcd")
            .arg(format!("--name={name}"))
            .arg("--data-dir")
            .arg(root.join("var/lib/etcd"))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster={initial_cluster}"))
            .args([
                "--initial-cluster-state=new",
                "--initial-cluster-token=hac-pki-test",
            ])
            .arg("--client-cert-auth=true")
            .arg("--trusted-ca-file")
            .arg(p("ca.crt"))
            .arg("--cert-file")
            .arg(p("server.crt"))
            .arg("--key-file")
            .arg(p("server.key"))
            .arg("--peer-client-cert-auth=true")
            .arg("--peer-trusted-ca-file")
            .arg(p("ca.crt"))
            .arg("--peer-cert-file")
            .arg(p("peer.crt"))
            .arg("--peer-key-file")
            .arg(p("peer.key"))
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start etcd: {e}; {INSTALL_HINT}"));
        members.push(Member { child });
        endpoints.push(client_url);
    }
    let d0 = tmp.path().join("etcd-0/etc/kubernetes/pki/etcd");
    let (ca, hc_crt, hc_key) = (
        d0.join("ca.crt"),
        d0.join("healthcheck-client.crt"),
        d0.join("healthcheck-client.key"),
    );
    // Wait (generously, only to detect a hang) until every member is healthy.
    let deadline = Instant::now() + Duration::from_secs(90);
    for ep in &endpoints {
        loop {
            let (ok, out) = health(ep, &ca, Some((&hc_crt, &hc_key)));
            if ok {
                break;
            }
            if Instant::now() > deadline {
                let logs: String = (0..3)
                    .map(|i| {
                        std::fs::read_to_string(tmp.path().join(format!("etcd-{i}.log")))
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("\n----\n");
                panic!("{ep} never became healthy: {out}\nlogs:\n{logs}");
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    // The apiserver's etcd client certificate (on the masters) is accepted as well.
    let m0 = tmp.path().join("master-0");
    write_node(&m0, &pki.files["master-0"]);
    let mp = m0.join("etc/kubernetes/pki");
    let (ok, out) = health(
        &endpoints[1],
        &mp.join("etcd/ca.crt"),
        Some((
            &mp.join("apiserver-etcd-client.crt"),
            &mp.join("apiserver-etcd-client.key"),
        )),
    );
    assert!(ok, "apiserver-etcd-client refused: {out}");
    // No client certificate: refused.
    let (ok, out) = health(&endpoints[0], &ca, None);
    assert!(!ok, "etcd accepted a client without a certificate: {out}");
    // A client certificate from the cluster CA (not the etcd CA): refused.
    let (ok, out) = health(
        &endpoints[2],
        &ca,
        Some((
            &mp.join("apiserver-kubelet-client.crt"),
            &mp.join("apiserver-kubelet-client.key"),
        )),
    );
    assert!(!ok, "etcd accepted a certificate of another CA: {out}");
    drop(members);
}

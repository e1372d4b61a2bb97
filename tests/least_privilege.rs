//! bundle.md's least-privilege table, checked on every buildable example: each node's
//! archive holds exactly the files its roles call for — in particular no worker, load
//! balancer or etcd node holds a key of the cluster CA, and no node holds `etcd/ca.key` or
//! `front-proxy-ca.key`. The expected sets are computed here from the `.ha` value itself
//! (via `hac eval`), independently of the compiler's own placement code.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod e2e_support;
use e2e_support::*;
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

struct Layout {
    stacked: bool,
    lb_kind: String,
    dedicated: bool,
    super_admin: bool,
    first_cp: String,
    /// `controlPlane.apiServer.encryption` / `audit` / `oidc.ca` are set.
    encryption: bool,
    audit: bool,
    oidc_ca: bool,
    /// The cluster's `hosts.packages` and `hosts.firewall` (nodes may override them).
    packages: String,
    firewall: bool,
}

fn expected(
    layout: &Layout,
    name: &str,
    roles: &[String],
    hosts: &serde_json::Value,
) -> BTreeSet<String> {
    let has = |r: &str| roles.iter().any(|x| x == r);
    let mut f = BTreeSet::new();
    let mut add = |p: &str| {
        f.insert(p.to_string());
    };
    let cp = has("control-plane");
    let etcd_member = if layout.stacked { cp } else { has("etcd") };
    let holds_vip = match layout.lb_kind.as_str() {
        "keepalived" => cp,
        "haproxy" | "nginx" => {
            if layout.dedicated {
                has("load-balancer")
            } else {
                cp
            }
        }
        _ => false,
    };
    let pki = "etc/kubernetes/pki/";
    if cp {
        for p in [
            "ca.crt",
            "ca.key",
            "apiserver.crt",
            "apiserver.key",
            "apiserver-kubelet-client.crt",
            "apiserver-kubelet-client.key",
            "front-proxy-ca.crt",
            "front-proxy-client.crt",
            "front-proxy-client.key",
            "sa.key",
            "sa.pub",
            "apiserver-etcd-client.crt",
            "apiserver-etcd-client.key",
            "etcd/ca.crt",
        ] {
            add(&format!("{pki}{p}"));
        }
        for k in ["admin", "controller-manager", "scheduler"] {
            add(&format!("etc/kubernetes/{k}.conf"));
        }
        if layout.super_admin && name == layout.first_cp {
            add("etc/kubernetes/super-admin.conf");
        }
        if layout.lb_kind == "kube-vip" {
            // Staged on joining control planes: kubeadm join wants the manifests folder empty.
            add(if name == layout.first_cp {
                "etc/kubernetes/manifests/kube-vip.yaml"
            } else {
                "etc/hac/kube-vip.yaml"
            });
        }
        if layout.encryption {
            add(&format!("{pki}encryption-config.yaml"));
        }
        if layout.audit {
            add("etc/kubernetes/audit-policy.yaml");
        }
        if layout.oidc_ca {
            add(&format!("{pki}oidc-ca.crt"));
        }
    }
    if etcd_member {
        add(&format!("{pki}etcd/ca.crt"));
        for p in ["server", "peer", "healthcheck-client"] {
            add(&format!("{pki}etcd/{p}.crt"));
            add(&format!("{pki}etcd/{p}.key"));
        }
        if !layout.stacked {
            add("etc/systemd/system/etcd.service");
        }
    }
    if cp || has("worker") {
        add("etc/kubernetes/kubeadm-config.yaml");
        add("etc/sysctl.d/99-kubernetes.conf");
        add("etc/modules-load.d/kubernetes.conf");
        add("etc/containerd/config.toml");
        add("etc/crictl.yaml");
        let packages = hosts["packages"].as_str().unwrap_or(&layout.packages);
        if packages != "preinstalled" {
            add("etc/apt/sources.list.d/hac-kubernetes.list");
            add("etc/apt/keyrings/hac-kubernetes.asc");
        }
    }
    if hosts["firewall"].as_bool().unwrap_or(layout.firewall) {
        add("etc/hac/firewall.nft");
        add("etc/systemd/system/hac-firewall.service");
    }
    if holds_vip {
        add("etc/keepalived/keepalived.conf");
        add("etc/keepalived/check_apiserver.sh");
        match layout.lb_kind.as_str() {
            "haproxy" => add("etc/haproxy/haproxy.cfg"),
            "nginx" => add("etc/nginx/nginx.conf"),
            _ => {}
        }
    }
    if has("load-balancer") && !cp {
        // A load balancer that also joins as a worker keeps the CA out of kubeadm's path.
        if has("worker") {
            add("etc/hac/kubernetes-ca.crt");
        } else {
            add(&format!("{pki}ca.crt"));
        }
    }
    add("etc/hac/bootstrap.sh");
    add("etc/hac/manifest.json");
    add("etc/hac/prepare.sh");
    f
}

#[test]
fn every_node_holds_exactly_what_its_roles_need() {
    for example in BUILDABLE {
        let o = run(hac().arg("eval").arg("--json").arg(example_file(example)));
        assert!(o.status.success(), "{example}: {}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let minor: u32 = v["kubernetesVersion"]
            .as_str()
            .unwrap()
            .trim_start_matches('v')
            .split('.')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let nodes = v["nodes"].as_object().unwrap();
        let mut cps: Vec<&String> = nodes
            .iter()
            .filter(|(_, n)| {
                n["roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == "control-plane")
            })
            .map(|(k, _)| k)
            .collect();
        cps.sort();
        let lb = &v["controlPlane"]["loadBalancer"];
        let layout = Layout {
            stacked: v["etcd"]["topology"].as_str().unwrap_or("stacked") == "stacked",
            lb_kind: lb["kind"].as_str().unwrap_or("haproxy").to_string(),
            dedicated: lb["placement"].as_str().unwrap_or("control-plane") == "dedicated",
            super_admin: minor >= 29,
            first_cp: cps[0].clone(),
            encryption: !v["controlPlane"]["apiServer"]["encryption"].is_null(),
            audit: !v["controlPlane"]["apiServer"]["audit"].is_null(),
            oidc_ca: !v["controlPlane"]["apiServer"]["oidc"]["ca"].is_null(),
            packages: v["hosts"]["packages"]
                .as_str()
                .unwrap_or(if minor >= 24 {
                    "upstream"
                } else {
                    "preinstalled"
                })
                .to_string(),
            firewall: v["hosts"]["firewall"].as_bool().unwrap_or(false),
        };
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("b");
        build_example(example, &out, "tree");
        for (name, node) in nodes {
            let roles: Vec<String> = node["roles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect();
            let host = out.join("hosts").join(name);
            let got: BTreeSet<String> = files_under(&host)
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            let want = expected(&layout, name, &roles, &node["hosts"]);
            let extra: Vec<_> = got.difference(&want).collect();
            let missing: Vec<_> = want.difference(&got).collect();
            assert!(
                extra.is_empty() && missing.is_empty(),
                "{example}/{name} ({roles:?}):\n  must not hold: {extra:?}\n  lacks: {missing:?}"
            );
            for f in &got {
                let is_key = f.ends_with(".key")
                    || f.ends_with(".conf")
                        && f.starts_with("etc/kubernetes/")
                        && !f.contains("sysctl")
                        && !f.contains("modules");
                assert!(
                    !f.ends_with("etcd/ca.key") && !f.ends_with("front-proxy-ca.key"),
                    "{example}/{name} holds {f}"
                );
                if f.ends_with(".key") || f.ends_with("sa.pub") || is_key {
                    let mode = std::fs::metadata(host.join(f))
                        .unwrap()
                        .permissions()
                        .mode()
                        & 0o777;
                    assert_eq!(
                        mode, 0o600,
                        "{example}/{name}/{f} must be 0600, is {mode:o}"
                    );
                }
            }
            if !roles.iter().any(|r| r == "control-plane") {
                assert!(
                    !got.contains("etc/kubernetes/pki/ca.key"),
                    "{example}/{name} holds the cluster CA key"
                );
            }
            if roles == ["worker"] {
                assert!(
                    got.iter().all(|f| !f.ends_with(".key")),
                    "{example}/{name}: a worker holds a private key"
                );
            }
        }
    }
}

/// A cluster with every role apart (external etcd, dedicated load balancers, a worker) and the
/// security settings on.
const SECURE_CLUSTER: &str = r#"{
  name = "secure";
  kubernetesVersion = "1.32.9";
  epoch = "2026-01-01T00:00:00Z";
  controlPlane = {
    vip = "10.0.2.100";
    loadBalancer = { kind = "haproxy"; placement = "dedicated"; };
    apiServer = {
      encryption = { resources = [ "secrets" ]; provider = "aescbc"; rotation = 1; };
      audit.policy = "metadata";
      oidc = { issuerURL = "https://login.example.com"; clientID = "kubernetes";
               ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"; };
    };
  };
  etcd.topology = "external";
  network.pods = "10.244.0.0/16";
  nodes = {
    master-0 = { roles = [ "control-plane" ]; address = "10.0.2.10/24"; };
    master-1 = { roles = [ "control-plane" ]; address = "10.0.2.11/24"; };
    etcd-0 = { roles = [ "etcd" ]; address = "10.0.2.20/24"; };
    etcd-1 = { roles = [ "etcd" ]; address = "10.0.2.21/24"; };
    etcd-2 = { roles = [ "etcd" ]; address = "10.0.2.22/24"; };
    lb-0 = { roles = [ "load-balancer" ]; address = "10.0.2.30/24"; };
    lb-1 = { roles = [ "load-balancer" ]; address = "10.0.2.31/24"; };
    worker-0 = { roles = [ "worker" ]; address = "10.0.2.40/24"; };
  };
}
"#;

/// The encryption-at-rest keys, the audit policy and the OIDC CA go to the control planes
/// and nowhere else; the keys' file is 0600, undigested in manifest.json, and its keys appear
/// in no other file of the bundle and in nothing hac prints.
#[test]
fn the_encryption_keys_reach_only_the_control_planes() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("secure.ha");
    std::fs::write(&file, SECURE_CLUSTER).unwrap();
    let o = run(hac().arg("secrets").arg("init").arg(&file));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = tmp.path().join("out");
    let build = run(hac()
        .arg("build")
        .arg(&file)
        .arg("-o")
        .arg(&out)
        .arg("--format")
        .arg("tree"));
    assert!(build.status.success(), "{}", text(&build.stderr));

    let config = "etc/kubernetes/pki/encryption-config.yaml";
    let private_to_cp = [config];
    let public_to_cp = [
        "etc/kubernetes/audit-policy.yaml",
        "etc/kubernetes/pki/oidc-ca.crt",
    ];
    let master = out.join("hosts/master-0").join(config);
    let yaml = std::fs::read_to_string(&master).unwrap();
    let keys: Vec<String> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("secret: "))
        .map(str::to_string)
        .collect();
    assert_eq!(keys.len(), 2, "rotation 1 keeps key-1 and key-0");
    assert!(keys.iter().all(|k| k.len() == 44), "32-byte keys in base64");

    for host in [
        "master-0", "master-1", "etcd-0", "etcd-1", "etcd-2", "lb-0", "lb-1", "worker-0",
    ] {
        let dir = out.join("hosts").join(host);
        let cp = host.starts_with("master");
        for f in private_to_cp.iter().chain(public_to_cp.iter()) {
            assert_eq!(dir.join(f).exists(), cp, "{host}/{f}");
        }
        if cp {
            let mode = std::fs::metadata(dir.join(config))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{host}/{config}");
            let manifest = std::fs::read_to_string(dir.join("etc/hac/manifest.json")).unwrap();
            let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
            let entry = m["files"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["path"] == config)
                .unwrap_or_else(|| panic!("{host}: manifest.json lists no {config}"));
            assert!(entry.get("sha256").is_none(), "{host}: {entry}");
        }
    }
    // No file but the control planes' configuration holds a key, in any form hac writes it
    // as text (cloud-init carries private files gzip+base64, never readable).
    for f in files_under(&out) {
        let bytes = std::fs::read(out.join(&f)).unwrap();
        let body = String::from_utf8_lossy(&bytes);
        let name = f.display().to_string();
        let allowed = name.ends_with(config) && name.starts_with("hosts/master-");
        for k in &keys {
            assert!(
                allowed || !body.contains(k.as_str()),
                "{} holds a key",
                f.display()
            );
        }
    }
    let inspect = run(hac().arg("inspect").arg(&out));
    for o in [&build, &inspect] {
        let printed = format!("{}{}", text(&o.stdout), text(&o.stderr));
        for k in &keys {
            assert!(!printed.contains(k.as_str()), "hac printed a key");
        }
    }
}

//! bundle.md's least-privilege table, checked on every buildable example: each node's
//! archive holds exactly the files its roles call for — in particular no worker, load
//! balancer or etcd node holds a key of the cluster CA, and no node holds `etcd/ca.key` or
//! `front-proxy-ca.key`. The expected sets are computed here from the `.ha` value itself
//! (via `hac eval`), independently of the compiler's own placement code.

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
}

fn expected(layout: &Layout, name: &str, roles: &[String]) -> BTreeSet<String> {
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
            add("etc/kubernetes/manifests/kube-vip.yaml");
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
            let want = expected(&layout, name, &roles);
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

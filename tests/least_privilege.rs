//! bundle.md's least-privilege table, checked on every buildable example: each node's
//! archive on disk holds exactly the archive table's files (hac_model::archive) with their
//! modes — and, stated outright, no worker, load balancer or etcd node holds a key of the
//! cluster CA, no node holds `etcd/ca.key` or `front-proxy-ca.key`.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod e2e_support;
use e2e_support::*;
use hac_model::Role;
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

/// The checked model of a cluster file, as `hac build` makes it.
fn model(file: &std::path::Path) -> hac_model::Cluster {
    let ev = hac_eval::evaluate(file, &hac_eval::EvalOptions::default());
    let data = ev
        .result
        .unwrap_or_else(|d| panic!("{}: {d:#?}", file.display()));
    let cluster =
        hac_check::build_model(&data).unwrap_or_else(|d| panic!("{}: {d:#?}", file.display()));
    let errors: Vec<_> = hac_check::check(&cluster)
        .into_iter()
        .filter(hac_core::Diagnostic::is_error)
        .collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    cluster
}

/// Every example's archives on disk, as `hac build` wrote them, hold exactly the rows of the
/// archive table (hac_model::archive, which the PKI stage and the renderer read), with the
/// table's modes; and the rules of least privilege hold, stated here outright: the cluster
/// CA key only on control planes, no node with `etcd/ca.key` or `front-proxy-ca.key`, no
/// private key on a worker, every key and kubeconfig 0600.
#[test]
fn every_node_holds_exactly_what_its_roles_need() {
    for example in BUILDABLE {
        let cluster = model(&example_file(example));
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("b");
        build_example(example, &out, "tree");
        for node in &cluster.nodes {
            let name = &node.name;
            let roles = &node.roles;
            let host = out.join("hosts").join(name);
            let mode = |f: &str| {
                std::fs::metadata(host.join(f))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777
            };
            let got: Vec<(String, u32)> = files_under(&host)
                .iter()
                .map(|p| {
                    let p = p.display().to_string();
                    let m = mode(&p);
                    (p, m)
                })
                .collect();
            let want: Vec<(String, u32)> = hac_model::archive::archive_files(&cluster, node)
                .iter()
                .map(|row| (row.path.to_string(), row.mode))
                .collect();
            let got_set: BTreeSet<&(String, u32)> = got.iter().collect();
            let want_set: BTreeSet<&(String, u32)> = want.iter().collect();
            let extra: Vec<_> = got_set.difference(&want_set).collect();
            let missing: Vec<_> = want_set.difference(&got_set).collect();
            assert!(
                extra.is_empty() && missing.is_empty(),
                "{example}/{name} ({roles:?}):\n  must not hold: {extra:?}\n  lacks: {missing:?}"
            );
            for (f, m) in &got {
                assert!(
                    !f.ends_with("etcd/ca.key") && !f.ends_with("front-proxy-ca.key"),
                    "{example}/{name} holds {f}"
                );
                let kubeconfig = f.ends_with(".conf")
                    && f.starts_with("etc/kubernetes/")
                    && !f.contains("sysctl")
                    && !f.contains("modules");
                if f.ends_with(".key") || f.ends_with("sa.pub") || kubeconfig {
                    assert_eq!(*m, 0o600, "{example}/{name}/{f} must be 0600, is {m:o}");
                }
            }
            let holds = |p: &str| got.iter().any(|(f, _)| f == p);
            if !node.has(Role::ControlPlane) {
                assert!(
                    !holds("etc/kubernetes/pki/ca.key"),
                    "{example}/{name} holds the cluster CA key"
                );
            }
            if roles.as_slice() == [Role::Worker] {
                assert!(
                    got.iter().all(|(f, _)| !f.ends_with(".key")),
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

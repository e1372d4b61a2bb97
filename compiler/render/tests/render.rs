//! The render function's contract: pure and deterministic, the bundle-level files per
//! `outputs`, the 16 KiB user-data warning, errors for values the files cannot hold (never
//! quoting a secret), and the version- and role-dependent details of the rendered files.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod common;

use common::*;
use hac_model::{samples, BootstrapToken, LoadBalancerKind, Version, VrrpPassword};
use hac_render::facts::*;

fn render(cluster: &hac_model::Cluster) -> hac_model::Bundle {
    hac_render::render(
        cluster,
        &fake_pki(cluster, "CA PEM\n"),
        &secrets(),
        "the report\n",
        "the topology\n",
    )
    .expect("render")
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    for (variant, cluster) in variants() {
        let a = render(&cluster);
        let b = render(&cluster);
        assert_eq!(a.hosts, b.hosts, "{variant}");
        assert_eq!(a.files, b.files, "{variant}");
    }
}

#[test]
fn bundle_files_follow_outputs() {
    let mut cluster = samples::stacked_3();
    let bundle = render(&cluster);
    let paths: Vec<&str> = bundle.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "ansible/inventory.yml",
            "ansible/site.yml",
            "cloud-init/master-0-keys.tar.gz",
            "cloud-init/master-0.yaml",
            "cloud-init/master-1-keys.tar.gz",
            "cloud-init/master-1.yaml",
            "cloud-init/master-2-keys.tar.gz",
            "cloud-init/master-2.yaml",
            "cloud-init/worker-0-keys.tar.gz",
            "cloud-init/worker-0.yaml",
            "cloud-init/worker-1-keys.tar.gz",
            "cloud-init/worker-1.yaml",
            "report.txt",
            "topology.svg"
        ]
    );
    // The key archives: 0600, exactly the node's private files, as in its host archive.
    for node in ["master-0", "worker-0"] {
        let archive = bundle
            .files
            .iter()
            .find(|f| f.path == format!("cloud-init/{node}-keys.tar.gz"))
            .expect("key archive");
        assert_eq!(archive.mode, 0o600);
        let private: Vec<hac_model::Artifact> = bundle.hosts[node]
            .iter()
            .filter(|f| f.mode & 0o044 == 0)
            .cloned()
            .collect();
        assert!(!private.is_empty());
        let expected =
            hac_bundle::host_archive(node, &private, cluster.epoch.unix).expect("archive");
        assert!(
            archive.contents == expected,
            "{node}: the key archive holds other files"
        );
        let user_data = String::from_utf8_lossy(
            &bundle
                .files
                .iter()
                .find(|f| f.path == format!("cloud-init/{node}.yaml"))
                .expect("user-data")
                .contents,
        )
        .into_owned();
        for f in &private {
            assert!(
                !user_data.contains(&format!("- path: /{}\n", f.path)),
                "{node}: {} is in the user-data",
                f.path
            );
        }
    }
    assert!(
        !bundle
            .warnings
            .iter()
            .any(|w| w.code.as_deref() == Some("W0706")),
        "{:#?}",
        bundle.warnings
    );
    // "inline": no archives, and one warning that names the nodes whose user-data has keys.
    let mut inline = cluster.clone();
    inline.outputs.cloud_init_keys = hac_model::CloudInitKeys::Inline;
    let bundle = render(&inline);
    assert!(!bundle
        .files
        .iter()
        .any(|f| f.path.ends_with("-keys.tar.gz")));
    let keys: Vec<_> = bundle
        .warnings
        .iter()
        .filter(|w| w.code.as_deref() == Some("W0706"))
        .collect();
    assert_eq!(keys.len(), 1, "{:#?}", bundle.warnings);
    assert!(
        keys[0].message.contains("master-0") && keys[0].message.contains("metadata service"),
        "{}",
        keys[0].message
    );
    assert!(
        keys[0]
            .hints
            .iter()
            .any(|h| h.contains("outputs.cloudInitKeys = \"separate\"")),
        "{:?}",
        keys[0].hints
    );
    let contents = |path: &str| {
        bundle
            .files
            .iter()
            .find(|f| f.path == path)
            .map(|f| (f.mode, f.contents.clone()))
    };
    assert_eq!(
        contents("report.txt"),
        Some((0o644, b"the report\n".to_vec()))
    );
    assert_eq!(
        contents("topology.svg"),
        Some((0o644, b"the topology\n".to_vec()))
    );
    cluster.outputs.cloud_init = false;
    cluster.outputs.ansible = false;
    let bundle = render(&cluster);
    let paths: Vec<&str> = bundle.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["report.txt", "topology.svg"]);
}

const ETCD_SERVER_CRT: &str = "etc/kubernetes/pki/etcd/server.crt";

/// Replaces the contents of `node`'s PKI file `path`.
fn grow(pki: &mut hac_model::IssuedPki, node: &str, path: &str, contents: Vec<u8>) {
    let files = pki.files.get_mut(node).expect("the node's PKI files");
    let file = files.iter_mut().find(|f| f.path == path).expect("the file");
    file.contents = contents;
}

#[test]
fn user_data_over_16_kib_packs_its_largest_readable_files_until_it_fits() {
    // A big certificate (the archive table decides which files exist, so an existing one
    // grows): an etcd member's serving certificate.
    let cluster = samples::external_etcd();
    let mut pki = fake_pki(&cluster, "CA PEM\n");
    grow(&mut pki, "etcd-1", ETCD_SERVER_CRT, vec![b'x'; 14_000]);
    let bundle = hac_render::render(&cluster, &pki, &secrets(), "r", "svg").expect("render");
    assert!(
        !bundle
            .warnings
            .iter()
            .any(|w| w.code.as_deref() == Some("W0701")),
        "{:#?}",
        bundle.warnings
    );
    let user_data = bundle
        .files
        .iter()
        .find(|f| f.path == "cloud-init/etcd-1.yaml")
        .expect("user-data");
    assert!(user_data.contents.len() <= 16 * 1024);
    let text = String::from_utf8_lossy(&user_data.contents);
    // The big file is packed; the bootstrap script a reviewer reads stays plain text.
    let entry = |path: &str| {
        text.split("\n- path: ")
            .find(|e| e.starts_with(path))
            .unwrap_or_else(|| panic!("no {path}"))
            .to_string()
    };
    assert!(entry(&format!("/{ETCD_SERVER_CRT}")).contains("encoding: gz+b64"));
    assert!(!entry("/etc/hac/bootstrap.sh").contains("encoding:"));
}

#[test]
fn user_data_that_even_gzip_cannot_shrink_points_to_ansible() {
    let cluster = samples::external_etcd();
    let mut pki = fake_pki(&cluster, "CA PEM\n");
    // Incompressible bytes (a simple LCG), as keys and certificates nearly are.
    let mut state: u32 = 12345;
    let noise: Vec<u8> = (0..20_000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 16) as u8
        })
        .collect();
    grow(&mut pki, "etcd-0", ETCD_SERVER_CRT, noise);
    let bundle = hac_render::render(&cluster, &pki, &secrets(), "r", "svg").expect("render");
    let w = bundle
        .warnings
        .iter()
        .find(|w| w.message.contains("`etcd-0`"))
        .expect("a warning for etcd-0");
    assert_eq!(w.code.as_deref(), Some("W0701"));
    assert!(!w.is_error());
    // Exactly the nodes whose user-data still exceeds 16 KiB are warned about.
    for f in bundle
        .files
        .iter()
        .filter(|f| f.path.ends_with(".yaml") && f.path.starts_with("cloud-init/"))
    {
        let node = f
            .path
            .trim_start_matches("cloud-init/")
            .trim_end_matches(".yaml");
        let warned = bundle
            .warnings
            .iter()
            .any(|w| w.message.contains(&format!("`{node}`")));
        assert_eq!(
            warned,
            f.contents.len() > 16 * 1024,
            "{}: {} bytes",
            f.path,
            f.contents.len()
        );
    }
    assert!(
        w.hints
            .iter()
            .any(|h| h.contains("even gzipped") && h.contains("Ansible")),
        "{:?}",
        w.hints
    );
}

#[test]
fn bad_secrets_cannot_reach_the_renderer_and_are_never_shown() {
    // The rules live in the types the secrets file is read into (E0605 there), so render has
    // no second check to disagree with.
    for password in ["toolongpw", "a b", "pw#1", "pw!1", "a\"b", ""] {
        assert!(VrrpPassword::parse(password).is_none(), "{password:?}");
    }
    for good in ["k8sPass1", "a-b.c_:/", "x"] {
        assert!(VrrpPassword::parse(good).is_some(), "{good:?}");
    }
    for token in [
        "nope",
        "abcdef.0123456789abcde",
        "ABCDEF.0123456789abcdef",
        "abcdef0123456789abcdef",
    ] {
        assert!(BootstrapToken::parse(token).is_none(), "{token:?}");
    }
    let shown = format!("{:?}", secrets());
    assert!(
        !shown.contains(VRRP_PASSWORD) && !shown.contains(TOKEN),
        "{shown}"
    );
}

#[test]
fn values_that_would_break_a_file_cannot_reach_render_and_missing_files_are_errors() {
    // An interface name is spliced into keepalived.conf: a value that would change that
    // file cannot even be made (hac-check reports it, E0107).
    for bad in [
        "eth0\n    auth_type AH",
        "eth 0",
        "",
        "..",
        "a-very-long-interface",
    ] {
        assert_eq!(hac_model::InterfaceName::parse(bad), None, "{bad:?}");
    }
    assert_eq!(
        hac_model::InterfaceName::parse("ens3.100").as_deref(),
        Some("ens3.100")
    );

    // etcd.binary, a missing control plane, labels and the VIP are hac-check's rules
    // (compiler/check/tests), the secrets' their types': render does not check them again.

    let mut cluster = samples::external_etcd();
    let mut pki = fake_pki(&cluster, "CA");
    if let Some(files) = pki.files.get_mut("etcd-1") {
        files.retain(|f| !f.path.ends_with("server.key"));
    }
    cluster.outputs.cloud_init = false;
    let errors = hac_render::render(&cluster, &pki, &secrets(), "r", "svg").expect_err("must fail");
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("etcd-1") && e.message.contains("server.key")),
        "{errors:#?}"
    );
}

#[test]
fn exactly_one_keepalived_master_and_the_configured_failover() {
    for (variant, cluster) in variants() {
        let bundle = render(&cluster);
        let holders = cluster.vip_holders();
        let masters: Vec<&str> = holders
            .iter()
            .filter(|n| {
                file(&bundle, &n.name, KEEPALIVED_CONF)
                    .is_some_and(|f| text(f).contains("    state MASTER\n"))
            })
            .map(|n| n.name.as_str())
            .collect();
        if holders.is_empty() {
            assert!(masters.is_empty());
            continue;
        }
        assert_eq!(
            masters,
            [cluster
                .keepalived_master()
                .map(|n| n.name.as_str())
                .unwrap_or_default()],
            "{variant}"
        );
        for (node, prio) in cluster.keepalived_priorities() {
            let conf = text(file(&bundle, &node.name, KEEPALIVED_CONF).expect("keepalived.conf"));
            assert!(
                conf.contains(&format!("    priority {prio}\n")),
                "{variant}/{}",
                node.name
            );
            assert!(
                conf.contains("    weight -20\n")
                    && conf.contains("    interval 3\n")
                    && conf.contains("    fall 10\n")
                    && conf.contains("    rise 2\n")
            );
            assert!(
                conf.contains("    enable_script_security\n") && conf.contains("    script_user ")
            );
            assert!(
                conf.contains("virtual_router_id 51\n")
                    && conf.contains(&format!("auth_pass {VRRP_PASSWORD}\n"))
            );
            assert!(
                conf.contains("        10.0.2.100/24\n"),
                "{variant}: the VIP with the node's prefix"
            );
            let unicast = cluster.control_plane.keepalived.unicast;
            assert_eq!(
                conf.contains(&format!("unicast_src_ip {}\n", node.address)),
                unicast,
                "{variant}"
            );
            for (peer, _) in cluster.keepalived_priorities() {
                let listed = conf.contains(&format!("        {}\n", peer.address));
                assert_eq!(
                    listed,
                    unicast && peer.name != node.name,
                    "{variant}/{}: unicast peer {}",
                    node.name,
                    peer.name
                );
            }
        }
    }
}

#[test]
fn the_health_check_probes_the_local_load_balancer_port() {
    let bundle = render(&samples::stacked_3());
    let script = text(file(&bundle, "master-0", CHECK_APISERVER).expect("script"));
    assert!(
        script.contains("https://localhost:8443/healthz")
            && script.contains("https://10.0.2.100:8443/healthz"),
        "{script}"
    );
    let mut cluster = samples::stacked_3();
    cluster.control_plane.load_balancer.kind = LoadBalancerKind::Keepalived;
    cluster.control_plane.port = 6443;
    let bundle = render(&cluster);
    let script = text(file(&bundle, "master-1", CHECK_APISERVER).expect("script"));
    assert!(
        script.contains("https://localhost:6443/healthz"),
        "{script}"
    );
}

#[test]
fn haproxy_balances_every_apiserver_with_a_verified_tls_health_check() {
    let bundle = render(&samples::stacked_3_dedicated_lb());
    let cfg = text(file(&bundle, "lb-0", HAPROXY_CFG).expect("haproxy.cfg"));
    assert!(cfg.contains("    bind *:6443\n") && cfg.contains("    balance roundrobin\n"));
    assert!(
        cfg.contains("http-check send meth GET uri /healthz\n")
            && cfg.contains("http-check expect status 200\n")
    );
    for (name, last) in [("master-0", 10), ("master-1", 11), ("master-2", 12)] {
        assert!(cfg.contains(&format!("    server {name} 10.0.2.{last}:6443 check verify required ca-file /etc/kubernetes/pki/ca.crt\n")), "{cfg}");
    }
}

#[test]
fn etcd_flags_follow_the_etcd_version() {
    let mut cluster = samples::external_etcd();
    for (version, gate, old) in [
        (Version::new(3, 4, 30), false, true),
        (Version::new(3, 5, 16), false, true),
        (Version::new(3, 6, 0), true, false),
    ] {
        cluster.etcd.version = version;
        cluster.etcd.binary = "/opt/etcd/bin/etcd".to_string();
        let bundle = render(&cluster);
        let unit = text(file(&bundle, "etcd-1", ETCD_UNIT).expect("unit"));
        assert!(unit.contains("ExecStart=/opt/etcd/bin/etcd \\\n"));
        assert_eq!(
            unit.contains("--feature-gates=InitialCorruptCheck=true"),
            gate,
            "{version}"
        );
        assert_eq!(
            unit.contains("--experimental-initial-corrupt-check=true"),
            old,
            "{version}"
        );
        for flag in [
            "--listen-client-urls=https://10.0.2.31:2379,https://127.0.0.1:2379",
            "--advertise-client-urls=https://10.0.2.31:2379",
            "--listen-peer-urls=https://10.0.2.31:2380",
            "--listen-metrics-urls=http://127.0.0.1:2381",
            "--initial-cluster=etcd-0=https://10.0.2.30:2380,etcd-1=https://10.0.2.31:2380,etcd-2=https://10.0.2.32:2380",
            "--initial-cluster-state=new",
            "--data-dir=/var/lib/etcd",
            "--client-cert-auth=true",
            "--peer-client-cert-auth=true",
            "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
            "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
        ] {
            assert!(unit.contains(flag), "{version}: missing {flag}:\n{unit}");
        }
        assert!(
            !unit.contains("http://10.") && !unit.contains("--config-file"),
            "no plain-http listener but metrics on localhost"
        );
    }
}

#[test]
fn bootstrap_runs_the_right_kubeadm_command_per_role() {
    let bundle = render(&samples::masters_run_etcd());
    let m0 = text(file(&bundle, "master-0", BOOTSTRAP).expect("bootstrap"));
    assert!(
        m0.contains("    kubeadm init --config /etc/kubernetes/kubeadm-config.yaml\n")
            && m0.contains("set -eu\n")
    );
    assert!(
        m0.contains("systemctl enable --now --no-block etcd")
            && m0.contains("chmod 0700 /var/lib/etcd")
    );
    assert!(m0.contains("systemctl enable --now keepalived") && !m0.contains("haproxy"));
    let m1 = text(file(&bundle, "master-1", BOOTSTRAP).expect("bootstrap"));
    assert!(
        m1.contains("    kubeadm join --config /etc/kubernetes/kubeadm-config.yaml\n")
            && !m1.contains("kubeadm init")
    );
    let w = text(file(&bundle, "worker-0", BOOTSTRAP).expect("bootstrap"));
    assert!(
        w.contains("kubeadm join --config")
            && !w.contains("systemctl")
            && w.contains("modprobe br_netfilter")
            && w.contains("sysctl --system")
    );
    let bundle = render(&samples::stacked_3_dedicated_lb());
    let lb = text(file(&bundle, "lb-1", BOOTSTRAP).expect("bootstrap"));
    assert!(
        lb.contains("systemctl enable --now haproxy")
            && lb.contains("systemctl enable --now keepalived")
            && !lb.contains("kubeadm join")
            && !lb.contains("modprobe")
    );
}

#[test]
fn kubeadm_config_follows_the_version_and_roles() {
    let v3 = render(&samples::stacked_3());
    let init = text(file(&v3, "master-0", KUBEADM_CONFIG).expect("config"));
    assert!(init.starts_with("apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n"));
    assert!(
        init.contains("\n---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n")
    );
    assert!(
        init.contains("kubernetesVersion: v1.30.2\n")
            && init.contains("controlPlaneEndpoint: \"10.0.2.100:8443\"\n")
    );
    let join = text(file(&v3, "master-1", KUBEADM_CONFIG).expect("config"));
    assert!(join.contains("kind: JoinConfiguration\n") && join.contains("controlPlane:\n  localAPIEndpoint:\n    advertiseAddress: \"10.0.2.11\"\n    bindPort: 6443\n"));
    assert!(
        join.contains(&format!("    - \"{CA_HASH}\"\n")) && join.contains("  timeout: \"15m0s\"\n")
    );
    let worker = text(file(&v3, "worker-0", KUBEADM_CONFIG).expect("config"));
    assert!(worker.contains("kind: JoinConfiguration\n") && !worker.contains("controlPlane:"));

    let mut cluster = samples::stacked_3();
    cluster.kubernetes_version = Version::new(1, 31, 2);
    cluster.network.node_mask_size = 26;
    cluster.nodes[1].roles.push(hac_model::Role::Worker);
    let v4 = render(&cluster);
    let init = text(file(&v4, "master-0", KUBEADM_CONFIG).expect("config"));
    assert!(init.contains("apiVersion: kubeadm.k8s.io/v1beta4\n"));
    assert!(
        init.contains(
            "controllerManager:\n  extraArgs:\n  - name: node-cidr-mask-size\n    value: \"26\"\n"
        ),
        "{init}"
    );
    let join = text(file(&v4, "master-1", KUBEADM_CONFIG).expect("config"));
    assert!(
        join.contains("  taints: []\n") && join.contains("timeouts:\n  discovery: \"15m0s\"\n"),
        "{join}"
    );
}

#[test]
fn every_render_code_has_an_explanation() {
    for code in hac_render::codes::RenderCode::ALL.iter().map(|k| k.code()) {
        let text = hac_render::codes::explain(code).unwrap_or_default();
        assert!(text.starts_with(code) && text.len() > 100, "{code}: {text}");
    }
    assert_eq!(hac_render::codes::explain("E9999"), None);
}

#[test]
fn cluster_wide_kubeadm_values_hold_no_node_specific_sans() {
    // Joining masters validate their own certificates against the first master's
    // ClusterConfiguration: a SAN that only master-0's certificates carry would fail them.
    let bundle = render(&samples::stacked_3());
    let init = text(file(&bundle, "master-0", KUBEADM_CONFIG).expect("config"));
    let cluster_doc = init.split("---\n").nth(1).expect("ClusterConfiguration");
    assert!(
        !cluster_doc.contains("master-0") && !cluster_doc.contains("10.0.2.10\""),
        "{cluster_doc}"
    );
    assert!(
        cluster_doc
            .contains("    serverCertSANs:\n    - localhost\n    - \"127.0.0.1\"\n    - \"::1\"\n"),
        "{cluster_doc}"
    );
}

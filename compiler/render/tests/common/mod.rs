//! Shared test support: the sample clusters and their variants, a fake IssuedPki laid out
//! by the archive table (hac_model::archive), and helpers to run the real tools.
#![allow(dead_code)]

use hac_model::samples;
use hac_model::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const TOKEN: &str = "abcdef.0123456789abcdef";
pub const VRRP_PASSWORD: &str = "k8sVRRP1";
pub const CA_HASH: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub fn secrets() -> RenderSecrets {
    RenderSecrets {
        bootstrap_token: BootstrapToken::parse(TOKEN).expect("a token"),
        vrrp_password: VrrpPassword::parse(VRRP_PASSWORD).expect("a password"),
    }
}

/// Every scenario the tool checks run over: the model's samples and variants of them.
pub fn variants() -> Vec<(&'static str, Cluster)> {
    let mut out = vec![
        ("stacked_3", samples::stacked_3()),
        ("stacked_3_dedicated_lb", samples::stacked_3_dedicated_lb()),
        ("external_etcd", samples::external_etcd()),
        ("masters_run_etcd", samples::masters_run_etcd()),
    ];
    let mut c = samples::stacked_3();
    c.control_plane.load_balancer.kind = LoadBalancerKind::Nginx;
    out.push(("nginx", c));
    let mut c = samples::stacked_3_dedicated_lb();
    c.control_plane.load_balancer.kind = LoadBalancerKind::Nginx;
    out.push(("nginx_dedicated", c));
    let mut c = samples::stacked_3();
    c.control_plane.load_balancer.kind = LoadBalancerKind::Keepalived;
    c.control_plane.port = 6443;
    out.push(("keepalived_only", c));
    let mut c = samples::stacked_3();
    c.control_plane.load_balancer.kind = LoadBalancerKind::KubeVip;
    c.control_plane.port = 6443;
    out.push(("kube_vip", c));
    let mut c = samples::stacked_3();
    c.control_plane.load_balancer.kind = LoadBalancerKind::External;
    c.control_plane.load_balancer.address = Some("lb.example.internal".to_string());
    c.control_plane.vip = None;
    c.control_plane.port = 6443;
    out.push(("external_lb", c));
    let mut c = samples::stacked_3();
    c.control_plane.keepalived.unicast = true;
    out.push(("unicast", c));
    // v1beta4, etcd 3.6 flags, a /25 node mask, zones, labels, taints, a master that is also a worker.
    let mut c = samples::external_etcd();
    c.kubernetes_version = Version::new(1, 32, 1);
    c.etcd.version = Version::new(3, 6, 5);
    c.network.node_mask_size = 25;
    c.control_plane.endpoint = Some("k8s.example.internal".to_string());
    c.control_plane.cert_sans = vec!["api.example.com".to_string(), "on".to_string()];
    for (i, n) in c.nodes.iter_mut().enumerate() {
        n.zone = Some(format!("zone-{}", i % 3));
    }
    if let Some(n) = c.nodes.iter_mut().find(|n| n.name == "master-2") {
        n.roles.push(Role::Worker);
        n.roles.sort();
    }
    if let Some(n) = c.nodes.iter_mut().find(|n| n.name == "worker-0") {
        n.labels
            .insert("example.com/tier".to_string(), "yes".to_string());
        n.taints = Some(vec![Taint {
            key: "dedicated".to_string(),
            value: Some("on".to_string()),
            effect: "NoSchedule".to_string(),
        }]);
    }
    out.push(("v1beta4_external_etcd_3_6", c));
    let mut c = samples::stacked_3();
    c.kubernetes_version = Version::new(1, 31, 0);
    out.push(("v1beta4_stacked", c));
    let mut c = samples::stacked_3();
    c.kubernetes_version = Version::new(1, 28, 4);
    c.control_plane.load_balancer.kind = LoadBalancerKind::KubeVip;
    c.control_plane.port = 6443;
    out.push(("kube_vip_1_28", c));
    out.push(("firewall_mirror", firewall_mirror()));
    // No interface named: keepalived includes the file bootstrap.sh writes at boot, and
    // kube-vip picks its own.
    let mut c = samples::stacked_3_dedicated_lb();
    c.nodes.iter_mut().for_each(|n| n.interface = None);
    out.push(("detected_interface", c));
    let mut c = samples::stacked_3();
    c.control_plane.load_balancer.kind = LoadBalancerKind::KubeVip;
    c.control_plane.port = 6443;
    c.nodes.iter_mut().for_each(|n| n.interface = None);
    out.push(("kube_vip_detected_interface", c));
    // The user-data carries the private files (gz+b64), as before "separate" was the default.
    let mut c = samples::external_etcd();
    c.outputs.cloud_init_keys = hac_model::CloudInitKeys::Inline;
    out.push(("inline_keys", c));
    // The VIP moving (the build between, `hac build --from`): keepalived holds the new VIP
    // under a new router id and the previous one in an instance of its own.
    let mut c = samples::stacked_3();
    c.control_plane.vip = Some("10.0.2.200".parse().expect("an address"));
    c.control_plane.keepalived.router_id = 52;
    c.control_plane.previous_vip = Some(hac_model::PreviousVip {
        address: "10.0.2.100".parse().expect("an address"),
        router_id: 51,
    });
    out.push(("vip_move", c));
    // The endpoint's port moving (the build between): the proxies listen on both ports.
    let mut c = samples::stacked_3();
    c.control_plane.port = 9443;
    c.control_plane.previous_port = Some(8443);
    c.nodes.iter_mut().for_each(|n| n.hosts.firewall = true);
    out.push(("port_move", c));
    let mut c = samples::stacked_3_dedicated_lb();
    c.control_plane.load_balancer.kind = LoadBalancerKind::Nginx;
    c.control_plane.port = 7443;
    c.control_plane.previous_port = Some(6443);
    out.push(("port_move_nginx", c));
    out
}

/// A real self-signed CA certificate (PEM), made once per test process with openssl.
pub fn real_ca_pem() -> String {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| {
        let tmp = scratch_dir("ca");
        let dir = tmp.path();
        let key = dir.join("ca.key");
        let crt = dir.join("ca.crt");
        let out = run(Command::new(tool("openssl"))
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "3650",
                "-subj",
                "/CN=kubernetes",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&crt));
        assert!(
            out.status.success(),
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(&crt).expect("read CA")
    })
    .clone()
}

/// The PKI files `node` receives (bundle.md's table), with placeholder contents except
/// `ca.crt`, which is `ca_pem`.
pub fn fake_pki_files(cluster: &Cluster, node: &Node, ca_pem: &str) -> Vec<Artifact> {
    archive::archive_files(cluster, node)
        .into_iter()
        .filter_map(|row| match row.kind {
            archive::FileKind::Pki(archive::PkiFile::CaCert(archive::CaName::Cluster)) => {
                Some(Artifact::new(row.path, row.mode, ca_pem))
            }
            archive::FileKind::Pki(_) => Some(Artifact::new(
                row.path,
                row.mode,
                format!("placeholder for {} of {}\n", row.path, node.name),
            )),
            archive::FileKind::Config(_) => None,
        })
        .collect()
}

pub fn fake_pki(cluster: &Cluster, ca_pem: &str) -> IssuedPki {
    let files: BTreeMap<String, Vec<Artifact>> = cluster
        .nodes
        .iter()
        .map(|n| (n.name.clone(), fake_pki_files(cluster, n, ca_pem)))
        .collect();
    IssuedPki {
        files,
        ca_cert_hash: CA_HASH.to_string(),
        ca_cert_pem: ca_pem.to_string(),
    }
}

/// Renders `cluster` with a fake PKI whose CA is real (for haproxy's ca-file).
pub fn render_with_real_ca(cluster: &Cluster) -> Bundle {
    let pem = real_ca_pem();
    match hac_render::render(
        cluster,
        &fake_pki(cluster, &pem),
        &secrets(),
        "report\n",
        "<svg/>\n",
    ) {
        Ok(b) => b,
        Err(e) => panic!("render failed: {e:#?}"),
    }
}

/// The path of tool `name`, or a failure that says how to install it.
pub fn tool(name: &str) -> PathBuf {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/bin",
        "/usr/local/sbin",
    ] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("`{name}` is not installed: run scripts/install-test-deps.sh");
}

/// Runs `cmd` under `timeout 120` (a hang becomes a failure, not a stuck test).
pub fn run(cmd: &mut Command) -> Output {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(std::borrow::ToOwned::to_owned).collect();
    let mut wrapped = Command::new(tool("timeout"));
    wrapped.arg("120").arg(&program).args(&args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    match wrapped.output() {
        Ok(o) => o,
        Err(e) => panic!("could not run {program:?}: {e}"),
    }
}

/// A fresh directory under the target dir (root-owned, not world-writable: keepalived's
/// script security refuses scripts below world-writable directories such as /tmp).
/// Removed when the returned value drops.
pub fn scratch_dir(label: &str) -> tempfile::TempDir {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hac-render-tests");
    std::fs::create_dir_all(&base).expect("create scratch base");
    let dir = tempfile::Builder::new()
        .prefix(&format!("{label}-"))
        .tempdir_in(&base)
        .expect("tempdir");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod scratch dir");
    dir
}

pub fn file<'a>(bundle: &'a Bundle, node: &str, path: &str) -> Option<&'a Artifact> {
    bundle.hosts.get(node)?.iter().find(|f| f.path == path)
}

pub fn text(a: &Artifact) -> String {
    String::from_utf8_lossy(&a.contents).into_owned()
}

/// `external_etcd` with hosts prepared from a mirror, the firewall on everywhere, SSH on
/// port 2222, and master-2 an image with its packages preinstalled.
pub fn firewall_mirror() -> Cluster {
    let mut c = samples::external_etcd();
    c.hosts.packages = PackageSource::Mirror;
    c.hosts.mirror = Some("file:///srv/k8s-repo/".to_string());
    c.hosts.firewall = true;
    c.hosts.ssh_port = 2222;
    for n in &mut c.nodes {
        n.hosts = c.hosts.clone();
        if n.name == "master-2" {
            n.hosts.packages = PackageSource::Preinstalled;
        }
    }
    c
}

//! How long writing a 1,000-node bundle takes, as archives and as a tree (each node with the
//! ~20 files of a control plane, a few KiB each), into a fresh temporary folder per run.

use hac_bundle::{write, Format};
use hac_model::{Artifact, Bundle};
use std::collections::BTreeMap;

fn main() {
    divan::main();
}

const NODES: usize = 1_000;
const EPOCH: i64 = 1_767_225_600;

fn node_files(node: usize) -> Vec<Artifact> {
    let body = |name: &str, size: usize| {
        let line = format!(
            "{name} of node-{node}: some configuration text that compresses like real files\n"
        );
        line.repeat(size / line.len() + 1)
    };
    let mut files = vec![
        Artifact::new("etc/hac/bootstrap.sh", 0o755, body("bootstrap", 2_000)),
        Artifact::new("etc/hac/manifest.json", 0o644, body("manifest", 3_000)),
        Artifact::new(
            "etc/kubernetes/kubeadm-config.yaml",
            0o600,
            body("kubeadm", 2_500),
        ),
        Artifact::new("etc/kubernetes/admin.conf", 0o600, body("admin", 5_500)),
        Artifact::new(
            "etc/sysctl.d/99-kubernetes.conf",
            0o644,
            body("sysctl", 200),
        ),
        Artifact::new("var/lib/etcd/", 0o700, ""),
    ];
    for cert in [
        "ca",
        "apiserver",
        "apiserver-kubelet-client",
        "front-proxy-client",
        "apiserver-etcd-client",
    ] {
        files.push(Artifact::new(
            format!("etc/kubernetes/pki/{cert}.crt"),
            0o644,
            body(cert, 1_300),
        ));
        files.push(Artifact::new(
            format!("etc/kubernetes/pki/{cert}.key"),
            0o600,
            body(cert, 250),
        ));
    }
    files
}

fn thousand_node_bundle() -> Bundle {
    let hosts: BTreeMap<String, Vec<Artifact>> = (0..NODES)
        .map(|n| (format!("node-{n}"), node_files(n)))
        .collect();
    let files = (0..NODES)
        .map(|n| {
            Artifact::new(
                format!("cloud-init/node-{n}.yaml"),
                0o600,
                format!("#cloud-config {n}\n").repeat(200),
            )
        })
        .collect();
    Bundle {
        hosts,
        files,
        warnings: Vec::new(),
    }
}

#[divan::bench(args = [Format::Tar, Format::Tree], sample_count = 3, sample_size = 1)]
fn write_1000_nodes(bencher: divan::Bencher, format: Format) {
    let bundle = thousand_node_bundle();
    bencher
        .with_inputs(|| tempfile::tempdir().expect("temporary folder"))
        .bench_local_values(|scratch| {
            write(&bundle, &scratch.path().join("out"), format, EPOCH).expect("write");
            scratch
        });
}

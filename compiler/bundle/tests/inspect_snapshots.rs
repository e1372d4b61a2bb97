//! The exact text of `hac inspect` for a control-plane node built from fixed certificates
//! (tests/fixtures/certs), as an archive and as a host folder. A change to the listing's
//! format shows up here as a snapshot diff.

mod common;

use base64::Engine as _;
use common::EPOCH;
use hac_bundle::{inspect, write, Format};
use hac_model::{Artifact, Bundle};
use std::collections::BTreeMap;
use std::path::Path;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/certs")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Stands where a private key would be; inspect must name it and print none of it.
const NOT_A_KEY: &str =
    "-----BEGIN PRIVATE KEY-----\nVEVTVC1PTkxZLU5PVC1BLUtFWQ==\n-----END PRIVATE KEY-----\n";

fn master_bundle() -> Bundle {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let admin_conf = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://10.0.2.100:8443\n  name: prod\nusers:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&fixture("ca.crt")),
        b64(&fixture("admin.crt")),
        b64(NOT_A_KEY)
    );
    let mut hosts = BTreeMap::new();
    hosts.insert(
        "master-0".to_string(),
        vec![
            Artifact::new("etc/kubernetes/pki/ca.crt", 0o644, fixture("ca.crt")),
            Artifact::new(
                "etc/kubernetes/pki/apiserver.crt",
                0o644,
                fixture("apiserver.crt"),
            ),
            Artifact::new("etc/kubernetes/pki/apiserver.key", 0o600, NOT_A_KEY),
            Artifact::new("etc/kubernetes/admin.conf", 0o600, admin_conf),
            Artifact::new("etc/hac/bootstrap.sh", 0o755, "#!/bin/sh\nkubeadm init\n"),
            Artifact::new("var/lib/etcd/", 0o700, ""),
        ],
    );
    Bundle {
        hosts,
        files: Vec::new(),
        warnings: Vec::new(),
    }
}

/// The listing without its first line, which names the (temporary) path inspected.
fn listing_of(path: &Path) -> String {
    let listing = inspect(path).expect("inspect");
    assert!(
        !listing.contains("VEVTVC1PTkxZ"),
        "key material printed:\n{listing}"
    );
    listing
        .split_once('\n')
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_default()
}

#[test]
fn inspect_archive_listing() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let out = scratch.path().join("out");
    write(&master_bundle(), &out, Format::Tar, EPOCH).expect("write");
    insta::assert_snapshot!(listing_of(&out.join("hosts/master-0.tar.gz")));
}

#[test]
fn inspect_host_folder_listing() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let out = scratch.path().join("out");
    write(&master_bundle(), &out, Format::Tree, EPOCH).expect("write");
    insta::assert_snapshot!(listing_of(&out.join("hosts/master-0")));
}

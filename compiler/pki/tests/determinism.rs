//! Reproducibility: the same cluster and secrets give the same bytes for every file;
//! `pki.rotation` changes every leaf key (and so every leaf certificate and kubeconfig) and
//! no CA; another root secret changes everything.

mod support;

use hac_model::{samples, IssuedPki};
use std::collections::BTreeMap;
use support::*;

/// node/path → bytes
fn flatten(pki: &IssuedPki) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for (node, files) in &pki.files {
        for a in files {
            m.insert(format!("{node}/{}", a.path), a.contents.clone());
        }
    }
    m
}

/// The CA-level files: identical on every node and across rotations.
fn is_ca_level(path: &str) -> bool {
    [
        "/ca.crt",
        "/kubernetes-ca.crt",
        "/ca.key",
        "/front-proxy-ca.crt",
        "/sa.key",
        "/sa.pub",
    ]
    .iter()
    .any(|s| path.ends_with(s))
}

#[test]
fn two_issues_of_the_same_input_are_byte_identical() {
    for c in [
        samples::stacked_3(),
        samples::external_etcd(),
        samples::masters_run_etcd(),
    ] {
        let a = flatten(&issue(&c));
        let b = flatten(&issue(&c));
        assert!(a.len() > 20);
        assert_eq!(a, b, "{}", c.name);
        assert_eq!(issue(&c).ca_cert_hash, issue(&c).ca_cert_hash);
    }
}

#[test]
fn shared_material_is_identical_on_every_control_plane() {
    let pki = issue(&samples::stacked_3());
    for path in [
        "etc/kubernetes/pki/ca.key",
        "etc/kubernetes/pki/sa.key",
        "etc/kubernetes/pki/sa.pub",
        "etc/kubernetes/pki/etcd/ca.crt",
    ] {
        let m0 = &file(&pki, "master-0", path).contents;
        assert_eq!(m0, &file(&pki, "master-1", path).contents, "{path}");
        assert_eq!(m0, &file(&pki, "master-2", path).contents, "{path}");
    }
    // Leaf keys are per node.
    let k = |n| {
        file(&pki, n, "etc/kubernetes/pki/apiserver.key")
            .contents
            .clone()
    };
    assert_ne!(k("master-0"), k("master-1"));
}

#[test]
fn rotation_changes_every_leaf_key_and_no_ca() {
    let c0 = samples::external_etcd();
    let mut c1 = c0.clone();
    c1.pki.rotation = 1;
    let (a, b) = (flatten(&issue(&c0)), flatten(&issue(&c1)));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let mut leaf_files = 0;
    for (path, bytes) in &a {
        if is_ca_level(path) || path.ends_with("/etcd/ca.crt") {
            assert_eq!(bytes, &b[path], "{path} must not change with rotation");
        } else {
            leaf_files += 1;
            assert_ne!(bytes, &b[path], "{path} must change with rotation");
        }
    }
    assert!(leaf_files > 30, "{leaf_files}");
    assert_eq!(issue(&c0).ca_cert_hash, issue(&c1).ca_cert_hash);
}

#[test]
fn another_root_secret_changes_every_file() {
    let c = samples::stacked_3();
    let a = flatten(&issue(&c));
    let b = flatten(&hac_pki::issue(&c, &other_secrets()).unwrap());
    for (path, bytes) in &a {
        assert_ne!(bytes, &b[path], "{path}");
    }
    assert_ne!(
        issue(&c).ca_cert_hash,
        hac_pki::issue(&c, &other_secrets()).unwrap().ca_cert_hash
    );
}

#[test]
fn another_algorithm_changes_every_key_but_the_layout_stays() {
    let c = samples::stacked_3();
    let mut p384 = c.clone();
    p384.pki.algorithm = hac_model::KeyAlgorithm::EcdsaP384;
    let (a, b) = (flatten(&issue(&c)), flatten(&issue(&p384)));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a.iter().all(|(p, v)| &b[p] != v));
}

/// SHA-256 over every `node/path`, its length and its bytes, in path order.
fn tree_digest(pki: &IssuedPki) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (path, bytes) in flatten(pki) {
        h.update(path.as_bytes());
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(&bytes);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The complete stacked-3 PKI, per EC algorithm, is pinned to a digest recorded in
/// tests/fixtures/pinned-output.txt: a dependency upgrade (p256/p384/ecdsa) that changed a
/// single key, signature or encoding byte would fail here. (P-256 is also pinned by the
/// committed out-examples; P-384 only here.)
#[test]
fn ec_output_is_pinned_across_dependency_upgrades() {
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pinned-output.txt"
    ))
    .expect("tests/fixtures/pinned-output.txt");
    let expected: BTreeMap<&str, &str> = fixture
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .collect();
    assert_eq!(expected.len(), 2, "one line per algorithm: {fixture}");
    for (name, algorithm) in [
        ("ecdsa-p256", hac_model::KeyAlgorithm::EcdsaP256),
        ("ecdsa-p384", hac_model::KeyAlgorithm::EcdsaP384),
    ] {
        let mut c = samples::stacked_3();
        c.pki.algorithm = algorithm;
        assert_eq!(
            tree_digest(&issue(&c)),
            expected[name],
            "{name}: issued bytes changed"
        );
    }
}

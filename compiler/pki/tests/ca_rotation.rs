//! A CA given a new key (`pki.caRotation`) while the running cluster's CA certificates are
//! known (`pki.previous_cas`, from `hac build --from`): every trust file holds the new CA
//! first (the one `ca.key` belongs to) and the old one after it, every kubeconfig embeds
//! both, and the real openssl verifies the old and the new leaves under that bundle and only
//! the new ones under the new CA alone. Without a new key the previous CAs change nothing.

mod support;

use hac_model::archive::CaName;
use hac_model::samples::stacked_3;
use support::*;

fn certs(pem: &str) -> usize {
    pem.matches("-----BEGIN CERTIFICATE-----").count()
}

/// `openssl verify -CAfile <ca> <leaf>` → whether it said OK.
fn verifies(dir: &std::path::Path, ca: &str, leaf: &str) -> bool {
    require_tool("openssl");
    let (ca_file, leaf_file) = (dir.join("ca.pem"), dir.join("leaf.pem"));
    std::fs::write(&ca_file, ca).unwrap();
    std::fs::write(&leaf_file, leaf).unwrap();
    run(std::process::Command::new("openssl").args([
        "verify",
        "-x509_strict",
        "-CAfile",
        ca_file.to_str().unwrap(),
        leaf_file.to_str().unwrap(),
    ]))
    .status
    .success()
}

#[test]
fn a_rotated_ca_is_trusted_beside_the_old_one_and_only_then() {
    let old = stacked_3();
    let a = issue(&old);
    let previous: std::collections::BTreeMap<CaName, String> = [
        (CaName::Cluster, "etc/kubernetes/pki/ca.crt"),
        (CaName::FrontProxy, "etc/kubernetes/pki/front-proxy-ca.crt"),
        (CaName::Etcd, "etc/kubernetes/pki/etcd/ca.crt"),
    ]
    .into_iter()
    .map(|(n, p)| (n, text(&a, "master-0", p)))
    .collect();

    // The previous CAs under the same keys: no bundle, the same bytes.
    let mut same = old.clone();
    same.pki.previous_cas = previous.clone();
    assert_eq!(issue(&same).files, a.files, "no new key, no change");

    let mut rotated = old.clone();
    rotated.pki.ca_rotation = 1;
    rotated.pki.previous_cas = previous.clone();
    let b = issue(&rotated);
    let dir = tempfile::tempdir().unwrap();
    for (name, path, leaf) in [
        (
            CaName::Cluster,
            "etc/kubernetes/pki/ca.crt",
            "etc/kubernetes/pki/apiserver.crt",
        ),
        (
            CaName::FrontProxy,
            "etc/kubernetes/pki/front-proxy-ca.crt",
            "etc/kubernetes/pki/front-proxy-client.crt",
        ),
        (
            CaName::Etcd,
            "etc/kubernetes/pki/etcd/ca.crt",
            "etc/kubernetes/pki/etcd/server.crt",
        ),
    ] {
        let bundle = text(&b, "master-0", path);
        assert_eq!(certs(&bundle), 2, "{path}: new and old");
        let old_ca = &previous[&name];
        assert!(bundle.ends_with(old_ca.as_str()), "{path}: the old CA last");
        let new_ca = bundle.strip_suffix(old_ca.as_str()).unwrap().trim_end();
        assert_ne!(new_ca, old_ca.trim_end(), "{path}: a new CA certificate");
        let (old_leaf, new_leaf) = (text(&a, "master-0", leaf), text(&b, "master-0", leaf));
        assert!(
            verifies(dir.path(), &bundle, &old_leaf),
            "{leaf}: old under the bundle"
        );
        assert!(
            verifies(dir.path(), &bundle, &new_leaf),
            "{leaf}: new under the bundle"
        );
        assert!(
            verifies(dir.path(), new_ca, &new_leaf),
            "{leaf}: new under the new CA"
        );
        assert!(
            !verifies(dir.path(), new_ca, &old_leaf),
            "{leaf}: old not under the new CA"
        );
        assert!(
            !verifies(dir.path(), old_ca, &new_leaf),
            "{leaf}: new not under the old CA"
        );
    }
    // The new key belongs to the first certificate (kube-controller-manager signs with it).
    let key = text(&b, "master-0", "etc/kubernetes/pki/ca.key");
    let first = text(&b, "master-0", "etc/kubernetes/pki/ca.crt");
    let spki = |args: &[&str], input: &str| openssl(args, input.as_bytes());
    assert_eq!(
        spki(&["pkey", "-pubout"], &key),
        spki(&["x509", "-noout", "-pubkey"], &first),
        "ca.key belongs to the first certificate of ca.crt"
    );
    // Every kubeconfig embeds the bundle; the worker's and the load balancer's CA files too.
    for node in ["master-0", "master-1"] {
        let conf = text(&b, node, "etc/kubernetes/admin.conf");
        let line = conf
            .lines()
            .find_map(|l| l.trim().strip_prefix("certificate-authority-data:"))
            .expect("CA data");
        use base64::Engine as _;
        let pem = base64::engine::general_purpose::STANDARD
            .decode(line.trim())
            .unwrap();
        assert_eq!(
            String::from_utf8(pem).unwrap(),
            text(&b, node, "etc/kubernetes/pki/ca.crt"),
            "{node}: admin.conf"
        );
    }
    // The hash kubeadm join pins stays the new CA's (cluster-info holds the bundle; kubeadm
    // accepts a bundle holding a pinned key).
    assert_ne!(b.ca_cert_hash, a.ca_cert_hash);
}

//! `inspect` on real certificates made by `openssl req -x509`: archives, host folders and
//! whole outputs list every file with mode and size, describe every certificate (also those
//! inside kubeconfigs) and never print private key material.

mod common;

use base64::Engine as _;
use common::{run_ok, tool, EPOCH};
use hac_bundle::{inspect, write, Format};
use hac_model::{Artifact, Bundle};
use std::collections::BTreeMap;
use std::path::Path;

struct TestCertificate {
    cert_pem: String,
    key_pem: String,
    not_before: String,
    not_after: String,
}

/// A self-signed test certificate with SANs, made by openssl in `dir`.
fn make_certificate(dir: &Path) -> TestCertificate {
    let key = dir.join("test.key");
    let cert = dir.join("test.crt");
    run_ok(
        tool("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
            ])
            .args(["-subj", "/O=hac-tests/CN=test-ca"])
            .args([
                "-addext",
                "subjectAltName=DNS:kubernetes,DNS:kubernetes.default,IP:10.96.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    let dates = run_ok(
        tool("openssl")
            .args(["x509", "-noout", "-dates", "-dateopt", "iso_8601", "-in"])
            .arg(&cert),
    );
    let date = |prefix: &str| {
        let line = dates
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {dates}"));
        line.trim().replace(' ', "T")
    };
    TestCertificate {
        cert_pem: std::fs::read_to_string(&cert).expect("cert"),
        key_pem: std::fs::read_to_string(&key).expect("key"),
        not_before: date("notBefore="),
        not_after: date("notAfter="),
    }
}

fn kubeconfig(certificate: &TestCertificate) -> String {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://10.0.2.100:8443\n  name: prod\nusers:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&certificate.cert_pem),
        b64(&certificate.cert_pem),
        b64(&certificate.key_pem)
    )
}

fn bundle_with(certificate: &TestCertificate) -> Bundle {
    let mut hosts = BTreeMap::new();
    hosts.insert(
        "master-0".to_string(),
        vec![
            Artifact::new(
                "etc/kubernetes/pki/ca.crt",
                0o644,
                certificate.cert_pem.clone(),
            ),
            Artifact::new(
                "etc/kubernetes/pki/ca.key",
                0o600,
                certificate.key_pem.clone(),
            ),
            Artifact::new("etc/kubernetes/admin.conf", 0o600, kubeconfig(certificate)),
            Artifact::new("var/lib/etcd/", 0o700, ""),
        ],
    );
    Bundle {
        hosts,
        files: vec![Artifact::new("report.txt", 0o644, "ok\n")],
        warnings: Vec::new(),
    }
}

/// No line of the key's base64 body, nor the key as kubeconfig base64, may appear.
fn assert_no_key_material(listing: &str, certificate: &TestCertificate) {
    for line in certificate
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
    {
        assert!(
            !listing.contains(line),
            "private key material printed:\n{listing}"
        );
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(&certificate.key_pem);
    assert!(
        !listing.contains(&encoded[..40]),
        "kubeconfig key printed:\n{listing}"
    );
}

fn assert_describes_certificates(listing: &str, certificate: &TestCertificate) {
    assert!(
        listing.contains("certificate: subject O=hac-tests, CN=test-ca"),
        "{listing}"
    );
    assert!(
        listing.contains("issuer:    O=hac-tests, CN=test-ca"),
        "{listing}"
    );
    assert!(
        listing.contains("SANs:      DNS:kubernetes, DNS:kubernetes.default, IP:10.96.0.1"),
        "{listing}"
    );
    let validity = format!(
        "validity:  {} to {}",
        certificate.not_before, certificate.not_after
    );
    assert!(
        listing.contains(&validity),
        "expected {validity:?} in:\n{listing}"
    );
    assert!(listing.contains("CA:        yes"), "{listing}");
    assert!(
        listing
            .contains("certificate (certificate-authority-data): subject O=hac-tests, CN=test-ca"),
        "{listing}"
    );
    assert!(
        listing.contains("certificate (client-certificate-data): subject O=hac-tests, CN=test-ca"),
        "{listing}"
    );
    assert!(
        listing.contains("private key: PEM PRIVATE KEY block (not shown)"),
        "{listing}"
    );
    assert!(
        listing.contains("private key (client-key-data, not shown)"),
        "{listing}"
    );
    assert_no_key_material(listing, certificate);
}

#[test]
fn inspect_an_archive() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let certificate = make_certificate(scratch.path());
    let out = scratch.path().join("out");
    write(&bundle_with(&certificate), &out, Format::Tar, EPOCH).expect("write");
    let listing = inspect(&out.join("hosts/master-0.tar.gz")).expect("inspect");
    assert_describes_certificates(&listing, &certificate);
    let key_line = format!(
        "-rw------- 0600 root/root {:>9}  etc/kubernetes/pki/ca.key",
        certificate.key_pem.len()
    );
    assert!(
        listing.contains(&key_line),
        "expected {key_line:?} in:\n{listing}"
    );
    assert!(
        listing.contains("drwx------ 0700 root/root         -  var/lib/etcd/"),
        "{listing}"
    );
    assert!(
        listing.contains("drwxr-xr-x 0755 root/root         -  etc/kubernetes/pki/"),
        "{listing}"
    );
}

#[test]
fn inspect_a_host_folder_and_whole_outputs() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let certificate = make_certificate(scratch.path());
    let bundle = bundle_with(&certificate);
    let tree = scratch.path().join("tree");
    write(&bundle, &tree, Format::Tree, EPOCH).expect("tree");
    let host = inspect(&tree.join("hosts/master-0")).expect("inspect host folder");
    assert_describes_certificates(&host, &certificate);
    let key_line = format!(
        "-rw------- 0600 {:>9}  etc/kubernetes/pki/ca.key",
        certificate.key_pem.len()
    );
    assert!(
        host.contains(&key_line),
        "expected {key_line:?} in:\n{host}"
    );
    assert!(
        host.contains("drwx------ 0700         -  var/lib/etcd/"),
        "{host}"
    );

    let whole_tree = inspect(&tree).expect("inspect tree output");
    assert!(
        whole_tree.contains("SHA256SUMS: all 4 files match"),
        "{whole_tree}"
    );
    assert!(
        whole_tree.contains("hosts/master-0/etc/kubernetes/admin.conf"),
        "{whole_tree}"
    );
    assert!(
        whole_tree.contains("-rw-r--r-- 0644         3  report.txt"),
        "{whole_tree}"
    );
    assert_describes_certificates(&whole_tree, &certificate);

    let tar = scratch.path().join("tar");
    write(&bundle, &tar, Format::Tar, EPOCH).expect("tar");
    let whole_tar = inspect(&tar).expect("inspect tar output");
    assert!(whole_tar.contains("hosts/master-0.tar.gz"), "{whole_tar}");
    assert!(
        whole_tar.contains("root/root"),
        "archive contents not listed:\n{whole_tar}"
    );
    assert_describes_certificates(&whole_tar, &certificate);
    assert!(
        whole_tar.contains("SHA256SUMS: all 2 files match"),
        "{whole_tar}"
    );

    std::fs::write(tar.join("report.txt"), "edited by hand\n").expect("edit");
    std::fs::remove_file(tar.join("hosts/master-0.tar.gz")).expect("remove");
    let tampered = inspect(&tar).expect("inspect tampered output");
    assert!(
        tampered.contains("SHA256SUMS: 0 files match, 2 do not:"),
        "{tampered}"
    );
    assert!(
        tampered.contains("report.txt: changed since the build"),
        "{tampered}"
    );
    assert!(
        tampered.contains("hosts/master-0.tar.gz: missing"),
        "{tampered}"
    );
}

#[test]
fn inspect_refuses_what_is_not_there_and_survives_garbage() {
    let scratch = tempfile::tempdir().expect("tempdir");
    assert!(inspect(&scratch.path().join("missing.tar.gz")).is_err());
    let garbage = scratch.path().join("broken.tar.gz");
    let mut bytes = vec![0x1f, 0x8b, 8, 0];
    bytes.extend(std::iter::repeat_n(0xAB, 4096));
    std::fs::write(&garbage, &bytes).expect("write");
    assert!(
        inspect(&garbage).is_err(),
        "a corrupt archive was listed as fine"
    );
    let listing = inspect(scratch.path()).expect("a folder with a corrupt archive");
    assert!(listing.contains("unreadable archive"), "{listing}");
}

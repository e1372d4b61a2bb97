//! Every certificate checked with the real openssl: `openssl verify` against its CA (with the
//! TLS purpose it serves), and `openssl x509 -text` for subject, key usages, extended key
//! usages, SANs, validity and key identifiers, per pki.md, for stacked and external etcd, for
//! Kubernetes 1.28 and 1.29+, and for every key algorithm.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod support;

use hac_model::{samples, Cluster, IssuedPki, KeyAlgorithm, Version};
use std::path::Path;
use support::*;

/// What pki.md says one leaf certificate must be.
struct Expect {
    path: &'static str,
    ca: &'static str,
    subject: String,
    /// `server`, `client` or `both`
    kind: &'static str,
    sans: Option<String>,
}

const PKI: &str = "etc/kubernetes/pki";

fn control_plane_leaves(c: &Cluster, node: &str, addr: &str) -> Vec<Expect> {
    let admins = if c.kubernetes_version.minor_release() >= (1, 29) {
        "kubeadm:cluster-admins"
    } else {
        "system:masters"
    };
    let vip = c
        .control_plane
        .vip
        .map(|v| format!(", IP Address:{v}"))
        .unwrap_or_default();
    vec![
        Expect {
            path: "apiserver.crt",
            ca: "ca.crt",
            subject: "CN = kube-apiserver".into(),
            kind: "server",
            sans: Some(format!(
                "DNS:{node}, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:{addr}{vip}"
            )),
        },
        Expect { path: "apiserver-kubelet-client.crt", ca: "ca.crt", subject: format!("O = {admins}, CN = kube-apiserver-kubelet-client"), kind: "client", sans: None },
        Expect { path: "front-proxy-client.crt", ca: "front-proxy-ca.crt", subject: "CN = front-proxy-client".into(), kind: "client", sans: None },
        Expect { path: "apiserver-etcd-client.crt", ca: "etcd/ca.crt", subject: "CN = kube-apiserver-etcd-client".into(), kind: "client", sans: None },
    ]
}

fn etcd_member_leaves(node: &str, addr: &str) -> Vec<Expect> {
    let sans = format!("DNS:{node}, DNS:localhost, IP Address:{addr}, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    vec![
        Expect {
            path: "etcd/server.crt",
            ca: "etcd/ca.crt",
            subject: format!("CN = {node}"),
            kind: "both",
            sans: Some(sans.clone()),
        },
        Expect {
            path: "etcd/peer.crt",
            ca: "etcd/ca.crt",
            subject: format!("CN = {node}"),
            kind: "both",
            sans: Some(sans),
        },
        Expect {
            path: "etcd/healthcheck-client.crt",
            ca: "etcd/ca.crt",
            subject: "CN = kube-etcd-healthcheck-client".into(),
            kind: "client",
            sans: None,
        },
    ]
}

/// The line after `header` in `openssl x509 -text` output (extension values).
fn value_after(text: &str, header: &str) -> Option<String> {
    let mut lines = text.lines();
    lines.find(|l| l.trim_start().starts_with(header))?;
    lines.next().map(|l| l.trim().to_string())
}

fn line_with(text: &str, prefix: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with(prefix))
        .map(str::to_string)
}

fn check_ca(dir: &Path, file: &str, cn: &str) -> String {
    let pem = std::fs::read_to_string(dir.join(file)).unwrap();
    let t = x509_text(&pem);
    assert_eq!(
        line_with(&t, "Subject:").as_deref(),
        Some(format!("Subject: CN = {cn}").as_str()),
        "{file}"
    );
    assert_eq!(
        line_with(&t, "Issuer:").as_deref(),
        Some(format!("Issuer: CN = {cn}").as_str()),
        "{file}"
    );
    assert!(
        t.contains("X509v3 Basic Constraints: critical"),
        "{file}: {t}"
    );
    assert_eq!(
        value_after(&t, "X509v3 Basic Constraints").as_deref(),
        Some("CA:TRUE")
    );
    assert!(t.contains("X509v3 Key Usage: critical"), "{file}");
    assert_eq!(
        value_after(&t, "X509v3 Key Usage").as_deref(),
        Some("Digital Signature, Key Encipherment, Certificate Sign")
    );
    assert_eq!(
        line_with(&t, "Not Before:").as_deref(),
        Some("Not Before: Jan  1 00:00:00 2026 GMT")
    );
    assert_eq!(
        line_with(&t, "Not After :").as_deref(),
        Some("Not After : Dec 30 00:00:00 2035 GMT"),
        "3650 days"
    );
    value_after(&t, "X509v3 Subject Key Identifier").expect("CA has an SKI")
}

/// Checks every certificate of every node of `c` with openssl; returns how many leaves.
fn check_cluster(c: &Cluster) -> usize {
    check_issued(c, &issue(c))
}

fn check_issued(c: &Cluster, pki: &IssuedPki) -> usize {
    let mut leaves = 0;
    for node in &c.nodes {
        let files = &pki.files[&node.name];
        let dir = tempfile::tempdir().unwrap();
        write_node(dir.path(), files);
        let pki_dir = dir.path().join(PKI);
        let addr = node.address.to_string();
        let mut expects = Vec::new();
        let mut skis = std::collections::BTreeMap::new();
        if node.has(hac_model::Role::ControlPlane) {
            skis.insert("ca.crt", check_ca(&pki_dir, "ca.crt", "kubernetes"));
            skis.insert(
                "front-proxy-ca.crt",
                check_ca(&pki_dir, "front-proxy-ca.crt", "front-proxy-ca"),
            );
            expects.extend(control_plane_leaves(c, &node.name, &addr));
        }
        if c.runs_etcd(node) {
            expects.extend(etcd_member_leaves(&node.name, &addr));
        }
        if pki_dir.join("etcd/ca.crt").exists() {
            skis.insert("etcd/ca.crt", check_ca(&pki_dir, "etcd/ca.crt", "etcd-ca"));
        }
        // Nothing beyond the expected leaves is on the node.
        let crts: Vec<&str> = files
            .iter()
            .filter(|a| a.path.ends_with(".crt") && !a.path.ends_with("ca.crt"))
            .map(|a| a.path.trim_start_matches("etc/kubernetes/pki/"))
            .collect();
        let mut expected_paths: Vec<&str> = expects.iter().map(|e| e.path).collect();
        expected_paths.sort();
        let mut got = crts.clone();
        got.sort();
        assert_eq!(got, expected_paths, "{}: leaf certificates", node.name);
        for e in &expects {
            leaves += 1;
            let leaf = pki_dir.join(e.path);
            let purpose = match e.kind {
                "client" => "sslclient",
                _ => "sslserver",
            };
            let out = openssl(
                &[
                    "verify",
                    "-x509_strict",
                    "-purpose",
                    purpose,
                    "-CAfile",
                    pki_dir.join(e.ca).to_str().unwrap(),
                    leaf.to_str().unwrap(),
                ],
                b"",
            );
            assert!(out.trim_end().ends_with(": OK"), "{}: {out}", e.path);
            if e.kind == "both" {
                let out = openssl(
                    &[
                        "verify",
                        "-x509_strict",
                        "-purpose",
                        "sslclient",
                        "-CAfile",
                        pki_dir.join(e.ca).to_str().unwrap(),
                        leaf.to_str().unwrap(),
                    ],
                    b"",
                );
                assert!(out.trim_end().ends_with(": OK"), "{}: {out}", e.path);
            }
            let t = x509_text(&std::fs::read_to_string(&leaf).unwrap());
            let ctx = format!("{} {}", node.name, e.path);
            assert_eq!(
                line_with(&t, "Subject:"),
                Some(format!("Subject: {}", e.subject)),
                "{ctx}"
            );
            assert!(t.contains("X509v3 Key Usage: critical"), "{ctx}");
            assert_eq!(
                value_after(&t, "X509v3 Key Usage").as_deref(),
                Some("Digital Signature, Key Encipherment"),
                "{ctx}"
            );
            let eku = match e.kind {
                "server" => "TLS Web Server Authentication",
                "client" => "TLS Web Client Authentication",
                _ => "TLS Web Server Authentication, TLS Web Client Authentication",
            };
            assert_eq!(
                value_after(&t, "X509v3 Extended Key Usage").as_deref(),
                Some(eku),
                "{ctx}"
            );
            assert_eq!(
                value_after(&t, "X509v3 Subject Alternative Name"),
                e.sans.clone(),
                "{ctx}"
            );
            assert!(!t.contains("CA:TRUE"), "{ctx} is not a CA");
            assert_eq!(
                value_after(&t, "X509v3 Authority Key Identifier"),
                skis.get(e.ca).cloned(),
                "{ctx}: AKI = the CA's SKI"
            );
            assert_eq!(
                line_with(&t, "Not Before:").as_deref(),
                Some("Not Before: Jan  1 00:00:00 2026 GMT"),
                "{ctx}"
            );
            assert_eq!(
                line_with(&t, "Not After :").as_deref(),
                Some("Not After : Jan  1 00:00:00 2027 GMT"),
                "{ctx}: 365 days"
            );
        }
    }
    leaves
}

#[test]
fn stacked_three_masters_every_certificate_matches_pki_md() {
    assert_eq!(check_cluster(&samples::stacked_3()), 3 * 7);
}

#[test]
fn external_etcd_members_hold_their_own_certificates() {
    assert_eq!(check_cluster(&samples::external_etcd()), 3 * 4 + 3 * 3);
}

#[test]
fn masters_that_run_etcd_hold_both_sets() {
    assert_eq!(check_cluster(&samples::masters_run_etcd()), 3 * 7);
}

#[test]
fn dedicated_load_balancers_and_kubernetes_1_28() {
    let mut c = samples::stacked_3_dedicated_lb();
    c.kubernetes_version = Version::new(1, 28, 9);
    assert_eq!(check_cluster(&c), 3 * 7);
}

#[test]
fn an_endpoint_name_and_cert_sans_extend_the_apiserver_sans() {
    let mut c = samples::stacked_3();
    c.control_plane.endpoint = Some("api.example.org".into());
    c.control_plane.cert_sans = vec![
        "192.0.2.7".into(),
        "k8s.internal".into(),
        "api.example.org".into(),
    ];
    let pki = issue(&c);
    let t = x509_text(&text(&pki, "master-1", "etc/kubernetes/pki/apiserver.crt"));
    assert_eq!(
        value_after(&t, "X509v3 Subject Alternative Name").as_deref(),
        Some("DNS:master-1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, DNS:api.example.org, DNS:k8s.internal, IP Address:10.96.0.1, IP Address:10.0.2.11, IP Address:10.0.2.100, IP Address:192.0.2.7")
    );
}

#[test]
fn an_external_load_balancer_address_is_always_an_apiserver_san() {
    // With an endpoint name, the load balancer's own address used to be left out.
    let mut c = samples::stacked_3();
    c.control_plane.vip = None;
    c.control_plane.endpoint = Some("api.example.org".into());
    c.control_plane.load_balancer.kind = hac_model::LoadBalancerKind::External;
    c.control_plane.load_balancer.address = Some("10.0.2.200".into());
    let pki = issue(&c);
    let t = x509_text(&text(&pki, "master-0", "etc/kubernetes/pki/apiserver.crt"));
    assert_eq!(
        value_after(&t, "X509v3 Subject Alternative Name").as_deref(),
        Some("DNS:master-0, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, DNS:api.example.org, IP Address:10.96.0.1, IP Address:10.0.2.10, IP Address:10.0.2.200")
    );
    // An external load balancer named by DNS is a DNS SAN.
    c.control_plane.load_balancer.address = Some("lb.example.org".into());
    let t = x509_text(&text(
        &issue(&c),
        "master-0",
        "etc/kubernetes/pki/apiserver.crt",
    ));
    assert!(value_after(&t, "X509v3 Subject Alternative Name")
        .unwrap()
        .contains("DNS:lb.example.org"));
}

#[test]
fn ca_cert_hash_is_the_sha256_of_the_ca_public_key_as_openssl_computes_it() {
    let pki = issue(&samples::stacked_3());
    let ca = text(&pki, "master-0", "etc/kubernetes/pki/ca.crt");
    assert_eq!(pki.ca_cert_pem, ca);
    let pubkey = openssl(&["x509", "-pubkey", "-noout"], ca.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let der = dir.path().join("spki.der");
    openssl(
        &[
            "pkey",
            "-pubin",
            "-outform",
            "der",
            "-out",
            der.to_str().unwrap(),
        ],
        pubkey.as_bytes(),
    );
    let digest = openssl(&["dgst", "-sha256", "-r", der.to_str().unwrap()], b"");
    assert_eq!(
        pki.ca_cert_hash,
        format!("sha256:{}", digest.split_whitespace().next().unwrap())
    );
    assert_eq!(pki.ca_cert_hash.len(), "sha256:".len() + 64);
}

/// One master and a worker; for the slow RSA sizes, a lone external etcd member (7 keys).
fn small_cluster(alg: KeyAlgorithm) -> (Cluster, &'static str, &'static [&'static str], usize) {
    let mut c = samples::external_etcd();
    c.pki.algorithm = alg;
    if matches!(alg, KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096) {
        c.nodes.retain(|n| n.name == "etcd-0");
        (
            c,
            "etcd-0",
            &["etcd/ca.crt", "etcd/server.crt", "etcd/peer.crt"],
            3,
        )
    } else {
        c.etcd.topology = hac_model::EtcdTopology::Stacked;
        c.nodes
            .retain(|n| n.name == "master-0" || n.name == "worker-0");
        (
            c,
            "master-0",
            &["ca.crt", "apiserver.crt", "etcd/peer.crt"],
            7,
        )
    }
}

#[test]
fn every_key_algorithm_issues_a_verifiable_pki() {
    let cases = [
        (
            KeyAlgorithm::EcdsaP256,
            "NIST CURVE: P-256",
            "ecdsa-with-SHA256",
        ),
        (
            KeyAlgorithm::EcdsaP384,
            "NIST CURVE: P-384",
            "ecdsa-with-SHA384",
        ),
        (
            KeyAlgorithm::Rsa2048,
            "Public-Key: (2048 bit)",
            "sha256WithRSAEncryption",
        ),
        (
            KeyAlgorithm::Rsa3072,
            "Public-Key: (3072 bit)",
            "sha256WithRSAEncryption",
        ),
        (
            KeyAlgorithm::Rsa4096,
            "Public-Key: (4096 bit)",
            "sha256WithRSAEncryption",
        ),
    ];
    for (alg, key_line, sig) in cases {
        let (c, node, paths, leaves) = small_cluster(alg);
        let pki = issue(&c);
        assert_eq!(check_issued(&c, &pki), leaves, "{alg:?}");
        for path in paths {
            let t = x509_text(&text(&pki, node, &format!("{PKI}/{path}")));
            assert!(t.contains(key_line), "{alg:?} {path}: {t}");
            assert!(
                t.contains(&format!("Signature Algorithm: {sig}")),
                "{alg:?} {path}"
            );
        }
        // Every private key parses, and sa.pub is the public half of sa.key.
        let dir = tempfile::tempdir().unwrap();
        write_node(dir.path(), &pki.files[node]);
        let p = dir.path().join(PKI);
        let keys: Vec<&str> = pki.files[node]
            .iter()
            .filter(|a| a.path.ends_with(".key"))
            .map(|a| a.path.as_str())
            .collect();
        assert!(keys.len() >= 3, "{keys:?}");
        for key in keys {
            openssl(
                &[
                    "pkey",
                    "-noout",
                    "-in",
                    dir.path().join(key).to_str().unwrap(),
                ],
                b"",
            );
        }
        if node == "master-0" {
            let derived_pub = openssl(
                &["pkey", "-pubout", "-in", p.join("sa.key").to_str().unwrap()],
                b"",
            );
            assert_eq!(
                derived_pub,
                text(&pki, node, &format!("{PKI}/sa.pub")),
                "{alg:?}"
            );
        }
    }
}

#[test]
fn serial_numbers_are_positive_16_bytes_and_unique_across_the_cluster() {
    let pki: IssuedPki = issue(&samples::external_etcd());
    let mut serials = std::collections::BTreeMap::new();
    for (node, files) in &pki.files {
        for a in files.iter().filter(|a| a.path.ends_with(".crt")) {
            let pem = String::from_utf8(a.contents.clone()).unwrap();
            let s = openssl(&["x509", "-noout", "-serial"], pem.as_bytes());
            let hex = s.trim().trim_start_matches("serial=").to_string();
            assert_eq!(hex.len(), 32, "{node} {}: {hex}", a.path);
            assert!(
                u8::from_str_radix(&hex[..2], 16).unwrap() < 0x80,
                "positive"
            );
            let subject = openssl(
                &["x509", "-noout", "-subject", "-issuer", "-pubkey"],
                pem.as_bytes(),
            );
            if let Some(prev) = serials.insert(hex.clone(), subject.clone()) {
                assert_eq!(
                    prev, subject,
                    "serial {hex} shared by two different certificates"
                );
            }
        }
    }
    assert!(serials.len() > 20);
}

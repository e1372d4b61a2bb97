//! Kubeconfigs: `kubectl config view` reads every one; the embedded CA is ca.crt; the
//! embedded client certificate verifies against it (openssl) with kubeadm's subject; the
//! server is the endpoint (admin, super-admin) or the node's own apiserver (controller-manager,
//! scheduler); the layout is snapshotted with the base64 data elided.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod support;

use base64::Engine;
use hac_model::{samples, Version};
use std::process::Command;
use support::*;

fn field<'a>(yaml: &'a str, key: &str) -> &'a str {
    yaml.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in\n{yaml}"))
}

fn decode(b64: &str) -> String {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn every_kubeconfig_parses_with_kubectl_and_embeds_a_verifiable_client_certificate() {
    require_tool("kubectl");
    let c = samples::stacked_3();
    let pki = issue(&c);
    let ca = text(&pki, "master-0", "etc/kubernetes/pki/ca.crt");
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.crt");
    std::fs::write(&ca_path, &ca).unwrap();
    let cases = [
        (
            "master-0",
            "admin",
            "kubernetes-admin",
            "O = kubeadm:cluster-admins, CN = kubernetes-admin",
            "https://10.0.2.100:8443",
        ),
        (
            "master-0",
            "super-admin",
            "kubernetes-super-admin",
            "O = system:masters, CN = kubernetes-super-admin",
            "https://10.0.2.100:8443",
        ),
        (
            "master-1",
            "admin",
            "kubernetes-admin",
            "O = kubeadm:cluster-admins, CN = kubernetes-admin",
            "https://10.0.2.100:8443",
        ),
        (
            "master-1",
            "controller-manager",
            "system:kube-controller-manager",
            "CN = system:kube-controller-manager",
            "https://10.0.2.11:6443",
        ),
        (
            "master-2",
            "scheduler",
            "system:kube-scheduler",
            "CN = system:kube-scheduler",
            "https://10.0.2.12:6443",
        ),
    ];
    for (node, file, user, subject, server) in cases {
        let yaml = text(&pki, node, &format!("etc/kubernetes/{file}.conf"));
        let path = dir.path().join(format!("{node}-{file}.conf"));
        std::fs::write(&path, &yaml).unwrap();
        let o = run(Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&path)
            .args([
                "config",
                "view",
                "-o",
                "jsonpath={.current-context} {.clusters[0].cluster.server} {.users[0].name}",
            ]));
        assert!(
            o.status.success(),
            "kubectl: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            format!("{user}@prod {server} {user}"),
            "{node} {file}"
        );
        assert_eq!(
            decode(field(&yaml, "certificate-authority-data")),
            ca,
            "{file} embeds ca.crt"
        );
        let client = decode(field(&yaml, "client-certificate-data"));
        let key = decode(field(&yaml, "client-key-data"));
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
        let cert_path = dir.path().join(format!("{node}-{file}.crt"));
        std::fs::write(&cert_path, &client).unwrap();
        let out = openssl(
            &[
                "verify",
                "-x509_strict",
                "-purpose",
                "sslclient",
                "-CAfile",
                ca_path.to_str().unwrap(),
                cert_path.to_str().unwrap(),
            ],
            b"",
        );
        assert!(out.trim_end().ends_with(": OK"), "{out}");
        let subj = openssl(
            &[
                "x509",
                "-noout",
                "-subject",
                "-nameopt",
                "oneline,-esc_msb,sep_comma_plus_space,space_eq",
            ],
            client.as_bytes(),
        );
        assert_eq!(subj.trim(), format!("subject={subject}"), "{node} {file}");
        // The key in the kubeconfig is the certificate's key.
        let key_path = dir.path().join(format!("{node}-{file}.key"));
        std::fs::write(&key_path, &key).unwrap();
        let from_key = openssl(&["pkey", "-pubout", "-in", key_path.to_str().unwrap()], b"");
        let from_cert = openssl(&["x509", "-noout", "-pubkey"], client.as_bytes());
        assert_eq!(
            from_key, from_cert,
            "{node} {file}: key matches certificate"
        );
    }
}

#[test]
fn before_1_29_admin_is_system_masters_and_there_is_no_super_admin() {
    let mut c = samples::stacked_3();
    c.kubernetes_version = Version::new(1, 28, 9);
    let pki = issue(&c);
    assert!(pki.files["master-0"]
        .iter()
        .all(|a| !a.path.ends_with("super-admin.conf")));
    let yaml = text(&pki, "master-0", "etc/kubernetes/admin.conf");
    let client = decode(field(&yaml, "client-certificate-data"));
    let subj = openssl(&["x509", "-noout", "-subject"], client.as_bytes());
    assert!(
        subj.contains("O = system:masters") && subj.contains("CN = kubernetes-admin"),
        "{subj}"
    );
}

#[test]
fn an_endpoint_name_is_the_admin_server() {
    let mut c = samples::stacked_3();
    c.control_plane.endpoint = Some("api.example.org".into());
    let pki = issue(&c);
    let yaml = text(&pki, "master-2", "etc/kubernetes/admin.conf");
    assert_eq!(field(&yaml, "server"), "https://api.example.org:8443");
}

#[test]
fn admin_conf_layout_snapshot() {
    let pki = issue(&samples::stacked_3());
    let yaml = text(&pki, "master-0", "etc/kubernetes/admin.conf");
    let elided: String = yaml
        .lines()
        .map(|l| match l.split_once("-data: ") {
            Some((k, v)) => format!("{k}-data: <{} bytes of base64>\n", v.len()),
            None => format!("{l}\n"),
        })
        .collect();
    insta::assert_snapshot!(elided);
}

/// An `openssl s_server` on loopback, killed on drop.
struct TlsServer(std::process::Child);

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// kubectl (Go's crypto/x509 and TLS) talks to a TLS server that presents this node's
/// apiserver certificate and requires a client certificate from ca.crt: admin.conf's client
/// certificate is accepted and the server certificate verifies (as `kubernetes`); a client
/// certificate from the front-proxy CA is refused.
#[test]
fn kubectl_with_admin_conf_completes_mutual_tls_against_the_apiserver_certificate() {
    require_tool("kubectl");
    require_tool("openssl");
    let pki = issue(&samples::stacked_3());
    let dir = tempfile::tempdir().unwrap();
    write_node(dir.path(), &pki.files["master-0"]);
    let p = dir.path().join("etc/kubernetes/pki");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-www",
            "-Verify",
            "1",
            "-verify_return_error",
        ])
        .arg("-accept")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(p.join("apiserver.crt"))
        .arg("-key")
        .arg(p.join("apiserver.key"))
        .arg("-CAfile")
        .arg(p.join("ca.crt"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start openssl s_server: {e}; {INSTALL_HINT}"));
    let _server = TlsServer(server);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "s_server never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let kubectl = |conf: &std::path::Path| {
        run(Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(conf)
            .arg(format!("--server=https://127.0.0.1:{port}"))
            .args([
                "--tls-server-name=kubernetes",
                "--request-timeout=10s",
                "get",
                "--raw",
                "/",
            ]))
    };
    let admin = dir.path().join("etc/kubernetes/admin.conf");
    let o = kubectl(&admin);
    assert!(
        o.status.success(),
        "kubectl refused: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("s_server"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // The same kubeconfig with the front-proxy client certificate: the server refuses it.
    let yaml = std::fs::read_to_string(&admin).unwrap();
    let b64 = |f: &str| {
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(p.join(f)).unwrap())
    };
    let foreign = yaml
        .replace(
            field(&yaml, "client-certificate-data"),
            &b64("front-proxy-client.crt"),
        )
        .replace(
            field(&yaml, "client-key-data"),
            &b64("front-proxy-client.key"),
        );
    let foreign_path = dir.path().join("foreign.conf");
    std::fs::write(&foreign_path, foreign).unwrap();
    let o = kubectl(&foreign_path);
    assert!(
        !o.status.success(),
        "a certificate from the front-proxy CA was accepted"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("tls") || err.contains("certificate"),
        "refused for another reason: {err}"
    );
}

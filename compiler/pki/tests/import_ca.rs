//! Adopting an existing cluster CA (`hac secrets import-ca`): CAs made by openssl with EC and
//! RSA keys in PKCS#8, SEC1 and PKCS#1 are accepted and then sign every cluster-CA leaf;
//! a key that does not match, a leaf certificate, and garbage are clear errors.

mod support;

use hac_pki::Secrets;
use std::path::Path;
use std::process::Command;
use support::*;

/// Makes a self-signed certificate and key with openssl in `dir`; returns (cert, key) PEM.
fn make_cert(dir: &Path, name: &str, newkey: &str, ca: bool) -> (String, String) {
    require_tool("openssl");
    let key = dir.join(format!("{name}.key"));
    let crt = dir.join(format!("{name}.crt"));
    let bc = if ca {
        "basicConstraints=critical,CA:TRUE"
    } else {
        "basicConstraints=critical,CA:FALSE"
    };
    let ku = if ca {
        "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign"
    } else {
        "keyUsage=critical,digitalSignature"
    };
    let o = run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            newkey,
            "-nodes",
            "-subj",
            "/CN=kubernetes",
            "-days",
            "3650",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .args(["-addext", bc, "-addext", ku]));
    assert!(
        o.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        std::fs::read_to_string(crt).unwrap(),
        std::fs::read_to_string(key).unwrap(),
    )
}

/// Re-encodes a key: `ec` → SEC1 `EC PRIVATE KEY`, `rsa -traditional` → PKCS#1.
fn convert_key(dir: &Path, key_pem: &str, args: &[&str]) -> String {
    let input = dir.join("in.key");
    std::fs::write(&input, key_pem).unwrap();
    let mut full: Vec<&str> = args.to_vec();
    let in_s = input.to_str().unwrap();
    full.extend(["-in", in_s]);
    openssl(&full, b"")
}

fn base_text() -> String {
    fixture_text("test-only.secrets")
}

/// Imports (cert, key) and checks that the cluster CA of an issue is that CA, that every
/// leaf under it verifies, and that the hash is the adopted CA's.
fn assert_adopted(cert: &str, key: &str) {
    let text = Secrets::import_ca(&base_text(), cert, key).expect("import succeeds");
    assert!(text.contains("clusterCACertificate: |"), "{text}");
    let yaml = pyyaml_json(&text);
    assert_eq!(
        yaml["clusterCACertificate"].as_str().map(str::trim),
        Some(cert.trim()),
        "PyYAML reads the block"
    );
    assert_eq!(
        yaml["clusterCAKey"].as_str().map(str::trim),
        Some(key.trim())
    );
    let s = Secrets::parse(&text).expect("file with CA parses");
    assert!(s.has_imported_ca());
    // Re-importing into a file that already has a CA replaces it (still parses).
    let again = Secrets::import_ca(&text, cert, key).expect("re-import");
    assert_eq!(again, text);

    let c = hac_model::samples::stacked_3();
    let pki = hac_pki::issue(&c, &s).expect("issue with adopted CA");
    let ca_crt = text_of(&pki, "master-0", "etc/kubernetes/pki/ca.crt");
    assert_eq!(
        ca_crt.trim(),
        cert.trim(),
        "ca.crt is the adopted certificate"
    );
    let ca_key = text_of(&pki, "master-0", "etc/kubernetes/pki/ca.key");
    assert_eq!(ca_key.trim(), key.trim(), "ca.key is the adopted key");
    let dir = tempfile::tempdir().unwrap();
    write_node(dir.path(), &pki.files["master-0"]);
    let pki_dir = dir.path().join("etc/kubernetes/pki");
    let out = openssl(
        &[
            "verify",
            "-CAfile",
            pki_dir.join("ca.crt").to_str().unwrap(),
            pki_dir.join("apiserver.crt").to_str().unwrap(),
            pki_dir
                .join("apiserver-kubelet-client.crt")
                .to_str()
                .unwrap(),
        ],
        b"",
    );
    assert_eq!(out.matches(": OK").count(), 2, "{out}");
    let expected_hash = openssl_spki_hash(cert);
    assert_eq!(pki.ca_cert_hash, expected_hash);
    assert_eq!(pki.ca_cert_pem.trim(), cert.trim());
}

fn text_of(pki: &hac_model::IssuedPki, node: &str, path: &str) -> String {
    support::text(pki, node, path)
}

/// `openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256`.
pub fn openssl_spki_hash(cert_pem: &str) -> String {
    let pubkey = openssl(&["x509", "-pubkey", "-noout"], cert_pem.as_bytes());
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
    format!("sha256:{}", digest.split_whitespace().next().unwrap())
}

#[test]
fn an_openssl_ec_p256_ca_in_pkcs8_and_sec1_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("p256.pem");
    openssl(
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-out",
            params.to_str().unwrap(),
        ],
        b"",
    );
    let (cert, key) = make_cert(
        dir.path(),
        "ca256",
        &format!("ec:{}", params.display()),
        true,
    );
    assert!(key.contains("BEGIN PRIVATE KEY"), "openssl writes PKCS#8");
    assert_adopted(&cert, &key);
    let sec1 = convert_key(dir.path(), &key, &["ec"]);
    assert!(sec1.contains("BEGIN EC PRIVATE KEY"), "{sec1}");
    assert_adopted(&cert, &sec1);
}

#[test]
fn an_openssl_rsa_ca_in_pkcs8_and_pkcs1_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "rsa", "rsa:2048", true);
    assert_adopted(&cert, &key);
    let pkcs1 = convert_key(dir.path(), &key, &["rsa", "-traditional"]);
    assert!(pkcs1.contains("BEGIN RSA PRIVATE KEY"), "{pkcs1}");
    assert_adopted(&cert, &pkcs1);
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = make_cert(dir.path(), "a", "rsa:2048", true);
    let (_, other_key) = make_cert(dir.path(), "b", "rsa:2048", true);
    let d = Secrets::import_ca(&base_text(), &cert, &other_key).expect_err("mismatch refused");
    assert_eq!(d.code.as_deref(), Some("E0607"));
    assert!(d.message.contains("does not match"), "{}", d.message);
    let body: String = other_key.lines().nth(1).unwrap().chars().take(20).collect();
    assert!(
        !format!("{} {:?}", d.message, d.hints).contains(&body),
        "error quotes the key"
    );
}

#[test]
fn a_leaf_certificate_is_not_a_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "leaf", "rsa:2048", false);
    let d = Secrets::import_ca(&base_text(), &cert, &key).expect_err("non-CA refused");
    assert_eq!(d.code.as_deref(), Some("E0607"));
    assert!(d.message.contains("not a CA"), "{}", d.message);
}

#[test]
fn garbage_swapped_and_truncated_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "ca", "rsa:2048", true);
    let cases = [
        (cert.as_str(), "not a key", "not PEM"),
        (key.as_str(), key.as_str(), "not a PEM `CERTIFICATE`"),
        (&cert[..cert.len() / 2], key.as_str(), "truncated"),
        (cert.as_str(), &key[..key.len() / 2], "key is unusable"),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            key.as_str(),
            "not a valid X.509",
        ),
    ];
    for (c, k, expect) in cases {
        let d = Secrets::import_ca(&base_text(), c, k).expect_err("refused");
        assert_eq!(d.code.as_deref(), Some("E0607"), "{}", d.message);
        assert!(
            d.message.contains(expect),
            "`{}` should say {expect}",
            d.message
        );
        assert!(
            !d.message.contains("MII"),
            "error quotes PEM: {}",
            d.message
        );
    }
}

#[test]
fn a_corrupt_ca_in_the_secrets_file_is_an_error_at_parse() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "ca", "rsa:2048", true);
    let text = Secrets::import_ca(&base_text(), &cert, &key).unwrap();
    // Drop the last line of the key block: a truncated file.
    let cut = text.trim_end().rfind('\n').unwrap();
    let d = Secrets::parse(&text[..cut]).expect_err("truncated CA refused");
    assert_eq!(d.code.as_deref(), Some("E0607"), "{}", d.message);
}

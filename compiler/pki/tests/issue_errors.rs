//! `issue` on input it cannot turn into certificates answers a coded error (E0609) naming the
//! cause, never panics, and never quotes a secret.

mod support;

use hac_model::samples;
use support::*;

#[test]
fn a_validity_beyond_the_year_9999_is_a_clear_error() {
    let mut c = samples::stacked_3();
    c.pki.ca_validity_days = u32::MAX;
    let d = hac_pki::issue(&c, &secrets()).expect_err("refused");
    assert_eq!(d.code.as_deref(), Some("E0609"));
    assert!(
        d.message.contains("9999") && d.message.contains("CA validity"),
        "{}",
        d.message
    );
    let mut c = samples::stacked_3();
    c.epoch.unix = i64::MAX;
    let d = hac_pki::issue(&c, &secrets()).expect_err("refused");
    assert_eq!(d.code.as_deref(), Some("E0609"));
}

#[test]
fn a_non_ascii_cert_san_is_a_clear_error() {
    let mut c = samples::stacked_3();
    c.control_plane.cert_sans = vec!["apí.example.org".into()];
    let d = hac_pki::issue(&c, &secrets()).expect_err("refused");
    assert_eq!(d.code.as_deref(), Some("E0609"));
    assert!(d.message.contains("apí.example.org"), "{}", d.message);
    assert!(!d.message.contains("TestOnly"));
}

#[test]
fn a_cluster_without_nodes_issues_only_the_hash() {
    let mut c = samples::stacked_3();
    c.nodes.clear();
    let pki = hac_pki::issue(&c, &secrets()).expect("issues");
    assert!(pki.files.is_empty());
    assert!(pki.ca_cert_hash.starts_with("sha256:"));
    assert!(pki.ca_cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
}

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

mod no_panic {
    use super::support::secrets;
    use hac_model::samples;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Arbitrary SANs, names, validities, epochs and rotations: `issue` answers Ok or a
        /// coded error, never a panic.
        #[test]
        fn issue_never_panics(
            sans in proptest::collection::vec(prop_oneof!["[a-z0-9.:-]{0,20}", "\\PC{0,20}"], 0..4),
            domain in prop_oneof!["[a-z.]{0,20}", "\\PC{0,20}"],
            endpoint in proptest::option::of(prop_oneof!["[a-z0-9.]{0,20}", "\\PC{0,20}"]),
            ca_days in prop_oneof![0u32..50_000, any::<u32>()],
            leaf_days in prop_oneof![0u32..50_000, any::<u32>()],
            epoch in prop_oneof![-2_500_000_000i64..4_000_000_000, any::<i64>()],
            rotation in any::<u64>(),
        ) {
            let mut c = samples::stacked_3();
            c.nodes.truncate(1);
            c.control_plane.cert_sans = sans;
            c.network.dns_domain = domain;
            c.control_plane.endpoint = endpoint;
            c.pki.ca_validity_days = ca_days;
            c.pki.cert_validity_days = leaf_days;
            c.epoch.unix = epoch;
            c.pki.rotation = rotation;
            match hac_pki::issue(&c, &secrets()) {
                Ok(pki) => {
                    prop_assert_eq!(pki.files.len(), 1);
                    prop_assert!(!pki.files["master-0"].is_empty());
                }
                Err(d) => prop_assert_eq!(d.code.as_deref(), Some("E0609")),
            }
        }
    }
}

//! Every code has an explanation, and the explanations cite the reasoning they rest on.

use hac_check::codes::CheckCode;
use hac_check::explain;
use hac_core::{InputCode, LanguageCode};

/// The codes of this crate and of the language have their explanation here (the other
/// stages' codes, and that no explanation is stray, are checked against `hac explain`'s
/// registry in tests/docs_reference.rs).
#[test]
fn every_code_is_explained() {
    let codes = CheckCode::ALL
        .iter()
        .map(|k| k.code())
        .chain(LanguageCode::ALL.iter().map(|k| k.code()))
        .chain(InputCode::ALL.iter().map(|k| k.code()));
    for code in codes {
        let text = explain(code).unwrap_or_else(|| panic!("no explanation for {code}"));
        assert!(text.starts_with(code), "{code}: {text}");
        assert!(text.len() > 120, "{code} is too short: {text}");
    }
}

#[test]
fn lookups_ignore_case_and_reject_unknown_codes() {
    assert_eq!(explain("e0202"), explain("E0202"));
    assert_eq!(explain(" W0401 "), explain("W0401"));
    assert!(explain("E9999").is_none());
    assert!(explain("").is_none());
    assert!(explain("## E0202").is_none());
}

#[test]
fn explanations_cite_etcd_kubeadm_and_keepalived() {
    let e0202 = explain("E0202").unwrap_or_default();
    assert!(
        e0202.contains("etcd FAQ") && e0202.contains("third control-plane"),
        "{e0202}"
    );
    assert!(explain("E0203").unwrap_or_default().contains("etcd FAQ"));
    assert!(explain("E0206").unwrap_or_default().contains("kubeadm"));
    assert!(explain("E0406").unwrap_or_default().contains("150/100"));
    assert!(explain("E0605")
        .unwrap_or_default()
        .contains("8 characters"));
    assert!(explain("E0002").unwrap_or_default().contains("`x: x`"));
}

//! The secrets file: parsing the test-only fixture, `generate` output and its formats, and
//! clear errors (never quoting a secret) on truncated, corrupt, encrypted or foreign input.

mod support;

use hac_pki::Secrets;
use proptest::prelude::*;
use support::*;

const ROOT_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn parse_err(text: &str) -> hac_core::Diagnostic {
    match Secrets::parse(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(d) => d,
    }
}

/// Every message and hint of `d`, for checks that no secret leaks.
fn all_text(d: &hac_core::Diagnostic) -> String {
    format!("{} {:?} {:?}", d.message, d.hints, d.notes)
}

#[test]
fn the_fixture_parses_and_yields_its_render_secrets() {
    let s = secrets();
    let r = s.render_secrets();
    assert_eq!(r.bootstrap_token, "abcdef.0123456789abcdef");
    assert_eq!(r.vrrp_password, "TestOnly");
    assert_eq!(s.vrrp_password_len(), 8);
    assert!(!s.has_imported_ca());
    let dbg = format!("{s:?}");
    assert!(
        !dbg.contains("TestOnly") && !dbg.contains(ROOT_HEX),
        "Debug leaks: {dbg}"
    );
}

#[test]
fn generate_writes_a_file_that_parses_with_the_documented_formats() {
    let text = Secrets::generate().expect("generate");
    assert!(text.contains("version: 1\n"), "{text}");
    let s = Secrets::parse(&text).expect("generated text parses");
    let r = s.render_secrets();
    assert_eq!(r.vrrp_password.len(), 8);
    assert!(r.vrrp_password.bytes().all(|b| b.is_ascii_alphanumeric()));
    let (id, secret) = r.bootstrap_token.split_once('.').expect("token has a dot");
    let lower_alnum = |p: &str| {
        p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    assert!(id.len() == 6 && secret.len() == 16 && lower_alnum(id) && lower_alnum(secret));
    let root_line = text
        .lines()
        .find(|l| l.starts_with("rootSecret:"))
        .expect("root line");
    let hex = root_line
        .trim_start_matches("rootSecret:")
        .trim()
        .trim_matches('"');
    assert_eq!(hex.len(), 64);
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    // Two files never share a root secret (256 bits from the OS).
    let other = Secrets::generate().expect("generate");
    assert_ne!(text, other);
}

#[test]
fn the_generated_file_is_yaml_that_pyyaml_reads_as_the_same_strings() {
    let text = Secrets::generate().expect("generate");
    let v = pyyaml_json(&text);
    let r = Secrets::parse(&text).unwrap().render_secrets();
    assert_eq!(v["version"], 1);
    assert_eq!(v["vrrpPassword"], r.vrrp_password.as_str());
    assert_eq!(v["bootstrapToken"], r.bootstrap_token.as_str());
    assert_eq!(
        v["rootSecret"].as_str().map(str::len),
        Some(64),
        "a string, never a number"
    );
    // A password made of digits stays a string (hac quotes every scalar).
    let digits = fixture_text("test-only.secrets").replace("TestOnly", "12345678");
    assert_eq!(pyyaml_json(&digits)["vrrpPassword"], "12345678");
}

#[test]
fn plain_quoted_comments_and_crlf_are_accepted() {
    let text = format!(
        "---\r\n# comment\r\nversion: 1 # the format\r\nrootSecret: {ROOT_HEX}\r\nvrrpPassword: 'abc'\r\n\r\nbootstrapToken: \"abcdef.0123456789abcdef\"\r\n"
    );
    let s = Secrets::parse(&text).expect("parses");
    assert_eq!(s.render_secrets().vrrp_password, "abc");
    // Punctuation that keepalived.conf reads back unchanged is accepted, as render accepts it.
    let punct = fixture_text("test-only.secrets").replace("TestOnly", "a-b.c_:/");
    assert_eq!(
        Secrets::parse(&punct)
            .expect("parses")
            .render_secrets()
            .vrrp_password,
        "a-b.c_:/"
    );
}

#[test]
fn every_truncation_of_the_fixture_is_a_clear_error_that_quotes_no_secret() {
    let text = fixture_text("test-only.secrets");
    let full_end = text.trim_end().len();
    for cut in 0..full_end {
        if !text.is_char_boundary(cut) {
            continue;
        }
        let d = parse_err(&text[..cut]);
        let code = d.code.clone().unwrap_or_default();
        assert!(
            ["E0603", "E0604", "E0605"].contains(&code.as_str()),
            "cut at {cut}: unexpected code {code}: {}",
            d.message
        );
        let all = all_text(&d);
        assert!(
            !all.contains("0a0b0c0d")
                && !all.contains("TestOnly")
                && !all.contains("0123456789abcdef"),
            "leak: {all}"
        );
    }
}

#[test]
fn corrupt_values_name_the_field_and_line_but_not_the_value() {
    let good = fixture_text("test-only.secrets");
    let cases = [
        (good.replace("1e1f\"", "1e1g\""), "E0605", "rootSecret"),
        (
            good.replace("\"TestOnly\"", "\"TooLongPassword\""),
            "E0605",
            "vrrpPassword",
        ),
        (
            good.replace("\"TestOnly\"", "\"bad pass\""),
            "E0605",
            "vrrpPassword",
        ),
        (
            good.replace("\"TestOnly\"", "\"bad!pass\""),
            "E0605",
            "vrrpPassword",
        ),
        (
            good.replace("abcdef.0123456789abcdef", "ABCDEF.0123456789abcdef"),
            "E0605",
            "bootstrapToken",
        ),
        (good.replace("version: 1", "version: 2"), "E0604", "version"),
        (good.replace("version: 1\n", ""), "E0604", "version"),
        (
            good.replace("vrrpPassword", "vrrpPasword"),
            "E0606",
            "vrrpPassword",
        ),
        (
            format!("{good}rootSecret: \"{ROOT_HEX}\"\n"),
            "E0603",
            "rootSecret",
        ),
        (good.replace("version: 1", "version 1"), "E0603", "line"),
        (good.replace("version: 1", "  version: 1"), "E0603", "line"),
        (
            format!("{good}clusterCAKey: |\n  x\n"),
            "E0607",
            "clusterCACertificate",
        ),
    ];
    for (text, code, mentions) in cases {
        let d = parse_err(&text);
        assert_eq!(d.code.as_deref(), Some(code), "{}: {}", mentions, d.message);
        let all = all_text(&d);
        assert!(all.contains(mentions), "`{all}` should mention {mentions}");
        for secret in [
            "0a0b0c0d",
            "TestOnly",
            "TooLongPassword",
            "0123456789abcdef",
            "bad pass",
            "bad!pass",
        ] {
            assert!(!all.contains(secret), "`{all}` quotes a secret");
        }
    }
    // The unknown key gets a suggestion.
    let d = parse_err(&good.replace("vrrpPassword", "vrrpPasword"));
    assert!(
        d.hints
            .iter()
            .any(|h| h.contains("did you mean `vrrpPassword`")),
        "{:?}",
        d.hints
    );
}

#[test]
fn encrypted_files_are_recognized() {
    let d = parse_err("age-encryption.org/v1\n-> X25519 abc\n");
    assert_eq!(d.code.as_deref(), Some("E0603"));
    assert!(d.message.contains("age"));
    let sops = "version: ENC[AES256_GCM,data:xx,type:int]\nsops:\n    version: 3.8.1\n";
    let d = parse_err(sops);
    assert!(d.message.contains("sops"), "{}", d.message);
    assert!(d.hints.iter().any(|h| h.contains("sops -d")));
}

#[test]
fn empty_and_binary_looking_input_are_errors() {
    assert_eq!(parse_err("").code.as_deref(), Some("E0604"));
    assert_eq!(parse_err("\u{0}\u{1}\u{2}").code.as_deref(), Some("E0603"));
    assert_eq!(parse_err("{\"version\": 1}").code.as_deref(), Some("E0603"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Arbitrary text never panics; the parser answers Ok or a coded error.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        if let Err(d) = Secrets::parse(&text) {
            prop_assert!(d.code.is_some());
        }
    }

    /// Mutating one character of the valid file never panics and never echoes the secret.
    #[test]
    fn one_character_edits_never_leak(pos in 0usize..300, c in proptest::char::any()) {
        let good = fixture_text("test-only.secrets");
        let mut chars: Vec<char> = good.chars().collect();
        let i = pos % chars.len();
        chars[i] = c;
        let text: String = chars.into_iter().collect();
        if let Err(d) = Secrets::parse(&text) {
            let all = all_text(&d);
            prop_assert!(!all.contains("0a0b0c0d0e0f") && !all.contains("TestOnly"));
        }
    }
}

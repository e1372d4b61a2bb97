//! Data-driven cases: `fixtures/values.tsv` (expression, tab, the JSON Nix prints for it)
//! and `fixtures/errors.tsv` (diagnostic code, tab, expression). Every error must carry its
//! code, a message and a source span.

use hac_eval::{evaluate_source, EvalOptions};
use std::path::Path;

fn fixture(name: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (a, b) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("no tab in fixture line: {l}"));
            (a.to_string(), b.to_string())
        })
        .collect()
}

/// Numbers compare as numbers (ints and floats alike, 1e-9 relative), the rest structurally.
pub fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                return i == j;
            }
            let (p, q) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            p == q || (p - q).abs() <= 1e-9 * p.abs().max(q.abs())
        }
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn values_match_what_nix_prints() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = fixture("values.tsv");
    assert!(
        cases.len() >= 100,
        "the value fixture shrank to {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for (expr, expected) in &cases {
        let expected: serde_json::Value =
            serde_json::from_str(expected).expect("expected JSON parses");
        let ev = evaluate_source("case.ha", expr, dir.path(), &EvalOptions::default());
        match ev.result {
            Ok(v) if json_equal(&v.to_json(), &expected) => {}
            Ok(v) => failures.push(format!(
                "{expr}\n  expected {expected}\n  got      {}",
                v.to_json()
            )),
            Err(d) => failures.push(format!(
                "{expr}\n  expected {expected}\n  error    {}",
                d.render(&ev.sources, false)
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn errors_have_their_code_message_and_span() {
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("project");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(root.path().join("outside.ha"), "1").expect("write");
    let cases = fixture("errors.tsv");
    assert!(
        cases.len() >= 50,
        "the error fixture shrank to {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for (code, expr) in &cases {
        let ev = evaluate_source("case.ha", expr, &dir, &EvalOptions::default());
        match ev.result {
            Ok(v) => failures.push(format!(
                "{expr}: expected {code}, got the value {}",
                v.to_json()
            )),
            Err(d) => {
                if d.code.as_deref() != Some(code.as_str()) {
                    failures.push(format!(
                        "{expr}: expected {code}, got {}",
                        d.render(&ev.sources, false)
                    ));
                } else if d.message.trim().is_empty() {
                    failures.push(format!("{expr}: {code} without a message"));
                } else if d.span.is_none() {
                    failures.push(format!("{expr}: {code} without a span: {}", d.message));
                } else if !d.is_error() {
                    failures.push(format!("{expr}: {code} is not an error"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} error cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The value fixture was produced by `nix-instantiate`; re-check it against Nix itself so a
/// hand edit cannot drift from the oracle.
#[test]
fn value_fixture_agrees_with_nix() {
    let probe = std::process::Command::new("nix-instantiate")
        .arg("--version")
        .output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "nix-instantiate is not installed: run scripts/install-test-deps.sh"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cases.nix");
    let cases = fixture("values.tsv");
    // One Nix run for all cases: a list of every expression.
    let mut text = String::from("[\n");
    for (expr, _) in &cases {
        text.push_str(&format!("({expr}\n)\n"));
    }
    text.push(']');
    std::fs::write(&file, text).expect("write");
    let out = std::process::Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json"])
        .arg(&file)
        .env("NIX_CONFIG", "build-users-group =")
        .output()
        .expect("run nix-instantiate");
    assert!(
        out.status.success(),
        "nix failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("nix prints JSON");
    let all = all.as_array().expect("a list");
    assert_eq!(all.len(), cases.len());
    for ((expr, expected), actual) in cases.iter().zip(all) {
        let expected: serde_json::Value =
            serde_json::from_str(expected).expect("expected JSON parses");
        assert!(
            json_equal(&expected, actual),
            "{expr}: fixture says {expected}, Nix says {actual}"
        );
    }
}

/// The direct JSON printer gives exactly the text of the data tree's JSON, and the same
/// errors.
#[test]
fn direct_json_printing_matches_the_data_tree() {
    use hac_eval::evaluate_source_to_json;
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("project");
    std::fs::create_dir(&dir).expect("mkdir");
    let mut exprs: Vec<String> = fixture("values.tsv").into_iter().map(|(e, _)| e).collect();
    exprs.push(
        r#"{ s = "q\"\\\n\t\u{1}é"; f = [ 0.1 1.0 1.0e300 (-2.5) ]; n.m = { }; }"#.to_string(),
    );
    exprs.push(
        r#"{ lib, ... }: lib.nodes { prefix = "m"; count = 3; first = "10.0.2.10/24"; }"#
            .to_string(),
    );
    for (_, e) in fixture("errors.tsv") {
        exprs.push(e);
    }
    for expr in &exprs {
        let data = evaluate_source("case.ha", expr, &dir, &EvalOptions::default());
        let json = evaluate_source_to_json("case.ha", expr, &dir, &EvalOptions::default());
        match (data.result, json.result) {
            (Ok(d), Ok(j)) => assert_eq!(d.to_json().to_string(), j, "{expr}"),
            (Err(a), Err(b)) => {
                assert_eq!(a.code, b.code, "{expr}");
                assert_eq!(a.message, b.message, "{expr}");
            }
            (a, b) => panic!("{expr}: data {:?} vs json {:?}", a.map(|d| d.to_json()), b),
        }
    }
}

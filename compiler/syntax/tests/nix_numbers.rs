//! Number literals checked against real Nix (`nix-instantiate --eval --strict --json`):
//! integers, and floats in every form Nix's lexer accepts.

mod common;

use std::process::Command;

use hac_syntax::ast::{ExprKind, UnaryOp};

const CASES: &[&str] = &[
    "0",
    "7",
    "007",
    "9223372036854775807",
    "-9223372036854775807",
    "1.5",
    "1.",
    ".5",
    "0.5",
    "1.5e3",
    "1.5E3",
    "1.5e+3",
    "1.5e-3",
    "2.e2",
    ".5e1",
    "123.456e-7",
    "10.0",
    "-2.5",
];

fn ours(text: &str) -> serde_json::Value {
    let expr = common::parse(text).unwrap_or_else(|e| panic!("{text}: {}", e[0].message));
    let (negative, inner) = match &expr.kind {
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr,
        } => (true, &expr.kind),
        kind => (false, kind),
    };
    match inner {
        ExprKind::Int(value) => serde_json::json!(if negative { -value } else { *value }),
        ExprKind::Float(value) => serde_json::json!(if negative { -value } else { *value }),
        other => panic!("{text}: not a number: {other:?}"),
    }
}

#[test]
fn number_literals_match_nix() {
    let list = format!(
        "[ {} ]",
        CASES
            .iter()
            .map(|c| format!("({c})"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let output = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "-E", &list])
        .output()
        .unwrap_or_else(|error| {
            panic!("nix-instantiate is needed for this test ({error}): run scripts/install-test-deps.sh")
        });
    assert!(
        output.status.success(),
        "nix failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let nix: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("JSON list");
    assert_eq!(nix.len(), CASES.len());
    for (case, theirs) in CASES.iter().zip(&nix) {
        let mine = ours(case);
        match (mine.as_f64(), theirs.as_f64()) {
            // Nix 2.8 prints floats with 6 significant digits: compare as numbers.
            (Some(a), Some(b)) if mine.is_f64() || theirs.is_f64() => {
                assert!(
                    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()),
                    "{case}: hac {a} nix {b}"
                );
            }
            _ => assert_eq!(&mine, theirs, "{case}"),
        }
    }
}

#[test]
fn malformed_numbers_fail_in_both() {
    // `(0.)` is `0` followed by a `.` with no attribute; `1e3` is `1` applied to `e3`,
    // which Nix only rejects when evaluating (hac rejects it at once, with a hint).
    for case in ["(0.)", "1e3"] {
        assert!(common::parse(case).is_err(), "hac should reject {case}");
        let status = Command::new("nix-instantiate")
            .args(["--eval", "--strict", "--json", "-E", case])
            .output()
            .unwrap_or_else(|error| {
                panic!("nix-instantiate is needed ({error}): run scripts/install-test-deps.sh")
            })
            .status;
        assert!(!status.success(), "nix accepted {case}");
    }
}

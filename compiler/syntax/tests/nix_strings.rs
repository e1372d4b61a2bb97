//! String literals checked against real Nix: every case is parsed by hac, its value computed
//! from the AST (literal parts joined, interpolated string literals expanded), and compared
//! with `nix-instantiate --eval --strict --json` on the same text. Covers escapes, `$${`,
//! and Nix's indentation stripping of `'' … ''` strings.

mod common;

use std::process::Command;

use hac_syntax::ast::{Expr, ExprKind, StrPart};

const CASES: &[&str] = &[
    // double-quoted strings
    r#""abc""#,
    r#""a\\b\"c\nd\te\rf\$g\qh""#,
    r#""$""#,
    r#""$$""#,
    r#""a$b""#,
    r#""\${x}""#,
    r#""$${x}""#,
    r#""$$${"y"}""#,
    r#""a\\${"x"}b""#,
    r#""${"a"}${"b"}""#,
    "\"multi\nline\"",
    // indented strings
    "''a''",
    "''''",
    "''  ''",
    "''\n''",
    "''\n  foo\n    bar\n  ''",
    "''  foo''",
    "''\n\tfoo\n''",
    "''\n  a\n\n  b\n''",
    "''\n    a\n\n\n  b\n''",
    "''\n  ${\"x\"}\n    y\n''",
    "''\n    ${\"x\"} y\n  z\n''",
    "''\n    ''$x\n  y\n''",
    "''\n  a\n   ''",
    "''\n  a\n  b''",
    "'' \n  a\n''",
    "''   \n    a\n''",
    "''a''\\nb''",
    "''a''\\tb''",
    "''a''\\rb''",
    "''a''\\\\b''",
    "''a''\\qb''",
    "''a'''b''",
    "''a'b''",
    "''$${x}''",
    "''$''",
    "''a $ b''",
    "''''${x}''",
    "''\n  $'a\n    b\n''",
    "''\n    'x\n  b\n''",
    "''\n    '''x\n  b\n''",
    "''\n    ''\\ty\n  b\n''",
    "''\n  a\n  ${\"b\"}''",
    "''\n   a\n  ${\"b\"}\n''",
    "''\n\n  a\n\n''",
    "''\n  a  \n  b  \n''",
    "'' a\n b''",
    // raw carriage returns
    "\"a\r\nb\rc\"",
    "''\r\n  a\r\n  b\r\n''",
    "''\n  a\r\n    b\n''",
    "''a''\\\r\nb''",
];

/// The string a parsed literal stands for, or `None` if it interpolates anything else.
fn value(expr: &Expr) -> Option<String> {
    let ExprKind::Str(parts) = &expr.kind else {
        return None;
    };
    let mut out = String::new();
    for part in parts {
        match part {
            StrPart::Lit(text) => out.push_str(text),
            StrPart::Interp(inner) => out.push_str(&value(inner)?),
        }
    }
    Some(out)
}

fn nix_values(cases: &[&str]) -> Vec<String> {
    let list = format!(
        "[\n{}\n]",
        cases
            .iter()
            .map(|c| format!("({c})"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let output = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "-E", &list])
        .output()
        .unwrap_or_else(|error| {
            panic!("nix-instantiate is needed for this test ({error}): run scripts/install-test-deps.sh")
        });
    assert!(
        output.status.success(),
        "nix-instantiate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("nix prints a JSON list of strings")
}

#[test]
fn string_literals_match_nix() {
    let expected = nix_values(CASES);
    assert_eq!(expected.len(), CASES.len());
    let mut failures = Vec::new();
    for (case, nix) in CASES.iter().zip(&expected) {
        let ours = common::parse(case)
            .map_err(|errors| errors[0].message.clone())
            .and_then(|expr| value(&expr).ok_or_else(|| "not a string".to_string()));
        if ours.as_ref() != Ok(nix) {
            failures.push(format!("{case:?}\n   nix {nix:?}\n   hac {ours:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

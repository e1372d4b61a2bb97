//! Every syntax error (E0001) and unsupported Nix feature (E0002) the parser reports: its
//! code, the words of its message, where it points, and (as an insta snapshot) the full
//! rendered diagnostic a user sees.

use hac_core::{SourceMap, Span};

/// (input, code, words the message must contain, line:column the diagnostic points at)
const CASES: &[(&str, &str, &str, &str)] = &[
    ("{ a = 1 }", "E0001", "expected `;`, found `}`", "1:9"),
    ("{ a : 1; }", "E0001", "found `:`", "1:5"),
    (
        "let a = 1 in a",
        "E0001",
        "expected `;`, found `in`",
        "1:11",
    ),
    ("let a = 1; a", "E0001", "found end of file", "1:13"),
    (
        "if a then b",
        "E0001",
        "expected `else`, found end of file",
        "1:12",
    ),
    (
        "if a b else c",
        "E0001",
        "expected `then`, found `else`",
        "1:8",
    ),
    ("[ 1 2", "E0001", "expected `]`, found end of file", "1:6"),
    ("( 1", "E0001", "expected `)`, found end of file", "1:4"),
    ("{\n  a = 1;\n", "E0001", "found end of file", "3:1"),
    ("\"abc", "E0001", "unterminated string", "1:1"),
    ("x: ''abc", "E0001", "unterminated indented string", "1:4"),
    ("1 /* comment", "E0001", "unterminated comment", "1:3"),
    (
        "1 +",
        "E0001",
        "expected an expression, found end of file",
        "1:4",
    ),
    (")", "E0001", "expected an expression, found `)`", "1:1"),
    (
        "1 < 2 < 3",
        "E0001",
        "comparison operators cannot be chained",
        "1:7",
    ),
    ("1 == 2 != 3", "E0001", "cannot be chained", "1:8"),
    ("[ -1 ]", "E0001", "expected `]`, found `-`", "1:3"),
    ("x = 1", "E0001", "expected end of file, found `=`", "1:3"),
    (
        "{ a = 1; } ]",
        "E0001",
        "expected end of file, found `]`",
        "1:12",
    ),
    ("a.b or c or d", "E0001", "unexpected `or`", "1:10"),
    (
        "{ inherit ${a}; }",
        "E0001",
        "dynamic attributes are not allowed in `inherit`",
        "1:11",
    ),
    (
        "let ${a} = 1; in 1",
        "E0001",
        "dynamic attributes are not allowed in `let`",
        "1:5",
    ),
    ("let or = 1; in or", "E0001", "found `or`", "1:16"),
    ("let if = 1; in 1", "E0001", "found `if`", "1:5"),
    (
        "{ a, b, a }: a",
        "E0001",
        "duplicate formal function argument `a`",
        "1:9",
    ),
    (
        "a@{ a }: a",
        "E0001",
        "duplicate formal function argument `a`",
        "1:5",
    ),
    (
        "99999999999999999999",
        "E0001",
        "integer literal `99999999999999999999` is too large",
        "1:1",
    ),
    ("1e3", "E0001", "`1e3` is not a number", "1:1"),
    ("./a/", "E0001", "trailing slash", "1:1"),
    ("\"a\u{0}b\"", "E0001", "NUL", "1:2"),
    ("x:x", "E0002", "URI literals are not supported", "1:1"),
    ("f x:x", "E0002", "URI literals are not supported", "1:3"),
    (
        "http://example.com/x",
        "E0002",
        "URI literals are not supported",
        "1:1",
    ),
    ("a |> f", "E0002", "pipe operator `|>`", "1:3"),
    ("f <| a", "E0002", "pipe operator `<|`", "1:3"),
    ("__curPos", "E0002", "`__curPos` is not supported", "1:1"),
    (
        "import ~/x.ha",
        "E0002",
        "`~/` paths are not supported",
        "1:8",
    ),
    (
        "import <nixpkgs>",
        "E0002",
        "search path `<nixpkgs>` is not supported",
        "1:8",
    ),
    (
        "import ./a/${x}.ha",
        "E0002",
        "interpolation in paths",
        "1:8",
    ),
    (
        "let { a = 1; body = a; }",
        "E0002",
        "legacy `let { … }`",
        "1:1",
    ),
];

fn parse_in_map(text: &str) -> (SourceMap, Result<(), Vec<hac_core::Diagnostic>>) {
    let mut map = SourceMap::new();
    let file = map.add("test.ha", text);
    let result = hac_syntax::parse(file, text).map(drop);
    (map, result)
}

fn line_col(text: &str, span: Span) -> String {
    let before = &text[..(span.start as usize).min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
    format!("{line}:{col}")
}

#[test]
fn every_error_has_its_code_message_and_place() {
    let mut failures = Vec::new();
    for (input, code, words, place) in CASES {
        let (_, result) = parse_in_map(input);
        let Err(errors) = result else {
            failures.push(format!("{input:?}: parsed, expected {code}"));
            continue;
        };
        let first = &errors[0];
        let actual_place = first
            .span
            .map(|span| line_col(input, span))
            .unwrap_or_default();
        if first.code.as_deref() != Some(*code)
            || !first.message.contains(words)
            || actual_place != *place
        {
            failures.push(format!(
                "{input:?}\n   expected {code} {words:?} at {place}\n   actual   {:?} {:?} at {actual_place}",
                first.code, first.message
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn helpful_hints() {
    let hint_for = |input: &str| {
        let (_, result) = parse_in_map(input);
        result.expect_err("should fail")[0].hints.join(" | ")
    };
    assert!(hint_for("{ a = 1 }").contains("`;` missing"));
    assert!(hint_for("{ a : 1; }").contains("`=`, not `:`"));
    assert!(hint_for("x:x").contains("`x: x`"));
    assert!(hint_for("x:x").contains("\"x:x\""));
    assert!(hint_for("[ -1 ]").contains("[ (-1) ]"));
    assert!(hint_for("1e3").contains("1.0e3"));
    assert!(hint_for("let a = 1; a").contains("needs `in`"));
    let (_, result) = parse_in_map("{\n  a = [ 1 2;\n}");
    let error = &result.expect_err("unclosed bracket")[0];
    assert!(
        error
            .labels
            .iter()
            .any(|label| label.message.contains("`[` is not closed")),
        "labels: {:?}",
        error.labels
    );
}

#[test]
fn rendered_diagnostics_snapshot() {
    let mut rendered = String::new();
    for (input, ..) in CASES {
        let (map, result) = parse_in_map(input);
        rendered.push_str(&format!("=== {input:?}\n"));
        for diagnostic in result.expect_err("error case") {
            rendered.push_str(&diagnostic.render(&map, false));
        }
    }
    // Keep the snapshot plain text: show the NUL byte of one case as a symbol.
    insta::assert_snapshot!(rendered.replace('\0', "␀"));
}

//! The formatter on files: snapshots of a deliberately messy file and of the out-examples
//! formatted; the out-examples are already formatted (what `hac fmt --check` checks); an
//! unparsable file is refused with the parser's diagnostic.

use hac_core::FileId;
use hac_syntax::format::{format_source, FormatError};
use std::path::{Path, PathBuf};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn out_examples() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(repository_root().join("out-examples")) else {
        return files;
    };
    for entry in entries.filter_map(Result::ok) {
        let Ok(inner) = std::fs::read_dir(entry.path()) else {
            continue;
        };
        for file in inner.filter_map(Result::ok) {
            if file.path().extension().is_some_and(|ext| ext == "ha") {
                files.push(file.path());
            }
        }
    }
    files.sort();
    files
}

fn format(text: &str) -> String {
    match format_source(FileId(0), text) {
        Ok(formatted) => formatted,
        Err(error) => panic!("cannot format: {error:?}"),
    }
}

#[test]
fn a_messy_file_formatted() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/format_fixtures/messy.ha");
    let text = std::fs::read_to_string(path).expect("fixture");
    let formatted = format(&text);
    assert_eq!(format(&formatted), formatted, "idempotent");
    insta::assert_snapshot!("messy", formatted);
}

#[test]
fn the_out_examples_are_formatted() {
    let files = out_examples();
    assert!(files.len() >= 6, "out-examples not found");
    let mut unformatted = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let formatted = format(&text);
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        insta::assert_snapshot!(format!("out_example_{name}"), formatted);
        if formatted != text {
            unformatted.push(path.display().to_string());
        }
    }
    assert!(
        unformatted.is_empty(),
        "not formatted (run `hac fmt` on them): {unformatted:?}"
    );
}

#[test]
fn an_unparsable_file_is_refused_with_the_parsers_diagnostic() {
    let text = "{ a = 1; b = ; }\n";
    match format_source(FileId(0), text) {
        Err(FormatError::Syntax(diagnostics)) => {
            assert_eq!(diagnostics[0].code.as_deref(), Some("E0001"));
            let expected = hac_syntax::parse(FileId(0), text).expect_err("does not parse");
            assert_eq!(diagnostics[0].message, expected[0].message);
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(matches!(
        format_source(FileId(0), "x:x"),
        Err(FormatError::Syntax(_))
    ));
}

#[test]
fn small_cases() {
    let cases = [
        ("{a=1;}", "{ a = 1; }\n"),
        ("{\na=1;b=2;}", "{\n  a = 1;\n  b = 2;\n}\n"),
        ("[\n]", "[ ]\n"),
        ("f -1", "f - 1\n"),
        ("x :x+1", "x: x + 1\n"),
        ("args @ { a }: a", "args@{ a }: a\n"),
        ("1 . a", "1 . a\n"),
        ("{\n}", "{ }\n"),
        ("1 .a", "1 .a\n"),
        ("- ./a/b", "- ./a/b\n"),
        ("(a)/b", "(a) /b\n"),
        ("a/b", "a/b\n"),
        ("a /b", "a /b\n"),
        ("a / b", "a / b\n"),
        ("a//b", "a // b\n"),
        ("x.${ y }", "x.${y}\n"),
        ("\"a ${ b  } c\"", "\"a ${ b  } c\"\n"),
        (
            "let a = 1;\n\n\n\nb = 2; in a",
            "let\n  a = 1;\n\n  b = 2;\nin a\n",
        ),
        ("{ a = 1; # c\n}", "{\n  a = 1; # c\n}\n"),
        ("{ # c\na = 1; }", "{ # c\n  a = 1;\n}\n"),
        ("with a\n; b", "with a; b\n"),
        ("{ a = 1\n; }", "{\n  a = 1;\n}\n"),
        ("1.5e3+.5", "1.5e3 + .5\n"),
    ];
    for (input, expected) in cases {
        assert_eq!(format(input), expected, "input {input:?}");
        assert_eq!(format(expected), expected, "idempotent on {expected:?}");
    }
}

#[test]
fn crlf_line_endings_become_lf() {
    let text = "{\r\n  a = 1; # c\r\n  b = \"x\";\r\n}\r\n";
    assert_eq!(format(text), "{\n  a = 1; # c\n  b = \"x\";\n}\n");
}

#[test]
fn deep_nesting_is_formatted_without_trouble() {
    let depth = 400;
    let mut text = String::new();
    for _ in 0..depth {
        text.push_str("{ a =\n");
    }
    text.push('1');
    for _ in 0..depth {
        text.push_str(";\n}");
    }
    let formatted = format(&text);
    assert_eq!(format(&formatted), formatted);
    let deepest = formatted
        .lines()
        .map(|line| line.len() - line.trim_start().len())
        .max();
    assert!(
        deepest >= Some(2 * depth),
        "indentation follows the nesting"
    );
    let flat = format!("{}1{}", "[ (".repeat(depth), ") ]".repeat(depth));
    let formatted = format(&flat);
    assert_eq!(formatted.lines().count(), 1);
}

//! Hostile inputs: very deep nesting, very long chains, huge literals, random bytes and
//! truncated programs. The parser must answer (Ok or a clear error) without panicking,
//! overflowing the stack or hanging. Each parse runs on a watchdog thread; the generous
//! timeout only detects hangs, it is not a performance assertion.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use hac_core::Diagnostic;
use hac_syntax::ast::Expr;

const HANG_TIMEOUT: Duration = Duration::from_secs(120);
const N: usize = 100_000;

/// Parses on a separate thread (with the default 2 MiB test stack, like any caller) and
/// fails the test if no answer comes within [`HANG_TIMEOUT`]. The AST is dropped on that
/// thread too, so a too-deep AST would overflow there.
fn parse_watched(text: String) -> Result<(), Vec<Diagnostic>> {
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let result: Result<Expr, Vec<Diagnostic>> = common::parse(&text);
            let _ = sender.send(result.map(drop));
        })
        .expect("spawn test thread");
    receiver
        .recv_timeout(HANG_TIMEOUT)
        .expect("the parser hung or crashed")
}

fn assert_too_deep(text: String) {
    let errors = parse_watched(text).expect_err("input should be rejected");
    let first = &errors[0];
    assert_eq!(first.code.as_deref(), Some("E0001"));
    assert!(
        first.message.contains("nested too deeply"),
        "unexpected message: {}",
        first.message
    );
}

fn nest(open: &str, middle: &str, close: &str) -> String {
    let mut text = open.repeat(N);
    text.push_str(middle);
    text.push_str(&close.repeat(N));
    text
}

#[test]
fn deep_parentheses() {
    assert_too_deep(nest("(", "1", ")"));
}

#[test]
fn deep_lists() {
    assert_too_deep(nest("[", "1", "]"));
}

#[test]
fn deep_attribute_sets() {
    assert_too_deep(nest("{a=", "1", ";}"));
}

#[test]
fn deep_interpolations() {
    assert_too_deep(nest("\"${", "1", "}\""));
}

#[test]
fn unclosed_brackets_are_an_error() {
    let errors = parse_watched("[".repeat(N)).expect_err("unclosed");
    assert_eq!(errors[0].code.as_deref(), Some("E0001"));
    let errors = parse_watched("{".repeat(N)).expect_err("unclosed");
    assert_eq!(errors[0].code.as_deref(), Some("E0001"));
    let errors = parse_watched("(".repeat(N)).expect_err("unclosed");
    assert_eq!(errors[0].code.as_deref(), Some("E0001"));
}

#[test]
fn long_prefix_chains() {
    assert_too_deep(format!("{}true", "!".repeat(N)));
    assert_too_deep(format!("{}1", "-".repeat(N)));
    assert_too_deep(format!("{}1", "- ".repeat(N)));
}

#[test]
fn long_keyword_chains() {
    assert_too_deep(format!("{}a", "a: ".repeat(N)));
    assert_too_deep(format!("{}a", "let a = 1; in ".repeat(N)));
    assert_too_deep(format!("{}a", "with a; ".repeat(N)));
    assert_too_deep(format!("{}a", "assert a; ".repeat(N)));
    assert_too_deep(format!("{}c", "if a then b else ".repeat(N)));
}

#[test]
fn long_operator_chains() {
    assert_too_deep(format!("{}1", "1+".repeat(N)));
    assert_too_deep(format!("{}[]", "[] ++ ".repeat(N)));
    assert_too_deep(format!("{}a", "a -> ".repeat(N)));
    assert_too_deep(format!("f{}", " a".repeat(N)));
    assert_too_deep(format!("x.a{}", " or x.a".repeat(N)));
}

#[test]
fn deep_nesting_of_condition_positions() {
    assert_too_deep(format!(
        "{}a{}",
        "if ".repeat(N),
        " then a else a".repeat(N)
    ));
    assert_too_deep(format!("{}a{}", "with ".repeat(N), "; a".repeat(N)));
    assert_too_deep(format!("{}a{}", "let a = ".repeat(N), "; in a".repeat(N)));
}

#[test]
fn moderate_nesting_is_fine() {
    assert!(parse_watched(nest_n("(", "1", ")", 200)).is_ok());
    assert!(parse_watched(nest_n("[", "1", "]", 200)).is_ok());
    assert!(parse_watched(nest_n("{a=", "1", ";}", 200)).is_ok());
    assert!(parse_watched(format!("{}1", "1+".repeat(500))).is_ok());
}

#[test]
fn nesting_just_under_the_limit_parses_and_drops_on_a_small_stack() {
    // parse_watched drops the AST on a 2 MiB thread: a deep AST must not overflow it.
    assert!(parse_watched(nest_n("(", "1", ")", 990)).is_ok());
    assert!(parse_watched(nest_n("[", "1", "]", 990)).is_ok());
    assert!(parse_watched(format!("{}a", "a: ".repeat(990))).is_ok());
    assert!(parse_watched(format!("{}1", "- ".repeat(990))).is_ok());
    assert_too_deep(nest_n("(", "1", ")", 1001));
}

fn nest_n(open: &str, middle: &str, close: &str, n: usize) -> String {
    format!("{}{}{}", open.repeat(n), middle, close.repeat(n))
}

#[test]
fn long_flat_lists_and_sets_are_fine() {
    assert!(parse_watched(format!("[{}]", " 1".repeat(N))).is_ok());
    let mut set = String::from("{");
    for index in 0..N {
        set.push_str(&format!(" a{index} = {index};"));
    }
    set.push('}');
    assert!(parse_watched(set).is_ok());
}

#[test]
fn ten_megabyte_strings() {
    let big = "a".repeat(10 * 1024 * 1024);
    assert!(parse_watched(format!("\"{big}\"")).is_ok());
    assert!(parse_watched(format!("''\n  {big}\n''")).is_ok());
    assert!(parse_watched(format!("# {big}\n1")).is_ok());
    assert!(parse_watched(format!("/* {big} */ 1")).is_ok());
}

#[test]
fn unterminated_huge_string() {
    let big = "a".repeat(10 * 1024 * 1024);
    let errors = parse_watched(format!("\"{big}")).expect_err("unterminated");
    assert!(
        errors[0].message.contains("unterminated"),
        "{}",
        errors[0].message
    );
}

const SAMPLE: &str = r#"{ lib, ... }:
let
  base = import ./base.ha;
  n = 3;
in rec {
  name = "prod-${toString n}";
  nodes = lib.nodes { prefix = "master"; count = n; first = "10.0.2.10/24"; };
  vip = if n > 1 then "10.0.2.5" else null;
  text = ''
    hello ${name}
      indented ''${literal}
  '';
  ok = base ? x && !(n < 1) -> false;
  sel = base.a.b or { }.c or 4;
  f = { a ? 1, ... }@args: a + args.b or 0;
  inherit (base) x "y";
}
"#;

#[test]
fn every_truncation_of_a_program_answers() {
    assert!(parse_watched(SAMPLE.to_string()).is_ok());
    for end in 0..SAMPLE.len() {
        if SAMPLE.is_char_boundary(end) {
            let _ = parse_watched(SAMPLE[..end].to_string());
        }
    }
}
